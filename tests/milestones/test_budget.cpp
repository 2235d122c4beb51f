// milestones/common/budget.h: a budgeted run's plan follows the machine's pace, and the
// schedule's progress never jumps when the plan moves.
#include "common/budget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace ms = tinytorch::milestones;

TEST(ScheduleProgress, WithoutAReplanIsTheClosedForm) {
  const ms::ScheduleProgress p(100, 600);  // a warm-up of 100 steps, then 500 steps of schedule
  for (const int64_t step : {100, 101, 250, 599, 600}) {
    EXPECT_DOUBLE_EQ(p.at(step), static_cast<double>(step - 100) / 500.0) << "step " << step;
  }
  EXPECT_DOUBLE_EQ(p.at(50), 0.0);   // before the start
  EXPECT_DOUBLE_EQ(p.at(900), 1.0);  // past the end
}

TEST(ScheduleProgress, AReplanKeepsTheProgressAndEndsAtTheNewEnd) {
  for (const int64_t new_end : {400, 2000}) {  // shorter, then longer than planned
    ms::ScheduleProgress p(0, 1000);
    const double before = p.at(300);
    p.replan(300, new_end);
    EXPECT_DOUBLE_EQ(p.at(300), before) << "the progress jumped at the re-plan to " << new_end;
    EXPECT_DOUBLE_EQ(p.at(new_end), 1.0);
    EXPECT_LT(p.at(new_end - 1), 1.0);
    // A straight line from (300, 0.3) to (new_end, 1).
    const int64_t mid = (300 + new_end) / 2;
    EXPECT_NEAR(p.at(mid), 0.3 + 0.7 * static_cast<double>(mid - 300) / (new_end - 300), 1e-12);
  }
}

TEST(ScheduleProgress, AReplanDuringTheWarmupKeepsTheStart) {
  ms::ScheduleProgress p(100, 1000);
  p.replan(40, 500);  // the schedule has not started yet
  EXPECT_DOUBLE_EQ(p.at(100), 0.0);
  EXPECT_DOUBLE_EQ(p.at(300), 0.5);
}

TEST(PlannedEnd, FollowsThePaceBothWaysWithinItsBounds) {
  // 100 units done, 50 s left: at 1 s a unit 50 more fit; at 0.25 s a unit 200 more, capped.
  EXPECT_EQ(ms::planned_end(100, 50.0, 1.0, 1, 1000), 150);
  EXPECT_EQ(ms::planned_end(100, 50.0, 0.25, 1, 250), 250);
  EXPECT_EQ(ms::planned_end(100, 50.0, 0.3, 1, 1000), 266);  // whole units only
  // No time left, or no pace measured: nothing more fits, but never below min_end.
  EXPECT_EQ(ms::planned_end(100, -5.0, 1.0, 1, 1000), 100);
  EXPECT_EQ(ms::planned_end(100, 50.0, 0.0, 1, 1000), 100);
  EXPECT_EQ(ms::planned_end(3, 0.0, 1.0, 11, 1000), 11);  // the warm-up is kept
  EXPECT_EQ(ms::planned_end(3, 0.0, 1.0, 11, 8), 8);      // ... unless it exceeds what was asked
}

// A budgeted run on a machine that is busy at the start (every step twice as slow for the first
// 200 s), then free: the loop milestone 2017 runs, on a simulated clock. The plan shrinks, then
// grows back; the run ends inside the budget, uses most of it, and ends annealed (p = 1).
TEST(PlannedEnd, ABusyStartDoesNotLeaveTheBudgetUnused) {
  const double budget = 900.0, reserve = 0.03 * budget + 10.0;
  const int64_t max_steps = 7000, warmup = 100, interval = 500;
  const auto seconds_per_step = [](double now) { return now < 200.0 ? 0.2 : 0.1; };
  ms::ScheduleProgress progress(warmup, max_steps);
  int64_t planned = max_steps, step = 0;
  double now = 0.0;
  int64_t shortest = planned;
  bool grew = false;
  while (step < planned) {
    const int64_t first = step;
    const double start = now;
    const int64_t stop = std::min(planned, (step / interval + 1) * interval);
    double last_p = progress.at(step);
    for (; step < stop; ++step) {
      now += seconds_per_step(now);
      const double p = progress.at(step + 1);
      ASSERT_GE(p, last_p);                         // monotone
      ASSERT_LE(p - last_p, 2.0 / (stop - first));  // no jump
      last_p = p;
    }
    const double pace = (now - start) / static_cast<double>(step - first);
    const int64_t end = ms::planned_end(step, budget - reserve - now, pace, warmup + 1, max_steps);
    if (end != planned) {
      grew = grew || end > planned;
      planned = end;
      shortest = std::min(shortest, planned);
      if (planned <= step) break;
      progress.replan(step, planned);
    }
  }
  EXPECT_LT(shortest, max_steps) << "the busy start should have shortened the plan";
  EXPECT_TRUE(grew) << "the plan should have grown back once the machine was free";
  EXPECT_LE(now, budget - reserve + 0.2 * interval) << "the run overran its budget";
  EXPECT_GE(now, 0.9 * (budget - reserve)) << "the run left more than 10% of its budget unused";
  EXPECT_DOUBLE_EQ(progress.at(step), 1.0) << "the schedule did not end annealed";
}
