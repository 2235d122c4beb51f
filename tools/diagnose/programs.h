// tools/diagnose/programs.h — the seeded programs tinytorch_diagnose runs.
//
// Module programs call the ops of one module on small seeded inputs (odd sizes, a
// non-contiguous operand, both softmax dims, ...) and run backward through them, on the
// reference tier (the learner's own loops); module 18's programs run a selection of them on the
// fast tier (what its registration chooses). The programs of modules 07–21 run code that records
// few ops (a training step, a loader, a tokenizer, statistics, collectives) on fixed inputs and
// record its results as named values. Milestone programs build the milestone's model, give
// its parameters fixed values, and run one fixed batch forward, backward and one optimizer step,
// on each tier; a first program compares the parameters the model's own initialization draws.
#pragma once

#include <string>
#include <vector>

#include "recorder.h"

namespace tinytorch::diagnose {

// Every module program, in module order.
const std::vector<Program>& module_programs();
// The programs of these modules (owner in `modules`), in module order.
std::vector<Program> programs_of_modules(const std::vector<std::string>& modules);
// The milestones with programs ("1957", ..., "2018"), and their programs; throws
// std::invalid_argument for another id.
std::vector<std::string> milestone_ids();
std::vector<Program> milestone_programs(const std::string& id);

}  // namespace tinytorch::diagnose
