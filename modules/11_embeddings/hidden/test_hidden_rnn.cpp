// Module 11 — hidden tests of the recurrences (Part 6): the layers and cells against a plain-loop
// definition of each recurrence in doubles, written here from the equations, on weights drawn
// from the tests' own generators: random weights (any gate order but PyTorch's fails), gates
// driven to 0 or 1 (an input and a forget gate swapped, GRU's r applied to the wrong share, z's
// two sides swapped), stacked + bidirectional + batch_first + proj_size, a one-step sequence, an
// empty batch; and the gradients through time against finite differences of the definition.
// The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "support/graded.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

// ── the definition, in plain doubles ────────────────────────────────────────────────────────

using Vec = std::vector<double>;

enum class Kind { kTanh, kRelu, kLstm, kGru };

// A recurrent layer stack: L layers, D directions, input I, hidden H, projection P (0: none).
struct Spec {
  Kind kind;
  int64_t I, H, L = 1, D = 1, P = 0;
  int64_t gates() const { return kind == Kind::kLstm ? 4 : kind == Kind::kGru ? 3 : 1; }
  int64_t h_out() const { return P > 0 ? P : H; }
};

// One direction of one layer: row-major weights; an empty bias means none.
struct Weights {
  Vec w_ih, w_hh, b_ih, b_hh, w_hr;
};

Vec values(const Tensor& t) {
  return t.defined() ? t.contiguous().to_vector<double>() : Vec{};
}

Tensor from_values(const Vec& v, IntArrayRef sizes) {
  Tensor t = zeros(sizes, kFloat64);
  std::copy(v.begin(), v.end(), t.data_ptr<double>());
  return t;
}

double sigmoid_of(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}

// y[r] = b[r] + Σ_k W[r, k]·x[k] for the `rows` rows of W [rows, cols].
Vec affine(const Vec& W, const Vec& b, int64_t rows, int64_t cols, const double* x) {
  Vec y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double acc = b.empty() ? 0.0 : b[static_cast<size_t>(r)];
    for (int64_t k = 0; k < cols; ++k) acc += W[static_cast<size_t>(r * cols + k)] * x[k];
    y[static_cast<size_t>(r)] = acc;
  }
  return y;
}

// One step for one sequence element: x [in], h [h_out] and c [H] updated in place.
void step(const Spec& s, const Weights& w, int64_t in, const double* x, double* h, double* c) {
  const int64_t H = s.H, G = s.gates() * H;
  const Vec a = affine(w.w_ih, w.b_ih, G, in, x);         // the input's share
  const Vec r = affine(w.w_hh, w.b_hh, G, s.h_out(), h);  // the state's share
  const auto at = [](const Vec& v, int64_t k) { return v[static_cast<size_t>(k)]; };
  switch (s.kind) {
    case Kind::kTanh:
    case Kind::kRelu:
      for (int64_t k = 0; k < H; ++k) {
        const double pre = at(a, k) + at(r, k);
        h[k] = s.kind == Kind::kTanh ? std::tanh(pre) : std::max(pre, 0.0);
      }
      return;
    case Kind::kLstm: {
      Vec m(static_cast<size_t>(H));  // o ⊙ tanh(c'), before the projection
      for (int64_t k = 0; k < H; ++k) {
        const double i = sigmoid_of(at(a, k) + at(r, k));
        const double f = sigmoid_of(at(a, H + k) + at(r, H + k));
        const double g = std::tanh(at(a, 2 * H + k) + at(r, 2 * H + k));
        const double o = sigmoid_of(at(a, 3 * H + k) + at(r, 3 * H + k));
        c[k] = f * c[k] + i * g;
        m[static_cast<size_t>(k)] = o * std::tanh(c[k]);
      }
      const Vec out = s.P > 0 ? affine(w.w_hr, {}, s.P, H, m.data()) : m;
      std::copy(out.begin(), out.end(), h);
      return;
    }
    case Kind::kGru:
      for (int64_t k = 0; k < H; ++k) {
        const double rr = sigmoid_of(at(a, k) + at(r, k));
        const double z = sigmoid_of(at(a, H + k) + at(r, H + k));
        const double n = std::tanh(at(a, 2 * H + k) + rr * at(r, 2 * H + k));
        h[k] = (1.0 - z) * n + z * h[k];
      }
      return;
  }
}

