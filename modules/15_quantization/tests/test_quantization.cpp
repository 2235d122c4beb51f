// Module 15 — quantization, part A: the int8/uint8 storage dtypes; quantized tensors
// (quantize_per_tensor / quantize_per_channel, int_repr, dequantize) against PyTorch's answers,
// round half to even and the clamping at qmin/qmax; the round-trip error bound; observers
// (min/max, per channel, percentile) and their qparams; fake quantization's forward, its
// straight-through gradient (reference values and a float64 gradcheck) and FakeQuantize.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::expect_tensor_eq;
using test::json;
using test::tensor_from_json;
namespace q = quantization;

const json& cases() {
  return test::load_reference("module15_reference.json").at("cases");
}

template <typename Fn>
int for_cases(const std::string& op, Fn fn) {
  int n = 0;
  for (const json& c : cases()) {
    if (c.at("op") != op) continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    fn(c);
    ++n;
  }
  return n;
}

ScalarType qdtype(const json& c) {
  return test::parse_dtype(c.at("dtype").get<std::string>());
}

// Deterministic values in ±amplitude (a sine of the index), float32.
Tensor wave(IntArrayRef shape, double amplitude, double phase = 0.0) {
  Tensor t = empty(shape, kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<float>(amplitude * std::sin(0.37 * static_cast<double>(i) + phase));
  }
  return t;
}

// ── the int8 / uint8 dtypes ──────────────────────────────────────────────────────────────────

TEST(Int8Dtype, FactoriesItemAndNames) {
  EXPECT_EQ(element_size(kInt8), 1);
  EXPECT_EQ(element_size(kUInt8), 1);
  EXPECT_EQ(to_string(kInt8), "int8");
  EXPECT_EQ(scalar_type_from_string("uint8"), kUInt8);
  EXPECT_TRUE(is_integral(kInt8, false));
  const Tensor z = zeros({2, 3}, kInt8);
  EXPECT_EQ(z.dtype(), kInt8);
  EXPECT_EQ(z.nbytes(), 6);
  EXPECT_EQ(full({2}, -128, kInt8)[1].item<int64_t>(), -128);
  EXPECT_EQ(full({2}, 255, kUInt8)[0].item<int64_t>(), 255);
  // An integer that does not fit is refused, as in PyTorch (not silently wrapped).
  TT_EXPECT_THROW_WITH(full({2}, 300, kInt8), ValueError, "300", "without overflow");
  TT_EXPECT_THROW_WITH(full({2}, -1, kUInt8), ValueError, "-1");
}

TEST(Int8Dtype, ConversionsAreDefined) {
  // int64 → int8 keeps the low 8 bits (two's complement, defined in C++20), like PyTorch.
  const Tensor wide = tensor({300, -129, 127, -128}, kInt64);
  EXPECT_EQ(wide.to(kInt8).to_vector<int8_t>(), (std::vector<int8_t>{44, 127, 127, -128}));
  EXPECT_EQ(wide.to(kUInt8).to_vector<uint8_t>(), (std::vector<uint8_t>{44, 127, 127, 128}));
  // float → int8 truncates toward zero through int64 (NaN → INT64_MIN), then keeps the low 8
  // bits, as PyTorch 1.13 gives on x86 (kernels/loops.h convert): defined, never undefined
  // behaviour.
  const Tensor f = tensor({1.9f, -1.9f, 127.5f, 1000.0f, NAN});
  EXPECT_EQ(f.to(kInt8).to_vector<int8_t>(), (std::vector<int8_t>{1, -1, 127, -24, 0}));
  const Tensor back = tensor({-5, 7}, kInt8).to(kFloat32);
  EXPECT_EQ(back.to_vector<float>(), (std::vector<float>{-5.0f, 7.0f}));
}

TEST(Int8Dtype, ViewsComparisonsAndPrinting) {
  const Tensor x = tensor({{1, -2, 3}, {-4, 5, -6}}, kInt8);
  EXPECT_EQ(x.t().contiguous().to_vector<int8_t>(), (std::vector<int8_t>{1, -4, -2, 5, 3, -6}));
  EXPECT_EQ(x.select(1, 2).to_vector<int8_t>(), (std::vector<int8_t>{3, -6}));
  EXPECT_EQ(x.gt(0).to_vector<bool>(), (std::vector<bool>{true, false, true, false, true, false}));
  EXPECT_EQ(x.eq(x.clone()).to(kInt64).sum().item<int64_t>(), 6);
  // uint8 200 > int8 -1 compares the values (in int64), not the bytes.
  EXPECT_TRUE(tensor({200}, kUInt8).gt(tensor({-1}, kInt8)).item<bool>());
  EXPECT_EQ(repr(tensor({1, -2}, kInt8)), "tensor([ 1, -2], dtype=tinytorch.int8)");
  EXPECT_EQ(promote_types(kUInt8, kInt8), kInt16);
  EXPECT_EQ(promote_types(kInt8, kFloat32), kFloat32);
}

