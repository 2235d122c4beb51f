// The fast tier's LSTM layer (see lstm_fused.h): the recurrence on raw float32 buffers with the
// registered GEMM, sigmoid and tanh kernels, as one autograd node per layer and direction.
//
// Per step s (time t = s, or T−1−s in reverse), with h, c the previous step's state:
//   gates_t = xg_t + b_hh + h·W_hhᵀ                    one GEMM, β = 1 onto xg_t + b_hh  [B, 4H]
//   i, f, o = σ(gates_t[i|f|o]), g = tanh(gates_t[g])  in place: gates_t holds the activations
//   c_t = f ⊙ c + i ⊙ g,  h_t = o ⊙ tanh(c_t)          kept: c_t, tanh(c_t), h_t (the output)
// and backward, from the last step to the first, with dh, dc the gradients reaching h_t, c_t:
//   dh += dout_t;  dc += dh ⊙ o ⊙ (1 − tanh²(c_t))
//   dgates_t = [dc⊙g⊙i(1−i) | dc⊙c⊙f(1−f) | dc⊙i⊙(1−g²) | dh⊙tanh(c_t)⊙o(1−o)]     [B, 4H]
//   dc ← dc ⊙ f,  dh ← dgates_t·W_hh                   one GEMM               [B, H]
// then dW_hh = Σ_t dgates_tᵀ·h_{t−1} over all T·B rows, db_hh = Σ rows of dgates, dxg = dgates.
#include "lstm_fused.h"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "tinytorch/autograd/engine.h"
#include "tinytorch/core/join.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/core/simd.h"
#include "tinytorch/kernels/registry.h"

namespace tinytorch::nn::detail {

using autograd::AutogradContext;
using autograd::variable_list;

bool fused_lstm_applies(ScalarType dtype) {
  const kernels::FastKernels& k = kernels::fast_kernels();
  return dtype == ScalarType::Float32 && k.lstm_layer && k.sgemm != nullptr &&
         k.activation.sigmoid != nullptr && k.activation.tanh != nullptr;
}

namespace {

// Rows per parallel chunk: about 32K floats of element-wise work each (the 2-thread team pays
// off only above that; milestone 1997's [32, 940] step stays on one thread).
int64_t row_grain(int64_t width) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, width));
}

// Whether time index `t` is the first step the recurrence runs (its previous state is h0, c0).
bool first_step(int64_t t, int64_t T, bool reverse) {
  return reverse ? t == T - 1 : t == 0;
}

// The row loops below are built for baseline x86-64 and for AVX2 (core/simd.h); their pointers
// never alias, which lets the compiler vectorise them without run-time overlap checks.

// a = x + b (b: null for no bias)                                                 [n]
TT_TARGET_CLONES_AVX2 void add_row(int64_t n, const float* __restrict x, const float* __restrict b,
                                   float* __restrict a) {
  if (b == nullptr) {
    std::copy(x, x + n, a);
    return;
  }
  TT_PRAGMA_OMP_SIMD
  for (int64_t j = 0; j < n; ++j) a[j] = x[j] + b[j];
}

// acc += a                                                                        [n]
TT_TARGET_CLONES_AVX2 void accumulate_row(int64_t n, const float* __restrict a,
                                          float* __restrict acc) {
  TT_PRAGMA_OMP_SIMD
  for (int64_t j = 0; j < n; ++j) acc[j] += a[j];
}

// c' = f ⊙ c + i ⊙ g, from a row of activations a = i | f | g | o                [H]
TT_TARGET_CLONES_AVX2 void cell_row(int64_t H, const float* __restrict a, const float* __restrict c,
                                    float* __restrict c_next) {
  const float *in = a, *forget = a + H, *g = a + 2 * H;
  TT_PRAGMA_OMP_SIMD
  for (int64_t j = 0; j < H; ++j) c_next[j] = forget[j] * c[j] + in[j] * g[j];
}

// h' = o ⊙ tanh(c')                                                               [H]
TT_TARGET_CLONES_AVX2 void hidden_row(int64_t H, const float* __restrict out,
                                      const float* __restrict tanh_c, float* __restrict h) {
  TT_PRAGMA_OMP_SIMD
  for (int64_t j = 0; j < H; ++j) h[j] = out[j] * tanh_c[j];
}

