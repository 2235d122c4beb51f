// Padding the last k dims of a tensor (F.pad): pad = {left, right} pads the last dim,
// {left, right, top, bottom} the last two, and so on — the last dim first, as in PyTorch.
//
// Every mode is one index map per padded dim: output position o reads input position src(o),
//
//   i = o − left          constant:   i inside [0, n) ? x[i] : value     (negative pads crop)
//   (n = 4: a b c d)      reflect:    −i for i < 0, 2(n−1) − i for i ≥ n   c b | a b c d | c b
//                         replicate:  clamp(i, 0, n − 1)                   a a | a b c d | d d
//                         circular:   i mod n                              c d | a b c d | a b
//
// and the backward runs the same maps the other way: each output gradient is ADDED to the input
// position it read (reflect and replicate read some inputs several times), the constant cells
// receiving nothing.
#include "tinytorch/native/padding.h"

#include <algorithm>
#include <string>
#include <vector>

#include "opmath.h"

namespace tinytorch {

namespace {

enum class Mode { kConstant, kReflect, kReplicate, kCircular };

Mode parse_mode(std::string_view mode) {
  if (mode == "constant") return Mode::kConstant;
  if (mode == "reflect") return Mode::kReflect;
  if (mode == "replicate") return Mode::kReplicate;
  if (mode == "circular") return Mode::kCircular;
  throw ValueError(detail::str("pad: unknown padding mode '", mode,
                               "' (expected 'constant', 'reflect', 'replicate' or 'circular')"));
}

struct PadPlan {
  int64_t outer = 1;                      // the unpadded leading dims, flattened
  std::vector<int64_t> in_sizes;          // the padded dims of the input, outermost first
  std::vector<int64_t> out_sizes;         // ... and of the output
  std::vector<std::vector<int64_t>> src;  // per padded dim: output index → input index, or −1
  std::vector<int64_t> full_out_shape;    // the whole output shape
};

// The shape checks (PyTorch's rules and wording) and the index maps.
PadPlan plan_pad(IntArrayRef sizes, IntArrayRef pad, Mode mode, std::string_view mode_name) {
  TT_CHECK_VALUE(pad.size() % 2 == 0, "pad: padding length must be divisible by 2, got ",
                 pad.size(), " values ", pad);
  const auto k = static_cast<int64_t>(pad.size() / 2);
  const int64_t nd = static_cast<int64_t>(sizes.size());
  TT_CHECK_VALUE(k <= nd, "pad: padding length too large: ", pad.size(), " values pad the last ", k,
                 " dims, but the input ", sizes, " has ", nd);
  if (mode != Mode::kConstant) {
    TT_CHECK_VALUE(k >= 1 && k <= 3 && (nd == k + 1 || nd == k + 2), "pad: mode '", mode_name,
                   "' pads the last 1, 2 or 3 dims of a batched or unbatched input: ", k,
                   " padded dim(s) need a ", k + 1, "-d or ", k + 2, "-d input, got ", nd, "-d ",
                   sizes);
  }
  PadPlan plan;
  plan.full_out_shape = sizes.vec();
  for (int64_t d = 0; d < nd - k; ++d) plan.outer *= sizes[static_cast<size_t>(d)];
  for (int64_t d = nd - k; d < nd; ++d) {
    const int64_t j = nd - 1 - d;  // pad[2j], pad[2j + 1] pad dim d (the last dim first)
    const int64_t left = pad[static_cast<size_t>(2 * j)];
    const int64_t right = pad[static_cast<size_t>(2 * j + 1)];
    const int64_t n = sizes[static_cast<size_t>(d)];
    const int64_t out = n + left + right;
    TT_CHECK_VALUE(out >= 0, "pad: the input size ", n, ", plus negative padding ", left, " and ",
                   right, " resulted in a negative output size, which is invalid. Check dimension ",
                   d, " of your input ", sizes);
    if (mode == Mode::kReflect) {
      TT_CHECK_VALUE(left < n && right < n,
                     "pad: padding size should be less than the "
                     "corresponding input dimension, but got: padding (",
                     left, ", ", right, ") at dimension ", d, " of input ", sizes,
                     " (reflect mirrors the input without repeating its edge)");
    }
    if (mode == Mode::kCircular) {
      TT_CHECK_VALUE(left <= n && right <= n,
                     "pad: padding value causes wrapping around more "
                     "than once: padding (",
                     left, ", ", right, ") at dimension ", d, " of input ", sizes);
    }
    if (mode != Mode::kConstant) {
      TT_CHECK_VALUE(n > 0 || out == 0, "pad: mode '", mode_name, "' cannot pad dimension ", d,
                     " of size 0 in input ", sizes);
    }
    std::vector<int64_t> map(static_cast<size_t>(out));
    for (int64_t o = 0; o < out; ++o) {
      int64_t i = o - left;
      switch (mode) {
        case Mode::kConstant:
          i = i >= 0 && i < n ? i : -1;
          break;
        case Mode::kReflect:
          if (i < 0) i = -i;
          if (i >= n) i = 2 * (n - 1) - i;
          break;
        case Mode::kReplicate:
          i = std::clamp<int64_t>(i, 0, n - 1);
          break;
        case Mode::kCircular:
          i = ((i % n) + n) % n;
          break;
      }
      map[static_cast<size_t>(o)] = i;
    }
    plan.in_sizes.push_back(n);
    plan.out_sizes.push_back(out);
    plan.src.push_back(std::move(map));
    plan.full_out_shape[static_cast<size_t>(d)] = out;
  }
  return plan;
}

// Calls f(out_offset, in_offset) for every element of one padded block (in_offset −1 for a
// constant cell), offsets within the block, walking the output in row-major order.
template <typename F>
void for_each_padded(const PadPlan& plan, const F& f) {
  const auto k = plan.out_sizes.size();
  std::vector<int64_t> in_strides(k, 1);
  for (size_t d = k; d-- > 1;) in_strides[d - 1] = in_strides[d] * plan.in_sizes[d];
  int64_t out_count = 1;
  for (int64_t s : plan.out_sizes) out_count *= s;
  std::vector<int64_t> coord(k, 0);  // the odometer over the output's padded dims
  for (int64_t o = 0; o < out_count; ++o) {
    int64_t in = 0;
    for (size_t d = 0; d < k && in >= 0; ++d) {
      const int64_t s = plan.src[d][static_cast<size_t>(coord[d])];
      in = s < 0 ? -1 : in + s * in_strides[d];
    }
    f(o, in);
    for (size_t d = k; d-- > 0;) {  // advance: the last dim fastest
      if (++coord[d] < plan.out_sizes[d]) break;
      coord[d] = 0;
    }
  }
}

int64_t block_numel(IntArrayRef sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

}  // namespace

Tensor native::pad(const Tensor& self, IntArrayRef pad, std::string_view mode, double value) {
  const Mode m = parse_mode(mode);
  const PadPlan plan = plan_pad(self.sizes(), pad, m, mode);
  const Tensor x = self.contiguous();
  Tensor out = empty(plan.full_out_shape, self.dtype());
  const int64_t in_block = block_numel(plan.in_sizes), out_block = block_numel(plan.out_sizes);
  // Padding moves elements: every dtype pads in its own type (a 16-bit fill value is rounded once).
  dispatch_storage_types(self.dtype(), "pad", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();  // [outer, in padded dims...]
    T* op = out.data_ptr<T>();      // [outer, out padded dims...]
    const auto fill = static_cast<T>(value);
    for (int64_t b = 0; b < plan.outer; ++b) {
      for_each_padded(plan, [&](int64_t o, int64_t i) {
        op[b * out_block + o] = i < 0 ? fill : xp[b * in_block + i];
      });
    }
  });
  return out;
}

Tensor native::pad_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef pad,
                            std::string_view mode) {
  if (opmath::is_reduced(grad)) {  // float16/bfloat16: the sums of reflect/replicate in float32
    return opmath::compute(
        grad.dtype(), [&](const Tensor& g) { return pad_backward(g, self_sizes, pad, mode); },
        grad);
  }
  const PadPlan plan = plan_pad(self_sizes, pad, parse_mode(mode), mode);
  TT_CHECK(grad.sizes() == IntArrayRef(plan.full_out_shape), "pad_backward: grad ", grad.sizes(),
           " must have the padded output's shape ", IntArrayRef(plan.full_out_shape));
  const Tensor g = grad.contiguous();
  Tensor grad_in = zeros(self_sizes, grad.dtype());
  const int64_t in_block = block_numel(plan.in_sizes), out_block = block_numel(plan.out_sizes);
  dispatch_floating_types(grad.dtype(), "pad_backward", [&]<typename T>() {
    const T* gp = g.data_ptr<T>();
    T* ip = grad_in.data_ptr<T>();
    for (int64_t b = 0; b < plan.outer; ++b) {
      for_each_padded(plan, [&](int64_t o, int64_t i) {
        if (i >= 0) ip[b * in_block + i] += gp[b * out_block + o];
      });
    }
  });
  return grad_in;
}

Tensor native::pad_source_index(IntArrayRef self_sizes, IntArrayRef pad, std::string_view mode) {
  const PadPlan plan = plan_pad(self_sizes, pad, parse_mode(mode), mode);
  Tensor index = empty(plan.full_out_shape, kInt64);
  int64_t* ip = index.data_ptr<int64_t>();
  const int64_t in_block = block_numel(plan.in_sizes), out_block = block_numel(plan.out_sizes);
  for (int64_t b = 0; b < plan.outer; ++b) {
    for_each_padded(
        plan, [&](int64_t o, int64_t i) { ip[b * out_block + o] = i < 0 ? -1 : b * in_block + i; });
  }
  return index;
}

}  // namespace tinytorch