// The parameters of layer k, direction d, by PyTorch's names.
Weights weights_of(const nn::Module& m, int64_t k, int64_t d) {
  const std::string suffix = "_l" + std::to_string(k) + (d == 1 ? "_reverse" : "");
  const auto p = m.named_parameters();
  const auto get = [&](const std::string& name) {
    return p.contains(name + suffix) ? values(p[name + suffix]) : Vec{};
  };
  return {get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")};
}

// The whole stack, time-major: x [T, B, I], h0 [L·D, B, h_out], c0 [L·D, B, H] →
// {output [T, B, D·h_out], h_n, c_n}.
std::tuple<Vec, Vec, Vec> run(const Spec& s, const std::vector<Weights>& w, const Vec& x, int64_t T,
                              int64_t B, Vec h, Vec c) {
  const int64_t Ho = s.h_out();
  Vec layer_in = x;
  int64_t in = s.I;
  for (int64_t k = 0; k < s.L; ++k) {
    Vec out(static_cast<size_t>(T * B * s.D * Ho));
    for (int64_t d = 0; d < s.D; ++d) {
      const int64_t index = k * s.D + d;
      for (int64_t n = 0; n < T; ++n) {
        const int64_t t = d == 0 ? n : T - 1 - n;
        for (int64_t b = 0; b < B; ++b) {
          double* hb = h.data() + (index * B + b) * Ho;
          double* cb = c.empty() ? nullptr : c.data() + (index * B + b) * s.H;
          step(s, w[static_cast<size_t>(index)], in, layer_in.data() + (t * B + b) * in, hb, cb);
          std::copy(hb, hb + Ho, out.begin() + (t * B + b) * s.D * Ho + d * Ho);
        }
      }
    }
    layer_in = std::move(out);
    in = s.D * Ho;
  }
  return {layer_in, h, c};
}

std::vector<Weights> all_weights_of(const nn::Module& m, const Spec& s) {
  std::vector<Weights> w;
  for (int64_t k = 0; k < s.L; ++k) {
    for (int64_t d = 0; d < s.D; ++d) w.push_back(weights_of(m, k, d));
  }
  return w;
}

// Every parameter drawn from N(0, 0.5²) of the test's own generator.
void draw_parameters(nn::Module& m, Generator& gen) {
  const NoGradGuard no_grad;
  for (const auto& item : m.named_parameters()) {
    Tensor p = item.value();  // aliases the parameter
    p.copy_(randn(p.sizes(), kFloat64, &gen) * 0.5);
  }
}

constexpr double kRtol = 1e-10, kAtol = 1e-12;

// ── the cells ───────────────────────────────────────────────────────────────────────────────

// A cell's step for one batch, by the definition (the cells' parameters have no _l0 suffix).
Vec cell_definition(const nn::Module& m, const Spec& s, const Tensor& x, const Tensor& h,
                    const Tensor& c, bool want_c) {
  const auto p = m.named_parameters();
  const auto get = [&](const char* name) { return p.contains(name) ? values(p[name]) : Vec{}; };
  const Weights w{get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), {}};
  const int64_t B = x.size(0);
  Vec xs = values(x), hs = values(h), cs = c.defined() ? values(c) : Vec{};
  for (int64_t b = 0; b < B; ++b) {
    step(s, w, s.I, xs.data() + b * s.I, hs.data() + b * s.H,
         cs.empty() ? nullptr : cs.data() + b * s.H);
  }
  return want_c ? cs : hs;
}

