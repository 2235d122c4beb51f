// Module 05 — Autograd: every backward formula, in one place.
//
// Read each formula next to the forward line it differentiates (written above it). `grad` is
// dL/d(out); a formula returns dL/d(input) = grad · d(out)/d(input) by the chain rule. The engine
// sums broadcast gradients back to the input's shape (sum_to, below) and casts dtypes, so the
// formulas stay as short as the math. They run with grad mode off (engine.cpp) — or on, for
// create_graph: then what they compute is recorded, and a formula whose kernel is a native takes
// a path of recorded ops instead (`if (GradMode::is_enabled())`; see derivatives.h).
#include "tinytorch/autograd/derivatives.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "../native/opmath.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/join.h"
#include "tinytorch/core/shape.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/native/batch_norm.h"
#include "tinytorch/native/conv.h"
#include "tinytorch/native/embedding.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/native/normalization.h"
#include "tinytorch/native/padding.h"
#include "tinytorch/native/pooling.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::autograd {

namespace {
// NOTE: the helpers below serve the formulas in the solution regions; [[maybe_unused]] keeps a
// learner release (where those regions are stubs) building with -Werror.
// The reduced dims, wrapped to [0, ndim) and sorted; empty `dims` means every dim.
std::vector<int64_t> reduced_dims(IntArrayRef dims, int64_t ndim) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
  } else {
    for (int64_t d : dims) out.push_back(wrap_dim(d, std::max<int64_t>(ndim, 1)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The gradient of a keepdim=false reduction, with the reduced dims put back as size 1.
[[maybe_unused]] Tensor unsqueeze_reduced(const Tensor& grad, IntArrayRef self_sizes,
                                          IntArrayRef dims, bool keepdim) {
  if (keepdim || self_sizes.empty()) return grad;
  Tensor g = grad;
  for (int64_t d : reduced_dims(dims, static_cast<int64_t>(self_sizes.size()))) g = g.unsqueeze(d);
  return g;
}

[[maybe_unused]] int64_t reduced_count(IntArrayRef self_sizes, IntArrayRef dims) {
  int64_t n = 1;
  for (int64_t d : reduced_dims(dims, static_cast<int64_t>(self_sizes.size()))) {
    n *= self_sizes.empty() ? 1 : self_sizes[d];
  }
  return n;
}

[[maybe_unused]] Tensor zero_where(const Tensor& mask, const Tensor& grad) {
  return where(mask, Scalar(0.0), grad);
}

// ── recorded scatter and gather (the create_graph paths of the formulas written as loops) ─────
// out [numel], out[index[k]] += src[k] for every k. An embedding's weight gradient over rows of
// one value: recorded, and its own derivative is the gather below.
Tensor scatter_add_flat(const Tensor& src, const Tensor& index, int64_t numel) {
  return embedding_dense_backward(src.reshape({index.numel(), 1}), index.reshape({index.numel()}),
                                  numel, -1)
      .reshape({numel});
}
// out[k] = src.flatten()[index[k]], out shaped like index. An embedding lookup (recorded).
Tensor gather_flat(const Tensor& src, const Tensor& index) {
  return embedding(src.reshape({src.numel(), 1}), index).reshape(index.sizes());
}

// The gradient of a loss's per-element term: grad is one value for Sum and Mean (÷ n for Mean)
// and one per element for None.
Tensor loss_grad_scale(const Tensor& grad, Reduction reduction, int64_t n) {
  return reduction == Reduction::Mean ? grad.div(static_cast<double>(n)) : grad;
}
}  // namespace

// ── the shared helpers ────────────────────────────────────────────────────────────────────────

bool is_expandable_to(IntArrayRef shape, IntArrayRef desired) {
  if (shape.size() > desired.size()) return false;
  const size_t lead = desired.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != desired[lead + i] && shape[i] != 1) return false;
  }
  return true;
}

Tensor sum_to(const Tensor& grad, IntArrayRef shape) {
  // BEGIN SOLUTION
  if (grad.sizes() == shape) return grad;
  // forward: out = expand(x, grad.sizes())  →  every copy of an element sends its gradient back.
  Tensor g = grad;
  const int64_t lead = g.dim() - static_cast<int64_t>(shape.size());
  if (lead > 0) {
    std::vector<int64_t> leading(static_cast<size_t>(lead));
    for (int64_t d = 0; d < lead; ++d) leading[d] = d;
    g = g.sum(leading, false);
  }
  std::vector<int64_t> stretched;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1 && g.size(static_cast<int64_t>(i)) != 1) {
      stretched.push_back(static_cast<int64_t>(i));
    }
  }
  if (!stretched.empty()) g = g.sum(stretched, true);
  return g;
  // END SOLUTION
}

// ── views ─────────────────────────────────────────────────────────────────────────────────────
// A view moves no numbers, so its backward moves the gradient back into the input's shape.

// out = self.view(sizes) / reshape / squeeze
Tensor reshape_backward(const Tensor& grad, IntArrayRef self_sizes) {
  // BEGIN SOLUTION
  return grad.reshape(self_sizes);
  // END SOLUTION
}

// out = self.transpose(dim0, dim1)
Tensor transpose_backward(const Tensor& grad, int64_t dim0, int64_t dim1) {
  // BEGIN SOLUTION
  return grad.transpose(dim0, dim1);
  // END SOLUTION
}

// out = self.permute(dims): out dim i is self dim dims[i], so grad dim i goes back to dims[i].
Tensor permute_backward(const Tensor& grad, IntArrayRef dims) {
  // BEGIN SOLUTION
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    inverse[wrap_dim(dims[i], static_cast<int64_t>(dims.size()))] = static_cast<int64_t>(i);
  }
  return grad.permute(inverse);
  // END SOLUTION
}

// out = self.unsqueeze(dim)
Tensor unsqueeze_backward(const Tensor& grad, int64_t dim) {
  // BEGIN SOLUTION
  return grad.squeeze(dim);
  // END SOLUTION
}

// out = self.expand(sizes): one element read many times → its gradient is the sum.
Tensor expand_backward(const Tensor& grad, IntArrayRef self_sizes) {
  // BEGIN SOLUTION
  return sum_to(grad, self_sizes);
  // END SOLUTION
}

// out = self.select(dim, index): the gradient lands in one slice of zeros.
Tensor select_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim, int64_t index) {
  // BEGIN SOLUTION
  Tensor g = zeros(self_sizes, grad.dtype());
  g.select(dim, index).copy_(grad);
  return g;
  // END SOLUTION
}

// NOTE: given. outs = self.split_with_sizes(split_sizes, dim): output i is the narrow of
// split_sizes[i] elements at offset split_sizes[0] + … + split_sizes[i−1]. Slice i of ONE buffer
// takes grads[i] (zeros where output i received no gradient): each element is written once,
// where a narrow per output would zero a full-size buffer per output and the engine would add
// them. The buffer has self's layout, so when self was a permuted view (the transformer's q, k,
// v of one [B, T, 3, H, hd] projection) the permute and view backward after this stay views.
// When the gradients already ARE consecutive slices of one buffer, that buffer is returned: it
// shares its storage with them, which is safe because the engine writes into a gradient only when
// no other handle sees its storage (engine.cpp's owns_dense, node.cpp's accumulate_grad).
Tensor split_with_sizes_backward(const variable_list& grads, IntArrayRef self_sizes,
                                 IntArrayRef self_strides, int64_t dim, IntArrayRef split_sizes) {
  const auto first =
      std::find_if(grads.begin(), grads.end(), [](const Tensor& g) { return g.defined(); });
  TT_CHECK(first != grads.end(), "SplitBackward0: no output received a gradient");
  auto piece_sizes = [&](int64_t i) {
    std::vector<int64_t> sizes = self_sizes.vec();
    sizes[dim] = split_sizes[i];
    return sizes;
  };
  if (GradMode::is_enabled()) {  // create_graph: cat copies each piece in, recorded
    variable_list pieces;
    for (size_t i = 0; i < grads.size(); ++i) {
      pieces.push_back(grads[i].defined()
                           ? grads[i]
                           : zeros(piece_sizes(static_cast<int64_t>(i)), first->dtype()));
    }
    return cat(pieces, dim);
  }
  // Already slices of one buffer (attention writes a transformer's q, k, v gradients so): no copy.
  if (Tensor joined = native::opmath::joined_slices(grads, dim);
      joined.defined() && joined.sizes() == self_sizes) {
    return joined;
  }
  Tensor result = native::empty_in_stride_order(self_sizes, self_strides, first->dtype());
  int64_t offset = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    Tensor piece = native::slice(result, dim, offset, offset + split_sizes[i], 1);
    if (grads[i].defined()) {
      piece.copy_(grads[i]);
    } else {
      piece.zero_();
    }
    offset += split_sizes[i];
  }
  return result;
}

// NOTE: given. outs = self.unbind(dim), i.e. outs[i] = self.select(dim, i): a split into pieces
// of one, each with `dim` removed — put back (a view) for split's backward.
Tensor unbind_backward(const variable_list& grads, IntArrayRef self_sizes, IntArrayRef self_strides,
                       int64_t dim) {
  variable_list pieces;
  pieces.reserve(grads.size());
  for (const Tensor& g : grads) pieces.push_back(g.defined() ? g.unsqueeze(dim) : Tensor());
  const std::vector<int64_t> ones(grads.size(), 1);
  return split_with_sizes_backward(pieces, self_sizes, self_strides, dim, ones);
}

