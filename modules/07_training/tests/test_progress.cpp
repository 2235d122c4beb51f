// Part 6 — the progress bar: a live bar on a terminal, one line per epoch in a log. A fake clock
// makes every figure exact.
#include <sstream>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

struct FakeClock {
  double now = 100.0;
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

train::ProgressOptions options_for(std::ostream& out, train::ProgressMode mode, FakeClock& clock) {
  train::ProgressOptions o;
  o.mode = mode;
  o.out = &out;
  o.clock = clock.fn();
  o.bar_width = 10;
  o.min_interval = 0.1;
  return o;
}

TEST(Progress, FormatsDurationsAndCounts) {
  EXPECT_EQ(train::format_duration(0), "0:00");
  EXPECT_EQ(train::format_duration(7.4), "0:07");
  EXPECT_EQ(train::format_duration(754), "12:34");
  EXPECT_EQ(train::format_duration(3723), "1:02:03");
  EXPECT_EQ(train::format_duration(-1), "?");
  EXPECT_EQ(train::format_count(1234567.4), "1,234,567");
  EXPECT_EQ(train::format_count(999), "999");
  EXPECT_EQ(train::format_count(1000), "1,000");
  EXPECT_EQ(train::format_count(0), "0");
}

TEST(Progress, LinesModePrintsOneLineAtTheEndAndNoCarriageReturns) {
  std::ostringstream out;
  FakeClock clock;
  {
    train::ProgressBar bar("epoch 1/3", 4, options_for(out, train::ProgressMode::kLines, clock));
    for (int i = 0; i < 4; ++i) {
      clock.now += 0.5;
      bar.update(32, {{"loss", 0.25}});
    }
    EXPECT_EQ(out.str(), "") << "nothing during the epoch in a log";
    clock.now += 1.0;  // e.g. a validation pass between the last step and finish()
    bar.finish("val_acc 88.0%");
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(count_of(text, "\n"), 1) << text;
  // 128 samples in the 2 s of training; the epoch took 3 s in all.
  EXPECT_EQ(text, "epoch 1/3  4/4  loss 0.2500  64 samples/s  3.0 s  val_acc 88.0%\n");
}

TEST(Progress, BarModeRedrawsInPlaceAtMostEveryInterval) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar("epoch 2/5", 10, options_for(out, train::ProgressMode::kBar, clock));
  for (int i = 0; i < 10; ++i) {
    clock.now += 0.04;  // 25 updates per second; redraws are limited to 10 per second
    bar.update(100, {{"loss", 1.0 / (i + 1)}, {"acc", 0.5}});
  }
  const int64_t redraws = count_of(out.str(), "\r");
  EXPECT_GE(redraws, 3);
  EXPECT_LE(redraws, 5) << out.str();
  EXPECT_NE(out.str().find("ETA"), std::string::npos);
  EXPECT_NE(out.str().find("█"), std::string::npos);
  EXPECT_EQ(out.str().find('\n'), std::string::npos) << "no newline until finish";
  bar.finish();
  EXPECT_EQ(out.str().back(), '\n');
  EXPECT_NE(out.str().find("acc 50.00%"), std::string::npos) << "accuracies shown as percent";
}

TEST(Progress, RendersSamplesPerSecondAndEta) {
  std::ostringstream out;
  FakeClock clock;
  train::ProgressBar bar("train", 8, options_for(out, train::ProgressMode::kBar, clock));
  clock.now += 1.0;
  bar.update(64);
  clock.now += 1.0;
  bar.update(64);  // 2 of 8 steps in 2 s: 6 left at 1 s each
  EXPECT_DOUBLE_EQ(bar.samples_per_second(), 64.0);
  EXPECT_DOUBLE_EQ(bar.eta(), 6.0);
  EXPECT_EQ(bar.render(), "train [██░░░░░░░░]  2/8  64 samples/s  ETA 0:06");
  bar.finish();
}

TEST(Progress, SilentPrintsNothingAndTheDestructorFinishes) {
  std::ostringstream silent_out, lines_out;
  FakeClock clock;
  {
    train::ProgressBar bar("x", 2, options_for(silent_out, train::ProgressMode::kSilent, clock));
    bar.update(1);
    bar.update(1);
  }
  EXPECT_EQ(silent_out.str(), "");
  {
    train::ProgressBar bar("y", 2, options_for(lines_out, train::ProgressMode::kLines, clock));
    bar.update(1);
  }  // destroyed without finish(): still one complete line
  EXPECT_EQ(count_of(lines_out.str(), "\n"), 1);
}

TEST(Progress, AutoModeIsLinesWhenNotWritingToATerminal) {
  std::ostringstream out;
  train::ProgressOptions o;
  o.out = &out;  // not std::cout: never a terminal
  EXPECT_EQ(train::resolve_progress_mode(o), train::ProgressMode::kLines);
  o.out = nullptr;  // std::cout: depends on how the test runs (ctest: a pipe)
  EXPECT_EQ(train::resolve_progress_mode(o),
            train::stdout_is_terminal() ? train::ProgressMode::kBar : train::ProgressMode::kLines);
}

}  // namespace
}  // namespace tinytorch::test07