TEST(RnnHidden, CellsFollowTheirEquationsOnRandomWeights) {
  Generator gen(1101);
  const int64_t I = 5, H = 4, B = 3;
  const Tensor x = randn({B, I}, kFloat64, &gen), h = randn({B, H}, kFloat64, &gen);
  const Tensor c = randn({B, H}, kFloat64, &gen);
  for (const bool relu : {false, true}) {
    auto options = nn::RNNCellOptions(I, H).dtype(kFloat64);
    if (relu) options.nonlinearity(kReLU);
    nn::RNNCell cell(options);
    draw_parameters(*cell, gen);
    const Spec s{relu ? Kind::kRelu : Kind::kTanh, I, H};
    TT_GRADE_TENSOR(cell(x, h),
                    from_values(cell_definition(*cell, s, x, h, Tensor(), false), {B, H}), kRtol,
                    kAtol);
  }
  nn::LSTMCell lstm(nn::LSTMCellOptions(I, H).dtype(kFloat64));
  draw_parameters(*lstm, gen);
  const auto [h1, c1] = lstm(x, std::make_tuple(h, c));
  const Spec ls{Kind::kLstm, I, H};
  TT_GRADE_TENSOR(h1, from_values(cell_definition(*lstm, ls, x, h, c, false), {B, H}), kRtol,
                  kAtol);
  TT_GRADE_TENSOR(c1, from_values(cell_definition(*lstm, ls, x, h, c, true), {B, H}), kRtol, kAtol);
  nn::GRUCell gru(nn::GRUCellOptions(I, H).dtype(kFloat64));
  draw_parameters(*gru, gen);
  TT_GRADE_TENSOR(
      gru(x, h),
      from_values(cell_definition(*gru, {Kind::kGru, I, H}, x, h, Tensor(), false), {B, H}), kRtol,
      kAtol);
}

// Zero weights and the gates set by the biases: σ(±30) is 1 or 0 to 1e-13.
TEST(RnnHidden, AnOpenForgetGateAndAShutInputGateKeepTheCell) {
  Generator gen(1102);
  const int64_t I = 2, H = 3, B = 2;
  nn::LSTMCell lstm(nn::LSTMCellOptions(I, H).dtype(kFloat64));
  {
    const NoGradGuard no_grad;
    lstm->weight_ih.fill_(0.0);
    lstm->weight_hh.fill_(0.0);
    lstm->bias_hh.fill_(0.0);
    // [i | f | g | o]: i shut, f open, g = tanh(1), o = σ(0) = ½.
    lstm->bias_ih.copy_(
        tensor({-30.0, -30.0, -30.0, 30.0, 30.0, 30.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0}, kFloat64));
  }
  const Tensor x = randn({B, I}, kFloat64, &gen), h = randn({B, H}, kFloat64, &gen);
  const Tensor c = randn({B, H}, kFloat64, &gen);
  auto [h1, c1] = lstm(x, std::make_tuple(h, c));
  TT_GRADE_TENSOR(c1, c, 1e-9, 1e-12);  // the cell kept: c' = 1·c + 0·g
  Vec half_tanh;
  TT_GRADE_EXPECTED_ONLY(for (const double v : values(c)) half_tanh.push_back(0.5 * std::tanh(v)));
  TT_GRADE_TENSOR(h1, from_values(half_tanh, {B, H}), 1e-9, 1e-12);
  // Now the other way round: f shut, i open — the cell is the candidate tanh(1) alone.
  {
    const NoGradGuard no_grad;
    lstm->bias_ih.copy_(
        tensor({30.0, 30.0, 30.0, -30.0, -30.0, -30.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0}, kFloat64));
  }
  auto [h2, c2] = lstm(x, std::make_tuple(h, c));
  TT_GRADE_TENSOR(c2, full({B, H}, std::tanh(1.0), kFloat64), 1e-9, 1e-12);
}

