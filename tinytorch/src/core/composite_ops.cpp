// Ops that libtorch programs call, written in other public ops (PyTorch's
// CompositeImplicitAutograd): repeat, flip, roll, diag, meshgrid, bmm / baddbmm / addmm / outer,
// einsum, std, prod, logsumexp, one_hot, multinomial and the unique family; and core/functions.h's
// floor_divide, frobenius_norm, repeat_interleave and where(condition).
//
// NOTE: given code (not a learner region). Each op here checks its arguments the way libtorch
// does and then calls ops that already record (view, expand, cat, index_select, as_strided,
// matmul, cumprod, var, ...), so autograd needs no new formula: the gradient — and, with
// create_graph, the gradient of the gradient — comes from the ops called. The products all reach
// the one GEMM behind matmul; nothing here loops over elements except multinomial and unique
// (natives: integer outputs, no gradient).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/custom_function.h"
#include "tinytorch/core/functions.h"
#include "tinytorch/core/join.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

std::vector<int64_t> wrap_dims(IntArrayRef dims, int64_t ndim, std::string_view op) {
  std::vector<int64_t> out;
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    TT_CHECK_VALUE(std::find(out.begin(), out.end(), w) == out.end(), op, ": dim ", w,
                   " appears multiple times in the list of dims ", dims);
    out.push_back(w);
  }
  return out;
}

bool is_scalar_value(const Scalar& s, double v) {
  return s.to<double>() == v;
}

// beta · self + alpha · product, self broadcast to the product's shape (libtorch's addmm and
// baddbmm): beta = 0 ignores self's values (NaN included), alpha = 1 and beta = 1 multiply by
// nothing.
Tensor add_scaled(const Tensor& self, const Tensor& product, const Scalar& beta,
                  const Scalar& alpha, std::string_view op) {
  TT_CHECK_TYPE(self.dtype() == product.dtype(), op, ": expected self of dtype ",
                to_string(product.dtype()), " (the matrices') but got ", to_string(self.dtype()));
  Tensor input;
  try {
    input = self.expand(product.sizes());
  } catch (const Error&) {
    TT_CHECK_VALUE(false, op, ": self of shape ", self.sizes(),
                   " does not broadcast to the product's shape ", product.sizes());
  }
  const Tensor scaled = is_scalar_value(alpha, 1.0) ? product : product.mul(alpha);
  if (is_scalar_value(beta, 0.0)) return scaled;
  return scaled.add(is_scalar_value(beta, 1.0) ? input : input.mul(beta));
}

}  // namespace

// ── views and shape helpers ───────────────────────────────────────────────────────────────────

// x [s0, s1] repeated (r0, r1, r2): view x as [1, 1, 1, s0, 1, s1], expand the 1s before each
// size to its repeat count, copy, and fold each (r, s) pair into one dim (what PyTorch does).
Tensor Tensor::repeat(IntArrayRef repeats) const {
  TT_CHECK_VALUE(static_cast<int64_t>(repeats.size()) >= dim(), "repeat: the number of repeats (",
                 repeats.size(), ") can not be smaller than the number of dims of the tensor (",
                 dim(), "); got repeats ", repeats, " for sizes ", sizes());
  const size_t lead = repeats.size() - static_cast<size_t>(dim());
  std::vector<int64_t> interleaved, expanded, out;
  for (size_t i = 0; i < repeats.size(); ++i) {
    TT_CHECK_VALUE(repeats[i] >= 0, "repeat: repeats must be non-negative, got ", repeats);
    const int64_t s = i < lead ? 1 : size(static_cast<int64_t>(i - lead));
    interleaved.insert(interleaved.end(), {1, s});
    expanded.insert(expanded.end(), {repeats[i], s});
    out.push_back(repeats[i] * s);
  }
  // clone: new memory even when every repeat is 1, as PyTorch's repeat.
  return reshape(interleaved).expand(expanded).clone().view(out);
}

