// The fast tier's activation kernels (kernels/activation.h) — GELU, sigmoid and tanh — written
// once over a vector policy (vec_policy.h) and instantiated per instruction set:
// activation_avx2.cpp, activation_avx512.cpp, and the portable one-lane version in
// activation_fast.cpp. Private to src/kernels.
//
// ── The exact GELU: y = x · Φ(x) ──────────────────────────────────────────────────────────────
// std::erf is a branchy scalar routine; here Φ comes from a closed form that vectorises:
//
//   z = |x| / √2,   t = 1 / (1 + z/2),
//   erfc(z) ≈ t · exp(−z² + P(t)),   P a degree-9 polynomial (Numerical Recipes' erfcc, a
//                                    Chebyshev fit with relative error < 1.2·10⁻⁷ for all z ≥ 0)
//   h = ½ · erfc(z)  = Φ(−|x|)        (the small tail, kept to full RELATIVE accuracy)
//   Φ(x) = x < 0 ? h : 1 − h
//
// so each lane costs one division, one exponential and ten FMAs, with no branch. The backward
// needs φ(x) = e^(−x²/2)/√(2π) = e^(−z²)/√(2π) as well:
//
//   d/dx [x · Φ(x)] = Φ(x) + x · φ(x)
//
// and takes erfc from that same exponential, erfc(z) ≈ t · e^(−z²) · E(t), where E(t) = e^(P(t))
// on t ∈ (0, 1] is a degree-12 polynomial (a Chebyshev least-squares fit: relative error 3.6·10⁻⁹
// before rounding, 1.9·10⁻⁷ evaluated in float; tools/reference/gen_gelu_backward_poly.py makes
// and checks it). One exponential instead of two: the backward of [2048, 1024] at one thread took
// 1.31-1.36 ms instead of 1.75 (medians of 300, warm, 2-vCPU Xeon family 6 model 207). Inside the
// GPTs' training steps, where it streams 24 MiB that is not in the caches, the step times did not
// move beyond their noise.
//
// ── The tanh approximation: y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³) ───────────────────
// With s = σ(2u) = e/(1 + e), e = e^(2u):  ½(1 + tanh u) = s  and  ½(1 − tanh² u) = 2s(1 − s), so
//
//   y = x · s,     dy/dx = s + 2x · s(1 − s) · √(2/π)(1 + 3 · 0.044715x²),   1 − s = 1/(1 + e)
//
// (exp saturates at e^88.3 for large u, where s rounds to 1, as tanh does; x = −∞ gives e = 0,
// s = 0 and y = −∞ · 0 = NaN, as the reference's ½x(1 + tanh u) does.)
//
// ── Sigmoid and tanh, from e = e^(−|x|) or e^(−2|x|), which never overflows ────────────────────
//   σ(x) = 1/(1 + e) for x ≥ 0,  e/(1 + e) for x < 0                     (e = e^(−|x|))
//   tanh(x) = sign(x) · (1 − e)/(1 + e)                                   (e = e^(−2|x|))
// σ(±∞) = 1 and 0, tanh(±∞) = ±1 exactly; below x ≈ −87.3 exp flushes e to 0, so σ gives 0
// where its true value is below FLT_MIN (the reference's 1/(1 + e^(−x)) gives such denormals
// down to −88.7, then 0). For |x| < 0.625, 1 − e would cancel: tanh is x·(1 + x²·Q(x²)) there, Q a
// degree-5 least-squares fit (relative error 2.5·10⁻⁹ before rounding). Both stay within a few
// ulp (tests/kernels/test_activation_fast.cpp). Their backward formulas take the forward
// OUTPUT y, as module 02's: grad · y(1 − y) and grad · (1 − y²).
//
// The last n mod kLanes elements go through a kLanes-long buffer, so every element takes the
// same vector path (results do not depend on where a chunk boundary falls).
//
// NOTE: compiled once per instruction set; see attention_simd.h's NOTE for why everything here
// is a member of a template over a file-local V and uses no inline standard-library function.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/activation.h"

namespace tinytorch::kernels::activation_detail {

// Runs a vector function over n contiguous elements.
template <class V>
struct Map {
  using Vec = typename V::Vec;
  static constexpr int64_t W = V::kLanes;

  // y[0 .. n) = F(x[0 .. n)), whole vectors, then the tail through a buffer.
  template <Vec (*F)(Vec)>
  static void map(const float* x, float* y, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) V::store(y + i, F(V::load(x + i)));
    if (i == n) return;
    float buf[W] = {};
    for (int64_t j = 0; j < n - i; ++j) buf[j] = x[i + j];
    V::store(buf, F(V::load(buf)));
    for (int64_t j = 0; j < n - i; ++j) y[i + j] = buf[j];
  }