// n = tanh(xg_n + r ⊙ (h·W_hnᵀ + b_hn)): with r shut, the recurrent bias b_hn must vanish too;
// with z shut h' = n, with z open h' = h.
TEST(RnnHidden, TheGruResetGateScalesTheRecurrentShareBiasIncluded) {
  Generator gen(1103);
  const int64_t I = 2, H = 3, B = 2;
  nn::GRUCell gru(nn::GRUCellOptions(I, H).dtype(kFloat64));
  const Tensor x = randn({B, I}, kFloat64, &gen), h = randn({B, H}, kFloat64, &gen);
  const Tensor w_ih = randn({3 * H, I}, kFloat64, &gen), w_hh = randn({3 * H, H}, kFloat64, &gen);
  const auto set = [&](double r_bias, double z_bias) {
    const NoGradGuard no_grad;
    gru->weight_ih.copy_(w_ih);
    gru->weight_hh.copy_(w_hh);
    gru->weight_hh.narrow(0, 0, 2 * H).fill_(0.0);  // r and z set by the biases alone
    gru->weight_ih.narrow(0, 0, 2 * H).fill_(0.0);
    gru->bias_ih.fill_(0.0);
    gru->bias_ih.narrow(0, 0, H).fill_(r_bias);
    gru->bias_ih.narrow(0, H, H).fill_(z_bias);
    gru->bias_hh.fill_(0.0);
    gru->bias_hh.narrow(0, 2 * H, H).fill_(2.0);  // b_hn
  };
  const auto n_of = [&](bool r_open) {
    Vec out;
    const Vec xs = values(x), hs = values(h), wi = values(w_ih), wh = values(w_hh);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t k = 0; k < H; ++k) {
        double xn = 0.0, hn = 2.0;
        for (int64_t j = 0; j < I; ++j) xn += wi[(2 * H + k) * I + j] * xs[b * I + j];
        for (int64_t j = 0; j < H; ++j) hn += wh[(2 * H + k) * H + j] * hs[b * H + j];
        out.push_back(std::tanh(xn + (r_open ? hn : 0.0)));
      }
    }
    return out;
  };
  set(-30.0, -30.0);  // r shut, z shut: h' = n = tanh(x·W_inᵀ)
  Vec expected;
  TT_GRADE_EXPECTED_ONLY(expected = n_of(false));
  TT_GRADE_TENSOR(gru(x, h), from_values(expected, {B, H}), 1e-9, 1e-12);
  set(30.0, -30.0);  // r open: h' = n = tanh(x·W_inᵀ + h·W_hnᵀ + b_hn)
  TT_GRADE_EXPECTED_ONLY(expected = n_of(true));
  TT_GRADE_TENSOR(gru(x, h), from_values(expected, {B, H}), 1e-9, 1e-12);
  set(30.0, 30.0);  // z open: the state passes through
  TT_GRADE_TENSOR(gru(x, h), h, 1e-9, 1e-12);
}

// ── the layers ──────────────────────────────────────────────────────────────────────────────

TEST(RnnHidden, AStackedBidirectionalBatchFirstLstmWithAProjection) {
  Generator gen(1104);
  const Spec s{Kind::kLstm, 3, 5, /*L=*/2, /*D=*/2, /*P=*/2};
  const int64_t T = 4, B = 3;
  nn::LSTM lstm(nn::LSTMOptions(s.I, s.H)
                    .num_layers(s.L)
                    .bidirectional(true)
                    .batch_first(true)
                    .proj_size(s.P)
                    .dtype(kFloat64));
  draw_parameters(*lstm, gen);
  const Tensor x = randn({B, T, s.I}, kFloat64, &gen);
  const Tensor h0 = randn({s.L * s.D, B, s.P}, kFloat64, &gen);
  const Tensor c0 = randn({s.L * s.D, B, s.H}, kFloat64, &gen);
  auto [out, state] = lstm(x, std::make_tuple(h0, c0));
  Vec y, h_n, c_n;
  TT_GRADE_EXPECTED_ONLY(std::tie(y, h_n, c_n) =
                             run(s, all_weights_of(*lstm, s), values(x.transpose(0, 1)), T, B,
                                 values(h0), values(c0)));
  TT_GRADE_TENSOR(out, from_values(y, {T, B, s.D * s.P}).transpose(0, 1), kRtol, kAtol);
  TT_GRADE_TENSOR(std::get<0>(state), from_values(h_n, {s.L * s.D, B, s.P}), kRtol, kAtol);
  TT_GRADE_TENSOR(std::get<1>(state), from_values(c_n, {s.L * s.D, B, s.H}), kRtol, kAtol);
}

