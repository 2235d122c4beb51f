// tinytorch/core/tensor_impl.h — the metadata that turns a flat Storage into an N-d tensor.
//
//   Tensor (handle, cheap to copy) ──shared_ptr──► TensorImpl ──► Storage (bytes)
//
//   TensorImpl {
//     storage_         which bytes
//     dtype_           how to read them (float32, ...)
//     sizes_           the shape, e.g. [2, 3]
//     strides_         how many ELEMENTS to step in storage per +1 along each dim, e.g. [3, 1]
//     storage_offset_  where element (0, 0, ...) lives, in elements
//     autograd_meta_   empty until module 05 (autograd) fills it
//     quantizer_       empty unless the tensor is quantized (module 15, core/quantizer.h)
//   }
//
// Element (i, j) of a 2-d tensor lives at storage element
//     storage_offset_ + i * strides_[0] + j * strides_[1].
// A view (transpose, narrow, expand, ...) is a new TensorImpl with new sizes/strides/offset over
// the SAME Storage — no element is copied. This is exactly PyTorch's c10::TensorImpl design.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/quantizer.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/storage.h"

namespace tinytorch {

// ── The autograd slot ───────────────────────────────────────────────────────────────────────
// Module 01's tensors carry no gradient code at all: a TensorImpl only holds a pointer to this
// interface, and it stays null. Module 05 (autograd) defines the concrete AutogradMeta (grad,
// grad_fn, version counter, ...) and registers a factory, so every TensorImpl ever created can
// then gain gradient tracking — without changing a line of modules 01–04. PyTorch does the same
// with c10::AutogradMetaInterface and impl::SetAutogradMetaFactory.
struct AutogradMetaInterface {
  virtual ~AutogradMetaInterface() = default;
  virtual void set_requires_grad(bool requires_grad) = 0;
  virtual bool requires_grad() const = 0;
};

struct AutogradMetaFactory {
  virtual ~AutogradMetaFactory() = default;
  virtual std::unique_ptr<AutogradMetaInterface> make() const = 0;
};
// nullptr until the autograd module registers its factory.
const AutogradMetaFactory* get_autograd_meta_factory();
void set_autograd_meta_factory(const AutogradMetaFactory* factory);

class TensorImpl {
 public:
  // A new tensor over `storage`; the caller guarantees every element it can address lies inside
  // the storage (views check this through check_view_bounds()).
  TensorImpl(Storage storage, ScalarType dtype, std::vector<int64_t> sizes,
             std::vector<int64_t> strides, int64_t storage_offset);

  const Storage& storage() const { return storage_; }
  ScalarType dtype() const { return dtype_; }
  IntArrayRef sizes() const { return sizes_; }
  IntArrayRef strides() const { return strides_; }
  int64_t storage_offset() const { return storage_offset_; }
  int64_t dim() const { return static_cast<int64_t>(sizes_.size()); }
  int64_t numel() const { return numel_; }
  bool is_contiguous() const { return is_contiguous_; }

  // Address of element (0, 0, ...): the storage's base plus the offset.
  // NOTE: a tensor with no elements may have no buffer (null) and still a non-zero offset — a
  // row picked out of a [3, 0, 4] tensor starts at element 4 of nothing. Adding an offset to
  // a null pointer is undefined behaviour, so such a tensor's data is null, as in c10.
  void* data() const {
    char* base = static_cast<char*>(storage_.data());
    return base == nullptr ? nullptr : base + storage_offset_ * element_size(dtype_);
  }

  // Replaces the view metadata in place (used by in-place view ops such as squeeze_ later).
  void set_sizes_and_strides(std::vector<int64_t> sizes, std::vector<int64_t> strides,
                             int64_t storage_offset);

  // Takes `other`'s storage, dtype, sizes, strides, offset and quantizer, keeping this impl's
  // autograd slot (c10's shallow_copy_from): what Tensor::set_data builds on.
  void shallow_copy_from(const TensorImpl& other);

  AutogradMetaInterface* autograd_meta() const { return autograd_meta_.get(); }
  void set_autograd_meta(std::unique_ptr<AutogradMetaInterface> meta) {
    autograd_meta_ = std::move(meta);
  }

  // Null for every tensor but a quantized one (module 15).
  const std::shared_ptr<const Quantizer>& quantizer() const { return quantizer_; }
  void set_quantizer(std::shared_ptr<const Quantizer> q) { quantizer_ = std::move(q); }

 private:
  void refresh_numel_and_contiguity();

  Storage storage_;
  ScalarType dtype_;
  std::vector<int64_t> sizes_;
  std::vector<int64_t> strides_;
  int64_t storage_offset_;
  // Cached because they are asked for on every op: numel = product of sizes; contiguity as
  // computed by is_contiguous_strides().
  int64_t numel_ = 1;
  bool is_contiguous_ = true;
  std::unique_ptr<AutogradMetaInterface> autograd_meta_;
  std::shared_ptr<const Quantizer> quantizer_;
};

}  // namespace tinytorch
