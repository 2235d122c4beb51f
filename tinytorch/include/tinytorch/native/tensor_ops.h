// tinytorch/native/tensor_ops.h — the native functions of module 01: the computations behind the
// differentiable Tensor methods.
//
//   x.view({2, 3})  ──►  Tensor::view            (src/autograd/variable_ops.cpp: the public layer;
//                          │                       records a ViewBackward0 node when x needs grad)
//                          ▼
//                        native::view(x, {2, 3})  (src/core/views.cpp: computes, knows nothing
//                                                  about gradients)
//
// PyTorch has the same split: at::native:: functions in aten/src/ATen/native compute, and the
// generated VariableType layer records the graph around them. A native function may call public
// ops (x.to(...), x.expand(...)): the public layer runs natives with grad mode off, so those
// inner calls never record anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// ── views (src/core/views.cpp) ─────────────────────────────────────────────────────────────
Tensor as_strided(const Tensor& self, IntArrayRef sizes, IntArrayRef strides,
                  std::optional<int64_t> storage_offset);
Tensor view(const Tensor& self, IntArrayRef shape);
Tensor reshape(const Tensor& self, IntArrayRef shape);
Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& self, IntArrayRef dims);
Tensor squeeze(const Tensor& self);
Tensor squeeze(const Tensor& self, int64_t dim);
Tensor unsqueeze(const Tensor& self, int64_t dim);
Tensor expand(const Tensor& self, IntArrayRef sizes);
Tensor select(const Tensor& self, int64_t dim, int64_t index);
std::vector<Tensor> unbind(const Tensor& self, int64_t dim);  // select at every index of dim
// narrow(dim, offset, size) for each size in turn; the sizes must sum to size(dim).
std::vector<Tensor> split_with_sizes(const Tensor& self, IntArrayRef split_sizes, int64_t dim);
Tensor slice(const Tensor& self, int64_t dim, std::optional<int64_t> start,
             std::optional<int64_t> end, int64_t step);
// An uninitialised dense tensor of `sizes` whose dims lie in memory in the order `strides` gives
// them (decreasing stride): for a permuted view, a buffer with that very layout (PyTorch's
// empty_like(preserve_format)); for any strided view, the dense layout of its dim order — e.g.
// for a transformer's head q [B, H, T, hd] with strides (T·3d, hd, 3d, 1), a [B, T, H, hd]
// buffer seen as [B, H, T, hd]. Contiguous when the strides decrease already.
Tensor empty_in_stride_order(IntArrayRef sizes, IntArrayRef strides, ScalarType dtype);

// ── element-wise (src/native/elementwise.cpp) ─────────────────────────────────────────────────
Tensor add(const Tensor& self, const Tensor& other, const Scalar& alpha);
Tensor sub(const Tensor& self, const Tensor& other, const Scalar& alpha);
Tensor mul(const Tensor& self, const Tensor& other);
Tensor div(const Tensor& self, const Tensor& other);
Tensor pow(const Tensor& self, const Tensor& exponent);
Tensor neg(const Tensor& self);
Tensor exp(const Tensor& self);
Tensor log(const Tensor& self);
Tensor sqrt(const Tensor& self);
Tensor sin(const Tensor& self);
Tensor cos(const Tensor& self);
Tensor log1p(const Tensor& self);
Tensor abs(const Tensor& self);
Tensor clamp(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor maximum(const Tensor& self, const Tensor& other);
Tensor minimum(const Tensor& self, const Tensor& other);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor to(const Tensor& self, ScalarType dtype, bool copy);
Tensor clone(const Tensor& self);
Tensor& add_(Tensor& self, const Tensor& other, const Scalar& alpha);
Tensor& sub_(Tensor& self, const Tensor& other, const Scalar& alpha);
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, const Tensor& other);
Tensor& pow_(Tensor& self, const Scalar& exponent);
Tensor& fill_(Tensor& self, const Scalar& value);
Tensor& copy_(Tensor& self, const Tensor& src);

