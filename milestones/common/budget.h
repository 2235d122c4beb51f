// milestones/common/budget.h — a schedule that fits a wall-clock budget whatever the load does.
//
// A budgeted run (the North Star's 10 minutes, the GPT's 15) must end inside its budget, with its
// learning rate annealed, having used the budget. But the pace of a step changes during a run: a
// laptop is never idle — a build starts, a browser stops. A plan made once from the first steps
// is wrong either way: a slow start shortens the run for good (time left unused at the end), a
// fast start overruns it (the run is cut off at a high learning rate).
//
// So the plan is made again at every checkpoint of the run (an epoch, an evaluation interval),
// from the pace of the interval just measured, and it may grow back as well as shrink:
//
//   planned end ▲  busy start: the plan shrinks       the machine is free again: it grows back
//      --steps  ┤────╮                                   ╭─────────────  (never past --steps)
//               │    ╰─────────╮            ╭────────────╯
//               │              ╰────────────╯
//               └───────────────────────────────────────────────────────► step
//
// The learning rate is a function of the schedule's progress p (0 at the start, 1 at the planned
// end), and p must not jump when the end moves, or neither would the lr: at a re-plan at step t,
// p goes on from p(t) in a straight line to 1 at the new end.
//
//   p ▲                         ╱ new end (nearer): steeper from here
//   1 ┤                     ╱ ╱
//     │                 ╱  ╱
//     │             ╱  ·
//     │         ╱       old line (would reach 1 later)
//     └────────────┬──────────────► step
//                  t (re-plan)
//
// Without a re-plan, p(step) = (step − start) / (end − start): the schedule is exactly the
// closed form of a run planned once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace tinytorch::milestones {

// Progress through a schedule whose end may move during the run; continuous across moves.
class ScheduleProgress {
 public:
  // p = 0 at `start`, 1 at `end` (end > start).
  ScheduleProgress(int64_t start, int64_t end)
      : anchor_step_(start), end_(std::max(end, start + 1)) {}

  // p at `step` (a step at or before the last re-plan reads as p there: the run only asks for the
  // steps ahead of it), clamped to 1 past the end.
  double at(int64_t step) const {
    if (step <= anchor_step_) return anchor_p_;
    const double line = anchor_p_ + (1.0 - anchor_p_) * static_cast<double>(step - anchor_step_) /
                                        static_cast<double>(end_ - anchor_step_);
    return std::min(line, 1.0);
  }

  // From `step` on, p runs on from at(step) to 1 at `end`. A step before the current anchor (a
  // re-plan during a warm-up the progress does not cover yet) keeps the anchor.
  void replan(int64_t step, int64_t end) {
    if (step > anchor_step_) {
      anchor_p_ = at(step);
      anchor_step_ = step;
    }
    end_ = std::max(end, anchor_step_ + 1);
  }

  int64_t end() const { return end_; }

 private:
  int64_t anchor_step_;
  double anchor_p_ = 0.0;  // p at anchor_step_
  int64_t end_;
};

// The end of the run that fits into the time left: `done` units (steps or epochs) finished,
// `seconds_left` of the budget (the caller has taken off what it keeps for the end), at
// `seconds_per_unit` — the pace of the interval just measured, not the slowest or the first: the
// plan follows the machine as it is now. At least `min_end` (so a schedule keeps its warm-up), at
// most `max_end` (what was asked for); min_end may exceed done + what fits, and the caller's
// clock stops the run then.
inline int64_t planned_end(int64_t done, double seconds_left, double seconds_per_unit,
                           int64_t min_end, int64_t max_end) {
  double fit = 0.0;
  if (seconds_left > 0.0 && seconds_per_unit > 0.0)
    fit = std::floor(seconds_left / seconds_per_unit);
  const double end = std::min(static_cast<double>(done) + fit, static_cast<double>(max_end));
  return std::clamp(static_cast<int64_t>(end), std::min(min_end, max_end), max_end);
}

// One move of a run's planned end, for its log and its results file.
struct PlanChange {
  int64_t at = 0;                 // units done when the plan moved
  int64_t from = 0;               // the end planned before
  int64_t to = 0;                 // the end planned after
  double seconds_per_unit = 0.0;  // the pace it was planned from
};

}  // namespace tinytorch::milestones
