// tinytorch/train/early_stopping.h — stop training when a monitored metric stops improving
// (module 07).
//
//   train::EarlyStopping stopper({.monitor = "val_loss", .patience = 3, .min_delta = 1e-3});
//   for (int epoch = 1; ; ++epoch) {
//     ... train, validate ...
//     if (stopper.step(val_loss)) break;        // 3 epochs in a row without a real improvement
//   }
//
// The rule (Keras' EarlyStopping, PyTorch Lightning's EarlyStopping):
//
//   improved  ⇔  value < best − min_delta   (mode kMin, e.g. a loss)
//             ⇔  value > best + min_delta   (mode kMax, e.g. an accuracy)
//   improved:  best ← value, wait ← 0
//   else:      wait ← wait + 1;   stop when wait ≥ patience
//
//   val_loss   0.50  0.42  0.40  0.41  0.405 0.43          patience 3, min_delta 0.01
//   improved?   ✓     ✓     ✓     ✗     ✗     ✗   → stop  (0.40 → 0.405 is not 0.01 better)
//   wait        0     0     0     1     2     3
//
// A NaN value is never an improvement. The state (best, wait, ...) is small and is saved in
// training checkpoints (state_string) so that a resumed run stops exactly where an uninterrupted
// one would.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace tinytorch::train {

enum class MonitorMode {
  kMin,  // smaller is better (losses)
  kMax,  // larger is better (accuracies)
};

struct EarlyStoppingOptions {
  std::string monitor = "val_loss";  // the History column to watch (used by Trainer)
  MonitorMode mode = MonitorMode::kMin;
  int64_t patience = 3;    // epochs without improvement before stopping (≥ 1)
  double min_delta = 0.0;  // how much better than the best counts as better (≥ 0)
};

class EarlyStopping {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});

  // Records one epoch's value of the monitored metric. Returns true when training should stop.
  bool step(double value);

  bool should_stop() const { return wait_ >= options_.patience; }
  bool improved() const { return improved_; }         // whether the last step() improved
  double best() const { return best_; }               // ±inf before the first improvement
  int64_t best_epoch() const { return best_epoch_; }  // 1-based step of the best; 0 if none
  int64_t wait() const { return wait_; }              // steps since the best
  int64_t epochs_seen() const { return epochs_seen_; }
  const EarlyStoppingOptions& options() const { return options_; }
  void reset();

  // The state as one line of text (exact: doubles are written in full), and back.
  std::string state_string() const;
  void load_state_string(const std::string& state);

 private:
  EarlyStoppingOptions options_;
  double best_;
  int64_t best_epoch_ = 0;
  int64_t wait_ = 0;
  int64_t epochs_seen_ = 0;
  bool improved_ = false;
};

}  // namespace tinytorch::train