// One row of the step's backward (the file's opening comment): from the activations a, tanh(c'),
// the previous cell c, the gradients dh (into h', without the output's dy) and dc (into c'),
// writes dgates da [4H] and replaces dc by the gradient into c.
TT_TARGET_CLONES_AVX2 void gates_backward_row(int64_t H, const float* __restrict a,
                                              const float* __restrict tanh_c,
                                              const float* __restrict c, const float* __restrict dy,
                                              const float* __restrict dh, float* __restrict dc,
                                              float* __restrict da) {
  const float *in = a, *forget = a + H, *g = a + 2 * H, *out = a + 3 * H;
  TT_PRAGMA_OMP_SIMD
  for (int64_t j = 0; j < H; ++j) {
    const float dh_j = dh[j] + dy[j];
    const float dc_j = dc[j] + dh_j * out[j] * (1.0f - tanh_c[j] * tanh_c[j]);
    da[j] = dc_j * g[j] * in[j] * (1.0f - in[j]);
    da[H + j] = dc_j * c[j] * forget[j] * (1.0f - forget[j]);
    da[2 * H + j] = dc_j * in[j] * (1.0f - g[j] * g[j]);
    da[3 * H + j] = dh_j * tanh_c[j] * out[j] * (1.0f - out[j]);
    dc[j] = dc_j * forget[j];
  }
}

// dst [cols, rows] = srcᵀ, src [rows, cols] row-major, in 16 x 16 tiles whose writes run along
// dst's rows (a strided copy, or writes down dst's columns, ran 2-6x slower: every store a new
// cache line, and the loads behind stores 4 KiB apart).
void transpose_into(int64_t rows, int64_t cols, const float* src, float* dst) {
  constexpr int64_t kTile = 16;
  for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
    for (int64_t i0 = 0; i0 < rows; i0 += kTile) {
      const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
      for (int64_t j = j0; j < j1; ++j) {
        for (int64_t i = i0; i < i1; ++i) dst[j * rows + i] = src[i * cols + j];
      }
    }
  }
}

}  // namespace

variable_list fused_lstm_forward(AutogradContext* ctx, const Tensor& xg, const Tensor& h0,
                                 const Tensor& c0, const Tensor& w_hh,
                                 const std::optional<Tensor>& b_ih,
                                 const std::optional<Tensor>& b_hh, bool reverse) {
  const kernels::FastKernels& k = kernels::fast_kernels();
  const int64_t T = xg.size(0), B = xg.size(1), G = xg.size(2), H = G / 4;
  TT_CHECK(xg.stride(2) == 1, "fused LSTM layer: xg's last dim must be contiguous");
  const Tensor h_0 = h0.contiguous(), c_0 = c0.contiguous();
  // W_hhᵀ laid out once per sequence, in `blocks` column blocks of the gates, each [H, 4H/blocks]
  // row by row: the GEMM then reads it in place at every step instead of transposing W_hh into
  // packed slivers T times. NOTE: gemm_fast reads op(B) in place only while KC of its rows span at
  // most 1 MiB (kInPlaceMaxSpanBytes); one block per gate keeps H = 512 within that, and where the
  // whole [H, 4H] fits, one block spares the ragged edges of four.
  const int64_t blocks = H * G * static_cast<int64_t>(sizeof(float)) <= (int64_t{1} << 20) ? 1 : 4;
  const int64_t N = G / blocks;
  const Tensor w = w_hh.contiguous();
  Tensor w_t = empty({blocks, H, N}, ScalarType::Float32);  // block q: rows [qN, (q+1)N) of W_hh, ᵀ
  for (int64_t q = 0; q < blocks; ++q) {
    transpose_into(N, H, w.data_ptr<float>() + q * N * H, w_t.data_ptr<float>() + q * H * N);
  }
  // b_ih + b_hh: one row added to every step's xg.
  const auto defined = [](const std::optional<Tensor>& b) { return b && b->defined(); };
  Tensor bias;  // [4H] or undefined (bias=false)
  if (defined(b_ih)) bias = *b_ih;
  if (defined(b_hh)) bias = bias.defined() ? bias + *b_hh : *b_hh;
  if (bias.defined()) bias = bias.contiguous();
  Tensor gates = empty({T, B, G}, ScalarType::Float32);   // the activations i | f | g | o
  Tensor cell = empty({T, B, H}, ScalarType::Float32);    // c_t
  Tensor tanh_c = empty({T, B, H}, ScalarType::Float32);  // tanh(c_t)
  Tensor output = empty({T, B, H}, ScalarType::Float32);  // h_t
  const float* x = xg.data_ptr<float>();                  // row r of step t: x + t·st0 + r·st1
  const int64_t st0 = xg.stride(0), st1 = xg.stride(1);
  const float* b = bias.defined() ? bias.data_ptr<float>() : nullptr;  // [4H]
  const float* WT = w_t.data_ptr<float>();                             // [blocks, H, N]
  float* A = gates.data_ptr<float>();                                  // [T, B, 4H]
  float* C = cell.data_ptr<float>();                                   // [T, B, H]
  float* TC = tanh_c.data_ptr<float>();                                // [T, B, H]
  float* Y = output.data_ptr<float>();                                 // [T, B, H]
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? T - 1 - s : s, prev = reverse ? t + 1 : t - 1;
    const bool first = first_step(t, T, reverse);
    const float* h = first ? h_0.data_ptr<float>() : Y + prev * B * H;  // [B, H]
    const float* c = first ? c_0.data_ptr<float>() : C + prev * B * H;  // [B, H]
    float* a = A + t * B * G;
    parallel_for(0, B, row_grain(G), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        add_row(G, x + t * st0 + r * st1, b, a + r * G);
      }
    });
    for (int64_t q = 0; q < blocks; ++q) {  // += h·W_hhᵀ, block q of the columns
      k.sgemm(false, false, B, N, H, 1.0f, h, H, WT + q * H * N, N, 1.0f, a + q * N, G);
    }
    parallel_for(0, B, row_grain(G), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        float* ar = a + r * G;  // i | f | g | o, each [H]
        k.activation.sigmoid(ar, ar, 2 * H);
        k.activation.tanh(ar + 2 * H, ar + 2 * H, H);
        k.activation.sigmoid(ar + 3 * H, ar + 3 * H, H);
        const int64_t row = (t * B + r) * H;  // of C, TC, Y
        cell_row(H, ar, c + r * H, C + row);
        k.activation.tanh(C + row, TC + row, H);
        hidden_row(H, ar + 3 * H, TC + row, Y + row);
      }
    });
  }
  const int64_t last = reverse ? 0 : T - 1;
  Tensor h_n = output.select(0, last).clone(), c_n = cell.select(0, last).clone();
  // The inputs for create_graph's replay and dW_hh; the output for dW_hh (h_{t−1} = output rows).
  ctx->save_for_backward(
      {xg, h0, c0, w_hh, b_ih.value_or(Tensor()), b_hh.value_or(Tensor()), output});
  ctx->saved_data["gates"] = gates;
  ctx->saved_data["cell"] = cell;
  ctx->saved_data["tanh_c"] = tanh_c;
  ctx->saved_data["reverse"] = reverse;
  return {output, h_n, c_n};
}

