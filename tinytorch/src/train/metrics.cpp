// Module 07 — metrics: accuracy, running averages, the confusion matrix, the history table.
//
// Learner regions: count_correct, RunningAverage::update, ConfusionMatrix::update. The checks
// and the table printing around them are given.
#include "tinytorch/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::train {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t num, int64_t den) {
  return den == 0 ? kNaN : static_cast<double>(num) / static_cast<double>(den);
}
}  // namespace

// ── predictions ──────────────────────────────────────────────────────────────────────────────

Tensor predicted_classes(const Tensor& output, const Tensor& target, const char* caller) {
  TT_CHECK(output.defined() && target.defined(), caller, ": output and target must be defined");
  TT_CHECK_TYPE(target.dtype() == kInt64, caller, ": target must hold int64 class indices, got ",
                to_string(target.dtype()));
  TT_CHECK_VALUE(target.dim() == 1, caller, ": target must be 1-d [N], got shape ", target.sizes());
  const NoGradGuard no_grad;  // metrics are not part of any graph
  Tensor predicted;
  if (output.dtype() == kInt64) {
    TT_CHECK_VALUE(output.dim() == 1, caller,
                   ": int64 predictions must be 1-d [N] class indices, got shape ", output.sizes());
    predicted = output;
  } else {
    TT_CHECK_VALUE(output.dim() == 2, caller,
                   ": output must be scores [N, C] (or int64 class indices [N]), got shape ",
                   output.sizes());
    predicted = output.argmax(1);
  }
  TT_CHECK_VALUE(predicted.size(0) == target.size(0), caller, ": output has ", predicted.size(0),
                 " rows but target has ", target.size(0), " (shapes ", output.sizes(), " and ",
                 target.sizes(), ")");
  return predicted;
}

int64_t count_correct(const Tensor& output, const Tensor& target) {
  // BEGIN SOLUTION
  const Tensor predicted = predicted_classes(output, target, "count_correct");
  return predicted.eq(target).sum().item<int64_t>();
  // END SOLUTION
}

double accuracy(const Tensor& output, const Tensor& target) {
  const int64_t correct = count_correct(output, target);
  TT_CHECK_VALUE(target.numel() > 0, "accuracy: the batch is empty (N = 0)");
  return static_cast<double>(correct) / static_cast<double>(target.numel());
}

// ── running averages ─────────────────────────────────────────────────────────────────────────

void RunningAverage::update(double value, int64_t weight) {
  // BEGIN SOLUTION
  TT_CHECK_VALUE(weight > 0, "RunningAverage::update: weight must be positive, got ", weight);
  sum_ += value * static_cast<double>(weight);
  count_ += weight;
  // END SOLUTION
}

double RunningAverage::mean() const {
  return count_ == 0 ? kNaN : sum_ / static_cast<double>(count_);
}

// ── the confusion matrix ─────────────────────────────────────────────────────────────────────

ConfusionMatrix::ConfusionMatrix(int64_t num_classes, std::vector<std::string> class_names)
    : num_classes_(num_classes), class_names_(std::move(class_names)) {
  TT_CHECK_VALUE(num_classes > 0, "ConfusionMatrix: num_classes must be positive, got ",
                 num_classes);
  TT_CHECK_VALUE(class_names_.empty() || static_cast<int64_t>(class_names_.size()) == num_classes,
                 "ConfusionMatrix: ", class_names_.size(), " class names for ", num_classes,
                 " classes");
  if (class_names_.empty()) {
    for (int64_t c = 0; c < num_classes; ++c) class_names_.push_back(std::to_string(c));
  }
  counts_.assign(static_cast<size_t>(num_classes * num_classes), 0);
}

void ConfusionMatrix::update(const Tensor& output, const Tensor& target) {
  // BEGIN SOLUTION
  if (output.dtype() != kInt64 && output.dim() == 2) {
    TT_CHECK_VALUE(output.size(1) == num_classes_, "ConfusionMatrix::update: output has ",
                   output.size(1), " columns (classes) but the matrix has ", num_classes_);
  }
  const Tensor predicted =
      predicted_classes(output, target, "ConfusionMatrix::update").contiguous();
  const Tensor truth = target.contiguous();
  const int64_t* p = predicted.data_ptr<int64_t>();
  const int64_t* t = truth.data_ptr<int64_t>();
  const int64_t n = truth.numel();
  // Check the whole batch first, so a bad label leaves the counts unchanged.
  for (int64_t i = 0; i < n; ++i) {
    check_class(t[i], "target");
    check_class(p[i], "prediction");
  }
  for (int64_t i = 0; i < n; ++i) ++counts_[static_cast<size_t>(t[i] * num_classes_ + p[i])];
  // END SOLUTION
}

void ConfusionMatrix::check_class(int64_t cls, const char* what) const {
  TT_CHECK_INDEX(cls >= 0 && cls < num_classes_, "ConfusionMatrix: ", what, " class ", cls,
                 " is out of range for ", num_classes_, " classes [0, ", num_classes_, ")");
}

void ConfusionMatrix::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
}

int64_t ConfusionMatrix::at(int64_t true_class, int64_t predicted_class) const {
  check_class(true_class, "true");
  check_class(predicted_class, "predicted");
  return counts_[static_cast<size_t>(true_class * num_classes_ + predicted_class)];
}

Tensor ConfusionMatrix::matrix() const {
  return from_vector(counts_, {num_classes_, num_classes_}, kInt64);
}

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (int64_t c : counts_) n += c;
  return n;
}