Tensor Tensor::flip(IntArrayRef dims) const {
  Tensor out = *this;
  for (int64_t d : wrap_dims(dims, std::max<int64_t>(dim(), 1), "flip")) {
    if (dim() == 0) break;  // a 0-d tensor has one element: nothing to reverse
    const int64_t n = size(d);
    out = out.index_select(d, arange(n - 1, -1, -1));
  }
  return out.is_same(*this) ? clone() : out;
}

// Rolling by s along a dim of n: the last s elements, then the first n - s (PyTorch's roll_common).
Tensor Tensor::roll(IntArrayRef shifts, IntArrayRef dims) const {
  TT_CHECK_VALUE(!shifts.empty(), "roll: `shifts` required");
  if (dims.empty()) {
    TT_CHECK_VALUE(shifts.size() == 1,
                   "roll: without dims, expected one shift (the flattened tensor's) but got ",
                   shifts.size(), " shifts ", shifts);
    return flatten().roll(shifts, {0}).view(sizes());
  }
  TT_CHECK_VALUE(shifts.size() == dims.size(),
                 "roll: shifts and dimensions must align. shifts: ", shifts.size(),
                 ", dims: ", dims.size());
  Tensor out = *this;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], dim(), "roll");
    const int64_t n = size(d);
    const int64_t s = n == 0 ? 0 : ((shifts[i] % n) + n) % n;
    if (s == 0) continue;
    out = cat({out.narrow(d, n - s, s), out.narrow(d, 0, n - s)}, d);
  }
  return out.is_same(*this) ? clone() : out;
}

Tensor Tensor::diag(int64_t diagonal) const {
  TT_CHECK_VALUE(dim() == 1 || dim() == 2, "diag: expected a matrix or a vector but got a ", dim(),
                 "-d tensor of sizes ", sizes());
  const int64_t k = diagonal;
  if (dim() == 1) {
    // The n×n diagonal matrix, flattened, is v0, n zeros, v1, n zeros, …, v(n-1): the rows of
    // [v | 0] (n × (n+1)) flattened and cut to n·n. Then zero blocks move it off the main diagonal.
    const int64_t n = size(0);
    const int64_t m = k >= 0 ? k : -k;
    const TensorOptions opts = options();
    Tensor d =
        cat({unsqueeze(1), zeros({n, n}, opts)}, 1).flatten().narrow(0, 0, n * n).view({n, n});
    if (m == 0) return d;
    if (k > 0) return cat({cat({zeros({n, m}, opts), d}, 1), zeros({m, n + m}, opts)}, 0);
    return cat({zeros({m, n + m}, opts), cat({d, zeros({n, m}, opts)}, 1)}, 0);
  }
  // Matrix → its diagonal k: a strided view (stride s0 + s1), copied as PyTorch's diag does.
  const int64_t rows = size(0), cols = size(1);
  const int64_t len =
      std::max<int64_t>(0, k >= 0 ? std::min(rows, cols - k) : std::min(rows + k, cols));
  if (len == 0) return empty({0}, options());
  const int64_t start = storage_offset() + (k >= 0 ? k * stride(1) : -k * stride(0));
  return as_strided({len}, {stride(0) + stride(1)}, start).clone();
}

std::vector<Tensor> meshgrid(const std::vector<Tensor>& tensors, std::string_view indexing) {
  TT_CHECK_VALUE(!tensors.empty(), "meshgrid: expects a non-empty list of tensors");
  TT_CHECK_VALUE(indexing == "ij" || indexing == "xy",
                 "meshgrid: indexing must be one of \"xy\" or \"ij\", but received: ", indexing);
  const size_t n = tensors.size();
  std::vector<int64_t> shape(n);
  std::vector<size_t> dim_of(n);
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = tensors[i];
    TT_CHECK_VALUE(t.dim() <= 1, "meshgrid: expected 0-d or 1-d tensors but tensor ", i,
                   " has sizes ", t.sizes());
    TT_CHECK_TYPE(t.dtype() == tensors[0].dtype(),
                  "meshgrid: expects all tensors to have the same dtype; tensor 0 is ",
                  to_string(tensors[0].dtype()), " and tensor ", i, " is ", to_string(t.dtype()));
    // "xy": the first two grids swap dims (Cartesian x along columns), as numpy's meshgrid.
    dim_of[i] = (indexing == "xy" && n >= 2 && i < 2) ? 1 - i : i;
    shape[dim_of[i]] = t.numel();
  }
  std::vector<Tensor> grids;
  for (size_t i = 0; i < n; ++i) {
    std::vector<int64_t> view_shape(n, 1);
    view_shape[dim_of[i]] = -1;
    grids.push_back(tensors[i].reshape(view_shape).expand(shape));
  }
  return grids;
}