// out = self.slice(dim, start, end, step)
Tensor slice_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                      std::optional<int64_t> start, std::optional<int64_t> end, int64_t step) {
  // BEGIN SOLUTION
  Tensor g = zeros(self_sizes, grad.dtype());
  g.slice(dim, start, end, step).copy_(grad);
  return g;
  // END SOLUTION
}

// out = self.as_strided(sizes, strides, offset). Both tensors are windows on one storage: route
// every output gradient to its storage location, then read each input element's location.
Tensor as_strided_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef self_strides,
                           int64_t self_offset, IntArrayRef sizes, IntArrayRef strides,
                           int64_t offset) {
  // BEGIN SOLUTION
  auto extent = [](IntArrayRef sz, IntArrayRef st, int64_t off) {
    int64_t last = off;
    for (size_t i = 0; i < sz.size(); ++i) {
      if (sz[i] == 0) return int64_t{0};
      last += (sz[i] - 1) * st[i];
    }
    return last + 1;
  };
  const int64_t n =
      std::max(extent(self_sizes, self_strides, self_offset), extent(sizes, strides, offset));
  // The storage location of every element, as int64 tensors in row-major order.
  const Tensor locations = arange(n);
  const std::vector<int64_t> out_loc =
      locations.as_strided(sizes, strides, offset).to_vector<int64_t>();
  const std::vector<int64_t> in_loc =
      locations.as_strided(self_sizes, self_strides, self_offset).to_vector<int64_t>();
  std::vector<double> storage_grad(static_cast<size_t>(n), 0.0);
  std::vector<double> readers(static_cast<size_t>(n), 0.0);
  const std::vector<double> g = grad.to_vector<double>();
  for (size_t j = 0; j < out_loc.size(); ++j) storage_grad[out_loc[j]] += g[j];
  for (int64_t loc : in_loc) readers[loc] += 1;
  std::vector<double> result(in_loc.size());
  for (size_t i = 0; i < in_loc.size(); ++i) {
    result[i] = storage_grad[in_loc[i]] / readers[in_loc[i]];
  }
  return from_vector(result, self_sizes, grad.dtype());
  // END SOLUTION
}

// as_strided_backward with recorded ops: route the gradient to storage locations (scatter-add),
// read each input element's location (gather), divide by how many input elements share it.
Tensor as_strided_backward_recorded(const Tensor& grad, IntArrayRef self_sizes,
                                    IntArrayRef self_strides, int64_t self_offset,
                                    IntArrayRef sizes, IntArrayRef strides, int64_t offset) {
  auto extent = [](IntArrayRef sz, IntArrayRef st, int64_t off) {
    int64_t last = off;
    for (size_t i = 0; i < sz.size(); ++i) {
      if (sz[i] == 0) return int64_t{0};
      last += (sz[i] - 1) * st[i];
    }
    return last + 1;
  };
  const int64_t n =
      std::max(extent(self_sizes, self_strides, self_offset), extent(sizes, strides, offset));
  const Tensor locations = arange(n);
  const Tensor out_loc = locations.as_strided(sizes, strides, offset).contiguous();
  const Tensor in_loc = locations.as_strided(self_sizes, self_strides, self_offset).contiguous();
  const Tensor readers = scatter_add_flat(ones(in_loc.sizes(), grad.dtype()), in_loc, n);
  const Tensor storage_grad = scatter_add_flat(grad, out_loc, n);
  return gather_flat(storage_grad, in_loc).div(gather_flat(readers, in_loc));
}

// ── element-wise ──────────────────────────────────────────────────────────────────────────────

// out = self + alpha · other
variable_list add_backward(const Tensor& grad, const Scalar& alpha, GradMask needs) {
  // BEGIN SOLUTION
  return {needs[0] ? grad : Tensor(),
          needs[1] ? (alpha.to<double>() == 1.0 ? grad : grad.mul(alpha)) : Tensor()};
  // END SOLUTION
}

// out = self − alpha · other
variable_list sub_backward(const Tensor& grad, const Scalar& alpha, GradMask needs) {
  // BEGIN SOLUTION
  return {needs[0] ? grad : Tensor(), needs[1] ? grad.mul(alpha).neg() : Tensor()};
  // END SOLUTION
}

// out = self · other
variable_list mul_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                           GradMask needs) {
  // BEGIN SOLUTION
  return {needs[0] ? grad.mul(other) : Tensor(), needs[1] ? grad.mul(self) : Tensor()};
  // END SOLUTION
}

// out = self / other:  ∂/∂self = 1/other,  ∂/∂other = −self/other²
variable_list div_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                           GradMask needs) {
  // BEGIN SOLUTION
  return {needs[0] ? grad.div(other) : Tensor(),
          needs[1] ? grad.mul(self).div(other.mul(other)).neg() : Tensor()};
  // END SOLUTION
}

// out = self^exponent:  ∂/∂self = e·self^(e−1) (0 where e = 0),  ∂/∂e = out·ln(self)
// (0 where self = 0 and e ≥ 0, the limit, instead of 0·(−inf) = NaN).
variable_list pow_backward(const Tensor& grad, const Tensor& self, const Tensor& exponent,
                           const Tensor& result, GradMask needs) {
  // BEGIN SOLUTION
  Tensor grad_self, grad_exponent;
  if (needs[0]) {
    grad_self = zero_where(exponent.eq(0.0), grad.mul(exponent).mul(self.pow(exponent.sub(1.0))));
  }
  if (needs[1]) {
    grad_exponent =
        zero_where(self.eq(0.0).mul(exponent.ge(0.0)), grad.mul(result).mul(self.log()));
  }
  return {grad_self, grad_exponent};
  // END SOLUTION
}

// out = −self
Tensor neg_backward(const Tensor& grad) {
  // BEGIN SOLUTION
  return grad.neg();
  // END SOLUTION
}

// out = e^self: the derivative is the output itself (saved, so nothing is recomputed).
Tensor exp_backward(const Tensor& grad, const Tensor& result) {
  // BEGIN SOLUTION
  return grad.mul(result);
  // END SOLUTION
}

// out = ln(self)
Tensor log_backward(const Tensor& grad, const Tensor& self) {
  // BEGIN SOLUTION
  return grad.div(self);
  // END SOLUTION
}

// out = √self:  1 / (2·√self) = 1 / (2·out)
Tensor sqrt_backward(const Tensor& grad, const Tensor& result) {
  // BEGIN SOLUTION
  return grad.div(result.mul(2.0));
  // END SOLUTION
}

// sin, cos and log1p: libtorch's, beyond the chapters, so they are not learner regions. Each is
// written with recorded ops (cos, sin, add, div), so it differentiates again under create_graph.
// out = sin(self)
Tensor sin_backward(const Tensor& grad, const Tensor& self) {
  return grad.mul(self.cos());
}

// out = cos(self):  −sin(self)
Tensor cos_backward(const Tensor& grad, const Tensor& self) {
  return grad.mul(self.sin().neg());
}

// out = ln(1 + self):  1 / (1 + self)
Tensor log1p_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.add(1.0));
}

// The table ops of native::unary_math (NOTE: given), written with recorded ops like sin's.
// floor, ceil, round, trunc and sign are piecewise constant: no gradient (zeros, as PyTorch),
// taken from grad by a recorded where (so it differentiates again; NaN-free, unlike grad · 0).
Tensor zero_backward(const Tensor& grad, const Tensor& /*self*/) {
  return where(zeros_like(grad, kBool), grad, Scalar(0.0));
}
// out = self − trunc(self):  1
Tensor frac_backward(const Tensor& grad, const Tensor& /*self*/) {
  return grad;
}
// out = 1 / self:  −1 / self² = −out²
Tensor reciprocal_backward(const Tensor& grad, const Tensor& result) {
  return grad.mul(result.mul(result)).neg();
}
// out = self^(−1/2):  −½ · self^(−3/2) = −½ · out³
Tensor rsqrt_backward(const Tensor& grad, const Tensor& result) {
  return grad.mul(result.pow(3)).mul(-0.5);
}
// out = erf(self):  2/√π · e^(−self²)
Tensor erf_backward(const Tensor& grad, const Tensor& self) {
  return grad.mul(self.mul(self).neg().exp()).mul(2.0 / std::sqrt(std::numbers::pi));
}
// out = e^self − 1:  e^self = out + 1
Tensor expm1_backward(const Tensor& grad, const Tensor& result) {
  return grad.mul(result.add(1.0));
}
// out = log₂(self):  1 / (self · ln 2)
Tensor log2_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.mul(std::numbers::ln2));
}
// out = log₁₀(self):  1 / (self · ln 10)
Tensor log10_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.mul(std::numbers::ln10));
}
// out = tan(self):  1 + tan² = 1 + out²
Tensor tan_backward(const Tensor& grad, const Tensor& result) {
  return grad.mul(result.mul(result).add(1.0));
}
// out = asin(self):  1 / √(1 − self²)
Tensor asin_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.mul(self).neg().add(1.0).sqrt());
}
// out = acos(self):  −1 / √(1 − self²)
Tensor acos_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.mul(self).neg().add(1.0).sqrt()).neg();
}
// out = atan(self):  1 / (1 + self²)
Tensor atan_backward(const Tensor& grad, const Tensor& self) {
  return grad.div(self.mul(self).add(1.0));
}
// out = sinh(self):  cosh(self)
Tensor sinh_backward(const Tensor& grad, const Tensor& self) {
  return grad.mul(self.cosh());
}
// out = cosh(self):  sinh(self)
Tensor cosh_backward(const Tensor& grad, const Tensor& self) {
  return grad.mul(self.sinh());
}

