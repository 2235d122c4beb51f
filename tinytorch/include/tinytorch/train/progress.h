// tinytorch/train/progress.h — a live progress bar for one epoch (module 07): loss, samples/s,
// ETA; one plain line per epoch when the output is not a terminal.
//
//   train::ProgressBar bar("epoch 3/10", loader.size());
//   for (auto& batch : loader) {
//     ...
//     bar.update(batch.data.size(0), {{"loss", running_loss.mean()}});
//   }
//   bar.finish("val_acc 88.1%");
//
// On a terminal (kBar) the line is redrawn in place with a carriage return, at most every
// `min_interval` seconds (redrawing on every batch would cost more than a small batch):
//
//   epoch 3/10 [██████████░░░░░░░░░░]  469/938  loss 0.3521  14,210 samples/s  ETA 0:02
//
// Into a file, a pipe or a CI log (kLines) a carriage return is spam — every redraw would be kept
// — so nothing is printed during the epoch and finish() writes one line:
//
//   epoch 3/10  938/938  loss 0.3390  14,305 samples/s  4.2 s  val_acc 88.1%
//
// kAuto picks kBar when the stream is std::cout and stdout is a terminal (isatty), else kLines.
// This is what tqdm and Keras' progress bar do; PyTorch itself prints nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace tinytorch::train {

enum class ProgressMode {
  kAuto,    // kBar on a terminal, kLines otherwise
  kBar,     // redraw one line in place ('\r'), final line at finish()
  kLines,   // one line at finish() only
  kSilent,  // nothing
};

struct ProgressOptions {
  ProgressMode mode = ProgressMode::kAuto;
  std::ostream* out = nullptr;  // nullptr: std::cout
  int bar_width = 20;           // characters of the bar itself
  double min_interval = 0.1;    // seconds between redraws in kBar mode
  // Seconds on a steady clock; empty: std::chrono::steady_clock. Tests pass a fake clock.
  std::function<double()> clock{};
};

// Whether standard output is a terminal (POSIX isatty).
bool stdout_is_terminal();
// The mode kAuto stands for with these options.
ProgressMode resolve_progress_mode(const ProgressOptions& options);

// "0:07", "12:34", "1:02:03" for a number of seconds ("?" when negative or not finite).
std::string format_duration(double seconds);
// 1234567 → "1,234,567" (rounded to an integer).
std::string format_count(double value);

class ProgressBar {
 public:
  using Values = std::vector<std::pair<std::string, double>>;

  // `total` steps (batches) make the epoch; 0 means unknown (no bar, no ETA).
  ProgressBar(std::string label, int64_t total, ProgressOptions options = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // One more step done, covering `samples` samples; `values` are shown after the counter
  // (e.g. {"loss", 0.35}).
  void update(int64_t samples, Values values = {});
  // Prints the final line (kBar and kLines), with `summary` appended. Called by the destructor
  // if not called before, so a bar never leaves a half-drawn line behind.
  void finish(const std::string& summary = "");

  int64_t steps() const { return steps_; }
  int64_t samples() const { return samples_; }
  double elapsed() const;             // seconds since construction
  double samples_per_second() const;  // samples / time to the last update(); 0 before any
  double eta() const;                 // seconds left, from the mean time per step so far
  ProgressMode mode() const { return mode_; }
  // The current line, without '\r' or newline (what the bar shows right now).
  std::string render(bool final_line = false) const;

 private:
  double now() const;
  void draw();

  std::string label_;
  int64_t total_;
  ProgressOptions options_;
  ProgressMode mode_;
  std::ostream* out_;
  double start_;
  double last_draw_ = -1e300;
  double last_update_ = 0.0;
  int64_t steps_ = 0;
  int64_t samples_ = 0;
  Values values_;
  bool finished_ = false;
  size_t drawn_width_ = 0;  // characters of the last drawn line (to blank leftovers)
};

}  // namespace tinytorch::train
