// The Tensor handle: metadata accessors, the autograd slot, and the free-function and operator
// spellings of the ops (which all forward to the methods).
#include "tinytorch/core/tensor.h"

#include <sstream>

namespace tinytorch {

const TensorImpl& Tensor::impl() const {
  TT_CHECK(impl_ != nullptr,
           "this tensor is undefined (default-constructed); assign a tensor to "
           "it before use");
  return *impl_;
}

int64_t Tensor::size(int64_t dim) const {
  TT_CHECK_INDEX(this->dim() > 0, "size(", dim, "): a 0-dim tensor has no dimensions");
  return sizes()[wrap_dim(dim, this->dim(), "size")];
}

int64_t Tensor::stride(int64_t dim) const {
  TT_CHECK_INDEX(this->dim() > 0, "stride(", dim, "): a 0-dim tensor has no dimensions");
  return strides()[wrap_dim(dim, this->dim(), "stride")];
}

bool Tensor::is_alias_of(const Tensor& other) const {
  return storage().is_alias_of(other.storage());
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  const Tensor c = to(scalar_type_of<T>).contiguous();
  const T* p = c.data_ptr<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<int8_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;
template <>
std::vector<bool> Tensor::to_vector() const {  // std::vector<bool> packs bits: copy one by one
  const Tensor c = to(kBool).contiguous();
  const bool* p = c.data_ptr<bool>();
  return std::vector<bool>(p, p + c.numel());
}

Scalar Tensor::item() const {
  TT_CHECK(numel() == 1, "item(): a Tensor with ", numel(),
           " elements cannot be converted to Scalar (shape ", sizes(), ")");
  return dispatch_storage_types(dtype(), "item", [&]<typename T>() -> Scalar {
    return Scalar(*static_cast<const T*>(data_ptr()));
  });
}

bool Tensor::requires_grad() const {
  const AutogradMetaInterface* meta = impl().autograd_meta();
  return meta != nullptr && meta->requires_grad();
}

const Tensor& Tensor::set_requires_grad(bool requires_grad) const {
  if (!requires_grad && impl().autograd_meta() == nullptr) return *this;
  const AutogradMetaFactory* factory = get_autograd_meta_factory();
  TT_CHECK(factory != nullptr,
           "set_requires_grad: autograd is not available yet — it is built in "
           "module 05 (read modules/05_autograd/README.md)");
  TT_CHECK(is_floating_point() || !requires_grad,
           "set_requires_grad: only tensors of floating "
           "point dtype can require gradients (got ",
           dtype(), ")");
  if (impl_->autograd_meta() == nullptr) impl_->set_autograd_meta(factory->make());
  impl_->autograd_meta()->set_requires_grad(requires_grad);
  return *this;
}

std::string Tensor::toString() const {
  if (!defined()) return "UndefinedTensor";
  std::ostringstream os;
  os << "tinytorch." << dtype() << "Tensor" << sizes();
  return os.str();
}

// ── free functions ─────────────────────────────────────────────────────────────────────────
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return a.add(b, alpha);
}
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return a.sub(b, alpha);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return a.mul(b);
}
Tensor div(const Tensor& a, const Tensor& b) {
  return a.div(b);
}
Tensor neg(const Tensor& a) {
  return a.neg();
}
Tensor pow(const Tensor& a, const Tensor& exponent) {
  return a.pow(exponent);
}
Tensor pow(const Tensor& a, const Scalar& exponent) {
  return a.pow(exponent);
}
Tensor exp(const Tensor& a) {
  return a.exp();
}
Tensor log(const Tensor& a) {
  return a.log();
}
Tensor sqrt(const Tensor& a) {
  return a.sqrt();
}
Tensor sin(const Tensor& a) {
  return a.sin();
}
Tensor cos(const Tensor& a) {
  return a.cos();
}
Tensor log1p(const Tensor& a) {
  return a.log1p();
}
Tensor abs(const Tensor& a) {
  return a.abs();
}
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  return a.clamp(min, max);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return a.maximum(b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return a.minimum(b);
}
bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  return a.allclose(b, rtol, atol, equal_nan);
}

// ── operators ──────────────────────────────────────────────────────────────────────────────
Tensor operator+(const Tensor& a, const Tensor& b) {
  return a.add(b);
}
Tensor operator+(const Tensor& a, const Scalar& b) {
  return a.add(b);
}
Tensor operator+(const Scalar& a, const Tensor& b) {
  return b.add(a);
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return a.sub(b);
}
Tensor operator-(const Tensor& a, const Scalar& b) {
  return a.sub(b);
}
Tensor operator-(const Scalar& a, const Tensor& b) {
  return rsub(b, a);
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return a.mul(b);
}
Tensor operator*(const Tensor& a, const Scalar& b) {
  return a.mul(b);
}
Tensor operator*(const Scalar& a, const Tensor& b) {
  return b.mul(a);
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return a.div(b);
}
Tensor operator/(const Tensor& a, const Scalar& b) {
  return a.div(b);
}
Tensor operator/(const Scalar& a, const Tensor& b) {
  return full({}, a, result_type(b, a)).div(b);
}
Tensor operator-(const Tensor& a) {
  return a.neg();
}
Tensor operator==(const Tensor& a, const Tensor& b) {
  return a.eq(b);
}
Tensor operator==(const Tensor& a, const Scalar& b) {
  return a.eq(b);
}
Tensor operator!=(const Tensor& a, const Tensor& b) {
  return a.ne(b);
}
Tensor operator!=(const Tensor& a, const Scalar& b) {
  return a.ne(b);
}
Tensor operator<(const Tensor& a, const Tensor& b) {
  return a.lt(b);
}
Tensor operator<(const Tensor& a, const Scalar& b) {
  return a.lt(b);
}
Tensor operator<=(const Tensor& a, const Tensor& b) {
  return a.le(b);
}
Tensor operator<=(const Tensor& a, const Scalar& b) {
  return a.le(b);
}
Tensor operator>(const Tensor& a, const Tensor& b) {
  return a.gt(b);
}
Tensor operator>(const Tensor& a, const Scalar& b) {
  return a.gt(b);
}
Tensor operator>=(const Tensor& a, const Tensor& b) {
  return a.ge(b);
}
Tensor operator>=(const Tensor& a, const Scalar& b) {
  return a.ge(b);
}

}  // namespace tinytorch
