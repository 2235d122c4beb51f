// Module 09 — hidden (grader) tests for pooling and batch norm: randomized properties the visible
// tests do not spell out. Random shapes and arguments against naive loops written here
// independently of the learner's kernels; non-contiguous inputs; empty batches; the same answer
// on 1 and 2 threads; BatchNorm against a composite of tensor ops; the running statistics as an
// in-place write (version counter); nn::BatchNorm2d inside a Sequential switched by eval().
// Seeds are fixed, so failures reproduce; each names its trial. The checks are graded ones
// (tests/support/graded.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/batch_norm.h"
#include "tinytorch/native/pooling.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using I = std::vector<int64_t>;
using test::graded::identical;

struct PoolArgs {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil;
};

int64_t out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  const double span = static_cast<double>(in + 2 * p - d * (k - 1) - 1) / static_cast<double>(s);
  int64_t o = static_cast<int64_t>(ceil ? std::ceil(span) : std::floor(span)) + 1;
  if (ceil && (o - 1) * s >= in + p) --o;
  return o;
}

// Random valid pooling arguments for an H × W plane (output at least 1 × 1).
PoolArgs random_args(std::mt19937& rng, int64_t H, int64_t W, bool dilate) {
  for (;;) {
    PoolArgs a{};
    a.kh = 1 + static_cast<int64_t>(rng() % 4);
    a.kw = 1 + static_cast<int64_t>(rng() % 4);
    a.sh = 1 + static_cast<int64_t>(rng() % 3);
    a.sw = 1 + static_cast<int64_t>(rng() % 3);
    a.ph = static_cast<int64_t>(rng() % static_cast<uint32_t>(a.kh / 2 + 1));
    a.pw = static_cast<int64_t>(rng() % static_cast<uint32_t>(a.kw / 2 + 1));
    a.dh = dilate ? 1 + static_cast<int64_t>(rng() % 2) : 1;
    a.dw = dilate ? 1 + static_cast<int64_t>(rng() % 2) : 1;
    a.ceil = rng() % 2 == 0;
    if (out_size(H, a.kh, a.sh, a.ph, a.dh, a.ceil) >= 1 &&
        out_size(W, a.kw, a.sw, a.pw, a.dw, a.ceil) >= 1) {
      return a;
    }
  }
}

std::string describe(const PoolArgs& a) {
  return "k " + std::to_string(a.kh) + "x" + std::to_string(a.kw) + " s " + std::to_string(a.sh) +
         "x" + std::to_string(a.sw) + " p " + std::to_string(a.ph) + "x" + std::to_string(a.pw) +
         " d " + std::to_string(a.dh) + "x" + std::to_string(a.dw) + (a.ceil ? " ceil" : "");
}

// x of logical shape `shape`, stored transposed (H and W swapped) half of the time.
Tensor random_layout(const I& shape, std::mt19937& rng, Generator& gen) {
  if (rng() % 2 == 0) return randn(shape, kFloat64, &gen);
  I s = shape;
  std::swap(s[s.size() - 1], s[s.size() - 2]);
  return randn(s, kFloat64, &gen).transpose(-1, -2);
}

// ── pooling against naive loops ──────────────────────────────────────────────────────────────

// Max pooling of x [N, C, H, W] by the definition: the largest value in each window.
Tensor naive_max_pool(const Tensor& x, const PoolArgs& a) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t P = out_size(H, a.kh, a.sh, a.ph, a.dh, a.ceil);
  const int64_t Q = out_size(W, a.kw, a.sw, a.pw, a.dw, a.ceil);
  const Tensor xc = x.contiguous();
  const double* xp = xc.data_ptr<double>();
  Tensor expected = empty({N, C, P, Q}, kFloat64);
  double* ep = expected.data_ptr<double>();
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        double best = -std::numeric_limits<double>::infinity();
        for (int64_t i = 0; i < a.kh; ++i) {
          for (int64_t j = 0; j < a.kw; ++j) {
            const int64_t h = p * a.sh - a.ph + i * a.dh, w = q * a.sw - a.pw + j * a.dw;
            if (h >= 0 && h < H && w >= 0 && w < W)
              best = std::max(best, xp[plane * H * W + h * W + w]);
          }
        }
        ep[(plane * P + p) * Q + q] = best;
      }
    }
  }
  return expected;
}

