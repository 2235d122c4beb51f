// In-place random fills: x.uniform_(from, to) and x.normal_(mean, std), drawn from a Generator
// (core/generator.h) in row-major element order — so with the same seed,
// empty({2, 3}).uniform_() holds exactly the numbers rand({2, 3}) would.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "opmath.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

// Draws numel values into a contiguous buffer of self's dtype, then copies them into self (which
// may be any strided view). float16/bfloat16 draw float32 values, rounded once by the copy.
template <typename Draw>
Tensor& fill_random(Tensor& self, std::string_view op, const Draw& draw) {
  TT_CHECK_TYPE(self.is_floating_point(), op, " not implemented for dtype ", self.dtype(),
                " (random fills need a floating dtype)");
  Tensor values = empty(self.sizes(), opmath_type(self.dtype()));
  dispatch_floating_types(values.dtype(), op, [&]<typename T>() {
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
  if (opmath::is_reduced(self)) {
    return opmath::compute(
        self.dtype(), [&](const Tensor& p) { return native::bernoulli(p, generator); }, self);
  }
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

// NOTE: given. multinomial, row by row, in float64: with replacement, each draw inverts the
// cumulative weights (a binary search for u · total); without, each draw picks among the categories
// not drawn yet and removes its weight. When the non-zero weights run out (fewer than num_samples),
// the zero-weight categories follow in index order — PyTorch samples them too, in an unspecified
// order.
Tensor native::multinomial(const Tensor& self, int64_t num_samples, bool replacement,
                           Generator* generator) {
  TT_CHECK_VALUE(self.dim() == 1 || self.dim() == 2,
                 "multinomial: prob_dist must be 1 or 2 dim, got sizes ", self.sizes());
  TT_CHECK_TYPE(self.is_floating_point(),
                "multinomial: only supports floating-point dtypes for the probabilities, got ",
                to_string(self.dtype()));
  TT_CHECK_VALUE(num_samples > 0, "multinomial: cannot sample num_samples <= 0 samples (got ",
                 num_samples, ")");
  const int64_t categories = self.size(-1);
  TT_CHECK_VALUE(categories > 0, "multinomial: the probabilities have no category (sizes ",
                 self.sizes(), ")");
  TT_CHECK_VALUE(replacement || num_samples <= categories, "multinomial: cannot sample ",
                 num_samples, " > prob_dist.size(-1) = ", categories,
                 " samples without replacement");
  const Tensor probs = self.to(kFloat64).contiguous().view({-1, categories});
  const int64_t rows = probs.size(0);
  const double* p = probs.data_ptr<double>();
  for (int64_t i = 0; i < rows * categories; ++i)
    TT_CHECK_VALUE(std::isfinite(p[i]) && p[i] >= 0.0,
                   "multinomial: probability tensor contains either `inf`, `nan` or element < 0 "
                   "(row ",
                   i / categories, ", category ", i % categories, ": ", p[i], ")");
  Generator& g = generator != nullptr ? *generator : default_generator();
  Tensor out = empty({rows, num_samples}, kInt64);
  int64_t* o = out.data_ptr<int64_t>();
  std::vector<double> weight(static_cast<size_t>(categories));
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(p + r * categories, p + (r + 1) * categories, weight.begin());
    double total = 0.0;
    for (double w : weight) total += w;
    TT_CHECK_VALUE(total > 0.0,
                   "multinomial: invalid multinomial distribution (sum of "
                   "probabilities <= 0) in row ",
                   r);
    if (replacement) {
      std::vector<double> cdf(weight.size());
      std::partial_sum(weight.begin(), weight.end(), cdf.begin());
      for (int64_t s = 0; s < num_samples; ++s) {
        const double u = g.uniform_double() * cdf.back();
        auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
        // Rounding may leave u at the end: the last category with any weight takes it.
        int64_t c = std::min<int64_t>(it - cdf.begin(), categories - 1);
        while (weight[static_cast<size_t>(c)] == 0.0) --c;
        o[r * num_samples + s] = c;
      }
      continue;
    }
    std::vector<bool> taken(static_cast<size_t>(categories), false);
    for (int64_t s = 0; s < num_samples; ++s) {
      double left = 0.0;
      for (int64_t c = 0; c < categories; ++c)
        if (!taken[static_cast<size_t>(c)]) left += weight[static_cast<size_t>(c)];
      int64_t pick = -1;
      if (left > 0.0) {
        const double u = g.uniform_double() * left;
        double acc = 0.0;
        for (int64_t c = 0; c < categories; ++c) {
          const double w = taken[static_cast<size_t>(c)] ? 0.0 : weight[static_cast<size_t>(c)];
          if (w == 0.0) continue;
          acc += w;
          pick = c;  // the last category with weight, should rounding leave u ≥ acc
          if (u < acc) break;
        }
      } else {  // only zero-weight categories are left: the first not taken
        for (int64_t c = 0; c < categories && pick < 0; ++c)
          if (!taken[static_cast<size_t>(c)]) pick = c;
      }
      taken[static_cast<size_t>(pick)] = true;
      o[r * num_samples + s] = pick;
    }
  }
  return self.dim() == 1 ? out.view({num_samples}) : out;
}

}  // namespace tinytorch
