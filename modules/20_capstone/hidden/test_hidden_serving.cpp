// Module 20 — grader tests: the edge cases of batching and monitoring that the visible tests leave
// to the learner's care. The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include "support/graded.h"
#include "tinytorch/deploy/batcher.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

using namespace std::chrono_literals;

TEST(HiddenBatcher, ASkippedLargeRequestKeepsItsPlace) {
  // max 4 rows: A [3] is picked, B [3] does not fit, C [1] does; B leads the next batch.
  const std::vector<Tensor> q = {ones({3, 2}), ones({3, 2}), ones({1, 2})};
  TT_GRADE_EQ(pick_batch(q, 4), (std::vector<size_t>{0, 2}));
  TT_GRADE_EQ(pick_batch({ones({3, 2}), ones({1, 2})}, 4), (std::vector<size_t>{0, 1}));
  TT_GRADE_TRUE(pick_batch({}, 4).empty());
}

TEST(HiddenBatcher, NonContiguousInputsAreBatchedByValue) {
  const Tensor a = arange(6, kFloat32).reshape({3, 2}).t();  // [2, 3], not contiguous
  const std::vector<Tensor> out =
      forward_batch({a, ones({1, 3})}, [](const Tensor& x) { return x.mul(2.0); });
  TT_GRADE_EQ(out[0].contiguous().to_vector<float>(), (std::vector<float>{0, 4, 8, 2, 6, 10}));
  TT_GRADE_EQ(out[1].to_vector<float>(), (std::vector<float>{2, 2, 2}));
}

TEST(HiddenBatcher, AForwardReturningTooFewRowsIsAnError) {
  TT_GRADE_THROW(forward_batch({ones({2, 3})}, [](const Tensor& x) { return x.narrow(0, 0, 1); }),
                 ValueError);
}

TEST(HiddenMonitor, BoundsAndQuantileEdges) {
  TT_GRADE_THROW(Histogram("h", "h", {}), ValueError);
  TT_GRADE_THROW(Histogram("h", "h", {1.0, 1.0}), ValueError);
  Histogram h("h", "h", {1.0, 2.0});
  h.observe(-5.0);  // below every bound: the first bucket
  h.observe(2.0);
  TT_GRADE_EQ(h.snapshot().counts, (std::vector<int64_t>{1, 1, 0}));
  TT_GRADE_EQ(escape_label_value("\\\"\n"), "\\\\\\\"\\n");
  TT_GRADE_EQ(format_metric_value(0.1), "0.1");
}

TEST(HiddenMonitor, PsiIsSymmetricInItsTerms) {
  const std::vector<double> a = {0.1, 0.6, 0.3}, e = {0.3, 0.3, 0.4};
  TT_GRADE_NEAR(psi(a, e), psi(e, a), 1e-12);
  TT_GRADE_GT(psi(a, e), 0.0);
  TT_GRADE_THROW(psi(a, e, 0.0), ValueError);
}

TEST(HiddenMonitor, ConstantFeatureHasTwoUsefulBuckets) {
  const Tensor x = zeros({50, 1});
  const DriftReference ref = fit_drift(x, 10);
  TT_GRADE_FLOAT_EQ(ref.expected.select(0, 0).to_vector<float>()[0], 1.0f);
  DriftMonitor m(ref);
  m.observe(ones({50, 1}));  // all "ink" where training saw only background
  TT_GRADE_GT(m.report().max_psi, 1.0);
}

}  // namespace
}  // namespace tinytorch::deploy
