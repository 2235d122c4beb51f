// milestones/common/char_gpt.h — what the character-level GPT milestones agree on: milestone 2017
// trains the GPT to a target, TinyMLPerf (2018) requires that target of the model it benchmarks.
// The text, its split and the evaluation they share with every character-level model are in
// char_text.h (included here).
//
//   const auto val = fixed_batches(val_tokens, 20, 32, 64);   // the same windows in every run
//   double loss = evaluate(model, val);                      // mean nats per character
#pragma once

#include "common/char_text.h"
#include "tinytorch/nn/modules/transformer.h"

namespace tinytorch::milestones {

// The validation loss milestone 2017 must reach, and that TinyMLPerf requires of its reference.
inline constexpr double kGptTargetValLoss = 1.60;  // nats per character

}  // namespace tinytorch::milestones