TEST(Int8Dtype, ArithmeticRefusesWithAHint) {
  const Tensor x = tensor({1, 2}, kInt8);
  TT_EXPECT_THROW_WITH(x.add(x), TypeError, "int8", "storage dtype", "to(tinytorch::kFloat32)");
  TT_EXPECT_THROW_WITH(x.mul(2), TypeError, "mul", "int8", "dequantize()");
  TT_EXPECT_THROW_WITH(tensor({1}, kUInt8).neg(), TypeError, "uint8");
  // sum() of integers accumulates in int64 (as in PyTorch), so it works — and cannot overflow.
  EXPECT_EQ(tensor({200, 100}, kUInt8).sum().item<int64_t>(), 300);
}

TEST(Int8Dtype, SaveAndLoadRoundTrip) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "tt_module15_int8.ttar").string();
  serialize::Archive a;
  a.tensors.insert("w", tensor({-128, 0, 127}, kInt8));
  a.tensors.insert("u", tensor({0, 200, 255}, kUInt8));
  serialize::save(a, path);
  const serialize::Archive b = serialize::load(path);
  std::filesystem::remove(path);
  EXPECT_EQ(b.tensors["w"].dtype(), kInt8);
  EXPECT_EQ(b.tensors["w"].to_vector<int8_t>(), (std::vector<int8_t>{-128, 0, 127}));
  EXPECT_EQ(b.tensors["u"].to_vector<uint8_t>(), (std::vector<uint8_t>{0, 200, 255}));
}

// ── quantized tensors ────────────────────────────────────────────────────────────────────────

TEST(QuantizePerTensor, MatchesPyTorch) {
  const int n = for_cases("quantize_per_tensor", [](const json& c) {
    const Tensor qx = quantize_per_tensor(tensor_from_json(c.at("input")), c.at("scale"),
                                          c.at("zero_point"), qdtype(c));
    EXPECT_TRUE(qx.is_quantized());
    EXPECT_EQ(qx.qscheme(), kPerTensorAffine);
    EXPECT_EQ(qx.q_scale(), c.at("scale").get<double>());
    EXPECT_EQ(qx.q_zero_point(), c.at("zero_point").get<int64_t>());
    expect_tensor_eq(qx.int_repr(), c.at("int_repr"));  // exact: ties, clamps and all
    expect_tensor_eq(qx.dequantize(), c.at("dequantized"));
  });
  EXPECT_EQ(n, 7);
}

TEST(QuantizePerTensor, RoundsHalfToEven) {
  // x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5: half to even gives 0, 2, 2, -0, -2 (not 1, 2, 3, -1, -2).
  const Tensor qx =
      quantize_per_tensor(tensor({0.25f, 0.75f, 1.25f, -0.25f, -0.75f}), 0.5, 0, kInt8);
  EXPECT_EQ(qx.int_repr().to_vector<int8_t>(), (std::vector<int8_t>{0, 2, 2, 0, -2}));
}

TEST(QuantizePerChannel, MatchesPyTorch) {
  const int n = for_cases("quantize_per_channel", [](const json& c) {
    const Tensor scales = tensor_from_json(c.at("scales"));
    const Tensor zps = tensor_from_json(c.at("zero_points"));
    const int64_t axis = c.at("axis");
    const Tensor qx =
        quantize_per_channel(tensor_from_json(c.at("input")), scales, zps, axis, qdtype(c));
    EXPECT_EQ(qx.qscheme(), kPerChannelAffine);
    EXPECT_EQ(qx.q_per_channel_axis(), axis);
    expect_tensor_eq(qx.q_per_channel_scales(), scales);
    expect_tensor_eq(qx.q_per_channel_zero_points(), zps);
    expect_tensor_eq(qx.int_repr(), c.at("int_repr"));
    expect_tensor_eq(qx.dequantize(), c.at("dequantized"));
  });
  EXPECT_EQ(n, 5);
}