// ── products (all on matmul's GEMM) ───────────────────────────────────────────────────────────

Tensor Tensor::bmm(const Tensor& mat2) const {
  TT_AUTOCAST(bmm, *this, mat2);
  TT_CHECK_VALUE(dim() == 3, "bmm: batch1 must be a 3-d tensor but has sizes ", sizes());
  TT_CHECK_VALUE(mat2.dim() == 3, "bmm: batch2 must be a 3-d tensor but has sizes ", mat2.sizes());
  TT_CHECK_VALUE(mat2.size(0) == size(0) && mat2.size(1) == size(2),
                 "bmm: expected size for first two dimensions of batch2 tensor to be: [", size(0),
                 ", ", size(2), "] but got: [", mat2.size(0), ", ", mat2.size(1), "] (batch1 ",
                 sizes(), ", batch2 ", mat2.sizes(), ")");
  native::check_same_dtype("bmm", "batch1", *this, "batch2", mat2);
  return matmul(mat2);
}

Tensor Tensor::baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta,
                       const Scalar& alpha) const {
  TT_AUTOCAST(baddbmm, *this, batch1, batch2, beta, alpha);
  native::check_same_dtype("baddbmm", "batch1", batch1, "batch2", batch2);
  return add_scaled(*this, batch1.bmm(batch2), beta, alpha, "baddbmm");
}

Tensor Tensor::addmm(const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                     const Scalar& alpha) const {
  TT_AUTOCAST(addmm, *this, mat1, mat2, beta, alpha);
  TT_CHECK_VALUE(mat1.dim() == 2, "addmm: mat1 must be a matrix, got a ", mat1.dim(), "-d tensor");
  TT_CHECK_VALUE(mat2.dim() == 2, "addmm: mat2 must be a matrix, got a ", mat2.dim(), "-d tensor");
  native::check_same_dtype("addmm", "mat1", mat1, "mat2", mat2);
  return add_scaled(*this, mat1.mm(mat2), beta, alpha, "addmm");
}

// [n] ⊗ [m]: as libtorch, a broadcast product of [n, 1] and [m] (a GEMM with an inner size of 1
// would compute the same n·m products).
Tensor Tensor::outer(const Tensor& vec2) const {
  TT_CHECK_VALUE(dim() == 1, "outer: expected 1-d argument self, but got ", dim(), "-d");
  TT_CHECK_VALUE(vec2.dim() == 1, "outer: expected 1-d argument vec2, but got ", vec2.dim(), "-d");
  return reshape({size(0), 1}).mul(vec2);
}

