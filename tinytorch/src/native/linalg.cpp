// Module 01 — Tensor: matrix multiplication (reference kernel). The shape logic of matmul (1-d,
// 2-d and batched N-d with broadcast batch dims) is given; the GEMM loop is yours to write in
// module 01 (modules/01_tensor/README.md, Part 7). The fast GEMM of module 18, when registered,
// is called instead (kernels/registry.h) and is tested against this one.
#include "gemm_dispatch.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

using detail::dispatch_gemm_types;
using detail::fast_gemm;
using detail::gemm_operand;
using detail::GemmOperand;

namespace {

// C[M×N] = A[M×K] · B[K×N], all contiguous row-major; C is overwritten.
//
// Loop order i-k-j: the innermost loop walks ROWS of B and C (stride 1), so every cache line
// fetched is used completely, and A[i][k] stays in a register. The textbook i-j-k order walks a
// COLUMN of B in its inner loop (stride N) and is several times slower — the lab measures it.
template <typename T>
void gemm_reference(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < M; ++i) {
    T* c_row = C + i * N;
    for (int64_t j = 0; j < N; ++j) c_row[j] = T(0);
    for (int64_t k = 0; k < K; ++k) {
      const T a_ik = A[i * K + k];
      const T* b_row = B + k * N;
      for (int64_t j = 0; j < N; ++j) c_row[j] += a_ik * b_row[j];
    }
  }
  // END SOLUTION
}

// out[i] = a[i] · b[i] for every batch i of [B, M, K] × [B, K, N] (any strides).
Tensor batched_gemm(const Tensor& a, const Tensor& b) {
  const int64_t batch = a.size(0), M = a.size(1), K = a.size(2), N = b.size(2);
  Tensor out = empty({batch, M, N}, a.dtype());
  dispatch_gemm_types(a.dtype(), "matmul", [&]<typename T>() {
    T* pc = out.data_ptr<T>();
    if constexpr (detail::is_16bit_float<T>) {
      // bfloat16/float16: each product's float32 sums into one reused [M, N] buffer, rounded once
      // into its slice of out.
      const Tensor sums = empty({M, N}, kFloat32);
      float* ps = sums.data_ptr<float>();
      for (int64_t i = 0; i < batch; ++i) {
        const GemmOperand ga = gemm_operand(native::select(a, 0, i)),
                          gb = gemm_operand(native::select(b, 0, i));
        detail::gemm_16bit<T>(ga.trans, gb.trans, M, N, K, ga.t.template data_ptr<T>(), ga.ld,
                              gb.t.template data_ptr<T>(), gb.ld, 0.0f, ps, N);
        detail::round_from_float<T>(M * N, ps, pc + i * M * N);
      }
      return;
    } else {
      if (const kernels::GemmFn<T> fast = fast_gemm<T>()) {
        for (int64_t i = 0; i < batch; ++i) {
          const GemmOperand ga = gemm_operand(native::select(a, 0, i)),
                            gb = gemm_operand(native::select(b, 0, i));
          fast(ga.trans, gb.trans, M, N, K, T(1), ga.t.template data_ptr<T>(), ga.ld,
               gb.t.template data_ptr<T>(), gb.ld, T(0), pc + i * M * N, N);
        }
        return;
      }
      const Tensor ac = a.contiguous(), bc = b.contiguous();
      const T* pa = ac.data_ptr<T>();
      const T* pb = bc.data_ptr<T>();
      for (int64_t i = 0; i < batch; ++i) {
        gemm_reference<T>(M, N, K, pa + i * M * K, pb + i * K * N, pc + i * M * N);
      }
    }
  });
  return out;
}

std::string shape_str(const Tensor& t) {
  std::string s;
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? "x" : "") + std::to_string(t.size(d));
  return s;
}

}  // namespace