// Average pooling of x [N, C, H, W] into P × Q by the definition, with PyTorch's divisor.
Tensor naive_avg_pool(const Tensor& x, const PoolArgs& a, bool include_pad,
                      std::optional<int64_t> divisor, int64_t P, int64_t Q) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const Tensor xc = x.contiguous();
  const double* xp = xc.data_ptr<double>();
  Tensor expected = empty({N, C, P, Q}, kFloat64);
  double* ep = expected.data_ptr<double>();
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) {
        // PyTorch's divisor with padding counted: the window clipped to the padded input.
        const int64_t h0 = p * a.sh - a.ph, w0 = q * a.sw - a.pw;
        const int64_t h1 = std::min(h0 + a.kh, H + a.ph), w1 = std::min(w0 + a.kw, W + a.pw);
        double sum = 0;
        int64_t inside = 0;
        for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h1, H); ++h) {
          for (int64_t w = std::max<int64_t>(w0, 0); w < std::min(w1, W); ++w) {
            sum += xp[plane * H * W + h * W + w];
            ++inside;
          }
        }
        const int64_t d = divisor ? *divisor : include_pad ? (h1 - h0) * (w1 - w0) : inside;
        ep[(plane * P + p) * Q + q] = sum / static_cast<double>(d);
      }
    }
  }
  return expected;
}

// Adaptive average pooling of x [N, C, H, W] to P × Q: PyTorch's windows, averaged.
Tensor naive_adaptive_avg_pool(const Tensor& x, int64_t P, int64_t Q) {
  const int64_t H = x.size(2), W = x.size(3);
  Tensor expected = empty({x.size(0), x.size(1), P, Q}, kFloat64);
  for (int64_t p = 0; p < P; ++p) {
    const int64_t h0 = static_cast<int64_t>(std::floor(double(p * H) / double(P)));
    const int64_t h1 = static_cast<int64_t>(std::ceil(double((p + 1) * H) / double(P)));
    for (int64_t q = 0; q < Q; ++q) {
      const int64_t w0 = static_cast<int64_t>(std::floor(double(q * W) / double(Q)));
      const int64_t w1 = static_cast<int64_t>(std::ceil(double((q + 1) * W) / double(Q)));
      expected.select(2, p).select(2, q).copy_(x.slice(2, h0, h1).slice(3, w0, w1).mean({2, 3}));
    }
  }
  return expected;
}

TEST(HiddenPooling, MaxPoolRandomArgumentsAgainstANaiveLoop) {
  std::mt19937 rng(909);
  Generator gen(9);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t N = rng() % 3, C = 1 + rng() % 3, H = 1 + rng() % 9, W = 1 + rng() % 9;
    const PoolArgs a = random_args(rng, H, W, true);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": [" + std::to_string(N) + ", " +
                 std::to_string(C) + ", " + std::to_string(H) + ", " + std::to_string(W) + "] " +
                 describe(a));
    const Tensor x = random_layout({N, C, H, W}, rng, gen);
    auto [y, idx] =
        max_pool2d_with_indices(x, {a.kh, a.kw}, {a.sh, a.sw}, {a.ph, a.pw}, {a.dh, a.dw}, a.ceil);
    Tensor expected;
    TT_GRADE_EXPECTED_ONLY(expected = naive_max_pool(x, a));
    TT_GRADE_TENSOR(y, expected);
    // Each index points at its value, inside its own plane (an index outside it: NaN).
    const Tensor xc = x.contiguous();
    const double* xp = xc.data_ptr<double>();
    const Tensor ic = idx.contiguous();
    const int64_t* ip = ic.data_ptr<int64_t>();
    const int64_t per_plane = y.dim() == 4 ? y.size(2) * y.size(3) : 1;
    std::vector<double> pointed;
    for (int64_t o = 0; o < ic.numel(); ++o) {
      const int64_t plane = o / std::max<int64_t>(per_plane, 1);
      const bool inside = ip[o] >= 0 && ip[o] < H * W && plane < N * C;
      pointed.push_back(inside ? xp[plane * H * W + ip[o]] : std::nan(""));
    }
    TT_GRADE_TENSOR(pointed, test::values_as_double(expected), 0, 0)
        << "the values the indices point at";
  }
}