TEST(RnnHidden, AStackedBidirectionalGruAndABatchFirstReluRnnWithoutBias) {
  Generator gen(1105);
  const int64_t T = 5, B = 2;
  const Spec g{Kind::kGru, 3, 4, /*L=*/2, /*D=*/2};
  nn::GRU gru(nn::GRUOptions(g.I, g.H).num_layers(g.L).bidirectional(true).dtype(kFloat64));
  draw_parameters(*gru, gen);
  const Tensor x = randn({T, B, g.I}, kFloat64, &gen);
  const Tensor h0 = randn({g.L * g.D, B, g.H}, kFloat64, &gen);
  auto [out, h_n] = gru(x, h0);
  Vec y, h, unused;
  TT_GRADE_EXPECTED_ONLY(std::tie(y, h, unused) =
                             run(g, all_weights_of(*gru, g), values(x), T, B, values(h0), {}));
  TT_GRADE_TENSOR(out, from_values(y, {T, B, g.D * g.H}), kRtol, kAtol);
  TT_GRADE_TENSOR(h_n, from_values(h, {g.L * g.D, B, g.H}), kRtol, kAtol);

  const Spec r{Kind::kRelu, 3, 4};
  nn::RNN rnn(
      nn::RNNOptions(r.I, r.H).nonlinearity(kReLU).bias(false).batch_first(true).dtype(kFloat64));
  draw_parameters(*rnn, gen);
  const Tensor xb = randn({B, T, r.I}, kFloat64, &gen);
  auto [out_r, h_r] = rnn(xb);  // h_0: zeros
  TT_GRADE_EXPECTED_ONLY(std::tie(y, h, unused) =
                             run(r, all_weights_of(*rnn, r), values(xb.transpose(0, 1)), T, B,
                                 Vec(static_cast<size_t>(B * r.H), 0.0), {}));
  TT_GRADE_TENSOR(out_r, from_values(y, {T, B, r.H}).transpose(0, 1), kRtol, kAtol);
  TT_GRADE_TENSOR(h_r, from_values(h, {1, B, r.H}), kRtol, kAtol);
}

// A one-step sequence is one step of the cell; an empty batch gives empty outputs; a sequence of
// no steps is an error (as in PyTorch).
TEST(RnnHidden, OneStepSequencesEmptyBatchesAndEmptySequences) {
  Generator gen(1106);
  const Spec s{Kind::kLstm, 2, 3};
  nn::LSTM lstm(nn::LSTMOptions(s.I, s.H).dtype(kFloat64));
  draw_parameters(*lstm, gen);
  const Tensor x = randn({1, 4, s.I}, kFloat64, &gen);
  const Tensor h0 = randn({1, 4, s.H}, kFloat64, &gen), c0 = randn({1, 4, s.H}, kFloat64, &gen);
  auto [out, state] = lstm(x, std::make_tuple(h0, c0));
  Vec y, h_n, c_n;
  TT_GRADE_EXPECTED_ONLY(std::tie(y, h_n, c_n) = run(s, all_weights_of(*lstm, s), values(x), 1, 4,
                                                     values(h0), values(c0)));
  TT_GRADE_TENSOR(out, from_values(y, {1, 4, s.H}), kRtol, kAtol);
  TT_GRADE_TENSOR(std::get<1>(state), from_values(c_n, {1, 4, s.H}), kRtol, kAtol);

  nn::GRU gru(nn::GRUOptions(2, 3).dtype(kFloat64));
  auto [empty_out, empty_h] = gru(zeros({5, 0, 2}, kFloat64));
  TT_GRADE_EQ(empty_out.sizes(), IntArrayRef({5, 0, 3}));
  TT_GRADE_EQ(empty_h.sizes(), IntArrayRef({1, 0, 3}));
  TT_GRADE_THROW_WITH(gru(zeros({0, 2, 2}, kFloat64)), Error, "GRU", "length");
}