// out = self − q · other, q = trunc(self / other) (fmod) or floor(self / other) (remainder),
// q piecewise constant: self gets grad, other −grad · q.
variable_list fmod_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                            bool floor_quotient, GradMask needs) {
  variable_list out(2);
  if (needs[0]) out[0] = grad;
  if (needs[1]) {
    const Tensor q = self.div(other);
    out[1] = grad.mul(floor_quotient ? q.floor() : q.trunc()).neg();
  }
  return out;
}

// out = atan2(self, other):  ∂/∂self = other / (self² + other²), ∂/∂other = −self / (…)
variable_list atan2_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                             GradMask needs) {
  const Tensor denom = self.mul(self).add(other.mul(other));
  variable_list out(2);
  if (needs[0]) out[0] = grad.mul(other).div(denom);
  if (needs[1]) out[1] = grad.mul(self).neg().div(denom);
  return out;
}

// out = nan_to_num(self): self where finite (gradient 1), a constant elsewhere (0).
Tensor nan_to_num_backward(const Tensor& grad, const Tensor& self) {
  return where(self.isfinite(), grad, Scalar(0.0));
}

// out = |self|:  sign(self), and 0 at 0 (PyTorch's choice of subgradient)
Tensor abs_backward(const Tensor& grad, const Tensor& self) {
  // BEGIN SOLUTION
  const Tensor sign = self.gt(0.0).to(grad.dtype()).sub(self.lt(0.0).to(grad.dtype()));
  return grad.mul(sign);
  // END SOLUTION
}

// out = clamp(self, min, max): the gradient passes where self was inside [min, max].
Tensor clamp_backward(const Tensor& grad, const Tensor& self, std::optional<Scalar> min,
                      std::optional<Scalar> max) {
  // BEGIN SOLUTION
  Tensor inside = ones_like(self, kBool);
  if (min) inside = inside.mul(self.ge(*min));
  if (max) inside = inside.mul(self.le(*max));
  return where(inside, grad, Scalar(0.0));
  // END SOLUTION
}

// out = fake_quantize(x) = scale * (clamp(zp + round(x / scale), qmin, qmax) - zp)
// round() has derivative 0 almost everywhere, which would stop all learning. The straight-through
// estimator pretends round(v) = v, leaving d out / d x = 1 inside the range and 0 where the clamp
// was active (mask = false): PyTorch's dX = dY * mask (fake_quantize_*_cachemask_backward).
// (Module 15's learner writes the mask, in fake_quantize_affine; applying it is this one line.)
Tensor fake_quantize_backward(const Tensor& grad, const Tensor& mask) {
  return where(mask, grad, Scalar(0.0));
}

// out = maximum(self, other) (is_max) or minimum(self, other)
variable_list extremum_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                                bool is_max, GradMask needs) {
  // BEGIN SOLUTION
  const Tensor shared = where(self.eq(other), grad.div(2.0), grad);
  const Tensor self_loses = is_max ? self.lt(other) : self.gt(other);
  const Tensor other_loses = is_max ? self.gt(other) : self.lt(other);
  return {needs[0] ? zero_where(self_loses, shared) : Tensor(),
          needs[1] ? zero_where(other_loses, shared) : Tensor()};
  // END SOLUTION
}

// out = where(condition, self, other)
variable_list where_backward(const Tensor& grad, const Tensor& condition, GradMask needs) {
  // BEGIN SOLUTION
  return {needs[0] ? where(condition, grad, Scalar(0.0)) : Tensor(),
          needs[1] ? zero_where(condition, grad) : Tensor()};
  // END SOLUTION
}

// ── reductions ────────────────────────────────────────────────────────────────────────────────

// out = self.sum(dims): every summed element gets the gradient of its sum (a stride-0 view).
Tensor sum_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef dims, bool keepdim) {
  // BEGIN SOLUTION
  return unsqueeze_reduced(grad, self_sizes, dims, keepdim).expand(self_sizes);
  // END SOLUTION
}

// out = self.sum(dims) / n
Tensor mean_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef dims, bool keepdim) {
  // BEGIN SOLUTION
  const auto n = static_cast<double>(reduced_count(self_sizes, dims));
  return sum_backward(grad, self_sizes, dims, keepdim).div(n);
  // END SOLUTION
}

// out = Σ (self − mean)² / (n − correction):  ∂/∂self_i = 2·(self_i − mean) / (n − correction)
// (the mean's own dependence on self_i sums to zero).
Tensor var_backward(const Tensor& grad, const Tensor& self, IntArrayRef dims, bool unbiased,
                    bool keepdim) {
  // BEGIN SOLUTION
  const auto n = static_cast<double>(reduced_count(self.sizes(), dims));
  const double scale = 2.0 / (n - (unbiased ? 1.0 : 0.0));
  const Tensor centered = self.sub(self.mean(dims, true));
  return unsqueeze_reduced(grad, self.sizes(), dims, keepdim).mul(centered).mul(scale);
  // END SOLUTION
}

// out = self.max() (or min): the gradient is shared evenly by every element equal to out.
Tensor extremum_all_backward(const Tensor& grad, const Tensor& self, const Tensor& result) {
  // BEGIN SOLUTION
  const bool nan = std::isnan(result.item<double>());
  const Tensor hits = nan ? self.ne(self) : self.eq(result);
  return hits.to(grad.dtype()).mul(grad.div(hits.sum()));
  // END SOLUTION
}

// (values, indices) = self.max(dim): values[i] came from position indices[i] along dim.
Tensor value_selecting_backward(const Tensor& grad, int64_t dim, const Tensor& indices,
                                IntArrayRef self_sizes, bool keepdim) {
  // BEGIN SOLUTION
  const auto ndim = static_cast<int64_t>(self_sizes.size());
  const int64_t d = ndim == 0 ? 0 : wrap_dim(dim, ndim);
  Tensor g = grad, idx = indices;
  if (!keepdim && ndim > 0) {
    g = g.unsqueeze(d);
    idx = idx.unsqueeze(d);
  }
  // View everything as [outer, n, inner]: out[o, idx[o, i], i] = g[o, i].
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= self_sizes[k];
  for (int64_t k = d + 1; k < ndim; ++k) inner *= self_sizes[k];
  const int64_t n = ndim == 0 ? 1 : self_sizes[d];
  Tensor out = zeros(self_sizes, grad.dtype());
  const Tensor gc = g.contiguous(), ic = idx.contiguous();
  const int64_t* ip = ic.data_ptr<int64_t>();
  dispatch_floating_types(grad.dtype(), "max_backward", [&]<typename T>() {
    const T* gp = gc.data_ptr<T>();
    T* op = out.data_ptr<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        op[(o * n + ip[o * inner + i]) * inner + i] = gp[o * inner + i];
      }
    }
  });
  return out;
  // END SOLUTION
}

// value_selecting_backward with recorded ops: the flat position of out[o, indices[o, i], i] in
// self is (o·n + indices[o, i])·inner + i, and the gradient is scattered there.
// (grad and indices have one layout, [outer, (1,) inner], with or without keepdim.)
Tensor value_selecting_backward_recorded(const Tensor& grad, int64_t dim, const Tensor& indices,
                                         IntArrayRef self_sizes) {
  const auto ndim = static_cast<int64_t>(self_sizes.size());
  const int64_t d = ndim == 0 ? 0 : wrap_dim(dim, ndim);
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= self_sizes[k];
  for (int64_t k = d + 1; k < ndim; ++k) inner *= self_sizes[k];
  const int64_t n = ndim == 0 ? 1 : self_sizes[d];
  const Tensor position = indices.reshape({outer, inner})
                              .mul(inner)
                              .add(arange(outer).reshape({outer, 1}).mul(n * inner))
                              .add(arange(inner).reshape({1, inner}));
  return scatter_add_flat(grad, position, outer * n * inner).reshape(self_sizes);
}

// ── linear algebra ────────────────────────────────────────────────────────────────────────────