  // out[0 .. n) = F(grad, x) likewise.
  template <Vec (*F)(Vec, Vec)>
  static void map_backward(const float* g, const float* x, float* out, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) V::store(out + i, F(V::load(g + i), V::load(x + i)));
    if (i == n) return;
    float gb[W] = {}, xb[W] = {};
    for (int64_t j = 0; j < n - i; ++j) {
      gb[j] = g[i + j];
      xb[j] = x[i + j];
    }
    V::store(gb, F(V::load(gb), V::load(xb)));
    for (int64_t j = 0; j < n - i; ++j) out[i + j] = gb[j];
  }
};

template <class V>
struct Gelu {
  using Vec = typename V::Vec;

  static constexpr float kInvSqrt2 = 0.70710678118654752f;     // 1/√2
  static constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/√(2π)
  static constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
  static constexpr float kKappa = 0.044715f;

  // z = |x|/√2 and t = 1/(1 + z/2), for erfc(z).
  [[gnu::always_inline]] static Vec z_of(Vec x) {
    return V::mul(V::max(x, V::sub(V::zero(), x)), V::set1(kInvSqrt2));
  }
  [[gnu::always_inline]] static Vec t_of(Vec z) {
    const Vec one = V::set1(1.0f);
    return V::div(one, V::fmadd(z, V::set1(0.5f), one));
  }
  // Φ(x) from h = Φ(−|x|) = ½·erfc(z).
  [[gnu::always_inline]] static Vec cdf_from_tail(Vec x, Vec h) {
    return V::select_negative(x, h, V::sub(V::set1(1.0f), h));
  }

  // Φ(x): erfc(z) = t · e^(−z² + P(t)).
  [[gnu::always_inline]] static Vec cdf(Vec x) {
    const Vec z = z_of(x), t = t_of(z);
    // P(t), Horner from the highest coefficient.
    Vec p = V::set1(0.17087277f);
    p = V::fmadd(p, t, V::set1(-0.82215223f));
    p = V::fmadd(p, t, V::set1(1.48851587f));
    p = V::fmadd(p, t, V::set1(-1.13520398f));
    p = V::fmadd(p, t, V::set1(0.27886807f));
    p = V::fmadd(p, t, V::set1(-0.18628806f));
    p = V::fmadd(p, t, V::set1(0.09678418f));
    p = V::fmadd(p, t, V::set1(0.37409196f));
    p = V::fmadd(p, t, V::set1(1.00002368f));
    p = V::fmadd(p, t, V::set1(-1.26551223f));
    const Vec minus_z2 = V::mul(V::sub(V::zero(), z), z);
    return cdf_from_tail(x, V::mul(V::set1(0.5f), V::mul(t, V::exp(V::add(minus_z2, p)))));
  }

  [[gnu::always_inline]] static Vec forward(Vec x) { return V::mul(x, cdf(x)); }

  // g · (Φ(x) + x·φ(x)), both from gauss = e^(−z²) = e^(−x²/2): erfc(z) = t · gauss · E(t).
  [[gnu::always_inline]] static Vec backward(Vec g, Vec x) {
    const Vec z = z_of(x), t = t_of(z);
    const Vec gauss = V::exp(V::mul(V::sub(V::zero(), z), z));
    // E(t) = e^(P(t)), Horner from the highest coefficient (gen_gelu_backward_poly.py).
    Vec e = V::set1(0.049920097f);
    e = V::fmadd(e, t, V::set1(-0.207128271f));
    e = V::fmadd(e, t, V::set1(0.324395567f));
    e = V::fmadd(e, t, V::set1(-0.229000956f));
    e = V::fmadd(e, t, V::set1(0.040588662f));
    e = V::fmadd(e, t, V::set1(0.140210435f));
    e = V::fmadd(e, t, V::set1(-0.261411279f));
    e = V::fmadd(e, t, V::set1(0.0935773998f));
    e = V::fmadd(e, t, V::set1(0.0581132546f));
    e = V::fmadd(e, t, V::set1(0.17996192f));
    e = V::fmadd(e, t, V::set1(0.246576831f));
    e = V::fmadd(e, t, V::set1(0.282101601f));
    e = V::fmadd(e, t, V::set1(0.282094747f));
    const Vec cdf_x = cdf_from_tail(x, V::mul(V::set1(0.5f), V::mul(t, V::mul(gauss, e))));
    return V::mul(g, V::fmadd(V::mul(x, gauss), V::set1(kInvSqrt2Pi), cdf_x));
  }

