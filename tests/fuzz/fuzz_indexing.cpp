// Fuzzes libtorch's indexing (core/tensor_indexing.h). The input decodes into a small base tensor
// (0 to 3 dims of 0 to 4 elements, sometimes a transposed view) and a list of torch::indexing
// items — Slice with any start/stop/step (zero, negative, INT64_MIN/MAX), None, Ellipsis (also
// twice), integers in and far out of range, bools, int64 index tensors with out-of-range values,
// bool masks of any shape, and tensors of a dtype that is not an index — applied with
// Tensor::index, index_put_ (a value tensor of a decoded shape, or a scalar) and, through a
// leaf that requires grad, backward. Only a tinytorch::Error may come out: never a crash, a
// sanitizer report or another exception. The seeds are plain byte strings (fuzz_seeds.cpp).
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "fuzz_support.h"

namespace {

namespace tt = tinytorch;
using tt::indexing::TensorIndex;

// The input, read front to back; past its end every read is 0.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  bool done() const { return at_ >= size_; }

  // An index-like value: mostly small, sometimes negative, at the limits or anything at all.
  int64_t value() {
    const uint8_t kind = byte();
    switch (kind % 8) {
      case 0:
        return static_cast<int64_t>(byte() % 6) - 2;  // -2 .. 3
      case 1:
        return static_cast<int64_t>(byte() % 12) - 6;  // -6 .. 5, past a size-4 dim
      case 2:
        return std::numeric_limits<int64_t>::max();
      case 3:
        return std::numeric_limits<int64_t>::min();
      case 4: {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
        return static_cast<int64_t>(v);
      }
      default:
        return static_cast<int64_t>(byte() % 5);  // 0 .. 4
    }
  }
  std::optional<int64_t> maybe_value() {
    if (byte() % 3 == 0) return std::nullopt;
    return value();
  }
  // 0 to max_dims sizes of 0 to max_size each.
  std::vector<int64_t> shape(int max_dims, int max_size) {
    std::vector<int64_t> out(byte() % (max_dims + 1));
    for (int64_t& s : out) s = byte() % (max_size + 1);
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

// One decoded item. Constructing a Slice with step 0 throws: the caller catches it.
TensorIndex decode_item(Reader& in) {
  switch (in.byte() % 8) {
    case 0: {
      const auto start = in.maybe_value();
      const auto stop = in.maybe_value();
      const auto step = in.maybe_value();
      return tt::indexing::Slice(start, stop, step);
    }
    case 1:
      return tt::indexing::None;
    case 2:
      return tt::indexing::Ellipsis;
    case 3:
      return in.value();
    case 4:
      return in.byte() % 2 == 0;
    case 5: {  // an int64 index tensor
      const std::vector<int64_t> shape = in.shape(2, 3);
      tt::Tensor t = tt::empty(shape, tt::TensorOptions().dtype(tt::kInt64));
      auto* p = t.data_ptr<int64_t>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = in.value();
      return t;
    }
    case 6: {  // a mask of any shape
      const std::vector<int64_t> shape = in.shape(3, 4);
      tt::Tensor t = tt::empty(shape, tt::TensorOptions().dtype(tt::kBool));
      auto* p = t.data_ptr<bool>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = in.byte() % 2 == 1;
      return t;
    }
    default: {  // a tensor whose dtype is not an index (float32, int8, uint8)
      const tt::ScalarType dtypes[] = {tt::kFloat32, tt::kInt8, tt::kUInt8};
      const tt::ScalarType dtype = dtypes[in.byte() % 3];
      return tt::zeros(in.shape(2, 3), tt::TensorOptions().dtype(dtype));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  const std::vector<int64_t> shape = in.shape(3, 4);
  tt::Tensor base =
      tt::arange(tt::compute_numel(shape), tt::TensorOptions().dtype(tt::kFloat32)).reshape(shape);
  if (base.dim() >= 2 && in.byte() % 2 == 1) base = base.transpose(0, base.dim() - 1);
  std::vector<TensorIndex> items;
  try {
    for (int n = in.byte() % 7; n > 0 && !in.done(); --n) items.push_back(decode_item(in));
  } catch (const tt::Error&) {
    return 0;  // a Slice with step 0: refused when made
  }

  try {
    tt::fuzz::touch(base.index(items));
  } catch (const tt::Error&) {
  }
  try {
    tt::Tensor target = base.clone();
    if (in.byte() % 2 == 0) {
      target.index_put_(items, static_cast<double>(in.value() % 100));
    } else {
      target.index_put_(items, tt::ones(in.shape(3, 4)));
    }
    tt::fuzz::touch(target);
  } catch (const tt::Error&) {
  }
  try {
    const tt::Tensor leaf = base.detach().clone().requires_grad_(true);
    leaf.index(items).sum().backward();
    tt::fuzz::touch(leaf.grad());
  } catch (const tt::Error&) {
  }
  return 0;
}