namespace {

constexpr std::string_view kEinsumSupported =
    "supported: one or two operands, letters only, each letter at most once per operand "
    "(e.g. \"ij,jk->ik\", \"bij,bjk->bik\", \"i,j->ij\", \"ij->ji\", \"ij->i\")";

// One operand's labels: one letter per dim.
std::string einsum_term(std::string_view term, const Tensor& t, size_t index) {
  std::string labels;
  for (char c : term) {
    TT_CHECK_WITH(NotImplementedError, c != '.',
                  "einsum: \"...\" (broadcast dims) is not "
                  "supported; ",
                  kEinsumSupported);
    TT_CHECK_VALUE(std::isalpha(static_cast<unsigned char>(c)), "einsum: invalid subscript '", c,
                   "' in operand ", index, "; subscripts must be letters");
    TT_CHECK_WITH(NotImplementedError, labels.find(c) == std::string::npos, "einsum: subscript '",
                  c, "' repeats within operand ", index, " (diagonals) — not supported; ",
                  kEinsumSupported);
    labels.push_back(c);
  }
  TT_CHECK_VALUE(static_cast<int64_t>(labels.size()) == t.dim(), "einsum: operand ", index, " has ",
                 t.dim(), " dims (sizes ", t.sizes(), ") but its subscripts \"", labels, "\" name ",
                 labels.size());
  return labels;
}

// Sums out the dims of t whose labels `keep` does not hold; returns the labels left.
Tensor sum_labels_not_in(const Tensor& t, std::string& labels, const std::string& keep) {
  std::vector<int64_t> dims;
  std::string left;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (keep.find(labels[i]) == std::string::npos)
      dims.push_back(static_cast<int64_t>(i));
    else
      left.push_back(labels[i]);
  }
  labels = left;
  return dims.empty() ? t : t.sum(dims);
}

Tensor permute_to(const Tensor& t, const std::string& from, const std::string& to) {
  std::vector<int64_t> order;
  for (char c : to) order.push_back(static_cast<int64_t>(from.find(c)));
  return t.permute(order);
}

}  // namespace

// A · B as [batch, free_a, contracted] × [batch, contracted, free_b] → one bmm: letters in both
// and in the output are batch dims, in both but not the output are contracted, in one only are
// kept (or summed first when the output lacks them).
Tensor einsum(std::string_view equation, const std::vector<Tensor>& tensors) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq.push_back(c);
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  TT_CHECK_VALUE(terms.size() == tensors.size(), "einsum: the equation \"", equation, "\" names ",
                 terms.size(), " operands but ", tensors.size(), " tensors were given");
  TT_CHECK_WITH(NotImplementedError, tensors.size() == 1 || tensors.size() == 2,
                "einsum: ", tensors.size(), " operands; ", kEinsumSupported);
  std::vector<std::string> labels;
  std::array<int64_t, 128> size_of{};
  size_of.fill(-1);
  for (size_t i = 0; i < terms.size(); ++i) {
    labels.push_back(einsum_term(terms[i], tensors[i], i));
    for (size_t d = 0; d < labels[i].size(); ++d) {
      const auto c = static_cast<unsigned char>(labels[i][d]);
      const int64_t s = tensors[i].size(static_cast<int64_t>(d));
      TT_CHECK_VALUE(size_of[c] == -1 || size_of[c] == s, "einsum: subscript '", labels[i][d],
                     "' has size ", s, " in operand ", i, " but size ", size_of[c],
                     " in operand 0");
      size_of[c] = s;
    }
  }
  std::string out;
  if (arrow != std::string::npos) {
    for (char c : eq.substr(arrow + 2)) {
      TT_CHECK_VALUE(size_of[static_cast<unsigned char>(c)] != -1, "einsum: output subscript '", c,
                     "' does not appear in the operands of \"", equation, "\"");
      TT_CHECK_VALUE(out.find(c) == std::string::npos, "einsum: output subscript '", c,
                     "' appears more than once in \"", equation, "\"");
      out.push_back(c);
    }
  } else {  // implicit output: the labels seen exactly once, in alphabetical order
    std::string all = labels[0] + (labels.size() > 1 ? labels[1] : "");
    for (char c : all)
      if (std::count(all.begin(), all.end(), c) == 1) out.push_back(c);
    std::sort(out.begin(), out.end());
  }

  if (tensors.size() == 1) {
    std::string l = labels[0];
    const Tensor summed = sum_labels_not_in(tensors[0], l, out);
    return permute_to(summed, l, out);
  }
  std::string la = labels[0], lb = labels[1];
  // A label the output lacks and the other operand lacks too is summed out before the product.
  Tensor a = sum_labels_not_in(tensors[0], la, out + lb);
  Tensor b = sum_labels_not_in(tensors[1], lb, out + la);
  std::string batch, free_a, free_b, contracted;
  for (char c : la) {
    const bool in_b = lb.find(c) != std::string::npos;
    const bool in_out = out.find(c) != std::string::npos;
    (in_b ? (in_out ? batch : contracted) : free_a).push_back(c);
  }
  for (char c : lb)
    if (la.find(c) == std::string::npos) free_b.push_back(c);
  auto numel_of = [&](const std::string& ls) {
    int64_t n = 1;
    for (char c : ls) n *= size_of[static_cast<unsigned char>(c)];
    return n;
  };
  a = permute_to(a, la, batch + free_a + contracted)
          .reshape({numel_of(batch), numel_of(free_a), numel_of(contracted)});
  b = permute_to(b, lb, batch + contracted + free_b)
          .reshape({numel_of(batch), numel_of(contracted), numel_of(free_b)});
  std::vector<int64_t> result_sizes;
  const std::string result_labels = batch + free_a + free_b;
  for (char c : result_labels) result_sizes.push_back(size_of[static_cast<unsigned char>(c)]);
  return permute_to(a.bmm(b).view(result_sizes), result_labels, out);
}