TEST(QuantizePerChannel, NegativeAxisCountsFromTheEnd) {
  const Tensor x = wave({4, 6}, 1.0);
  const Tensor s = tensor({0.004, 0.007, 0.01, 0.013, 0.016, 0.02}, kFloat64);
  const Tensor z = zeros({6}, kInt64);
  const Tensor a = quantize_per_channel(x, s, z, -1, kInt8);
  const Tensor b = quantize_per_channel(x, s, z, 1, kInt8);
  EXPECT_EQ(a.q_per_channel_axis(), 1);
  EXPECT_EQ(a.int_repr().to_vector<int8_t>(), b.int_repr().to_vector<int8_t>());
}

// The error analysis of the chapter (Part 2): inside the representable range the round trip is
// off by at most scale / 2; outside it, a value lands on the nearest end of the range.
TEST(QuantizeRoundTrip, ErrorIsAtMostHalfAStepInsideTheRange) {
  const double scale = 0.02;
  const int64_t zp = -10;
  const double lo = scale * static_cast<double>(-128 - zp),
               hi = scale * static_cast<double>(127 - zp);
  const Tensor x = wave({1000}, 3.5);  // reaches past both ends ([-2.36, 2.74])
  const std::vector<float> xs = x.to_vector<float>();
  const std::vector<float> dq =
      quantize_per_tensor(x, scale, zp, kInt8).dequantize().to_vector<float>();
  int inside = 0, outside = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (xs[i] >= lo && xs[i] <= hi) {
      ++inside;
      EXPECT_LE(std::abs(xs[i] - dq[i]), scale / 2 * (1 + 1e-5)) << "x = " << xs[i];
    } else {
      ++outside;
      EXPECT_FLOAT_EQ(dq[i], static_cast<float>(xs[i] > 0 ? hi : lo)) << "x = " << xs[i];
    }
  }
  EXPECT_GT(inside, 500);
  EXPECT_GT(outside, 50);
}

TEST(QuantizedTensor, AccessorsAndMisuseErrors) {
  const Tensor x = wave({3, 4}, 1.0);
  const Tensor pt = quantize_per_tensor(x, 0.01, 3, kUInt8);
  const Tensor pc =
      quantize_per_channel(x, full({3}, 0.01, kFloat64), zeros({3}, kInt64), 0, kInt8);
  EXPECT_EQ(pt.dtype(), kUInt8);
  EXPECT_FALSE(pt.int_repr().is_quantized());
  EXPECT_FALSE(x.is_quantized());
  TT_EXPECT_THROW_WITH(x.q_scale(), TypeError, "q_scale", "quantized");
  TT_EXPECT_THROW_WITH(pc.q_scale(), TypeError, "per_tensor_affine", "per_channel_affine");
  TT_EXPECT_THROW_WITH(pt.q_per_channel_axis(), TypeError, "per_channel_affine");
  // Reading the integers as if they were the values is the classic bug: refused.
  TT_EXPECT_THROW_WITH(pt.to(kFloat32), TypeError, "dequantize()");
  TT_EXPECT_THROW_WITH(pt.add(pt), TypeError, "dequantize()");
  // A per-tensor view keeps the scale; a per-channel one would lose track of its channels.
  EXPECT_EQ(pt[1].q_scale(), 0.01);
  expect_tensor_eq(pt[1].dequantize(), pt.dequantize()[1]);
  TT_EXPECT_THROW_WITH(pc.t(), Error, "per-channel");
  EXPECT_NE(repr(pt).find("quantization_scheme=tinytorch.per_tensor_affine, scale=0.01, "
                          "zero_point=3"),
            std::string::npos)
      << repr(pt);
  serialize::Archive a;
  a.tensors.insert("q", pt);
  TT_EXPECT_THROW_WITH(serialize::save(a, "/tmp/never_written.ttar"), Error, "quantized",
                       "int_repr()");
}