// ── more element-wise math, libtorch's beyond the chapters (src/native/math_ops.cpp) ──────────
// The one-input ops share one kernel table: unary_math(x, UnaryMath::kFloor) is floor(x).
enum class UnaryMath {
  kFloor,
  kCeil,
  kRound,
  kTrunc,
  kSign,
  kFrac,  // integers keep their dtype (frac: refused)
  kReciprocal,
  kRsqrt,
  kErf,
  kExpm1,
  kLog2,
  kLog10,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kCount
};
std::string_view unary_math_name(UnaryMath op);  // "floor"
Tensor unary_math(const Tensor& self, UnaryMath op);
Tensor fmod(const Tensor& self, const Tensor& other);
Tensor remainder(const Tensor& self, const Tensor& other);
Tensor floor_divide(const Tensor& self, const Tensor& other);  // rounded toward −∞
Tensor atan2(const Tensor& self, const Tensor& other);
enum class FloatTest { kIsNan, kIsInf, kIsFinite };
Tensor float_test(const Tensor& self, FloatTest test);  // bool results
Tensor nan_to_num(const Tensor& self, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf);
enum class Logical { kAnd, kOr, kXor };
Tensor logical_not(const Tensor& self);
Tensor logical(const Tensor& self, const Tensor& other, Logical op);

// ── reductions (src/native/reduce.cpp) ────────────────────────────────────────────────────────
// The planning every reduction shares: self with the reduced dims moved last, laid out as
// contiguous rows [outer, inner] (one row per output element), and the output's shape. Empty
// `dims` reduces every dim; a 0-d tensor accepts dim 0 / -1.
struct ReducePlan {
  Tensor rows;                     // contiguous [outer, inner]: one row per output element
  std::vector<int64_t> out_shape;  // with or without the reduced dims, as keepdim asks
};
ReducePlan plan_reduction(std::string_view op, const Tensor& self, IntArrayRef dims, bool keepdim);
Tensor sum(const Tensor& self, IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype);
Tensor mean(const Tensor& self, IntArrayRef dims, bool keepdim);
Tensor var(const Tensor& self, IntArrayRef dims, bool unbiased, bool keepdim);
Tensor max(const Tensor& self);
Tensor min(const Tensor& self);
std::tuple<Tensor, Tensor> max(const Tensor& self, int64_t dim, bool keepdim);
std::tuple<Tensor, Tensor> min(const Tensor& self, int64_t dim, bool keepdim);

// ── sorting, scans, triangles, norms, logical reductions, random fills ─────────────────────────
// sort.cpp: stable; NaN sorts as the largest value. topk's `sorted = false` keeps input order.
std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim, bool descending);
std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim, bool largest,
                                bool sorted);
// cumulative.cpp
Tensor cumsum(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype);
Tensor cumprod(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype);
Tensor cumprod_backward(const Tensor& grad, const Tensor& self, const Tensor& result, int64_t dim);
// random.cpp: num_samples int64 indices per row of a 1-d or 2-d tensor of weights.
Tensor multinomial(const Tensor& self, int64_t num_samples, bool replacement, Generator* generator);
// sort.cpp: the distinct values of the flattened tensor in ascending order (consecutive: of each
// run of equal elements, in order), where each element went (int64, self's shape) and how many
// each value has (int64): empty [0] tensors when not asked for.
std::tuple<Tensor, Tensor, Tensor> unique(const Tensor& self, bool return_inverse,
                                          bool return_counts, bool consecutive);
// sort.cpp: the same over the slices along dim (inverse [size(dim)] and counts always computed).
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& self, int64_t dim, bool consecutive);
// triangular.cpp
Tensor tril(const Tensor& self, int64_t diagonal);
Tensor triu(const Tensor& self, int64_t diagonal);
// norm.cpp: the p-norm over `dims` (empty: every dim), computed in double; and all/any (bool
// results) over one dim or, without one, over everything.
Tensor norm(const Tensor& self, const Scalar& p, IntArrayRef dims, bool keepdim);
Tensor all(const Tensor& self, std::optional<int64_t> dim, bool keepdim);
Tensor any(const Tensor& self, std::optional<int64_t> dim, bool keepdim);
// random.cpp: fills self (any strides) with U[from, to) / N(mean, std²) from `generator` (the
// default generator when null), element by element in row-major order.
Tensor& uniform_(Tensor& self, double from, double to, Generator* generator);
Tensor& normal_(Tensor& self, double mean, double std, Generator* generator);
// 1 where a uniform draw falls below p (a number, or self's own values for bernoulli), else 0.
Tensor& bernoulli_(Tensor& self, double p, Generator* generator);
Tensor bernoulli(const Tensor& self, Generator* generator);

// ── linear algebra (src/native/linalg.cpp) ────────────────────────────────────────────────────
Tensor matmul(const Tensor& a, const Tensor& b);
// TypeError unless a and b (named a_name, b_name) have the same dtype: the GEMM ops (matmul, mm,
// bmm, addmm, baddbmm, linear, conv) never mix dtypes, as in PyTorch.
void check_same_dtype(std::string_view op, std::string_view a_name, const Tensor& a,
                      std::string_view b_name, const Tensor& b);

}  // namespace tinytorch::native