double ConfusionMatrix::accuracy() const {
  int64_t diagonal = 0;
  for (int64_t c = 0; c < num_classes_; ++c) diagonal += at(c, c);
  return ratio(diagonal, total());
}

double ConfusionMatrix::recall(int64_t cls) const {
  check_class(cls, "requested");
  int64_t row = 0;
  for (int64_t p = 0; p < num_classes_; ++p) row += at(cls, p);
  return ratio(at(cls, cls), row);
}

double ConfusionMatrix::precision(int64_t cls) const {
  check_class(cls, "requested");
  int64_t column = 0;
  for (int64_t t = 0; t < num_classes_; ++t) column += at(t, cls);
  return ratio(at(cls, cls), column);
}

double ConfusionMatrix::f1(int64_t cls) const {
  const double p = precision(cls), r = recall(cls);
  if (std::isnan(p) || std::isnan(r)) return kNaN;
  return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

std::string ConfusionMatrix::to_string() const {
  size_t label_width = std::string("true\\pred").size();
  for (const auto& name : class_names_) label_width = std::max(label_width, name.size());
  size_t cell = 6;
  for (int64_t c : counts_) cell = std::max(cell, std::to_string(c).size() + 1);
  for (const auto& name : class_names_) cell = std::max(cell, name.size() + 1);
  std::ostringstream os;
  os << std::setw(static_cast<int>(label_width)) << "true\\pred";
  for (const auto& name : class_names_) os << std::setw(static_cast<int>(cell)) << name;
  os << " | recall\n";
  for (int64_t t = 0; t < num_classes_; ++t) {
    os << std::setw(static_cast<int>(label_width)) << class_names_[static_cast<size_t>(t)];
    for (int64_t p = 0; p < num_classes_; ++p) os << std::setw(static_cast<int>(cell)) << at(t, p);
    const double r = recall(t);
    os << " | ";
    if (std::isnan(r)) {
      os << "     -";
    } else {
      os << std::fixed << std::setprecision(1) << std::setw(5) << 100.0 * r << "%";
      os.unsetf(std::ios::floatfield);
    }
    os << "\n";
  }
  os << "accuracy " << std::fixed << std::setprecision(2) << 100.0 * accuracy() << "% of "
     << total() << " samples\n";
  return os.str();
}

std::ostream& operator<<(std::ostream& stream, const ConfusionMatrix& matrix) {
  return stream << matrix.to_string();
}

// ── the history ──────────────────────────────────────────────────────────────────────────────

Metrics metrics(std::initializer_list<std::pair<std::string, double>> items) {
  Metrics m("Metric");
  for (const auto& [name, value] : items) m.insert(name, value);
  return m;
}

int64_t History::column_index(const std::string& name) const {
  const auto it = std::find(columns_.begin(), columns_.end(), name);
  return it == columns_.end() ? -1 : static_cast<int64_t>(it - columns_.begin());
}

int64_t History::row_index(int64_t epoch_index) const {
  const int64_t n = size();
  const int64_t i = epoch_index < 0 ? epoch_index + n : epoch_index;
  TT_CHECK_INDEX(i >= 0 && i < n, "History: epoch index ", epoch_index, " is out of range for ", n,
                 " recorded epochs");
  return i;
}

void History::append(const Metrics& epoch_metrics) {
  std::vector<double> row(columns_.size(), kNaN);
  for (const auto& [name, value] : epoch_metrics) {
    TT_CHECK_VALUE(!name.empty(), "History::append: a metric name is empty");
    int64_t c = column_index(name);
    if (c < 0) {
      // A new metric: a new column, NaN for the epochs before.
      columns_.push_back(name);
      for (auto& old : rows_) old.push_back(kNaN);
      row.push_back(kNaN);
      c = static_cast<int64_t>(columns_.size()) - 1;
    }
    row[static_cast<size_t>(c)] = value;
  }
  rows_.push_back(std::move(row));
}

bool History::contains(const std::string& column) const {
  return column_index(column) >= 0;
}

std::vector<double> History::column(const std::string& name) const {
  const int64_t c = column_index(name);
  if (c < 0) {
    std::string known;
    for (const auto& col : columns_) known += (known.empty() ? "" : ", ") + col;
    TT_CHECK_INDEX(false, "History: no metric '", name,
                   "' (recorded: ", known.empty() ? "none" : known, ")");
  }
  std::vector<double> out;
  out.reserve(rows_.size());
  for (const auto& row : rows_) out.push_back(row[static_cast<size_t>(c)]);
  return out;
}

double History::at(int64_t epoch_index, const std::string& name) const {
  const int64_t i = row_index(epoch_index);
  return column(name)[static_cast<size_t>(i)];
}

Metrics History::row(int64_t epoch_index) const {
  const auto& values = rows_[static_cast<size_t>(row_index(epoch_index))];
  Metrics m("Metric");
  for (size_t c = 0; c < columns_.size(); ++c) m.insert(columns_[c], values[c]);
  return m;
}

bool History::operator==(const History& other) const {
  if (columns_ != other.columns_ || rows_.size() != other.rows_.size()) return false;
  for (size_t r = 0; r < rows_.size(); ++r) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      const double a = rows_[r][c], b = other.rows_[r][c];
      // Bit-for-bit: NaN equals NaN, and +0.0 differs from -0.0.
      if (std::isnan(a) && std::isnan(b)) continue;
      if (std::memcmp(&a, &b, sizeof(double)) != 0) return false;
    }
  }
  return true;
}

}  // namespace tinytorch::train