TEST(QuantizedTensor, BadArgumentsAreRefused) {
  const Tensor x = wave({2, 3}, 1.0);
  TT_EXPECT_THROW_WITH(quantize_per_tensor(x, 0.0, 0, kInt8), ValueError, "scale", "positive");
  TT_EXPECT_THROW_WITH(quantize_per_tensor(x, NAN, 0, kInt8), ValueError, "scale");
  TT_EXPECT_THROW_WITH(quantize_per_tensor(x, 0.1, 200, kInt8), ValueError, "zero_point",
                       "[-128, 127]");
  TT_EXPECT_THROW_WITH(quantize_per_tensor(x, 0.1, 0, kFloat32), TypeError, "int8 or uint8");
  TT_EXPECT_THROW_WITH(quantize_per_tensor(tensor({1, 2}), 0.1, 0, kInt8), TypeError,
                       "floating-point");
  TT_EXPECT_THROW_WITH(quantize_per_tensor(tensor({1.0f, NAN}), 0.1, 0, kInt8), ValueError, "NaN");
  TT_EXPECT_THROW_WITH(
      quantize_per_channel(x, full({2}, 0.1, kFloat64), zeros({2}, kInt64), 1, kInt8), Error,
      "[3]");
  TT_EXPECT_THROW_WITH(
      quantize_per_channel(x, full({3}, 0.1, kFloat64), zeros({3}, kInt64), 2, kInt8), IndexError,
      "axis 2");
}

// ── observers ────────────────────────────────────────────────────────────────────────────────

q::ObserverOptions options_of(const json& c) {
  const std::string qs = c.at("qscheme");
  const QScheme scheme = qs == "per_tensor_affine"      ? kPerTensorAffine
                         : qs == "per_tensor_symmetric" ? kPerTensorSymmetric
                         : qs == "per_channel_affine"   ? kPerChannelAffine
                                                        : kPerChannelSymmetric;
  return q::ObserverOptions()
      .dtype(qdtype(c))
      .qscheme(scheme)
      .reduce_range(c.at("reduce_range").get<bool>())
      .ch_axis(c.at("ch_axis").get<int64_t>());
}

TEST(Observers, MatchPyTorch) {
  const int n = for_cases("observer", [](const json& c) {
    const q::ObserverOptions opts = options_of(c);
    std::unique_ptr<q::ObserverBase> obs;
    if (c.at("observer") == "MinMaxObserver") {
      obs = std::make_unique<q::MinMaxObserver>(opts);
    } else {
      obs = std::make_unique<q::PerChannelMinMaxObserver>(opts);
    }
    for (const json& x : c.at("inputs")) {
      const Tensor t = tensor_from_json(x);
      EXPECT_TRUE(obs->forward(t).is_same(t));  // observers pass their input through
    }
    const q::QParams qp = obs->calculate_qparams();
    expect_tensor_eq(qp.scale, c.at("scale"));
    expect_tensor_eq(qp.zero_point, c.at("zero_point"));
  });
  EXPECT_EQ(n, 9);
}

TEST(Observers, ReduceRangeHalvesTheIntegerRange) {
  EXPECT_EQ(q::quant_range(q::ObserverOptions().dtype(kUInt8).reduce_range(true)),
            (std::pair<int64_t, int64_t>{0, 127}));
  EXPECT_EQ(q::quant_range(q::ObserverOptions().dtype(kInt8).reduce_range(true)),
            (std::pair<int64_t, int64_t>{-64, 63}));
  TT_EXPECT_THROW_WITH(
      q::calculate_qparams(full({1}, -1.0), full({1}, 1.0),
                           q::ObserverOptions().qscheme(kPerTensorSymmetric).reduce_range(true)),
      ValueError, "symmetric", "uint8");
  TT_EXPECT_THROW_WITH(q::MinMaxObserver().calculate_qparams(), ValueError, "forward");
}