namespace {

// create_graph=true: the same gradients, from the general path's recorded steps replayed on the
// saved inputs, so that they are functions of the inputs the engine can differentiate again.
variable_list replay_backward(AutogradContext* ctx, const variable_list& grads, LstmStepFn step) {
  const variable_list saved = ctx->get_saved_variables();
  const Tensor &xg = saved[0], &h0 = saved[1], &c0 = saved[2], &w_hh = saved[3];
  const Tensor &b_ih = saved[4], &b_hh = saved[5];
  const Tensor x_gates = b_ih.defined() ? xg + b_ih : xg;  // the step's xg: x·W_ihᵀ + b_ih
  const bool reverse = ctx->saved_data["reverse"].toBool();
  const int64_t T = xg.size(0);
  std::vector<Tensor> steps(static_cast<size_t>(T));
  Tensor h = h0, c = c0;
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = reverse ? T - 1 - s : s;
    std::tie(h, c) = step(x_gates.select(0, t), h, c, w_hh, b_hh, Tensor());
    steps[static_cast<size_t>(t)] = h;
  }
  const variable_list outputs = {stack(steps, 0), h, c};
  // One gradient per forward argument: xg, h0, c0, w_hh, b_ih, b_hh, reverse.
  const variable_list inputs = {xg, h0, c0, w_hh, b_ih, b_hh};
  variable_list wanted;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && ctx->needs_input_grad(i)) wanted.push_back(inputs[i]);
  }
  const variable_list got = autograd::grad(outputs, wanted, grads, /*retain_graph=*/true,
                                           /*create_graph=*/true, /*allow_unused=*/true);
  variable_list result(7);
  size_t next = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && ctx->needs_input_grad(i)) result[i] = got[next++];
  }
  return result;
}

}  // namespace

