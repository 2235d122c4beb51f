// tinytorch_diagnose — where two builds of the framework first compute differently.
//
//   tinytorch_diagnose list
//       the programs: module or milestone, tier, name
//   tinytorch_diagnose trace --modules 01,02 --out mine.trace
//   tinytorch_diagnose trace --milestone 1986 --out mine.trace
//       runs those programs and writes every recorded op and backward node (trace.h)
//   tinytorch_diagnose compare mine.trace reference.trace [--json result.json] [--max N]
//       the first difference of each program; exit 0 when none, 1 when some, 2 on a bad file
//   tinytorch_diagnose show mine.trace [--program NAME]
//       the events of a trace, one line each
//
// `tito diagnose` builds this program twice — with the learner's files and with the release's
// compiled reference of them — runs `trace` in each build and `compare`s the two (see
// tools/tito/src/cmd_diagnose.cpp). The JSON result is
//   {"programs": 14, "complete": true, "problem": "",
//    "divergences": [{"kind": "values" | "structure" | "error" | "stopped" | "missing",
//                     "program", "where" (its module or milestone), "position" (the step),
//                     "direction" ("forward", "backward", "value", "error"), "node", "op",
//                     "layer", "side" ("output", "input 1", "gradient for input 0", ...),
//                     "what", "flat_index", "index", "got", "expected", "count" (values only),
//                     "files" (the code to read), "text" (what `compare` prints for it)}, ...]}
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "programs.h"
#include "trace.h"

namespace diag = tinytorch::diagnose;

namespace {

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int list_programs() {
  const auto show = [](const diag::Program& p) {
    std::cout << p.owner << "  "
              << (p.tier == tinytorch::kernels::Tier::kReference ? "reference" : "fast     ")
              << "  " << p.name << '\n';
  };
  for (const auto& p : diag::module_programs()) show(p);
  for (const auto& id : diag::milestone_ids()) {
    for (const auto& p : diag::milestone_programs(id)) show(p);
  }
  return 0;
}

int trace(const std::string& modules, const std::string& milestone, const std::string& out) {
  const auto programs = milestone.empty() ? diag::programs_of_modules(split(modules))
                                          : diag::milestone_programs(milestone);
  diag::TraceWriter writer(out);
  diag::TraceRecorder recorder(writer);
  diag::run_programs(programs, recorder);
  writer.finish();
  std::cout << programs.size() << " programs traced into " << out << '\n';
  return 0;
}

int compare(const std::string& mine, const std::string& reference, const std::string& json,
            size_t max) {
  const auto result = diag::compare_traces(diag::read_trace(mine), diag::read_trace(reference));
  std::cout << diag::format_comparison(result, max);
  if (!json.empty()) {
    std::ofstream file(json);
    file << diag::comparison_json(result) << '\n';
    if (!file) throw std::runtime_error("cannot write " + json);
  }
  return result.divergences.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinytorch_diagnose — run seeded programs and compare two builds' traces, op by op"};
  app.require_subcommand(1);

  auto* list = app.add_subcommand("list", "The programs: module or milestone, tier, name");

  auto* tr = app.add_subcommand("trace", "Run programs and write their trace");
  std::string modules, milestone, out;
  auto* modules_opt =
      tr->add_option("--modules", modules, "The modules whose programs run, e.g. 01,02");
  tr->add_option("--milestone", milestone, "A milestone whose programs run, e.g. 1986")
      ->excludes(modules_opt);
  tr->add_option("--out", out, "The trace file to write")->required();

  auto* cmp = app.add_subcommand("compare", "Compare your trace with the reference's");
  std::string mine, reference, json;
  size_t max = 5;
  cmp->add_option("mine", mine, "The trace of your build")->required();
  cmp->add_option("reference", reference, "The trace of the reference build")->required();
  cmp->add_option("--json", json, "Also write the result as JSON to this file");
  cmp->add_option("--max", max, "Programs to show")->capture_default_str();

  auto* show = app.add_subcommand("show", "Print a trace's events, one line each");
  std::string file, program;
  show->add_option("trace", file, "A trace file")->required();
  show->add_option("--program", program, "Only this program's events");

  CLI11_PARSE(app, argc, argv);
  try {
    if (list->parsed()) return list_programs();
    if (tr->parsed()) {
      if (modules.empty() && milestone.empty()) {
        throw std::invalid_argument("trace: give --modules or --milestone");
      }
      return trace(modules, milestone, out);
    }
    if (show->parsed()) {
      std::cout << diag::format_trace(diag::read_trace(file), program);
      return 0;
    }
    return compare(mine, reference, json, max);
  } catch (const std::exception& e) {
    std::cerr << "tinytorch_diagnose: " << e.what() << '\n';
    return 2;
  }
}
