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

// Bernoulli draws (NOTE: given): a uniform u in [0, 1), and 1 where u < p, so p = 0 never and
// p = 1 always gives 1.
Tensor& native::bernoulli_(Tensor& self, double p, Generator* generator) {
  TT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "bernoulli_ expects p to be in [0, 1], but got p=", p);
  Generator& g = generator != nullptr ? *generator : default_generator();
  return fill_random(self, "bernoulli_", [&]<typename T>() {
    const double u = std::is_same_v<T, float> ? g.uniform_float() : g.uniform_double();
    return u < p ? 1.0 : 0.0;
  });
}

Tensor native::bernoulli(const Tensor& self, Generator* generator) {
  TT_CHECK_TYPE(self.is_floating_point(),
                "bernoulli: expected a floating tensor of probabilities "
                "(self), but got dtype ",
                self.dtype());
  const Tensor probs = self.contiguous();
  Generator& g = generator != nullptr ? *generator : default_generator();
  Tensor out = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), "bernoulli", [&]<typename T>() {
    const T* p = probs.data_ptr<T>();
    for (int64_t i = 0; i < probs.numel(); ++i) {
      TT_CHECK_VALUE(p[i] >= 0 && p[i] <= 1,
                     "bernoulli: expected every probability in self to "
                     "be in [0, 1], but got ",
                     p[i]);
    }
    T* o = out.data_ptr<T>();
    for (int64_t i = 0; i < probs.numel(); ++i) {
      const double u = std::is_same_v<T, float> ? g.uniform_float() : g.uniform_double();
      o[i] = u < static_cast<double>(p[i]) ? T(1) : T(0);
    }
  });
  return out;
}

}  // namespace tinytorch