// ── reductions ────────────────────────────────────────────────────────────────────────────────

Tensor Tensor::std(bool unbiased) const {
  return var({}, unbiased).sqrt();
}
Tensor Tensor::std(IntArrayRef dims, bool unbiased, bool keepdim) const {
  return var(dims, unbiased, keepdim).sqrt();
}

namespace {
// The product over an empty dim is 1: written as 0 · sum + 1 so that it records like the rest
// (its gradient is the empty input's zero-size one).
Tensor prod_of_nothing(const Tensor& self, int64_t dim, bool keepdim,
                       std::optional<ScalarType> dtype) {
  const ScalarType out = dtype.value_or(self.is_floating_point() ? self.dtype() : kInt64);
  return self.sum({dim}, keepdim, out).mul(0).add(1);
}
}  // namespace

// The last running product is the product: cumprod's backward already handles zeros (one zero:
// the others' product; two or more: nothing), so prod's gradient is right with zeros too.
Tensor Tensor::prod(std::optional<ScalarType> dtype) const {
  TT_AUTOCAST(prod, *this, dtype);
  if (numel() == 0) return prod_of_nothing(flatten(), 0, false, dtype);
  return flatten().cumprod(0, dtype).select(0, numel() - 1).clone();
}
Tensor Tensor::prod(int64_t dim, bool keepdim, std::optional<ScalarType> dtype) const {
  TT_AUTOCAST(prod, *this, dim, keepdim, dtype);
  const int64_t d = wrap_dim(dim, std::max<int64_t>(this->dim(), 1), "prod");
  if (this->dim() == 0) return prod(dtype);
  const int64_t n = size(d);
  if (n == 0) return prod_of_nothing(*this, d, keepdim, dtype);
  Tensor last = cumprod(d, dtype).narrow(d, n - 1, 1);
  return (keepdim ? last : last.squeeze(d)).contiguous();
}

// log Σ exp(x) = m + log Σ exp(x − m), m the max over dims (detached: the result does not
// depend on it, and the gradient, softmax, comes from the other ops). An infinite m is replaced by
// 0 so that inf − inf never makes a NaN.
Tensor Tensor::logsumexp(IntArrayRef dims, bool keepdim) const {
  const Tensor x = is_floating_point() ? *this : to(kDefaultFloat);
  std::vector<int64_t> reduce = wrap_dims(dims, std::max<int64_t>(dim(), 1), "logsumexp");
  if (reduce.empty())
    for (int64_t d = 0; d < dim(); ++d) reduce.push_back(d);
  if (dim() == 0) reduce.clear();
  bool empty_dim = false;
  for (int64_t d : reduce) empty_dim = empty_dim || size(d) == 0;
  if (empty_dim || reduce.empty()) return x.exp().sum(reduce, keepdim).log();
  Tensor m = x.detach();
  for (int64_t d : reduce) m = std::get<0>(m.max(d, true));
  m = tinytorch::where(m.abs().eq(std::numeric_limits<double>::infinity()), 0.0, m);
  const Tensor lse = x.sub(m).exp().sum(reduce, keepdim).log();
  return lse.add(keepdim ? m : m.sum(reduce));  // sum over size-1 dims: m without them
}