TEST(HiddenPooling, AvgPoolRandomArgumentsAgainstANaiveLoop) {
  std::mt19937 rng(910);
  Generator gen(10);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t N = 1 + rng() % 2, C = 1 + rng() % 3, H = 1 + rng() % 9, W = 1 + rng() % 9;
    const PoolArgs a = random_args(rng, H, W, false);
    const bool include_pad = rng() % 2 == 0;
    const std::optional<int64_t> divisor =
        rng() % 4 == 0 ? std::optional<int64_t>(1 + rng() % 7) : std::nullopt;
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + describe(a) +
                 (include_pad ? " include_pad" : "") +
                 (divisor ? " divisor " + std::to_string(*divisor) : ""));
    const Tensor x = random_layout({N, C, H, W}, rng, gen);
    const Tensor y =
        avg_pool2d(x, {a.kh, a.kw}, {a.sh, a.sw}, {a.ph, a.pw}, a.ceil, include_pad, divisor);
    Tensor expected;
    TT_GRADE_EXPECTED_ONLY(expected = naive_avg_pool(x, a, include_pad, divisor,
                                                     out_size(H, a.kh, a.sh, a.ph, 1, a.ceil),
                                                     out_size(W, a.kw, a.sw, a.pw, 1, a.ceil)));
    TT_GRADE_TENSOR(y, expected, 1e-12, 1e-12);
  }
}

TEST(HiddenPooling, AdaptiveAvgPoolRandomSizesAgainstANaiveLoop) {
  std::mt19937 rng(911);
  Generator gen(11);
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t H = 1 + rng() % 10, W = 1 + rng() % 10, P = 1 + rng() % 12, Q = 1 + rng() % 12;
    SCOPED_TRACE("trial " + std::to_string(trial));
    const Tensor x = random_layout({2, 2, H, W}, rng, gen);
    const Tensor y = adaptive_avg_pool2d(x, {P, Q});
    Tensor expected;
    TT_GRADE_EXPECTED_ONLY(expected = naive_adaptive_avg_pool(x, P, Q));
    TT_GRADE_TENSOR(y, expected, 1e-12, 1e-12);
  }
}

TEST(HiddenPooling, RandomGradchecks) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937 rng(912);
  Generator gen(12);
  for (int trial = 0; trial < 12; ++trial) {
    const int64_t H = 2 + rng() % 5, W = 2 + rng() % 5;
    const PoolArgs a = random_args(rng, H, W, trial % 2 == 0);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + describe(a));
    const Tensor x = randn({1, 2, H, W}, kFloat64, &gen).requires_grad_();
    const auto max_fn = [&](const std::vector<Tensor>& in) {
      return max_pool2d(in[0], {a.kh, a.kw}, {a.sh, a.sw}, {a.ph, a.pw}, {a.dh, a.dw}, a.ceil);
    };
    const auto avg_fn = [&](const std::vector<Tensor>& in) {
      return avg_pool2d(in[0], {a.kh, a.kw}, {a.sh, a.sw}, {a.ph, a.pw}, a.ceil, trial % 3 != 0);
    };
    const auto mp = autograd::gradcheck(max_fn, {x});
    TT_GRADE_TRUE(mp.ok) << "max: " << mp.message;
    const auto ap = autograd::gradcheck(avg_fn, {x});
    TT_GRADE_TRUE(ap.ok) << "avg: " << ap.message;
    // And the gradients themselves, as the reference solution computes them.
    TT_GRADE_SAME_AS_REFERENCE(autograd::grad({max_fn({x}).sum()}, {x})[0], 1e-10, 1e-12);
    TT_GRADE_SAME_AS_REFERENCE(autograd::grad({avg_fn({x}).sum()}, {x})[0], 1e-10, 1e-12);
  }
}

TEST(HiddenPooling, EmptyBatchAndUnbatchedInputs) {
  TT_GRADE_EQ(max_pool2d(zeros({0, 3, 8, 8}), 2).sizes(), IntArrayRef({0, 3, 4, 4}));
  TT_GRADE_EQ(avg_pool2d(zeros({0, 3, 8, 8}), 2).sizes(), IntArrayRef({0, 3, 4, 4}));
  TT_GRADE_EQ(adaptive_avg_pool2d(zeros({0, 3, 8, 8}), 1).sizes(), IntArrayRef({0, 3, 1, 1}));
  Generator gen(13);
  const Tensor x = randn({3, 6, 5}, kFloat64, &gen);
  TT_GRADE_TENSOR(max_pool2d(x, 2), max_pool2d(x.unsqueeze(0), 2).squeeze(0));
  TT_GRADE_TENSOR(avg_pool2d(x, 3, 1, 1), avg_pool2d(x.unsqueeze(0), 3, 1, 1).squeeze(0));
}