// PyTorch refuses a GEMM op on operands of two dtypes (f32 @ bf16: "expected scalar type Float
// but found BFloat16"), even where element-wise ops would promote: a silent up-cast would hide a
// missed autocast region and double the GEMM's memory traffic.
void native::check_same_dtype(std::string_view op, std::string_view a_name, const Tensor& a,
                              std::string_view b_name, const Tensor& b) {
  TT_CHECK_TYPE(a.dtype() == b.dtype(), op, ": expected ", a_name, " and ", b_name,
                " to have the same dtype, but got ", a_name, " ", a.dtype(), " and ", b_name, " ",
                b.dtype(),
                " (hint: run it under autocast, which casts the operands of the GEMM ops to one "
                "dtype, or convert one with .to(dtype))");
}

Tensor native::matmul(const Tensor& a, const Tensor& b) {
  TT_CHECK(a.dim() >= 1 && b.dim() >= 1,
           "matmul: both arguments need to be at least 1D, but they "
           "are ",
           a.dim(), "D and ", b.dim(), "D");
  check_same_dtype("matmul", "self", a, "other", b);
  TT_CHECK_TYPE(a.dtype() != kBool, "matmul: not implemented for dtype bool");
  // 1-d operands become matrices: a vector on the left is a row [1, K], on the right a column
  // [K, 1]; the added dim is removed from the result at the end.
  // (Natives use native views: a public view op would record view metadata, and the result of
  // matmul must not be a view of an internal buffer.)
  const Tensor a2 = a.dim() == 1 ? native::unsqueeze(a, 0) : a;
  const Tensor b2 = b.dim() == 1 ? native::unsqueeze(b, 1) : b;
  const int64_t M = a2.size(-2), K = a2.size(-1), N = b2.size(-1);
  TT_CHECK(K == b2.size(-2), "matmul: shapes ", a.sizes(), " and ", b.sizes(),
           " cannot be multiplied (", shape_str(a2), " and ", shape_str(b2),
           "): the last dim of the first (", K,
           ") must equal the second-to-last dim of the "
           "second (",
           b2.size(-2), ")");
  // Batch dims (all but the last two) broadcast like element-wise shapes.
  const IntArrayRef a_batch(a2.sizes().data(), a2.sizes().size() - 2);
  const IntArrayRef b_batch(b2.sizes().data(), b2.sizes().size() - 2);
  std::vector<int64_t> batch;
  try {
    batch = broadcast_shapes(a_batch, b_batch);
  } catch (const Error& e) {
    throw Error(detail::str("matmul: batch dims of ", a.sizes(), " and ", b.sizes(),
                            " do not broadcast: ", e.what()));
  }
  std::vector<int64_t> out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(M);
  if (b.dim() > 1) out_shape.push_back(N);
  // A batch of inputs times ONE matrix (a Linear layer on [batch, seq, features]): fold the batch
  // into M and run a single [batch·M, K] × [K, N] GEMM instead of copying b once per batch.
  if (b2.dim() == 2 && a2.dim() > 2) {
    const int64_t rows = compute_numel(a_batch) * M;
    return native::view(batched_gemm(native::reshape(a2, {1, rows, K}), native::unsqueeze(b2, 0)),
                        out_shape);
  }
  const int64_t nbatch = compute_numel(batch);
  std::vector<int64_t> a_shape = batch, b_shape = batch;
  a_shape.insert(a_shape.end(), {M, K});
  b_shape.insert(b_shape.end(), {K, N});
  const Tensor a3 = native::reshape(native::expand(a2, a_shape), {nbatch, M, K});
  const Tensor b3 = native::reshape(native::expand(b2, b_shape), {nbatch, K, N});
  return native::view(batched_gemm(a3, b3), out_shape);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  TT_AUTOCAST(mm, a, b);  // before the dtype check: autocast casts mixed operands to one dtype
  TT_CHECK(a.dim() == 2 && b.dim() == 2, "mm: both arguments must be matrices (2-D), but got ",
           a.dim(), "-D ", a.sizes(), " and ", b.dim(), "-D ", b.sizes(),
           " (use matmul for 1-D "
           "or batched operands)");
  native::check_same_dtype("mm", "self", a, "mat2", b);
  return matmul(a, b);
}

Tensor Tensor::mm(const Tensor& other) const {
  return tinytorch::mm(*this, other);
}

}  // namespace tinytorch