Tensor one_hot(const Tensor& self, int64_t num_classes) {
  TT_CHECK_TYPE(self.dtype() == kInt64,
                "one_hot: is only applicable to index tensors (int64), but got dtype ",
                to_string(self.dtype()));
  if (self.numel() == 0) {
    TT_CHECK_VALUE(num_classes > 0,
                   "one_hot: can not infer the total number of classes from an empty tensor; "
                   "pass num_classes");
  } else {
    TT_CHECK_VALUE(self.min().item<int64_t>() >= 0,
                   "one_hot: class values must be non-negative, "
                   "got ",
                   self.min().item<int64_t>());
    const int64_t top = self.max().item<int64_t>();
    if (num_classes == -1) num_classes = top + 1;
    TT_CHECK_VALUE(top < num_classes, "one_hot: class values must be smaller than num_classes (",
                   num_classes, "), got ", top);
  }
  std::vector<int64_t> shape = self.sizes().vec();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, kInt64);
  if (self.numel() > 0) out.scatter_(-1, self.unsqueeze(-1), 1);
  return out;
}

// ── sampling and sets (natives: integer results, no gradient) ──────────────────────────────────

Tensor Tensor::multinomial(int64_t num_samples, bool replacement, Generator* generator) const {
  return native::multinomial(*this, num_samples, replacement, generator);
}

std::tuple<Tensor, Tensor> _unique(const Tensor& self, bool /*sorted*/, bool return_inverse) {
  auto [values, inverse, counts] = native::unique(self, return_inverse, false, false);
  return {values, inverse};
}
std::tuple<Tensor, Tensor, Tensor> _unique2(const Tensor& self, bool /*sorted*/,
                                            bool return_inverse, bool return_counts) {
  return native::unique(self, return_inverse, return_counts, false);
}
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& self, bool return_inverse,
                                                      bool return_counts,
                                                      std::optional<int64_t> dim) {
  if (dim.has_value()) return native::unique_dim(self.detach(), *dim, true);
  return native::unique(self, return_inverse, return_counts, true);
}
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& self, int64_t dim, bool /*sorted*/,
                                              bool /*return_inverse*/, bool /*return_counts*/) {
  return native::unique_dim(self.detach(), dim, false);
}

// ── core/functions.h: libtorch's free functions without a Tensor method here ───────────────────

namespace {
// floor_divide is piecewise constant, and PyTorch 1.13 registers no derivative for it: its result
// still carries a graph from an input that requires grad, and backward through it raises — as
// libtorch's NotImplemented node does — rather than leaving that input silently without a
// gradient.
struct FloorDivide : public autograd::Function<FloorDivide> {
  static Tensor forward(autograd::AutogradContext* /*ctx*/, const Tensor& self,
                        const Tensor& other) {
    return native::floor_divide(self, other);
  }
  static autograd::variable_list backward(autograd::AutogradContext* /*ctx*/,
                                          const autograd::variable_list& /*grad_outputs*/) {
    throw NotImplementedError(
        "the derivative for floor_divide is not implemented (PyTorch has none either: the "
        "result is piecewise constant); detach() its inputs if no gradient should flow through "
        "it");
  }
};
}  // namespace

Tensor floor_divide(const Tensor& self, const Tensor& other) {
  return FloorDivide::apply(self, other);
}
Tensor floor_divide(const Tensor& self, const Scalar& other) {
  return floor_divide(self, full({}, other, result_type(self, other)));
}

