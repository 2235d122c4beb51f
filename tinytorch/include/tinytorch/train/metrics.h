// tinytorch/train/metrics.h — what a training loop measures (module 07): accuracy, the confusion
// matrix, running averages, and the per-epoch history every log and plot is made from.
//
//   int64_t right = train::count_correct(logits, labels);      // logits [N, C], labels int64 [N]
//   train::RunningAverage loss;  loss.update(batch_loss, batch_size);   loss.mean()
//   train::ConfusionMatrix cm(10);  cm.update(logits, labels);  std::cout << cm;
//   train::History history;  history.append({{"epoch", 1}, {"train_loss", 0.52}});
//
// PyTorch has no metrics in its core (torchmetrics and scikit-learn fill the gap); libtorch has
// none either. The definitions here are the standard ones, and tests check them against
// numbers computed with NumPy (tools/reference/gen_module07.py).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::train {

// ── predictions ──────────────────────────────────────────────────────────────────────────────

// The predicted class of each row: argmax over dim 1 of `output` [N, C] (ties go to the lowest
// index, as torch.argmax), or `output` itself when it is already int64 class indices [N].
// Checks that `target` is int64 [N] with the same N; `caller` names the function in errors.
Tensor predicted_classes(const Tensor& output, const Tensor& target, const char* caller);

// How many rows are predicted right: predicted_classes(output, target) == target.
int64_t count_correct(const Tensor& output, const Tensor& target);
// count_correct / N, a fraction in [0, 1]. N must be > 0.
double accuracy(const Tensor& output, const Tensor& target);

// ── running averages ─────────────────────────────────────────────────────────────────────────

// A weighted mean built one batch at a time. A loss function returns the MEAN over its batch, so
// the epoch's loss is Σ (batch mean · batch size) / Σ batch size — not the mean of the batch
// means, which over-weights a short last batch.
//
//   batch sizes   64      64      32           mean of means   (0.5 + 0.4 + 0.9) / 3 = 0.600
//   batch means   0.5     0.4     0.9          weighted        (32 + 25.6 + 28.8) / 160 = 0.540
class RunningAverage {
 public:
  // Adds `value`, the mean of `weight` samples (weight > 0).
  void update(double value, int64_t weight = 1);
  // The weighted mean so far; NaN before the first update.
  double mean() const;
  double sum() const { return sum_; }       // Σ value · weight
  int64_t count() const { return count_; }  // Σ weight
  void reset() {
    sum_ = 0.0;
    count_ = 0;
  }

 private:
  double sum_ = 0.0;
  int64_t count_ = 0;
};

// ── the confusion matrix ─────────────────────────────────────────────────────────────────────

// counts[t][p] = how many samples of true class t were predicted as class p. Accuracy is its
// trace over its total; each row tells how one class is misread:
//
//                predicted →
//                 0    1    2          recall(c)    = counts[c][c] / Σ row c     (of the real c's,
//   true   0   [ 50    2    0 ]                                                    how many found)
//     ↓    1   [  3   40    7 ]        precision(c) = counts[c][c] / Σ column c  (of the predicted
//          2   [  0    9   39 ]                                                    c's, how many
//          right)
class ConfusionMatrix {
 public:
  // class_names (optional) label the printed rows and columns; there must be num_classes of them.
  explicit ConfusionMatrix(int64_t num_classes, std::vector<std::string> class_names = {});

  // Adds a batch: `output` is logits/scores [N, C] (argmax is taken) or class indices int64 [N];
  // `target` is int64 [N] with values in [0, C).
  void update(const Tensor& output, const Tensor& target);
  void reset();

  int64_t num_classes() const { return num_classes_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  // counts[true_class][predicted_class]
  int64_t at(int64_t true_class, int64_t predicted_class) const;
  // The counts as an int64 tensor [C, C] (rows: true class, columns: predicted class).
  Tensor matrix() const;
  int64_t total() const;
  double accuracy() const;              // trace / total (NaN when empty)
  double recall(int64_t cls) const;     // NaN when the class never occurred
  double precision(int64_t cls) const;  // NaN when the class was never predicted
  double f1(int64_t cls) const;         // harmonic mean of precision and recall (NaN if either is)

  // The matrix as a table with a recall column, e.g.
  //   true\pred      0     1     2 | recall
  //           0     50     2     0 |  96.2%
  std::string to_string() const;

 private:
  void check_class(int64_t cls, const char* what) const;
  int64_t num_classes_;
  std::vector<std::string> class_names_;
  std::vector<int64_t> counts_;  // row-major [C, C]
};

std::ostream& operator<<(std::ostream& stream, const ConfusionMatrix& matrix);

// ── the per-epoch history ────────────────────────────────────────────────────────────────────

// One epoch's metrics by name, in a fixed order: {"epoch", 3}, {"train_loss", 0.41}, ...
using Metrics = OrderedDict<std::string, double>;

// Builds a Metrics from a braced list: metrics({{"epoch", 1}, {"train_loss", 0.5}}).
Metrics metrics(std::initializer_list<std::pair<std::string, double>> items);

// A table: one row per epoch, one column per metric name, in the order names first appeared.
// An epoch that lacks a metric (no validation that epoch, say) holds NaN there. Logs (CSV, JSON),
// the training-curve picture and checkpoints are all written from a History.
//
//            epoch   train_loss   train_acc   val_loss   val_acc
//   row 0      1       0.5213      0.8142      0.4471     0.8391
//   row 1      2       0.3862      0.8601      0.3925     0.8580
class History {
 public:
  void append(const Metrics& epoch_metrics);
  void append(std::initializer_list<std::pair<std::string, double>> items) {
    append(metrics(items));
  }

  int64_t size() const { return static_cast<int64_t>(rows_.size()); }  // epochs recorded
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  bool contains(const std::string& column) const;
  // Every epoch's value of `column` (NaN where missing). Throws naming the known columns.
  std::vector<double> column(const std::string& name) const;
  // The value at row `epoch_index` (0-based; negative counts from the end).
  double at(int64_t epoch_index, const std::string& name) const;
  // One row as name → value (NaN entries included).
  Metrics row(int64_t epoch_index) const;

  // Exact equality (NaN == NaN): same columns in the same order, same values bit for bit.
  bool operator==(const History& other) const;

 private:
  int64_t column_index(const std::string& name) const;  // -1 when absent
  int64_t row_index(int64_t epoch_index) const;
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;  // rows_[epoch][column]
};

}  // namespace tinytorch::train