variable_list fused_lstm_backward(AutogradContext* ctx, const variable_list& grads,
                                  LstmStepFn step) {
  if (GradMode::is_enabled()) return replay_backward(ctx, grads, step);
  const kernels::FastKernels& k = kernels::fast_kernels();
  const variable_list saved = ctx->get_saved_variables();
  const Tensor h_0 = saved[1].contiguous(), c_0 = saved[2].contiguous();
  const Tensor w = saved[3].contiguous(), output = saved[6];
  const bool has_b_ih = saved[4].defined(), has_b_hh = saved[5].defined();
  const bool reverse = ctx->saved_data["reverse"].toBool();
  const Tensor gates = ctx->saved_data["gates"].toTensor();
  const Tensor cell = ctx->saved_data["cell"].toTensor();
  const Tensor tanh_c = ctx->saved_data["tanh_c"].toTensor();
  const int64_t T = gates.size(0), B = gates.size(1), G = gates.size(2), H = G / 4;
  // grads: output [T, B, H], h_n, c_n [B, H] (zeros where none flowed).
  // Rows may be strided (a transposed output's gradient); the last dim must be contiguous.
  const Tensor d_out = grads[0].stride(2) == 1 ? grads[0] : grads[0].contiguous();
  Tensor dh = grads[1].contiguous().clone(),
         dc = grads[2].contiguous().clone();  // [B, H], the running dh_t, dc_t
  Tensor d_gates = empty({T, B, G}, ScalarType::Float32);
  // d b_ih = d b_hh = Σ rows of dgates, summed step by step while the rows are in cache.
  Tensor d_b = zeros({G}, ScalarType::Float32);
  const float* dY = d_out.data_ptr<float>();  // row r of step t: dY + t·dst0 + r·dst1
  const int64_t dst0 = d_out.stride(0), dst1 = d_out.stride(1);
  const float* A = gates.data_ptr<float>();    // [T, B, 4H]
  const float* C = cell.data_ptr<float>();     // [T, B, H]
  const float* TC = tanh_c.data_ptr<float>();  // [T, B, H]
  const float* W = w.data_ptr<float>();        // [4H, H]
  float* dA = d_gates.data_ptr<float>();       // [T, B, 4H]
  float* dH = dh.data_ptr<float>();            // [B, H]
  float* dC = dc.data_ptr<float>();            // [B, H]
  float* dB = d_b.data_ptr<float>();           // [4H]
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = reverse ? T - 1 - s : s, prev = reverse ? t + 1 : t - 1;
    const float* c = first_step(t, T, reverse) ? c_0.data_ptr<float>() : C + prev * B * H;
    parallel_for(0, B, row_grain(G), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t row = t * B + r;
        gates_backward_row(H, A + row * G, TC + row * H, c + r * H, dY + t * dst0 + r * dst1,
                           dH + r * H, dC + r * H, dA + row * G);
      }
    });
    const float* da_t = dA + t * B * G;  // [B, 4H]
    for (int64_t r = 0; r < B; ++r) accumulate_row(G, da_t + r * G, dB);
    k.sgemm(false, false, B, H, G, 1.0f, da_t, G, W, H, 0.0f, dH, H);  // dgates·W_hh
  }
  // dW_hh = Σ_t dgates_tᵀ·h_{t−1}: the first step's h_{t−1} is h0, every other one is a row block
  // of the output, one step behind (ahead, in reverse): one GEMM over the (T−1)·B rows.
  Tensor d_w = empty({G, H}, ScalarType::Float32);
  float* dW = d_w.data_ptr<float>();
  const int64_t t0 = reverse ? T - 1 : 0;
  k.sgemm(true, false, G, H, B, 1.0f, dA + t0 * B * G, G, h_0.data_ptr<float>(), H, 0.0f, dW, H);
  if (T > 1) {
    const float* Y = output.data_ptr<float>();
    const float* d_rest = reverse ? dA : dA + B * G;  // the steps t with a previous output
    const float* h_prev = reverse ? Y + B * H : Y;    // their h_{t−1}, row for row
    k.sgemm(true, false, G, H, (T - 1) * B, 1.0f, d_rest, G, h_prev, H, 1.0f, dW, H);
  }
  // One gradient per forward argument: xg, h0, c0, w_hh, b_ih, b_hh, reverse (each its own
  // tensor: the engine may accumulate into one in place).
  return {d_gates,
          dh,
          dc,
          d_w,
          has_b_ih ? (has_b_hh ? d_b.clone() : d_b) : Tensor(),
          has_b_hh ? d_b : Tensor(),
          Tensor()};
}

}  // namespace tinytorch::nn::detail
