// In-place random fills: x.uniform_(from, to) and x.normal_(mean, std), drawn from a Generator
// (core/generator.h) in row-major element order — so with the same seed,
// empty({2, 3}).uniform_() holds exactly the numbers rand({2, 3}) would.
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

// Draws numel values into a contiguous buffer of self's dtype, then copies them into self (which
// may be any strided view).
template <typename Draw>
Tensor& fill_random(Tensor& self, std::string_view op, const Draw& draw) {
  TT_CHECK_TYPE(self.is_floating_point(), op, " not implemented for dtype ", self.dtype(),
                " (random fills need float32 or float64)");
  Tensor values = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), op, [&]<typename T>() {
    T* p = values.data_ptr<T>();
    for (int64_t i = 0; i < values.numel(); ++i)
      p[i] = static_cast<T>(draw.template operator()<T>());
  });
  return native::copy_(self, values);
}

}  // namespace

Tensor& native::uniform_(Tensor& self, double from, double to, Generator* generator) {
  TT_CHECK_VALUE(from <= to, "uniform_ expects to return a [from, to) range, but found from=", from,
                 " > to=", to);
  Generator& g = generator != nullptr ? *generator : default_generator();
  return fill_random(self, "uniform_", [&]<typename T>() {
    // 24 random bits for float32, 53 for float64: the same draws as rand().
    const double u = std::is_same_v<T, float> ? g.uniform_float() : g.uniform_double();
    return from + (to - from) * u;
  });
}

Tensor& native::normal_(Tensor& self, double mean, double std, Generator* generator) {
  TT_CHECK_VALUE(std >= 0.0, "normal_ expects std >= 0.0, but found std ", std);
  Generator& g = generator != nullptr ? *generator : default_generator();
  return fill_random(self, "normal_", [&]<typename T>() { return mean + std * g.normal(); });
}

}  // namespace tinytorch