  // s = σ(2u) and 1 − s, for the tanh form.
  [[gnu::always_inline]] static Vec sigmoid_2u(Vec x, Vec* one_minus_s) {
    const Vec x2 = V::mul(x, x);
    const Vec two_u = V::mul(V::mul(x, V::set1(2.0f * kSqrt2OverPi)),
                             V::fmadd(x2, V::set1(kKappa), V::set1(1.0f)));
    const Vec e = V::exp(two_u);
    const Vec r = V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
    *one_minus_s = r;
    return V::mul(e, r);
  }

  [[gnu::always_inline]] static Vec tanh_forward(Vec x) {
    Vec r;
    return V::mul(x, sigmoid_2u(x, &r));
  }

  [[gnu::always_inline]] static Vec tanh_backward(Vec g, Vec x) {
    Vec r;
    const Vec s = sigmoid_2u(x, &r);
    const Vec slope = V::mul(V::set1(2.0f * kSqrt2OverPi),
                             V::fmadd(V::mul(x, x), V::set1(3.0f * kKappa), V::set1(1.0f)));
    return V::mul(g, V::fmadd(V::mul(V::mul(x, s), r), slope, s));
  }
};

template <class V>
struct Logistic {
  using Vec = typename V::Vec;

  // |x| (NaN stays NaN).
  [[gnu::always_inline]] static Vec abs(Vec x) { return V::max(x, V::sub(V::zero(), x)); }

  [[gnu::always_inline]] static Vec sigmoid(Vec x) {
    const Vec e = V::exp(V::sub(V::zero(), abs(x)));
    const Vec r = V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
    return V::select_negative(x, V::mul(e, r), r);
  }

  [[gnu::always_inline]] static Vec tanh(Vec x) {
    const Vec a = abs(x);
    const Vec e = V::exp(V::mul(a, V::set1(-2.0f)));
    const Vec far = V::div(V::sub(V::set1(1.0f), e), V::add(V::set1(1.0f), e));  // tanh |x|
    const Vec x2 = V::mul(x, x);
    Vec q = V::set1(2.148984108e-03f);
    q = V::fmadd(q, x2, V::set1(-8.184661671e-03f));
    q = V::fmadd(q, x2, V::set1(2.170400040e-02f));
    q = V::fmadd(q, x2, V::set1(-5.394745417e-02f));
    q = V::fmadd(q, x2, V::set1(1.333321250e-01f));
    q = V::fmadd(q, x2, V::set1(-3.333333101e-01f));
    const Vec near = V::mul(x, V::fmadd(x2, q, V::set1(1.0f)));  // x·(…): tanh(−0) = −0
    return V::select_negative(V::sub(a, V::set1(0.625f)), near,
                              V::select_negative(x, V::sub(V::zero(), far), far));
  }

  [[gnu::always_inline]] static Vec sigmoid_backward(Vec g, Vec y) {
    return V::mul(V::mul(g, V::sub(V::set1(1.0f), y)), y);
  }

  [[gnu::always_inline]] static Vec tanh_backward(Vec g, Vec y) {
    return V::mul(g, V::sub(V::set1(1.0f), V::mul(y, y)));
  }
};

// The kernels of one instruction set.
struct ActivationIsa {
  UnaryFn gelu;
  UnaryBackwardFn gelu_backward;
  UnaryFn gelu_tanh;
  UnaryBackwardFn gelu_tanh_backward;
  UnaryFn sigmoid;
  UnaryBackwardFn sigmoid_backward;
  UnaryFn tanh;
  UnaryBackwardFn tanh_backward;
};

template <class V>
ActivationIsa activation_isa() {
  using M = Map<V>;
  using G = Gelu<V>;
  using L = Logistic<V>;
  return {M::template map<G::forward>,      M::template map_backward<G::backward>,
          M::template map<G::tanh_forward>, M::template map_backward<G::tanh_backward>,
          M::template map<L::sigmoid>,      M::template map_backward<L::sigmoid_backward>,
          M::template map<L::tanh>,         M::template map_backward<L::tanh_backward>};
}

// activation_avx2.cpp and activation_avx512.cpp, built only for x86 (as attention's).
ActivationIsa activation_avx2();
ActivationIsa activation_avx512();

}  // namespace tinytorch::kernels::activation_detail