TEST(HiddenPooling, SameAnswerOnOneAndTwoThreads) {
  Generator gen(14);
  const Tensor x = randn({8, 16, 32, 32}, kFloat32, &gen);
  const int before = get_num_threads();
  set_num_threads(1);
  auto [y1, i1] = max_pool2d_with_indices(x, 3, 2, 1);
  const Tensor a1 = avg_pool2d(x, 3, 2, 1, true, false);
  const Tensor g1 = adaptive_avg_pool2d(x, {5, 3});
  set_num_threads(2);
  auto [y2, i2] = max_pool2d_with_indices(x, 3, 2, 1);
  const Tensor a2 = avg_pool2d(x, 3, 2, 1, true, false);
  const Tensor g2 = adaptive_avg_pool2d(x, {5, 3});
  set_num_threads(before);
  TT_GRADE_TRUE(identical(y1, y2)) << "max_pool2d on 1 and 2 threads";
  TT_GRADE_TRUE(identical(i1, i2)) << "its indices on 1 and 2 threads";
  TT_GRADE_TRUE(identical(a1, a2)) << "avg_pool2d on 1 and 2 threads";
  TT_GRADE_TRUE(identical(g1, g2)) << "adaptive_avg_pool2d on 1 and 2 threads";
  // ... and the answers themselves, as the reference solution computes them.
  TT_GRADE_SAME_AS_REFERENCE(y1, 0, 0);
  TT_GRADE_SAME_AS_REFERENCE(i1, 0, 0);
  TT_GRADE_SAME_AS_REFERENCE(a1, 1e-5, 1e-6);
  TT_GRADE_SAME_AS_REFERENCE(g1, 1e-5, 1e-6);
}

// ── batch norm ────────────────────────────────────────────────────────────────────────────────

// y = (x − mean)/√(var + eps)·γ + β written with tensor ops (the batch's biased variance).
Tensor composite_batch_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  I dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  I shape(static_cast<size_t>(x.dim()), 1);
  shape[1] = x.size(1);
  const Tensor mean = x.mean(dims, true);
  const Tensor var = x.var(dims, false, true);
  return (x - mean) / (var + eps).sqrt() * w.reshape(shape) + b.reshape(shape);
}

TEST(HiddenBatchNorm, MatchesACompositeOfTensorOpsValuesAndGradients) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937 rng(920);
  Generator gen(20);
  for (int trial = 0; trial < 15; ++trial) {
    I shape{2 + static_cast<int64_t>(rng() % 4), 1 + static_cast<int64_t>(rng() % 4)};
    for (uint32_t d = rng() % 3; d > 0; --d) shape.push_back(1 + rng() % 4);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + test::shape_str(shape));
    Tensor x = randn(shape, kFloat64, &gen).mul(3.0).add(5.0).requires_grad_();
    Tensor w = randn({shape[1]}, kFloat64, &gen).requires_grad_();
    Tensor b = randn({shape[1]}, kFloat64, &gen).requires_grad_();
    const Tensor g = randn(shape, kFloat64, &gen);
    const Tensor y = batch_norm(x, w, b, Tensor(), Tensor(), true, 0.1, 1e-5);
    y.backward(g);
    const Tensor gx = x.grad().clone(), gw = w.grad().clone(), gb = b.grad().clone();
    Tensor ref, ref_gx, ref_gw, ref_gb;  // the composite, and its gradients through autograd
    TT_GRADE_EXPECTED_ONLY(x.mutable_grad() = Tensor(); w.mutable_grad() = Tensor();
                           b.mutable_grad() = Tensor(); ref = composite_batch_norm(x, w, b, 1e-5);
                           ref.backward(g); ref_gx = x.grad(); ref_gw = w.grad();
                           ref_gb = b.grad());
    TT_GRADE_TENSOR(y, ref, 1e-10, 1e-10);
    TT_GRADE_TENSOR(gx, ref_gx, 1e-8, 1e-9);
    TT_GRADE_TENSOR(gw, ref_gw, 1e-8, 1e-9);
    TT_GRADE_TENSOR(gb, ref_gb, 1e-8, 1e-9);
  }
}

