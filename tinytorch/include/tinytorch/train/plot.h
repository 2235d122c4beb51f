// tinytorch/train/plot.h — the training-curve picture (module 07): loss and accuracy per epoch,
// as a hand-written SVG file (no plotting library: SVG is text, and any browser shows it).
//
//   ┌──────────────── Loss ────────────────┐  ┌────────────── Accuracy ──────────────┐
//   │0.6 ┤●                                │  │90% ┤                 ●─────●────●     │
//   │    │ ╲                              │  │    │        ●───●──╱                  │
//   │0.4 ┤  ●──●                           │  │85% ┤   ●──╱     ○────○─────○────○     │
//   │    │      ╲──●────●────●     ─ train│  │    │ ╱    ○──○                  ─ train│
//   │0.2 ┤                         ┄ val  │  │80% ┤●   ○                       ┄ val  │
//   │    └──┬────┬────┬────┬────┬─        │  │    └──┬────┬────┬────┬────┬─          │
//   │       1    2    3    4    5  epoch   │  │       1    2    3    4    5  epoch     │
//   └──────────────────────────────────────┘  └──────────────────────────────────────┘
//
// Two panels side by side, each with axes, "nice" tick values (1-2-5 steps), a title, axis
// labels and a legend; one polyline plus a dot per epoch for each series. A train curve that
// keeps falling while the validation curve turns up is overfitting — the picture shows in one
// glance what the numbers hide.
#pragma once

#include <string>
#include <vector>

#include "tinytorch/train/metrics.h"

namespace tinytorch::train {

struct CurveOptions {
  std::string title = "Training curves";
  // Columns in the left ("Loss") and right ("Accuracy") panel. Empty: every column whose name
  // contains "loss", resp. "acc". Accuracies in [0, 1] are drawn as percentages.
  std::vector<std::string> loss_columns{};
  std::vector<std::string> accuracy_columns{};
  // The x values: this column if the history has it, else 1, 2, 3, ...
  std::string x_column = "epoch";
  // The x axis' label, and whether its ticks are whole numbers (epochs) or any 1-2-5 step (a
  // fraction pruned, module 16's accuracy-vs-sparsity picture).
  std::string x_label = "epoch";
  bool x_whole_numbers = true;
  // The two panels' titles and y-axis labels: the same picture serves any two related measures
  // against one x (module 18's lab: GFLOP/s and % of peak against N).
  std::string left_title = "Loss", left_y_label = "loss";
  std::string right_title = "Accuracy", right_y_label = "accuracy";
  int width = 960;   // pixels, both panels together
  int height = 400;  // pixels
};

// "Nice" axis ticks covering [lo, hi]: about `target` values at steps of 1, 2 or 5 · 10^k,
// starting at or below lo and ending at or above hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// The picture as SVG text.
std::string training_curve_svg(const History& history, const CurveOptions& options = {});
// Writes it to `path`, atomically.
void write_training_curve_svg(const History& history, const std::string& path,
                              const CurveOptions& options = {});

// ── the confusion matrix as a heat map ───────────────────────────────────────────────────────
//
//                predicted →
//             T-shirt Trouser Pullover …   recall
//   T-shirt   ██ 851    3      14          85.1%      a cell's shade: its share of the ROW
//   Trouser     2    ██ 968     1          96.8%      (the true class), so a rare class's
//   Pullover   17      1    ▓▓ 790         79.0%      mistakes show as clearly as a common one's
//   …                                                 diagonal: right; elsewhere: confusions
//
// Each cell shows its count; the shade is count / row total (white 0 → dark blue 1), the text
// turns white on dark cells. The recall column is the diagonal's share of each row.
std::string confusion_matrix_svg(const ConfusionMatrix& confusion, const std::string& title);
// Writes it to `path`, atomically.
void write_confusion_matrix_svg(const ConfusionMatrix& confusion, const std::string& path,
                                const std::string& title);

}  // namespace tinytorch::train