// PyTorch's quant_min / quant_max: the formula is unchanged, only [qmin, qmax] narrows. With
// [-127, 127] (PyTorch's weight_observer_range_neg_127_to_127, the dynamic Linear's weights) the
// symmetric scale is max|x| / 127 instead of max|x| / 127.5.
TEST(Observers, CustomRangeNarrowsTheIntegerRange) {
  const auto narrow = q::ObserverOptions().dtype(kInt8).quant_min(-127).quant_max(127);
  EXPECT_EQ(q::quant_range(narrow), (std::pair<int64_t, int64_t>{-127, 127}));
  // reduce_range halves rounding down, as Python's // does.
  EXPECT_EQ(q::quant_range(q::ObserverOptions(narrow).reduce_range(true)),
            (std::pair<int64_t, int64_t>{-64, 63}));
  q::MinMaxObserver obs(q::ObserverOptions(narrow).qscheme(kPerTensorSymmetric));
  obs.forward(tensor({{0.5, -2.54}, {1.0, 0.0}}, kFloat32));
  const q::QParams qp = obs.calculate_qparams();
  EXPECT_EQ(qp.scale.item<float>(), 2.54f / 127.0f);
  EXPECT_EQ(qp.zero_point.item<int64_t>(), 0);
  q::PerChannelMinMaxObserver rows(q::ObserverOptions(narrow).qscheme(kPerChannelSymmetric));
  rows.forward(tensor({{0.5, -2.54}, {1.0, 0.0}, {0.0, 0.0}}, kFloat32));
  const q::QParams per_row = rows.calculate_qparams();
  EXPECT_EQ(
      per_row.scale.to_vector<float>(),
      (std::vector<float>{2.54f / 127.0f, 1.0f / 127.0f, std::numeric_limits<float>::epsilon()}));
  // Affine over uint8 [0, 200]: 200 steps across [-1, 3].
  q::MinMaxObserver affine(q::ObserverOptions().quant_min(0).quant_max(200));
  affine.forward(tensor({-1.0, 3.0}, kFloat32));
  EXPECT_EQ(affine.calculate_qparams().scale.item<float>(), 4.0f / 200.0f);
  EXPECT_EQ(affine.calculate_qparams().zero_point.item<int64_t>(), 50);
  EXPECT_NE(q::FakeQuantize(std::make_shared<q::MinMaxObserver>(
                                q::ObserverOptions(narrow).qscheme(kPerTensorSymmetric)))
                ->extra_repr()
                .find("quant_min=-127, quant_max=127"),
            std::string::npos);
  // Refused: one end only, a range without 0 or outside the dtype, symmetric uint8.
  TT_EXPECT_THROW_WITH(q::MinMaxObserver(q::ObserverOptions().quant_min(0)), ValueError, "both");
  TT_EXPECT_THROW_WITH(q::MinMaxObserver(q::ObserverOptions().quant_min(1).quant_max(9)),
                       ValueError, "contain 0");
  TT_EXPECT_THROW_WITH(
      q::MinMaxObserver(q::ObserverOptions().dtype(kInt8).quant_min(-200).quant_max(100)),
      ValueError, "[-128, 127]");
  TT_EXPECT_THROW_WITH(
      q::calculate_qparams(
          full({1}, -1.0), full({1}, 1.0),
          q::ObserverOptions().qscheme(kPerTensorSymmetric).quant_min(0).quant_max(200)),
      ValueError, "symmetric uint8");
}

TEST(Observers, PercentileClipsOutliers) {
  const int n = for_cases("percentile", [](const json& c) {
    q::PercentileObserver obs(c.at("percentile").get<double>());
    const Tensor x = tensor_from_json(c.at("input"));
    obs.forward(x.narrow(0, 0, 15));  // in two batches: the percentile is of everything seen
    obs.forward(x.narrow(0, 15, 25));
    const auto [lo, hi] = obs.clip_range();
    EXPECT_FLOAT_EQ(lo.item<float>(), c.at("min_val").get<float>());
    EXPECT_FLOAT_EQ(hi.item<float>(), c.at("max_val").get<float>());
    const q::QParams qp = obs.calculate_qparams();
    expect_tensor_eq(qp.scale, c.at("scale"));
    expect_tensor_eq(qp.zero_point, c.at("zero_point"));
    // The outliers (25 and -18) would have set a min/max observer's scale 20x coarser.
    q::MinMaxObserver mm;
    mm.forward(x);
    EXPECT_GT(mm.calculate_qparams().scale.item<double>(), 10 * qp.scale.item<double>());
  });
  EXPECT_EQ(n, 2);
}

// ── fake quantization ────────────────────────────────────────────────────────────────────────

TEST(FakeQuantize, PerTensorMatchesPyTorchForwardAndBackward) {
  const int n = for_cases("fake_quantize_per_tensor", [](const json& c) {
    const Tensor x = tensor_from_json(c.at("input")).requires_grad_();
    const Tensor out = fake_quantize_per_tensor_affine(x, c.at("scale"), c.at("zero_point"),
                                                       c.at("quant_min"), c.at("quant_max"));
    expect_tensor_eq(out, c.at("output"));
    out.mul(tensor_from_json(c.at("grad_output"))).sum().backward();
    expect_tensor_eq(x.grad(), c.at("grad_input"));
  });
  EXPECT_EQ(n, 4);
}