TEST(HiddenBatchNorm, NonContiguousInputAndStridedRunningStats) {
  Generator gen(21);
  const Tensor x = randn({3, 4, 5, 2}, kFloat32, &gen).permute({0, 3, 2, 1});  // [3, 2, 5, 4]
  Tensor stats = zeros({2, 2});                                                // columns: rm, rv
  stats.select(1, 1).fill_(1.0);
  Tensor rm = stats.select(1, 0), rv = stats.select(1, 1);  // strided views into one buffer
  Tensor rm_ref = zeros({2}), rv_ref = ones({2});
  const Tensor y = batch_norm(x, Tensor(), Tensor(), rm, rv, true, 0.2, 1e-5);
  const Tensor y_ref =
      batch_norm(x.contiguous(), Tensor(), Tensor(), rm_ref, rv_ref, true, 0.2, 1e-5);
  TT_GRADE_TRUE(identical(y, y_ref)) << "batch_norm of a permuted input, and of its copy";
  TT_GRADE_TRUE(identical(stats.select(1, 0), rm_ref)) << "running mean in a strided view";
  TT_GRADE_TRUE(identical(stats.select(1, 1), rv_ref)) << "running var in a strided view";
  // ... and the answers themselves, as the reference solution computes them.
  TT_GRADE_SAME_AS_REFERENCE(y_ref, 1e-5, 1e-6);
  TT_GRADE_SAME_AS_REFERENCE(rm_ref, 1e-5, 1e-6);
  TT_GRADE_SAME_AS_REFERENCE(rv_ref, 1e-5, 1e-6);
}