// out = self @ other   ([.., M, K] @ [.., K, N]):  ∂/∂self = grad @ otherᵀ,  ∂/∂other = selfᵀ @
// grad A 1-d operand is a matrix with one row (left) or one column (right), as in the forward.
variable_list matmul_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                              GradMask needs) {
  // BEGIN SOLUTION
  const Tensor a = self.dim() == 1 ? self.unsqueeze(0) : self;     // [.., M, K]
  const Tensor b = other.dim() == 1 ? other.unsqueeze(1) : other;  // [.., K, N]
  Tensor g = grad;                                                 // [.., M, N]
  if (other.dim() == 1) g = g.unsqueeze(-1);  // (this order also turns a 0-d grad into [1, 1])
  if (self.dim() == 1) g = g.unsqueeze(-2);
  Tensor grad_self, grad_other;
  if (needs[0]) {
    grad_self = sum_to(g.matmul(b.transpose(-1, -2)), a.sizes()).reshape(self.sizes());
  }
  if (needs[1]) {
    if (b.dim() == 2 && a.dim() > 2) {
      // A batch of inputs times one matrix: fold the batch into the rows, one GEMM. (The row
      // count is explicit: -1 can't be inferred next to a 0-sized K or N.)
      const int64_t K = a.size(-1), N = b.size(-1);
      int64_t rows = 1;
      for (int64_t d = 0; d + 1 < a.dim(); ++d) rows *= a.size(d);
      grad_other = a.reshape({rows, K}).t().matmul(g.reshape({rows, N})).reshape(other.sizes());
    } else {
      grad_other = sum_to(a.transpose(-1, -2).matmul(g), b.sizes()).reshape(other.sizes());
    }
  }
  return {grad_self, grad_other};
  // END SOLUTION
}

// out = input @ weightᵀ + bias   (input [*, in], weight [out, in], bias [out])
variable_list linear_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                              std::array<bool, 3> needs) {
  // BEGIN SOLUTION
  const int64_t out_features = weight.size(0), in_features = weight.size(1);
  int64_t rows = 1;  // the product of the leading dims (explicit: -1 can't be inferred next to 0)
  for (int64_t d = 0; d + 1 < grad.dim(); ++d) rows *= grad.size(d);
  const Tensor g2 = grad.reshape({rows, out_features});  // [rows, out]
  return {needs[0] ? grad.matmul(weight) : Tensor(),     // [*, out] @ [out, in]
          needs[1] ? g2.t().matmul(input.reshape({rows, in_features})) : Tensor(),  // [out, in]
          needs[2] ? g2.sum({0}) : Tensor()};
  // END SOLUTION
}

// ── activations (module 02): the kernels are natives; the rules are these ────────────────────
// With grad mode on (create_graph) each rule is written out in public ops, so it records.

// out = max(self, 0): the gradient passes where the output is positive.
Tensor relu_backward(const Tensor& grad, const Tensor& result) {
  if (GradMode::is_enabled()) return where(result.gt(0.0), grad, Scalar(0.0));
  return native::threshold_backward(grad, result, 0.0);
}
// out = self if self > 0 else slope·self
Tensor leaky_relu_backward(const Tensor& grad, const Tensor& self, double negative_slope) {
  if (GradMode::is_enabled()) return where(self.gt(0.0), grad, grad.mul(negative_slope));
  return native::leaky_relu_backward(grad, self, negative_slope);
}
// out = σ(self):  σ' = out·(1 − out)
Tensor sigmoid_backward(const Tensor& grad, const Tensor& result) {
  if (GradMode::is_enabled()) return grad.mul(result.mul(rsub(result, 1.0)));
  return native::sigmoid_backward(grad, result);
}
// out = tanh(self):  1 − out²
Tensor tanh_backward(const Tensor& grad, const Tensor& result) {
  if (GradMode::is_enabled()) return grad.mul(rsub(result.mul(result), 1.0));
  return native::tanh_backward(grad, result);
}
// out = self·Φ(self) (or its tanh approximation — the backward differentiates the same form)
Tensor gelu_backward(const Tensor& grad, const Tensor& self, std::string_view approximate) {
  if (GradMode::is_enabled()) return tinytorch::gelu_backward(grad, self, approximate);
  return native::gelu_backward(grad, self, approximate);
}
// gelu_backward = grad_output · gelu'(self), so its derivatives are gelu'(self) (w.r.t.
// grad_output: gelu_backward again) and grad_output · gelu''(self):
//   exact:  gelu'' = φ(x)·(2 − x²),  φ(x) = e^(−x²/2) / √(2π)
//   tanh:   y = ½x(1 + t), t = tanh(u), u = k(x + c·x³), k = √(2/π), c = 0.044715
//           gelu'' = (1 − t²)·(u' − x·t·u'² + ½x·u''),  u' = k(1 + 3c·x²),  u'' = 6kc·x
variable_list gelu_double_backward(const Tensor& grad, const Tensor& grad_output,
                                   const Tensor& self, std::string_view approximate,
                                   GradMask needs) {
  Tensor grad_grad_output, grad_self;
  if (needs[0]) grad_grad_output = tinytorch::gelu_backward(grad, self, approximate);
  if (needs[1]) {
    Tensor second;
    if (approximate == "tanh") {
      const double k = std::numbers::sqrt2 * std::numbers::inv_sqrtpi, c = 0.044715;
      const Tensor x2 = self.mul(self);
      const Tensor t = self.add(x2.mul(self).mul(c)).mul(k).tanh();
      const Tensor du = x2.mul(3.0 * c).add(1.0).mul(k);
      const Tensor d2u = self.mul(6.0 * k * c);
      second =
          rsub(t.mul(t), 1.0).mul(du.sub(self.mul(t).mul(du.mul(du))).add(self.mul(d2u).mul(0.5)));
    } else {
      const Tensor x2 = self.mul(self);
      const Tensor pdf = x2.mul(-0.5).exp().mul(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
      second = pdf.mul(rsub(x2, 2.0));
    }
    grad_self = grad.mul(grad_output).mul(second);
  }
  return {grad_grad_output, grad_self};
}
// out = self·σ(self):  σ(self)·(1 + self·(1 − σ(self)))
Tensor silu_backward(const Tensor& grad, const Tensor& self) {
  if (GradMode::is_enabled()) {
    const Tensor s = self.sigmoid();
    return grad.mul(s.mul(rsub(s, 1.0).mul(self).add(1.0)));
  }
  return native::silu_backward(grad, self);
}
// out = softmax(self, dim):  grad_in = out · (grad − Σ grad·out)
Tensor softmax_backward(const Tensor& grad, const Tensor& result, int64_t dim) {
  if (GradMode::is_enabled()) return result.mul(grad.sub(grad.mul(result).sum({dim}, true)));
  return native::softmax_backward(grad, result, dim);
}
// out = log_softmax(self, dim):  grad_in = grad − softmax · Σ grad
Tensor log_softmax_backward(const Tensor& grad, const Tensor& result, int64_t dim) {
  if (GradMode::is_enabled()) return grad.sub(result.exp().mul(grad.sum({dim}, true)));
  return native::log_softmax_backward(grad, result, dim);
}

// ── losses (module 04) ────────────────────────────────────────────────────────────────────────
// With grad mode on, each input gradient is its per-element derivative times the incoming
// gradient (loss_grad_scale: ÷ n for Mean), in public ops.

// out = reduce(p·(log p − self)) or reduce(e^t·(t − self)) (kl_div, module 16): both
// gradients come from the native kernels (∂/∂self = −p, ∂/∂target = log p + 1 − self).
variable_list kl_div_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                              Reduction reduction, bool log_target, GradMask needs) {
  if (GradMode::is_enabled()) {
    const Tensor g = loss_grad_scale(grad, reduction, self.numel());
    Tensor grad_self, grad_target;
    if (log_target) {
      const Tensor p = target.exp();
      if (needs[0]) grad_self = p.neg().mul(g);
      if (needs[1]) grad_target = p.mul(target.sub(self).add(1.0)).mul(g);
    } else {
      if (needs[0]) grad_self = target.neg().mul(g);
      if (needs[1]) {
        // 0 where p = 0; log of 1 there keeps the unused branch (and its derivative) finite.
        const Tensor positive = target.gt(0.0);
        const Tensor log_p = where(positive, target, Scalar(1.0)).log();
        grad_target = where(positive, log_p.add(1.0).sub(self), Scalar(0.0)).mul(g);
      }
    }
    return {grad_self, grad_target};
  }
  return {needs[0] ? native::kl_div_backward(grad, self, target, reduction, log_target) : Tensor(),
          needs[1] ? native::kl_div_target_backward(grad, self, target, reduction, log_target)
                   : Tensor()};
}
// out = reduce((self − target)²): the target's gradient is the input's, negated.
variable_list mse_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                Reduction reduction, GradMask needs) {
  const Tensor g =
      GradMode::is_enabled()
          ? self.sub(target).mul(2.0).mul(loss_grad_scale(grad, reduction, self.numel()))
          : native::mse_loss_backward(grad, self, target, reduction);
  return {needs[0] ? g : Tensor(), needs[1] ? g.neg() : Tensor()};
}
// out = reduce(|self − target|)
variable_list l1_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                               Reduction reduction, GradMask needs) {
  Tensor g;
  if (GradMode::is_enabled()) {
    const Tensor diff = self.sub(target);
    const Tensor sign = diff.gt(0.0).to(diff.dtype()).sub(diff.lt(0.0).to(diff.dtype()));
    g = sign.mul(loss_grad_scale(grad, reduction, self.numel()));
  } else {
    g = native::l1_loss_backward(grad, self, target, reduction);
  }
  return {needs[0] ? g : Tensor(), needs[1] ? g.neg() : Tensor()};
}
// out = reduce(z < β ? ½z²/β : z − ½β), z = |self − target|: ∂/∂self = clamp((self − target)/β,
// −1, 1) (the native kernel), ∂/∂target its negation.
variable_list smooth_l1_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                      Reduction reduction, double beta, GradMask needs) {
  if (beta == 0.0) return l1_loss_backward(grad, self, target, reduction, needs);  // the forward's
  Tensor g;
  if (GradMode::is_enabled()) {
    g = self.sub(target).div(beta).clamp(-1.0, 1.0).mul(
        loss_grad_scale(grad, reduction, self.numel()));
  } else {
    g = native::smooth_l1_loss_backward(grad, self, target, reduction, beta);
  }
  return {needs[0] ? g : Tensor(), needs[1] ? g.neg() : Tensor()};
}
// out = reduce(z < δ ? ½z² : δ(z − ½δ)): ∂/∂self = clamp(self − target, −δ, δ).
variable_list huber_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                  Reduction reduction, double delta, GradMask needs) {
  const Tensor g = GradMode::is_enabled()
                       ? self.sub(target)
                             .clamp(-delta, delta)
                             .mul(loss_grad_scale(grad, reduction, self.numel()))
                       : native::huber_loss_backward(grad, self, target, reduction, delta);
  return {needs[0] ? g : Tensor(), needs[1] ? g.neg() : Tensor()};
}
// out = reduce(−self[i, target[i]]) over the rows whose target is not ignore_index
Tensor nll_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                         Reduction reduction, int64_t ignore_index) {
  if (GradMode::is_enabled()) {
    // Linear in grad, constant in self: the kernel's matrix for a gradient of ones, times grad
    // (one value per row for None).
    const Tensor pick =
        native::nll_loss_backward(ones_like(grad), self, target, reduction, ignore_index);
    return pick.mul(reduction == Reduction::None && self.dim() == 2 ? grad.unsqueeze(1) : grad);
  }
  return native::nll_loss_backward(grad, self, target, reduction, ignore_index);
}
// out = reduce(−(target·ln(self) + (1 − target)·ln(1 − self))):
//   ∂/∂self = (self − target) / (self·(1 − self))   (the denominator clamped to ≥ 1e-12)
//   ∂/∂target = ln(1 − self) − ln(self) = −logit(self)   (PyTorch's, without the forward's clamp)
variable_list bce_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                           Reduction reduction, GradMask needs) {
  Tensor grad_self, grad_target;
  if (needs[1]) {
    grad_target = rsub(self, 1.0).log().sub(self.log()).mul(grad);
    if (reduction == Reduction::Mean)
      grad_target = grad_target.div(static_cast<double>(target.numel()));
  }
  if (needs[0] && GradMode::is_enabled()) {
    const Tensor denominator = rsub(self, 1.0).mul(self).clamp_min(static_cast<double>(1e-12f));
    grad_self =
        self.sub(target).div(denominator).mul(loss_grad_scale(grad, reduction, self.numel()));
  } else if (needs[0]) {
    grad_self = native::binary_cross_entropy_backward(grad, self, target, reduction);
  }
  return {grad_self, grad_target};
}
// out = reduce(max(self, 0) − self·target + ln(1 + e^−|self|)):
//   ∂/∂self = σ(self) − target,  ∂/∂target = −self
variable_list bce_with_logits_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                       Reduction reduction, GradMask needs) {
  Tensor grad_self, grad_target;
  if (needs[1]) {
    grad_target = self.neg().mul(grad);
    if (reduction == Reduction::Mean)
      grad_target = grad_target.div(static_cast<double>(self.numel()));
  }
  if (needs[0] && GradMode::is_enabled()) {
    grad_self = self.sigmoid().sub(target).mul(loss_grad_scale(grad, reduction, self.numel()));
  } else if (needs[0]) {
    grad_self = native::binary_cross_entropy_with_logits_backward(grad, self, target, reduction);
  }
  return {grad_self, grad_target};
}

