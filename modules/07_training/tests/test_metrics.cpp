// Part 2 — metrics: count_correct / accuracy, RunningAverage, ConfusionMatrix, History.
// Reference values: tests/data/module07_reference.json ("metrics", "running_average"), computed
// with NumPy and PyTorch by tools/reference/gen_module07.py.
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "train_test_util.h"

namespace tinytorch::test07 {
namespace {

using test::json;
using test::load_reference;
using test::tensor_from_json;

const json& metric_cases() {
  return load_reference("module07_reference.json").at("metrics");
}

void expect_same_or_nan(double got, const json& expected, const std::string& what) {
  const double e = test::json_to_double(expected);
  if (std::isnan(e)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": expected NaN, got " << got;
  } else {
    EXPECT_NEAR(got, e, 1e-12) << what;
  }
}

TEST(Accuracy, MatchesReference) {
  for (const json& c : metric_cases()) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor output = tensor_from_json(c.at("output"));
    const Tensor target = tensor_from_json(c.at("target"));
    EXPECT_EQ(train::count_correct(output, target), c.at("correct").get<int64_t>());
    EXPECT_DOUBLE_EQ(train::accuracy(output, target), c.at("accuracy").get<double>());
  }
}

TEST(Accuracy, HandCheckedSmallCase) {
  // argmax rows: 1, 0, 2, 2 ; targets 1, 0, 1, 2 → 3 of 4 right.
  const Tensor logits =
      tensor({{0.1, 0.9, 0.0}, {2.0, 1.0, 0.5}, {0.0, 0.1, 0.2}, {-1.0, -2.0, 3.0}});
  const Tensor labels = tensor({1, 0, 1, 2});
  EXPECT_EQ(train::count_correct(logits, labels), 3);
  EXPECT_DOUBLE_EQ(train::accuracy(logits, labels), 0.75);
  // Ties go to the first index (torch.argmax): row [1, 1] predicts class 0.
  EXPECT_EQ(train::count_correct(tensor({{1.0, 1.0}}), tensor({0})), 1);
  // Class indices work too.
  EXPECT_EQ(train::count_correct(tensor({1, 0, 2}), tensor({1, 1, 2})), 2);
}

TEST(Accuracy, DoesNotRecordAGraph) {
  Tensor logits = randn({5, 3}).requires_grad_();
  const Tensor labels = tensor({0, 1, 2, 0, 1});
  EXPECT_NO_THROW(train::count_correct(logits * 2, labels));
  EXPECT_EQ(train::predicted_classes(logits, labels, "test").grad_fn(), nullptr);
}

TEST(Accuracy, ClearErrors) {
  const Tensor logits = zeros({4, 3});
  TT_EXPECT_THROW_WITH(train::count_correct(logits, zeros({4})), TypeError, "count_correct",
                       "int64");
  TT_EXPECT_THROW_WITH(train::count_correct(logits, tensor({0, 1, 2})), ValueError, "count_correct",
                       "4 rows", "3");
  TT_EXPECT_THROW_WITH(train::count_correct(zeros({4}), tensor({0, 1, 2, 0})), ValueError,
                       "[N, C]");
  TT_EXPECT_THROW_WITH(train::accuracy(zeros({0, 3}), empty({0}, kInt64)), ValueError, "empty");
}

TEST(RunningAverage, WeightsByBatchSize) {
  // The chapter's example: means 0.5, 0.4, 0.9 over batches of 64, 64, 32.
  train::RunningAverage avg;
  EXPECT_TRUE(std::isnan(avg.mean()));
  avg.update(0.5, 64);
  avg.update(0.4, 64);
  avg.update(0.9, 32);
  EXPECT_EQ(avg.count(), 160);
  EXPECT_NEAR(avg.mean(), 0.54, 1e-15);
  EXPECT_NEAR(avg.sum(), 86.4, 1e-12);
  avg.reset();
  EXPECT_EQ(avg.count(), 0);
  avg.update(2.0);
  EXPECT_DOUBLE_EQ(avg.mean(), 2.0);
  TT_EXPECT_THROW_WITH(avg.update(1.0, 0), ValueError, "weight");
}

TEST(RunningAverage, EqualsTheLossOverTheWholeSet) {
  // PyTorch's per-batch mean cross-entropies, averaged by batch size, give the loss over all
  // rows at once; the plain mean of the batch means does not (unequal last batch).
  for (const json& c : load_reference("module07_reference.json").at("running_average")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor logits = tensor_from_json(c.at("logits"));
    const Tensor target = tensor_from_json(c.at("target"));
    train::RunningAverage avg;
    int64_t start = 0;
    size_t b = 0;
    for (const json& size : c.at("batch_sizes")) {
      const int64_t n = size.get<int64_t>();
      const double loss =
          cross_entropy(logits.narrow(0, start, n), target.narrow(0, start, n)).item<double>();
      EXPECT_NEAR(loss, c.at("batch_losses").at(b++).get<double>(), 1e-6);
      avg.update(loss, n);
      start += n;
    }
    EXPECT_NEAR(avg.mean(), c.at("weighted_mean").get<double>(), 1e-6);
    EXPECT_NEAR(avg.mean(), c.at("full_loss").get<double>(), 1e-6);
    EXPECT_GT(std::abs(c.at("mean_of_means").get<double>() - c.at("full_loss").get<double>()), 1e-4)
        << "the case should tell the two averages apart";
  }
}

TEST(ConfusionMatrix, MatchesReference) {
  for (const json& c : metric_cases()) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const int64_t k = c.at("num_classes").get<int64_t>();
    train::ConfusionMatrix cm(k);
    cm.update(tensor_from_json(c.at("output")), tensor_from_json(c.at("target")));
    const json& conf = c.at("confusion");
    for (int64_t t = 0; t < k; ++t) {
      for (int64_t p = 0; p < k; ++p) {
        EXPECT_EQ(cm.at(t, p), conf.at(t).at(p).get<int64_t>()) << "at (" << t << ", " << p << ")";
      }
    }
    EXPECT_EQ(cm.total(), tensor_from_json(c.at("target")).numel());
    EXPECT_DOUBLE_EQ(cm.accuracy(), c.at("accuracy").get<double>());
    for (int64_t cls = 0; cls < k; ++cls) {
      expect_same_or_nan(cm.precision(cls), c.at("precision").at(cls), "precision");
      expect_same_or_nan(cm.recall(cls), c.at("recall").at(cls), "recall");
      expect_same_or_nan(cm.f1(cls), c.at("f1").at(cls), "f1");
    }
    const Tensor m = cm.matrix();
    EXPECT_EQ(m.dtype(), kInt64);
    EXPECT_EQ(m.sizes().vec(), (std::vector<int64_t>{k, k}));
    std::vector<int64_t> flat;
    for (const json& row : conf) {
      for (const json& v : row) flat.push_back(v.get<int64_t>());
    }
    EXPECT_EQ(test::values_as_int(m), flat);
  }
}