// ── backpropagation through time ─────────────────────────────────────────────────────────────

// d loss / d (x, h0[, c0]) of loss = Σ output ⊙ weights, by central differences of the
// definition: what backward() through every step must give.
std::vector<Vec> finite_differences(const Spec& s, const std::vector<Weights>& w, const Vec& wts,
                                    std::vector<Vec> inputs, int64_t T, int64_t B) {
  const auto loss = [&](const std::vector<Vec>& in) {
    const Vec y = std::get<0>(run(s, w, in[0], T, B, in[1], in.size() > 2 ? in[2] : Vec{}));
    double acc = 0.0;
    for (size_t k = 0; k < y.size(); ++k) acc += y[k] * wts[k];
    return acc;
  };
  const double eps = 1e-6;
  std::vector<Vec> grads;
  for (size_t a = 0; a < inputs.size(); ++a) {
    Vec g(inputs[a].size());
    for (size_t k = 0; k < g.size(); ++k) {
      const double v = inputs[a][k];
      inputs[a][k] = v + eps;
      const double up = loss(inputs);
      inputs[a][k] = v - eps;
      const double down = loss(inputs);
      inputs[a][k] = v;
      g[k] = (up - down) / (2 * eps);
    }
    grads.push_back(std::move(g));
  }
  return grads;
}

TEST(RnnHidden, GradientsThroughTimeMatchFiniteDifferencesOfTheDefinition) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  Generator gen(1107);
  const int64_t T = 6, B = 2;
  for (const Kind kind : {Kind::kLstm, Kind::kGru}) {
    const Spec s{kind, 2, 3};
    nn::LSTM lstm(nn::LSTMOptions(s.I, s.H).dtype(kFloat64));
    nn::GRU gru(nn::GRUOptions(s.I, s.H).dtype(kFloat64));
    nn::Module& m = kind == Kind::kLstm ? static_cast<nn::Module&>(*lstm) : *gru;
    draw_parameters(m, gen);
    const Tensor x = randn({T, B, s.I}, kFloat64, &gen).requires_grad_();
    const Tensor h0 = randn({1, B, s.H}, kFloat64, &gen).requires_grad_();
    const Tensor c0 = randn({1, B, s.H}, kFloat64, &gen).requires_grad_();
    const Tensor wts = randn({T, B, s.H}, kFloat64, &gen);
    const Tensor out = kind == Kind::kLstm ? std::get<0>(lstm(x, std::make_tuple(h0, c0)))
                                           : std::get<0>(gru(x, h0));
    (out * wts).sum().backward();
    std::vector<Vec> fd;
    TT_GRADE_EXPECTED_ONLY(
        fd = finite_differences(
            s, all_weights_of(m, s), values(wts),
            kind == Kind::kLstm
                ? std::vector<Vec>{values(x.detach()), values(h0.detach()), values(c0.detach())}
                : std::vector<Vec>{values(x.detach()), values(h0.detach())},
            T, B));
    TT_GRADE_TENSOR(x.grad(), from_values(fd.at(0), {T, B, s.I}), 1e-6, 1e-8);
    TT_GRADE_TENSOR(h0.grad(), from_values(fd.at(1), {1, B, s.H}), 1e-6, 1e-8);
    if (kind == Kind::kLstm) {
      TT_GRADE_TENSOR(c0.grad(), from_values(fd.at(2), {1, B, s.H}), 1e-6, 1e-8);
    }
  }
}

}  // namespace
}  // namespace tinytorch