// ── spatial (module 09) ───────────────────────────────────────────────────────────────────────

// out = conv2d(input, weight) + bias: per image and group y = W · im2col(x) + b, so
//   ∂L/∂x = col2im(Wᵀ · g),  ∂L/∂W = Σ_n g · im2col(x)ᵀ,  ∂L/∂b = Σ_{n,p,q} g
variable_list conv2d_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                              IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                              int64_t groups, std::array<bool, 3> needs) {
  auto [grad_input, grad_weight, grad_bias] =
      GradMode::is_enabled()
          ? tinytorch::convolution_backward(grad, input, weight, stride, padding, dilation, groups,
                                            needs)
          : native::conv2d_backward(grad, input, weight, stride, padding, dilation, groups, needs);
  return {grad_input, grad_weight, grad_bias};
}

// out = conv_transpose2d(x, W) + b is convolution_backward's grad_input with grad_output := x:
// per image and group out = col2im(Wᵀ · x) + b, linear in x and in W. So
//   ∂L/∂x = conv2d(g, W)                    (im2col(g) · W: the adjoint of col2im(Wᵀ · ·))
//   ∂L/∂W = convolution_backward's grad_weight with grad_output := x, input := g
//           (Σ_n x · im2col(g)ᵀ: a GEMM of the forward's shapes)
//   ∂L/∂b = Σ_{n,h,w} g
// NOTE: with output_padding ≥ stride (PyTorch allows it while < dilation) the convolution of g
// has more rows/columns than x: the extra ones are no input position, so ∂L/∂x drops them and x
// is zero-padded to match them for ∂L/∂W (a zero row adds nothing).
// Under grad mode (create_graph) each term is a recorded op, so the result is differentiable.
variable_list conv_transpose2d_backward(const Tensor& grad, const Tensor& input,
                                        const Tensor& weight, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, int64_t groups,
                                        std::array<bool, 3> needs) {
  const kernels::Conv2dShape conv = native::conv2d_shape(
      grad, weight, Tensor(), stride, padding, dilation, groups, "conv_transpose2d_backward");
  const int64_t extra_h = conv.out_h - input.size(-2), extra_w = conv.out_w - input.size(-1);
  Tensor grad_input, grad_weight, grad_bias;
  if (needs[0]) {
    grad_input = conv2d(grad, weight, {}, stride, padding, dilation, groups);
    if (extra_h > 0 || extra_w > 0) {
      grad_input = grad_input.narrow(-2, 0, input.size(-2)).narrow(-1, 0, input.size(-1));
    }
  }
  if (needs[1]) {
    const Tensor x =
        extra_h > 0 || extra_w > 0 ? constant_pad_nd(input, {0, extra_w, 0, extra_h}) : input;
    grad_weight =
        std::get<1>(GradMode::is_enabled()
                        ? tinytorch::convolution_backward(x, grad, weight, stride, padding,
                                                          dilation, groups, {false, true, false})
                        : native::conv2d_backward(x, grad, weight, stride, padding, dilation,
                                                  groups, {false, true, false}));
  }
  if (needs[2]) {
    grad_bias = grad.dim() == 4 ? grad.sum({0, 2, 3}) : grad.sum({1, 2});
  }
  return {grad_input, grad_weight, grad_bias};
}

// convolution_backward computes gx = conv_xᵀ(g, W), gW = conv_Wᵀ(g, x), gb = Σ g: bilinear in
// (g, W) and in (g, x). With ggx, ggW, ggb the gradients of its three outputs, each term's
// adjoint is a convolution again:
//   d/dg = conv2d(ggx, W) + conv2d(x, ggW) + ggb   (broadcast over the output's positions)
//   d/dx = conv_xᵀ(g, ggW)                         (convolution_backward's grad_input, W := ggW)
//   d/dW = conv_Wᵀ(g, ggx)                         (its grad_weight, x := ggx)
// All three are recorded ops, so the result can be differentiated once more.
variable_list convolution_double_backward(const variable_list& grads, const Tensor& grad_output,
                                          const Tensor& input, const Tensor& weight,
                                          IntArrayRef stride, IntArrayRef padding,
                                          IntArrayRef dilation, int64_t groups,
                                          std::array<bool, 3> needs) {
  const Tensor &ggx = grads[0], &ggw = grads[1], &ggb = grads[2];
  Tensor grad_grad_output, grad_input, grad_weight;
  if (needs[0]) {
    const auto add = [&](const Tensor& t) {
      grad_grad_output = grad_grad_output.defined() ? grad_grad_output.add(t) : t;
    };
    if (ggx.defined()) add(conv2d(ggx, weight, {}, stride, padding, dilation, groups));
    if (ggw.defined()) add(conv2d(input, ggw, {}, stride, padding, dilation, groups));
    if (ggb.defined()) {  // [K] along grad_output's channel dim (1, or 0 unbatched)
      std::vector<int64_t> shape(static_cast<size_t>(grad_output.dim()), 1);
      shape[static_cast<size_t>(grad_output.dim() - 3)] = ggb.size(0);
      add(ggb.reshape(shape).expand(grad_output.sizes()));
    }
  }
  if (needs[1] && ggw.defined()) {
    grad_input = std::get<0>(tinytorch::convolution_backward(
        grad_output, input, ggw, stride, padding, dilation, groups, {true, false, false}));
  }
  if (needs[2] && ggx.defined()) {
    grad_weight = std::get<1>(tinytorch::convolution_backward(
        grad_output, ggx, weight, stride, padding, dilation, groups, {false, true, false}));
  }
  return {grad_grad_output, grad_input, grad_weight};
}

