// milestones/common/char_training.h — the time-budgeted training loop of the character-level
// milestones (2017's GPT, 1997's LSTM): the same steps, evaluations and re-planning for both, so
// that their curves differ by the model alone.
//
//   interval of --eval-every steps ─► evaluate on the fixed batches ─► history row, bar line,
//   │  (random windows, AdamW,          on_evaluated(step, train, val)   (samples, logs,
//   │   clip, schedule step)                                              checkpoint)
//   └─ plan again: the schedule's end at this interval's pace (common/budget.h), so the cosine
//      ends annealed when the budget ends, shorter when the machine is busy, longer (up to
//      --steps) when it is free
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/budget.h"
#include "common/char_text.h"
#include "common/warmup_cosine.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/data/text.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/train/train.h"

namespace tinytorch::milestones {

struct BudgetedTraining {
  int64_t steps;                    // --steps: the schedule's length when the budget allows it
  int64_t warmup;                   // the schedule's warm-up (a re-plan never ends before it)
  int64_t eval_every;               // steps per interval
  int64_t batch_size;               // windows per step
  int64_t context;                  // characters per window
  double clip;                      // gradient-norm clip
  double time_budget;               // seconds, counted by `elapsed`
  bool quiet;                       // no bars, no re-plan lines
  std::function<double()> elapsed;  // seconds since the run started
  // The training step's forward AND loss, ids [B, T], targets [B, T] → the mean loss (a scalar,
  // what backward() is called on); empty: next_char_loss(model->forward(ids), targets). Backward,
  // clipping and the optimizer step run after it returns. (2017's --checkpoint-segments and
  // --autocast: common/checkpointed_gpt.h's gpt_training_loss, whose autocast region must hold
  // the loss too and end before backward. Evaluation always uses model->forward as it is: without
  // a graph there are no activations to save, and outside any autocast region it is float32.)
  std::function<Tensor(const Tensor&, const Tensor&)> loss = nullptr;
};

struct BudgetedOutcome {
  double train_seconds = 0.0;  // the training steps alone (no evaluation): tokens/s
  int64_t trained_steps = 0;   // steps of this run
  bool stopped_by_budget = false;
  int64_t planned = 0;  // the schedule's last planned end
  std::vector<PlanChange> plan_changes;
};

// Trains `model` from `step` (0, or where a checkpoint resumed) until the planned end or the
// budget, appending one row per evaluation to `history`. on_evaluated(step) runs after each
// row and its bar line: samples, logs, checkpoints. `bar_suffix` adds to the bar's last line.
template <typename Model>
BudgetedOutcome train_within_budget(const BudgetedTraining& s, Model& model,
                                    optim::Optimizer& optimizer, WarmupCosineLR& scheduler,
                                    const Tensor& train_tokens, Generator& windows,
                                    const std::vector<std::pair<Tensor, Tensor>>& train_eval,
                                    const std::vector<std::pair<Tensor, Tensor>>& val_eval,
                                    int64_t& step, train::History& history, std::ostream& out,
                                    const std::function<std::string()>& bar_suffix,
                                    const std::function<void(int64_t)>& on_evaluated) {
  using Clock = std::chrono::steady_clock;
  const std::vector<Tensor> params = model->parameters();
  model->train();
  BudgetedOutcome o;
  int64_t& planned = o.planned = s.steps;
  const train::ProgressMode mode =
      s.quiet ? train::ProgressMode::kSilent : train::ProgressMode::kAuto;
  while (step < planned) {
    const int64_t stop = std::min(planned, (step / s.eval_every + 1) * s.eval_every);
    const double interval_start = s.elapsed();
    train::ProgressBar bar("steps " + std::to_string(step + 1) + "-" + std::to_string(stop),
                           stop - step, {.mode = mode});
    double loss_sum = 0.0;
    const int64_t first = step;
    const auto t0 = Clock::now();
    for (; step < stop; ++step) {
      const auto [x, y] = data::random_windows(train_tokens, s.batch_size, s.context, windows);
      optimizer.zero_grad();
      Tensor loss = s.loss ? s.loss(x, y) : next_char_loss(model->forward(x), y);
      loss.backward();  // through the whole window (an LSTM: truncated BPTT at its edges)
      nn::utils::clip_grad_norm_(params, s.clip);
      optimizer.step();
      scheduler.step();
      loss_sum += loss.item<double>();
      bar.update(s.batch_size, {{"loss", loss_sum / static_cast<double>(step - first + 1)}});
      if (s.elapsed() > s.time_budget) {
        o.stopped_by_budget = true;
        ++step;
        break;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    o.train_seconds += seconds;
    o.trained_steps += step - first;
    const double tokens_per_second =
        static_cast<double>((step - first) * s.batch_size * s.context) / seconds;

    const double train_loss = evaluate(model, train_eval);
    const double val_loss = evaluate(model, val_eval);
    history.append({{"step", static_cast<double>(step)},
                    {"train_loss", train_loss},
                    {"val_loss", val_loss},
                    {"lr", scheduler.get_last_lr().front()},
                    {"tokens_per_second", tokens_per_second},
                    {"seconds", s.elapsed()}});
    bar.finish("train " + train::format_number(std::round(train_loss * 1e4) / 1e4) + "  val " +
               train::format_number(std::round(val_loss * 1e4) / 1e4) + "  " +
               train::format_count(tokens_per_second) + " tokens/s" + bar_suffix());
    on_evaluated(step);
    if (o.stopped_by_budget) break;

    // Plan again at the pace of this interval, evaluation included (3% of the budget and 10 s
    // kept for what the program does after training).
    const double pace = (s.elapsed() - interval_start) / static_cast<double>(step - first);
    const int64_t end =
        planned_end(step, 0.97 * s.time_budget - 10.0 - s.elapsed(), pace, s.warmup + 1, s.steps);
    if (end != planned) {
      o.plan_changes.push_back({.at = step, .from = planned, .to = end, .seconds_per_unit = pace});
      if (!s.quiet) {
        out << "  at " << std::fixed << std::setprecision(1) << 1e3 * pace
            << " ms a step, the time budget fits " << std::max<int64_t>(end - step, 0)
            << " more steps: the schedule now ends at step " << end << " of " << s.steps
            << std::defaultfloat << "\n"
            << std::flush;
      }
      planned = end;
      if (planned <= step) break;
      scheduler.set_total(planned);
    }
  }
  return o;
}

}  // namespace tinytorch::milestones