TEST(FakeQuantize, PerChannelMatchesPyTorchForwardAndBackward) {
  const int n = for_cases("fake_quantize_per_channel", [](const json& c) {
    const Tensor x = tensor_from_json(c.at("input")).requires_grad_();
    const Tensor out = fake_quantize_per_channel_affine(
        x, tensor_from_json(c.at("scales")), tensor_from_json(c.at("zero_points")), c.at("axis"),
        c.at("quant_min"), c.at("quant_max"));
    expect_tensor_eq(out, c.at("output"));
    out.mul(tensor_from_json(c.at("grad_output"))).sum().backward();
    expect_tensor_eq(x.grad(), c.at("grad_input"));
  });
  EXPECT_EQ(n, 3);
}

// The straight-through estimator, checked in float64. fake_quantize is a staircase: its TRUE
// derivative is 0 almost everywhere (and undefined on the steps at x / scale = k + 0.5), which
// is exactly why QAT replaces it. What the STE claims is the derivative of the surrogate
//     clamp(x, (qmin − zp − ½)·scale, (qmax − zp + ½)·scale):  1 inside the range, 0 outside.
// gradcheck tests that claim: the function below has clamp's VALUE (its finite differences are
// clamp's slope) and fake-quant's GRADIENT (the detached part carries none). The inputs sit a
// quarter step off the grid, away from the steps and from the clamp edges, where the finite
// differences would straddle a jump.
TEST(FakeQuantize, StraightThroughGradcheck) {
  const double scale = 0.1;
  const int64_t zp = 3, qmin = -128, qmax = 127;
  const double lo = (static_cast<double>(qmin - zp) - 0.5) * scale;
  const double hi = (static_cast<double>(qmax - zp) + 0.5) * scale;
  const std::vector<double> ks = {-200, -150, -30, -5, -1, 0, 1, 4, 30, 100, 160, 300};
  Tensor x = empty({static_cast<int64_t>(ks.size())}, kFloat64);
  for (size_t i = 0; i < ks.size(); ++i) x.data_ptr<double>()[i] = (ks[i] + 0.25) * scale;
  x.requires_grad_();
  const auto fake = [&](const Tensor& t) {
    return fake_quantize_per_tensor_affine(t, scale, zp, qmin, qmax);
  };
  const auto ste = [&](const std::vector<Tensor>& in) {
    const Tensor fq = fake(in[0]);
    return fq.add(in[0].clamp(lo, hi).sub(fq).detach());
  };
  const autograd::GradcheckResult r = autograd::gradcheck(ste, {x});
  EXPECT_TRUE(r.ok) << r.message;
  // The gradient itself: 1 for the 8 inputs inside [lo, hi], 0 for the 4 outside.
  fake(x).sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(),
            (std::vector<double>{0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}));
  // And why the STE is needed: the finite differences of fake-quant itself are 0 everywhere.
  for (int64_t k = 0; k < x.numel(); ++k) {
    const std::vector<double> col = autograd::numerical_jacobian_column(
        [&](const std::vector<Tensor>& in) { return fake(in[0]); }, {x}, x, k, 1e-6);
    for (double v : col) EXPECT_EQ(v, 0.0);
  }
}

TEST(FakeQuantize, ModuleObservesThenSnapsToTheGrid) {
  q::FakeQuantize fq(
      std::make_shared<q::MinMaxObserver>(q::ObserverOptions().dtype(kUInt8).reduce_range(true)));
  const Tensor x = wave({64}, 2.0).requires_grad_();
  const Tensor y = fq(x);
  const double scale = fq->scale.item<double>();
  const int64_t zp = fq->zero_point.item<int64_t>();
  EXPECT_NEAR(scale, 4.0 / 127, 1e-3);
  // Every output is scale · (q − zp) for an integer q in [0, 127].
  for (float v : y.to_vector<float>()) {
    const double qv = v / scale + static_cast<double>(zp);
    EXPECT_NEAR(qv, std::round(qv), 1e-3);
    EXPECT_GE(std::round(qv), 0);
    EXPECT_LE(std::round(qv), 127);
  }
  y.sum().backward();
  expect_tensor_eq(x.grad(), ones({64}));  // the observed range covers x: nothing clamped
  fq->enable_fake_quant(false);
  EXPECT_TRUE(fq(x).is_same(x));
  EXPECT_NE(fq->extra_repr().find("quant_max=127"), std::string::npos);
}

}  // namespace
}  // namespace tinytorch