// ── spatial (module 09): pooling and batch norm ───────────────────────────────────────────────
// forward: y[i] = x[indices[i]]  →  the gradient goes back to where each max came from.
Tensor max_pool2d_with_indices_backward(const Tensor& grad, const Tensor& self,
                                        IntArrayRef kernel_size, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, bool ceil_mode,
                                        const Tensor& indices) {
  if (GradMode::is_enabled()) {
    // The same scatter, recorded: indices count within each H·W plane.
    const int64_t plane = self.size(-1) * self.size(-2),
                  outputs = indices.size(-1) * indices.size(-2);
    const int64_t planes = plane == 0 ? 0 : self.numel() / plane;
    const Tensor position =
        indices.reshape({planes, outputs}).add(arange(planes).reshape({planes, 1}).mul(plane));
    return scatter_add_flat(grad, position, self.numel()).reshape(self.sizes());
  }
  return native::max_pool2d_with_indices_backward(grad, self, kernel_size, stride, padding,
                                                  dilation, ceil_mode, indices);
}

// forward: y = Σ_window x / divisor  →  each x of a window receives grad / divisor.
Tensor avg_pool2d_backward(const Tensor& grad, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override) {
  if (GradMode::is_enabled()) {
    return tinytorch::avg_pool2d_backward(grad, self, kernel_size, stride, padding, ceil_mode,
                                          count_include_pad, divisor_override);
  }
  return native::avg_pool2d_backward(grad, self, kernel_size, stride, padding, ceil_mode,
                                     count_include_pad, divisor_override);
}

// forward: y = mean of the window  →  each x of a window receives grad / (window size).
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Tensor& self) {
  if (GradMode::is_enabled()) return tinytorch::adaptive_avg_pool2d_backward(grad, self);
  return native::adaptive_avg_pool2d_backward(grad, self);
}

// avg_pool2d_backward = Aᵀ·g for the pooling's matrix A: its derivative w.r.t. g is A, the
// pooling itself.
Tensor avg_pool2d_double_backward(const Tensor& grad, IntArrayRef kernel_size, IntArrayRef stride,
                                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                                  std::optional<int64_t> divisor_override) {
  return avg_pool2d(grad, kernel_size, stride, padding, ceil_mode, count_include_pad,
                    divisor_override);
}
Tensor adaptive_avg_pool2d_double_backward(const Tensor& grad, IntArrayRef output_size) {
  return adaptive_avg_pool2d(grad, output_size);
}

namespace {
// Batch norm's gradients from public ops (grad mode on), the math of the native kernels: over
// input [N, C, *] per channel, with x̂ = (x − mean)·invstd and g = gy·γ,
//   training: gx = invstd·(g − mean(g) − x̂·mean(g·x̂))   (mean and invstd recomputed from x,
//             so that they are recorded functions of it)
//   eval:     gx = g·invstd                               (the running statistics: constants)
//   gγ = Σ gy·x̂,  gβ = Σ gy.
// With relu, gy is first zeroed where the pre-activation x̂·γ + β was not positive.
variable_list batch_norm_backward_recorded(const Tensor& grad, const Tensor& input,
                                           const Tensor& weight, const Tensor& bias,
                                           const Tensor& save_mean, const Tensor& save_invstd,
                                           bool training, double eps, bool relu,
                                           std::array<bool, 3> needs) {
  std::vector<int64_t> dims{0}, channel(static_cast<size_t>(input.dim()), 1);
  for (int64_t d = 2; d < input.dim(); ++d) dims.push_back(d);
  channel[1] = input.size(1);  // [1, C, 1, ...]: a per-channel value broadcast over x
  Tensor mean, invstd;
  if (training) {
    mean = input.mean(dims, true);
    const Tensor centered = input.sub(mean);
    invstd = centered.mul(centered).mean(dims, true).add(eps).pow(-0.5);
  } else {
    mean = save_mean.to(input.dtype()).reshape(channel);
    invstd = save_invstd.to(input.dtype()).reshape(channel);
  }
  const Tensor xhat = input.sub(mean).mul(invstd);
  const Tensor gamma = weight.defined() ? weight.reshape(channel) : Tensor();
  Tensor gy = grad;
  if (relu) {
    Tensor z = gamma.defined() ? xhat.mul(gamma) : xhat;
    if (bias.defined()) z = z.add(bias.reshape(channel));
    gy = where(z.gt(0.0), grad, Scalar(0.0));
  }
  Tensor grad_input;
  if (needs[0]) {
    const Tensor g = gamma.defined() ? gy.mul(gamma) : gy;
    grad_input =
        training ? invstd.mul(g.sub(g.mean(dims, true)).sub(xhat.mul(g.mul(xhat).mean(dims, true))))
                 : g.mul(invstd);
  }
  return {grad_input, needs[1] ? gy.mul(xhat).sum(dims) : Tensor(),
          needs[2] ? gy.sum(dims) : Tensor()};
}
}  // namespace

// forward: y = (x − mean)·invstd·γ + β   (training: mean, invstd are the batch's, functions of x)
//   gx = γ·invstd/M · (M·gy − Σgy − x̂·Σ gy·x̂)  in training,  gy·γ·invstd  in eval;
//   gγ = Σ gy·x̂;  gβ = Σ gy.
variable_list batch_norm_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                  const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                  double eps, std::array<bool, 3> needs) {
  if (GradMode::is_enabled()) {
    return batch_norm_backward_recorded(grad, input, weight, {}, save_mean, save_invstd, training,
                                        eps, false, needs);
  }
  auto [gx, gw, gb] = native::native_batch_norm_backward(grad, input, weight, save_mean,
                                                         save_invstd, training, needs);
  return {gx, gw, gb};
}

// forward: y = max(z, 0), z = (x − mean)·invstd·γ + β   (batch_norm_relu, fused)
//   the batch-norm gradients above with gy replaced by gz = gy·[z > 0] (ReLU's step), z
//   recomputed from x, γ and β.
variable_list batch_norm_relu_backward(const Tensor& grad, const Tensor& input,
                                       const Tensor& weight, const Tensor& bias,
                                       const Tensor& save_mean, const Tensor& save_invstd,
                                       bool training, double eps, std::array<bool, 3> needs) {
  if (GradMode::is_enabled()) {
    return batch_norm_backward_recorded(grad, input, weight, bias, save_mean, save_invstd, training,
                                        eps, true, needs);
  }
  auto [gx, gw, gb] = native::native_batch_norm_relu_backward(grad, input, weight, bias, save_mean,
                                                              save_invstd, training, needs);
  return {gx, gw, gb};
}

// ── normalization (module 13) ─────────────────────────────────────────────────────────────────

namespace {
// layer_norm (center) and rms_norm (!center) from public ops, for grad mode on: over the last
// normalized_shape.size() dims (a row), with rstd recomputed from x (a recorded function of it),
// x̂ = (x − mean)·rstd (or x·rstd) and g = gy·γ:
//   gx = rstd·(g − mean(g) − x̂·mean(g·x̂))    (without the mean(g) term for rms_norm)
//   gγ = Σ_rows gy·x̂,  gβ = Σ_rows gy.
variable_list norm_backward_recorded(const Tensor& grad, const Tensor& input,
                                     IntArrayRef normalized_shape, const Tensor& weight, double eps,
                                     bool center, std::array<bool, 3> needs) {
  const int64_t lead = input.dim() - static_cast<int64_t>(normalized_shape.size());
  std::vector<int64_t> row_dims, lead_dims;
  for (int64_t d = 0; d < input.dim(); ++d) (d < lead ? lead_dims : row_dims).push_back(d);
  const Tensor centered = center ? input.sub(input.mean(row_dims, true)) : input;
  const Tensor rstd = centered.mul(centered).mean(row_dims, true).add(eps).pow(-0.5);
  const Tensor xhat = centered.mul(rstd);
  // Σ over the rows (the leading dims); none: the tensor is one row.
  const auto sum_rows = [&](const Tensor& t) { return lead_dims.empty() ? t : t.sum(lead_dims); };
  Tensor grad_input;
  if (needs[0]) {
    const Tensor g = weight.defined() ? grad.mul(weight) : grad;
    Tensor inner = g.sub(xhat.mul(g.mul(xhat).mean(row_dims, true)));
    if (center) inner = inner.sub(g.mean(row_dims, true));
    grad_input = rstd.mul(inner);
  }
  return {grad_input, needs[1] ? sum_rows(grad.mul(xhat)) : Tensor(),
          needs[2] ? sum_rows(grad) : Tensor()};
}
}  // namespace