TEST(ConfusionMatrix, AccumulatesBatchesAndResets) {
  train::ConfusionMatrix cm(3);
  cm.update(tensor({0, 1, 2}), tensor({0, 1, 1}));
  cm.update(tensor({{0.0, 0.0, 5.0}}), tensor({2}));  // logits: argmax 2
  EXPECT_EQ(cm.total(), 4);
  EXPECT_EQ(cm.at(1, 2), 1);
  EXPECT_EQ(cm.at(2, 2), 1);
  EXPECT_DOUBLE_EQ(cm.accuracy(), 0.75);
  EXPECT_DOUBLE_EQ(cm.recall(1), 0.5);
  EXPECT_DOUBLE_EQ(cm.precision(2), 0.5);
  cm.reset();
  EXPECT_EQ(cm.total(), 0);
  EXPECT_TRUE(std::isnan(cm.accuracy()));
}

TEST(ConfusionMatrix, BadLabelsAreErrorsAndChangeNothing) {
  train::ConfusionMatrix cm(3);
  cm.update(tensor({0, 1}), tensor({0, 1}));
  TT_EXPECT_THROW_WITH(cm.update(tensor({0, 1}), tensor({0, 3})), IndexError, "target", "3",
                       "[0, 3)");
  TT_EXPECT_THROW_WITH(cm.update(tensor({-1, 1}), tensor({0, 1})), IndexError, "prediction");
  TT_EXPECT_THROW_WITH(cm.update(zeros({2, 4}), tensor({0, 1})), ValueError, "4 columns");
  EXPECT_EQ(cm.total(), 2) << "a rejected batch must not be counted in part";
  TT_EXPECT_THROW_WITH(train::ConfusionMatrix(0), ValueError, "num_classes");
  TT_EXPECT_THROW_WITH((train::ConfusionMatrix(3, {"a", "b"})), ValueError, "2 class names");
}

