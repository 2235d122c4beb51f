#include "tinytorch/core/tensor_impl.h"

#include <atomic>

#include "tinytorch/core/shape.h"

namespace tinytorch {

namespace {
std::atomic<const AutogradMetaFactory*> g_autograd_meta_factory{nullptr};
}

const AutogradMetaFactory* get_autograd_meta_factory() {
  return g_autograd_meta_factory.load();
}
void set_autograd_meta_factory(const AutogradMetaFactory* factory) {
  g_autograd_meta_factory.store(factory);
}

TensorImpl::TensorImpl(Storage storage, ScalarType dtype, std::vector<int64_t> sizes,
                       std::vector<int64_t> strides, int64_t storage_offset)
    : storage_(std::move(storage)),
      dtype_(dtype),
      sizes_(std::move(sizes)),
      strides_(std::move(strides)),
      storage_offset_(storage_offset) {
  TT_CHECK(sizes_.size() == strides_.size(), "TensorImpl: ", sizes_.size(), " sizes but ",
           strides_.size(), " strides");
  refresh_numel_and_contiguity();
}

void TensorImpl::set_sizes_and_strides(std::vector<int64_t> sizes, std::vector<int64_t> strides,
                                       int64_t storage_offset) {
  TT_CHECK(sizes.size() == strides.size(), "set_sizes_and_strides: ", sizes.size(), " sizes but ",
           strides.size(), " strides");
  sizes_ = std::move(sizes);
  strides_ = std::move(strides);
  storage_offset_ = storage_offset;
  refresh_numel_and_contiguity();
}

void TensorImpl::shallow_copy_from(const TensorImpl& other) {
  storage_ = other.storage_;
  dtype_ = other.dtype_;
  sizes_ = other.sizes_;
  strides_ = other.strides_;
  storage_offset_ = other.storage_offset_;
  quantizer_ = other.quantizer_;
  refresh_numel_and_contiguity();
}

void TensorImpl::refresh_numel_and_contiguity() {
  numel_ = compute_numel(sizes_);
  is_contiguous_ = is_contiguous_strides(sizes_, strides_);
}

}  // namespace tinytorch