TEST(HiddenBatchNorm, RunningStatsUpdateIsAnInPlaceWrite) {
  Tensor rm = zeros({2}), rv = ones({2});
  const uint32_t before = rm._version();
  Generator gen(22);
  batch_norm(randn({4, 2}, kFloat32, &gen), Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  TT_GRADE_GT(int64_t{rm._version()} - int64_t{before}, 0)
      << "a tensor saved for backward must see the write";
  const uint32_t after = rm._version();
  batch_norm(randn({4, 2}, kFloat32, &gen), Tensor(), Tensor(), rm, rv, false, 0.1, 1e-5);
  TT_GRADE_EQ(int64_t{rm._version()} - int64_t{after}, 0)
      << "eval reads the running stats, never writes them";
  TT_GRADE_SAME_AS_REFERENCE(rm, 1e-5, 1e-6);
}

TEST(HiddenBatchNorm, EmptyBatchLeavesTheRunningStatsAlone) {
  Tensor rm = full({3}, 0.5), rv = full({3}, 2.0);
  const Tensor y = batch_norm(zeros({0, 3, 4, 4}), Tensor(), Tensor(), rm, rv, true, 0.1, 1e-5);
  TT_GRADE_EQ(y.sizes(), IntArrayRef({0, 3, 4, 4}));
  TT_GRADE_TENSOR(rm, full({3}, 0.5));
  TT_GRADE_TENSOR(rv, full({3}, 2.0));
}

TEST(HiddenBatchNorm, SequentialSwitchesWithEval) {
  nn::Sequential net(nn::BatchNorm2d(3), nn::ReLU(), nn::MaxPool2d(2));
  Generator gen(23);
  const Tensor x = randn({4, 3, 6, 6}, kFloat32, &gen).add(1.0);
  net->forward(x);
  net->eval();
  auto bn = net[0]->as<nn::BatchNorm2dImpl>();
  ASSERT_NE(bn, nullptr);
  TT_GRADE_FALSE(bn->is_training());
  const Tensor y = net->forward(x);
  // Eval output from the running stats: (x − rm)/√(rv + eps), relu, pool.
  const Tensor manual = max_pool2d(relu((x - bn->running_mean.reshape({1, 3, 1, 1})) /
                                        (bn->running_var.reshape({1, 3, 1, 1}) + 1e-5).sqrt()),
                                   2);
  TT_GRADE_TENSOR(y, manual, 1e-5, 1e-6);
}

TEST(HiddenBatchNorm, Float64ModuleAndDoubleStepsAgreeWithAFloat32One) {
  nn::BatchNorm1d b32(5), b64(nn::BatchNorm1dOptions(5).dtype(kFloat64));
  TT_GRADE_EQ(b64->running_var.dtype(), kFloat64);
  Generator gen(24);
  for (int k = 0; k < 4; ++k) {
    const Tensor x = randn({6, 5, 3}, kFloat64, &gen);
    b64(x);
    b32(x.to(kFloat32));
  }
  TT_GRADE_TENSOR(b32->running_var.to(kFloat64), b64->running_var, 1e-5, 1e-6);
  TT_GRADE_EQ(b64->num_batches_tracked.item<int64_t>(), 4);
}

TEST(HiddenBatchNorm, BackwardMaskSkipsUnwantedGradients) {
  Generator gen(25);
  const Tensor x = randn({4, 3}, kFloat64, &gen);
  const Tensor w = ones({3}, kFloat64);
  auto [y, mean, invstd] =
      native::native_batch_norm(x, w, Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5);
  auto [gx, gw, gb] = native::native_batch_norm_backward(ones_like(x), x, w, mean, invstd, true,
                                                         {true, false, false});
  TT_GRADE_TRUE(gx.defined());
  TT_GRADE_FALSE(gw.defined());
  TT_GRADE_FALSE(gb.defined());
  // Σ over the batch of the input gradient is 0 in training (the mean absorbs any shift).
  TT_GRADE_LT(gx.sum({0}).abs().max().item<double>(), 1e-12);
  TT_GRADE_SAME_AS_REFERENCE(gx, 1e-10, 1e-12);
}

// ── the two tiers ─────────────────────────────────────────────────────────────────────────────

struct TierOutputs {
  Tensor mp, idx, mp_grad, bn, rm, rv, gx, gw, gb;
};

// Max pooling (forward, backward) and batch norm (train forward with running stats, backward)
// on the tier in force.
TierOutputs run_spatial_ops(const Tensor& x, const Tensor& xb, const Tensor& w, const Tensor& b,
                            const Tensor& g) {
  TierOutputs o;
  std::tie(o.mp, o.idx) = native::max_pool2d_with_indices(x, 3, 2, 1, 1, true);
  o.mp_grad = native::max_pool2d_with_indices_backward(ones_like(o.mp), x, 3, 2, 1, 1, true, o.idx);
  o.rm = zeros({xb.size(1)});
  o.rv = ones({xb.size(1)});
  Tensor mean, invstd;
  std::tie(o.bn, mean, invstd) = native::native_batch_norm(xb, w, b, o.rm, o.rv, true, 0.1, 1e-5);
  std::tie(o.gx, o.gw, o.gb) =
      native::native_batch_norm_backward(g, xb, w, mean, invstd, true, {true, true, true});
  return o;
}

// The fast tier (module 18's float32 kernels, when registered) must agree with the reference
// loops: max pooling exactly (values and indices, ties and NaN included), batch norm to float
// rounding. Without registered fast kernels both runs take the reference path.
TEST(HiddenTiers, FastAndReferenceKernelsAgree) {
  Generator gen(30);
  Tensor x = randn({5, 7, 13, 11}, kFloat32, &gen);
  x.select(1, 3).fill_(1.0);  // a channel of ties
  x.data_ptr<float>()[17] = std::numeric_limits<float>::quiet_NaN();
  const Tensor xb = randn({6, 7, 9, 5}, kFloat32, &gen).mul(2.0).add(0.5);
  const Tensor w = randn({7}, kFloat32, &gen), b = randn({7}, kFloat32, &gen);
  const Tensor g = randn({6, 7, 9, 5}, kFloat32, &gen);
  TierOutputs ref;
  {
    const kernels::TierGuard reference(kernels::Tier::kReference);
    ref = run_spatial_ops(x, xb, w, b, g);
  }
  TierOutputs fast = run_spatial_ops(x, xb, w, b, g);
  // Both tiers against the reference solution's reference tier.
  for (const TierOutputs* o : std::initializer_list<const TierOutputs*>{&ref, &fast}) {
    TT_GRADE_TENSOR(o->mp, ref.mp, 0, 0);
    TT_GRADE_TENSOR(o->idx, ref.idx);
    TT_GRADE_TENSOR(o->mp_grad, ref.mp_grad, 0, 0);
    TT_GRADE_TENSOR(o->bn, ref.bn, 1e-5, 1e-5);
    TT_GRADE_TENSOR(o->rm, ref.rm, 1e-6, 1e-6);
    TT_GRADE_TENSOR(o->rv, ref.rv, 1e-6, 1e-6);
    TT_GRADE_TENSOR(o->gx, ref.gx, 1e-4, 1e-5);
    TT_GRADE_TENSOR(o->gw, ref.gw, 1e-4, 1e-4);
    TT_GRADE_TENSOR(o->gb, ref.gb, 1e-4, 1e-4);
  }
}

}  // namespace
}  // namespace tinytorch