// forward: y = x̂·γ + β, x̂ = (x − mean)·rstd per row of N values   (mean, rstd functions of x)
//   gx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = gy·γ;  gγ = Σ_rows gy·x̂;  gβ = Σ_rows gy
//   (derived in src/native/normalization.cpp).
variable_list layer_norm_backward(const Tensor& grad, const Tensor& input,
                                  IntArrayRef normalized_shape, const Tensor& mean,
                                  const Tensor& rstd, const Tensor& weight, const Tensor& bias,
                                  double eps, std::array<bool, 3> needs) {
  if (GradMode::is_enabled()) {
    return norm_backward_recorded(
        grad, input, normalized_shape, weight, eps, true,
        {needs[0], needs[1] && weight.defined(), needs[2] && bias.defined()});
  }
  auto [gx, gw, gb] = native::native_layer_norm_backward(grad, input, normalized_shape, mean, rstd,
                                                         weight, bias, needs);
  return {gx, gw, gb};
}

// forward: y = x̂·γ, x̂ = x·rstd, rstd = 1/√(mean(x²) + eps)
//   gx = rstd·(g − x̂·mean(g·x̂)) with g = gy·γ;  gγ = Σ_rows gy·x̂.
variable_list rms_norm_backward(const Tensor& grad, const Tensor& input,
                                IntArrayRef normalized_shape, const Tensor& rstd,
                                const Tensor& weight, double eps, GradMask needs) {
  if (GradMode::is_enabled()) {
    variable_list g = norm_backward_recorded(grad, input, normalized_shape, weight, eps, false,
                                             {needs[0], needs[1] && weight.defined(), false});
    return {g[0], g[1]};
  }
  auto [gx, gw] =
      native::native_rms_norm_backward(grad, input, normalized_shape, rstd, weight, needs);
  return {gx, gw};
}

// ── embedding (module 11) ─────────────────────────────────────────────────────────────────────

// forward: out[i] = weight[indices[i]]  →  grad_weight[v] = Σ_{i : indices[i] = v} grad[i]
// (a one-hot matrix product's transpose: duplicates add up), row padding_idx left at zero.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          int64_t padding_idx) {
  if (GradMode::is_enabled()) {
    return tinytorch::embedding_dense_backward(grad, indices, num_weights, padding_idx);
  }
  return native::embedding_dense_backward(grad, indices, num_weights, padding_idx);
}

// embedding_dense_backward is linear in grad_output: its adjoint reads row indices[i] of the
// incoming gradient back (an embedding lookup), except where indices[i] is padding_idx, whose
// row received nothing.
Tensor embedding_dense_double_backward(const Tensor& grad, const Tensor& indices,
                                       int64_t padding_idx) {
  const Tensor rows = embedding(grad, indices, padding_idx);
  if (padding_idx < 0) return rows;
  return where(indices.eq(padding_idx).unsqueeze(-1), Scalar(0.0), rows);
}

// ── attention (module 12): the backward kernel is a native ───────────────────────────────────

namespace {
// The attention gradients from public ops (grad mode on): P is rebuilt as softmax(scores) from
// q and k, so it is a recorded function of them (the native rebuilds it from the saved
// logsumexp, a constant). A fully masked row (logsumexp −∞) has P = 0, as in the kernel.
variable_list attention_backward_recorded(const Tensor& grad, const Tensor& query,
                                          const Tensor& key, const Tensor& value,
                                          const Tensor& attn_mask, const Tensor& dropout_mask,
                                          const Tensor& logsumexp, bool is_causal, double scale,
                                          std::array<bool, 4> needs) {
  Tensor scores = query.matmul(key.transpose(-2, -1)).mul(scale);  // [*, L, S]
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (attn_mask.defined()) {
    scores = attn_mask.is_floating_point() ? scores.add(attn_mask)
                                           : masked_fill(scores, attn_mask.eq(false), neg_inf);
  }
  if (is_causal) {  // bottom-right aligned: query i sees keys j ≤ i + (S − L)
    const int64_t L = scores.size(-2), S = scores.size(-1);
    const Tensor hidden = arange(S).reshape({1, S}).gt(arange(L).reshape({L, 1}).add(S - L));
    scores = masked_fill(scores, hidden, neg_inf);
  }
  Tensor P;
  if (attn_mask.defined() || is_causal) {
    const Tensor live = logsumexp.ne(neg_inf).unsqueeze(-1);  // [*, L, 1]
    P = where(live, scores, Scalar(0.0)).softmax(-1).mul(live.to(scores.dtype()));
  } else {
    P = scores.softmax(-1);
  }
  const Tensor dropped = dropout_mask.defined() ? P.mul(dropout_mask) : P;  // P̃ = P ⊙ Z
  Tensor dP = grad.matmul(value.transpose(-2, -1));                         // dO·vᵀ
  if (dropout_mask.defined()) dP = dP.mul(dropout_mask);
  const Tensor dS = P.mul(dP.sub(dP.mul(P).sum({-1}, true)));
  return {needs[0] ? dS.matmul(key).mul(scale) : Tensor(),
          needs[1] ? dS.transpose(-2, -1).matmul(query).mul(scale) : Tensor(),
          needs[2] ? dropped.transpose(-2, -1).matmul(grad) : Tensor(), needs[3] ? dS : Tensor()};
}
}  // namespace

// forward: out = softmax(q·kᵀ·scale + mask) ⊙ Z · v   (src/native/attention.cpp derives it)
//   dV = P̃ᵀ·dO,  dS = P ⊙ ((dO·vᵀ) ⊙ Z − rowsum),  dQ = dS·k·scale,  dK = dSᵀ·q·scale,
//   dmask = dS — returned in the scores' shape [*, L, S]; the engine sums it back to the mask's
//   broadcast shape (sum_to), as for any broadcast input.
variable_list scaled_dot_product_attention_backward(const Tensor& grad, const Tensor& query,
                                                    const Tensor& key, const Tensor& value,
                                                    const Tensor& attn_mask,
                                                    const Tensor& dropout_mask, const Tensor& out,
                                                    const Tensor& logsumexp, bool is_causal,
                                                    double scale, std::array<bool, 4> needs) {
  const bool mask_grad = needs[3] && attn_mask.defined() && attn_mask.is_floating_point();
  if (GradMode::is_enabled()) {
    return attention_backward_recorded(grad, query, key, value, attn_mask, dropout_mask, logsumexp,
                                       is_causal, scale, {needs[0], needs[1], needs[2], mask_grad});
  }
  auto [gq, gk, gv, gs] = native::scaled_dot_product_attention_backward(
      grad, query, key, value, attn_mask, dropout_mask, out, logsumexp, is_causal, scale,
      {needs[0], needs[1], needs[2], mask_grad});
  return {gq, gk, gv, gs};
}

// forward: out = where(mask, value, self)  →  the filled entries no longer depend on self.
Tensor masked_fill_backward(const Tensor& grad, const Tensor& mask) {
  if (GradMode::is_enabled()) return masked_fill(grad, mask, 0);
  return native::masked_fill(grad, mask, 0);
}

// ── sorting, scans, triangles, norms ──────────────────────────────────────────────────────────
// NOTE: written with recorded ops (sort/topk's scatter_add included), so they differentiate again
// under create_graph — except cumprod's kernel, which takes a recorded path then.

// (values, indices) = self.sort(dim) or self.topk(k, dim): values[.., i, ..] = self[.., indices[..,
// i, ..], ..]  →  each value's gradient goes back to the position it was taken from.
Tensor sort_backward(const Tensor& grad, const Tensor& indices, int64_t dim,
                     IntArrayRef self_sizes) {
  if (grad.dim() == 0) return grad;  // a 0-d sort: the one value is its own gradient
  return zeros(self_sizes, grad.dtype()).scatter_add(wrap_dim(dim, grad.dim()), indices, grad);
}

// out[j] = Σ_{i≤j} self[i]  →  ∂L/∂self[i] = Σ_{j≥i} grad[j], the reverse running sum: a cumsum
// of the flipped gradient, flipped back (PyTorch's formula). One scan, so no cancellation (the
// form total − cumsum + grad loses the small sums next to a large total) and, in float16/
// bfloat16, one rounding per element.
Tensor cumsum_backward(const Tensor& grad, int64_t dim) {
  if (grad.dim() == 0) return grad;
  return grad.flip({dim}).cumsum(dim).flip({dim});
}

// out[j] = Π_{i≤j} self[i]  (the kernel handles zeros in self: native::cumprod_backward)
Tensor cumprod_backward(const Tensor& grad, const Tensor& self, const Tensor& result, int64_t dim) {
  if (GradMode::is_enabled()) {
    // Recorded (create_graph): ∂L/∂self_i = Σ_{j≥i} grad_j·out_j / self_i, which needs self ≠ 0.
    TT_CHECK_WITH(NotImplementedError, !self.eq(0.0).any().item<bool>(),
                  "cumprod: gradients of gradients (create_graph) through a cumprod whose input "
                  "holds zeros are not supported");
    return cumsum_backward(grad.mul(result), dim).div(self);
  }
  return native::cumprod_backward(grad, self, result, dim);
}

// out = self.tril(diagonal): the kept elements pass their gradient, the zeroed ones get none.
Tensor tril_backward(const Tensor& grad, int64_t diagonal) {
  return grad.tril(diagonal);
}
// out = self.triu(diagonal)
Tensor triu_backward(const Tensor& grad, int64_t diagonal) {
  return grad.triu(diagonal);
}

