// Helpers shared by module 12's tests: seeded random tensors, the attention written out with
// module 01–05 ops (matmul, softmax) as an independent reference, and a gradcheck wrapper.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

inline Tensor random(IntArrayRef shape, uint64_t seed, ScalarType dtype = kFloat64) {
  Generator gen(seed);
  return randn(shape, dtype, &gen);
}

// A bool mask of `shape` with about `keep` of its entries true (seeded).
inline Tensor random_bool_mask(IntArrayRef shape, uint64_t seed, double keep = 0.7) {
  Generator gen(seed);
  return rand(shape, kFloat64, &gen) < keep;
}

// The causal mask of kernels/attention.h: key j visible to query i when j ≤ i + (S − L).
inline Tensor causal_mask(int64_t L, int64_t S) {
  const Tensor i = arange(L).reshape({L, 1}), j = arange(S).reshape({1, S});
  return j <= i + (S - L);
}

// softmax(q·kᵀ·scale + mask)·v with ordinary ops; rows whose every key is masked are set to 0 (as
// the op defines them). mask: undefined, bool (true = attend) or additive.
inline Tensor attention_by_hand(const Tensor& q, const Tensor& k, const Tensor& v,
                                const Tensor& mask = {}, bool is_causal = false,
                                std::optional<double> scale = std::nullopt) {
  const double s = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const double inf = std::numeric_limits<double>::infinity();
  Tensor scores = q.matmul(k.transpose(-2, -1)) * s;
  Tensor allowed = ones_like(scores, kBool);
  if (mask.defined() && mask.dtype() == kBool) allowed = where(mask, allowed, zeros_like(allowed));
  if (mask.defined() && mask.dtype() != kBool) scores = scores + mask;
  if (is_causal) {
    const Tensor c = causal_mask(q.size(-2), k.size(-2));
    allowed = where(c, allowed, zeros_like(allowed));
  }
  scores = where(allowed, scores, full({}, -inf, scores.dtype()));
  const Tensor row_max = std::get<0>(scores.max(-1, true));
  const Tensor dead = row_max == -inf;  // every key masked
  const Tensor safe = where(dead, zeros_like(scores), scores);
  const Tensor p = where(dead, zeros_like(scores), safe.softmax(-1));
  return p.matmul(v);
}

inline bool has_nan(const Tensor& t) {
  for (double x : t.to(kFloat64).contiguous().to_vector<double>()) {
    if (std::isnan(x)) return true;
  }
  return false;
}

inline ::testing::AssertionResult gradcheck_ok(
    const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& in) {
  const autograd::GradcheckResult r = autograd::gradcheck(fn, in);
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message;
}

}  // namespace tinytorch::test