TEST(ConfusionMatrix, PrintsATableWithNamesAndRecall) {
  train::ConfusionMatrix cm(2, {"cat", "dog"});
  cm.update(tensor({0, 0, 1, 1, 1}), tensor({0, 1, 1, 1, 0}));
  const std::string text = cm.to_string();
  EXPECT_NE(text.find("true\\pred"), std::string::npos) << text;
  EXPECT_NE(text.find("cat"), std::string::npos);
  EXPECT_NE(text.find("dog"), std::string::npos);
  EXPECT_NE(text.find("recall"), std::string::npos);
  EXPECT_NE(text.find("50.0%"), std::string::npos) << text;  // cat: 1 of 2
  EXPECT_NE(text.find("66.7%"), std::string::npos) << text;  // dog: 2 of 3
  EXPECT_NE(text.find("accuracy 60.00% of 5 samples"), std::string::npos) << text;
  std::ostringstream os;
  os << cm;
  EXPECT_EQ(os.str(), text);
}

TEST(History, ColumnsAppearInFirstSeenOrderAndMissingValuesAreNaN) {
  train::History h;
  EXPECT_TRUE(h.empty());
  h.append({{"epoch", 1}, {"train_loss", 0.5}});
  h.append({{"epoch", 2}, {"train_loss", 0.4}, {"val_loss", 0.45}});
  EXPECT_EQ(h.size(), 2);
  EXPECT_EQ(h.columns(), (std::vector<std::string>{"epoch", "train_loss", "val_loss"}));
  const auto val = h.column("val_loss");
  EXPECT_TRUE(std::isnan(val[0]));
  EXPECT_DOUBLE_EQ(val[1], 0.45);
  EXPECT_DOUBLE_EQ(h.at(-1, "train_loss"), 0.4);
  EXPECT_DOUBLE_EQ(h.row(0)["epoch"], 1.0);
  EXPECT_TRUE(h.contains("epoch"));
  EXPECT_FALSE(h.contains("lr"));
  TT_EXPECT_THROW_WITH(h.column("val_acc"), IndexError, "val_acc", "epoch, train_loss, val_loss");
  TT_EXPECT_THROW_WITH(h.at(2, "epoch"), IndexError, "epoch index 2");
}

TEST(History, EqualityIsExact) {
  train::History a, b;
  a.append({{"x", 0.1}, {"y", std::numeric_limits<double>::quiet_NaN()}});
  b.append({{"x", 0.1}, {"y", std::numeric_limits<double>::quiet_NaN()}});
  EXPECT_TRUE(a == b);
  train::History c;
  c.append({{"x", std::nextafter(0.1, 1.0)}, {"y", 0.0}});
  EXPECT_FALSE(a == c);
}

}  // namespace
}  // namespace tinytorch::test07