// out = ‖self‖_p over dims:
//   p = 2:    self · grad / out                       (0 where out = 0)
//   p = 1:    sign(self) · grad
//   p = ±inf: sign(self) · grad / (how many |self| reach out), at those positions only
//   p = 0:    0 (a count of non-zeros is piecewise constant)
//   else:     sign(self) · |self|^(p−1) · grad / out^(p−1)   (0 where self = 0 or out = 0)
Tensor norm_backward(const Tensor& grad, const Tensor& self, const Scalar& p, const Tensor& result,
                     IntArrayRef dims, bool keepdim) {
  const double pv = p.to<double>();
  if (pv == 0.0) return zeros_like(self);
  const Tensor g = unsqueeze_reduced(grad, self.sizes(), dims, keepdim);
  const Tensor out = unsqueeze_reduced(result, self.sizes(), dims, keepdim);
  const ScalarType t = self.dtype();
  const Tensor sign = self.gt(0.0).to(t).sub(self.lt(0.0).to(t));
  if (pv == 1.0) return sign.mul(g);
  if (pv == 2.0) return self.mul(zero_where(out.eq(0.0), g.div(out)));
  const Tensor abs = self.abs();
  if (std::isinf(pv)) {
    // Ties share the gradient evenly; a NaN element takes it (the NaN is the result).
    const Tensor hits = abs.eq(out).to(t).add(abs.ne(abs).to(t));
    const std::vector<int64_t> reduced = reduced_dims(dims, self.dim());
    return sign.mul(hits).mul(g.div(hits.sum(reduced, true)));
  }
  const Tensor scaled = zero_where(self.eq(0.0), sign.mul(abs.pow(pv - 1.0)));
  return scaled.mul(zero_where(out.eq(0.0), g.div(out.pow(pv - 1.0))));
}

// ── padding and resizing (module 09) ──────────────────────────────────────────────────────────

// out = pad(self, pad, mode). Constant: the output is self with a border, so the gradient is the
// output gradient with that border cut off — a constant pad by −pad (a recorded op). The other
// modes copy some input cells several times: their gradients are added up (a native kernel; under
// create_graph a recorded scatter-add along the same index map).
Tensor pad_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef pad,
                    std::string_view mode) {
  if (mode == "constant") {
    std::vector<int64_t> crop(pad.begin(), pad.end());
    for (int64_t& p : crop) p = -p;
    return tinytorch::pad(grad, crop, "constant");
  }
  if (GradMode::is_enabled()) {
    const Tensor index = native::pad_source_index(self_sizes, pad, mode);
    return scatter_add_flat(grad, index, compute_numel(self_sizes)).reshape(self_sizes);
  }
  return native::pad_backward(grad, self_sizes, pad, mode);
}

// out[n, c, oh, ow] = self[n, c, src_h(oh), src_w(ow)]  →  scatter-add to the source pixels.
Tensor upsample_nearest2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                   IntArrayRef output_size, std::optional<double> scales_h,
                                   std::optional<double> scales_w) {
  if (GradMode::is_enabled()) {  // create_graph: the same scatter-add, recorded
    const Tensor index =
        native::upsample_nearest2d_source_index(input_sizes, output_size, scales_h, scales_w);
    return scatter_add_flat(grad, index, compute_numel(input_sizes)).reshape(input_sizes);
  }
  return native::upsample_nearest2d_backward(grad, input_sizes, output_size, scales_h, scales_w);
}

// out = Σ of the 2×2 neighbours weighted (1 − λh, λh) × (1 − λw, λw)  →  each neighbour receives
// the output gradient times its weight.
Tensor upsample_bilinear2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                    IntArrayRef output_size, bool align_corners,
                                    std::optional<double> scales_h,
                                    std::optional<double> scales_w) {
  if (GradMode::is_enabled()) {  // create_graph: one recorded scatter-add per neighbour
    Tensor out;
    for (const auto& [index, weight] : native::upsample_bilinear2d_taps(
             input_sizes, output_size, align_corners, scales_h, scales_w, grad.dtype())) {
      const Tensor part = scatter_add_flat(grad.mul(weight), index, compute_numel(input_sizes));
      out = out.defined() ? out.add(part) : part;
    }
    return out.reshape(input_sizes);
  }
  return native::upsample_bilinear2d_backward(grad, input_sizes, output_size, align_corners,
                                              scales_h, scales_w);
}

// ── indexing (core/tensor_indexing.h) ────────────────────────────────────────────────────────
// A gather's backward is a scatter-add and a scatter's is a gather: the gradient goes back along
// the same index, the other way. Every line below is a recorded indexing op.

// out = self.index(indices): out[b] = self[idx(b)]. Each element of self receives the sum of the
// gradients of every output element read from it (an index that repeats adds up).
Tensor index_backward(const Tensor& grad, IntArrayRef self_sizes,
                      const std::vector<std::optional<Tensor>>& indices) {
  return zeros(self_sizes, grad.dtype()).index_put(indices, grad, /*accumulate=*/true);
}

// out = self.index_put(indices, values, accumulate): out is self with the indexed positions
// replaced by values (accumulate: increased by them).
//   ∂/∂self: grad where self's value survives — everywhere with accumulate, else nowhere indexed;
//   ∂/∂values: the gradient at the positions the values went to (the engine sums it back over
//   the values' broadcasting).
variable_list index_put_backward(const Tensor& grad,
                                 const std::vector<std::optional<Tensor>>& indices, bool accumulate,
                                 GradMask needs) {
  Tensor grad_self, grad_values;
  if (needs[0]) {
    grad_self = accumulate ? grad : grad.index_put(indices, zeros({}, grad.dtype()));
  }
  if (needs[1]) grad_values = grad.index(indices);
  return {grad_self, grad_values};
}

// out = self.gather(dim, index): out[i][j] = self[index[i][j]][j] (dim 0), so
// grad_self[index[i][j]][j] += grad[i][j].
Tensor gather_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                       const Tensor& index) {
  return zeros(self_sizes, grad.dtype()).scatter_add(dim, index, grad);
}

namespace {
// src's gradient when only its leading block of index's shape was read: that block holds
// `block`, the rest is zero.
Tensor pad_to(const Tensor& block, IntArrayRef sizes) {
  if (block.sizes() == sizes || block.dim() == 0) return block;  // 0-d: the engine sums to shape
  Tensor out = zeros(sizes, block.dtype());
  Tensor window = out;
  for (int64_t d = 0; d < block.dim(); ++d) window = window.narrow(d, 0, block.size(d));
  window.copy_(block);
  return out;
}
}  // namespace

// out = self.scatter(dim, index, src): out[index[i][j]][j] = src[i][j] (dim 0).
//   ∂/∂self: grad except at the overwritten positions;  ∂/∂src[i][j] = grad[index[i][j]][j].
variable_list scatter_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                               IntArrayRef src_sizes, GradMask needs) {
  return {needs[0] ? grad.scatter(dim, index, 0) : Tensor(),
          needs[1] ? pad_to(grad.gather(dim, index), src_sizes) : Tensor()};
}

// out = self.scatter_add(dim, index, src): out[index[i][j]][j] += src[i][j] (dim 0).
//   ∂/∂self = grad (every value of self survives);  ∂/∂src[i][j] = grad[index[i][j]][j].
variable_list scatter_add_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                   IntArrayRef src_sizes, GradMask needs) {
  return {needs[0] ? grad : Tensor(),
          needs[1] ? pad_to(grad.gather(dim, index), src_sizes) : Tensor()};
}

// out = self.index_select(dim, index): out.select(dim, k) = self.select(dim, index[k]), so
// grad_self.select(dim, index[k]) += grad.select(dim, k).
Tensor index_select_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                             const Tensor& index) {
  return zeros(self_sizes, grad.dtype()).index_add(dim, index, grad);
}

// out = self.index_add(dim, index, source, alpha): out.select(dim, index[k]) +=
// α·source.select(dim, k)
//   ∂/∂self = grad;  ∂/∂source.select(dim, k) = α·grad.select(dim, index[k]).
variable_list index_add_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                 const Scalar& alpha, GradMask needs) {
  Tensor grad_source;
  if (needs[1]) {
    grad_source = grad.index_select(dim, index);
    if (alpha.to<double>() != 1.0) grad_source = grad_source.mul(alpha);
  }
  return {needs[0] ? grad : Tensor(), grad_source};
}

// out = self.masked_select(mask): the elements of self (broadcast with mask) where mask is true,
// in row-major order. Their gradients go back to those positions (PyTorch's masked_scatter);
// the engine sums over the broadcasting.
Tensor masked_select_backward(const Tensor& grad, IntArrayRef self_sizes, const Tensor& mask) {
  std::vector<int64_t> shape = broadcast_shapes(self_sizes, mask.sizes());
  if (shape.empty()) shape = {1};  // as the forward: a 0-d mask indexes a dim of one element
  return zeros(shape, grad.dtype()).index_put({mask.expand(shape)}, grad);
}

}  // namespace tinytorch::autograd