Tensor frobenius_norm(const Tensor& self) {
  return self.norm(2);
}
// PyTorch 1.13's split: none or one dim is norm(2); two dims are written out, sqrt(sum(x·x)).
Tensor frobenius_norm(const Tensor& self, IntArrayRef dim, bool keepdim) {
  TT_CHECK_VALUE(dim.size() <= 2, "frobenius_norm: expected at most 2 dimensions, but got ",
                 dim.size(), " dimensions instead (dim ", dim, ")");
  if (dim.size() < 2) return self.norm(Scalar(2), dim, keepdim);
  TT_CHECK_TYPE(self.is_floating_point(),
                "frobenius_norm: input dtype should be floating point, got ", self.dtype());
  const std::vector<int64_t> dims = wrap_dims(dim, self.dim(), "frobenius_norm");
  return (self * self).sum(dims, keepdim).sqrt();
}

// repeats [n] = {c_0, …} → the index i written c_i times: [Σ c_i].
Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size) {
  TT_CHECK_TYPE(repeats.dtype() == kInt64 || repeats.dtype() == kInt32,
                "repeat_interleave: repeats must be an int64 or int32 tensor, got dtype ",
                repeats.dtype());
  TT_CHECK_VALUE(repeats.dim() == 1,
                 "repeat_interleave: repeats must be a 1-dim tensor of counts, got shape ",
                 repeats.sizes());
  const Tensor counts = repeats.to(kInt64).contiguous();
  const int64_t* c = counts.data_ptr<int64_t>();  // [n]
  const int64_t n = counts.numel();
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    TT_CHECK_VALUE(c[i] >= 0, "repeat_interleave: repeats can not be negative, got ", c[i],
                   " at position ", i);
    total += c[i];
  }
  TT_CHECK_VALUE(!output_size.has_value() || *output_size == total,
                 "repeat_interleave: output_size ", output_size.value_or(0),
                 " does not match the sum of repeats, ", total);
  Tensor out = empty({total}, kInt64);
  int64_t* o = out.data_ptr<int64_t>();  // [total]
  for (int64_t i = 0; i < n; ++i) o = std::fill_n(o, c[i], i);
  return out.to(repeats.dtype());
}

// index_select with the one-argument form's indices: slice i of `dim`, repeats[i] times.
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  const Tensor input = dim.has_value() ? self : self.flatten();
  const int64_t d = dim.has_value() ? wrap_dim(*dim, input.dim(), "repeat_interleave") : 0;
  TT_CHECK_VALUE(repeats.dim() <= 1,
                 "repeat_interleave: repeats must be a 0-dim or 1-dim tensor, got shape ",
                 repeats.sizes());
  Tensor counts = repeats.reshape({-1});
  if (counts.numel() == 1) {
    counts = counts.expand({input.size(d)});  // one count for every slice
  } else {
    TT_CHECK_VALUE(counts.numel() == input.size(d),
                   "repeat_interleave: repeats must have the same size as input along dim: got ",
                   counts.numel(), " repeats for dim ", d, " of size ", input.size(d),
                   " (input shape ", input.sizes(), ")");
  }
  return input.index_select(d, repeat_interleave(counts, output_size).to(kInt64));
}
Tensor repeat_interleave(const Tensor& self, int64_t repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  return repeat_interleave(self, full({}, repeats, kInt64), dim, output_size);
}

// The method forms: the free functions above, self first.
Tensor Tensor::repeat_interleave(int64_t repeats, std::optional<int64_t> dim,
                                 std::optional<int64_t> output_size) const {
  return tinytorch::repeat_interleave(*this, repeats, dim, output_size);
}
Tensor Tensor::repeat_interleave(const Tensor& repeats, std::optional<int64_t> dim,
                                 std::optional<int64_t> output_size) const {
  return tinytorch::repeat_interleave(*this, repeats, dim, output_size);
}

// nonzero(condition) [n, ndim], one column per dim (a 0-d condition counts as [1]).
std::vector<Tensor> where(const Tensor& condition) {
  const Tensor cond = condition.dim() == 0 ? condition.reshape({1}) : condition;
  return cond.nonzero().unbind(1);
}

}  // namespace tinytorch
