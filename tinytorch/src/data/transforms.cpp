// Per-sample transforms. See tinytorch/data/transforms.h.
#include "tinytorch/data/transforms.h"

#include <utility>

#include "tinytorch/core/exception.h"

namespace tinytorch::data {
namespace {

// Transforms work on one sample [C, H, W] of a floating dtype. A batch [N, C, H, W] is refused
// with a pointer to the DataLoader, which applies a transform to every sample with its own random
// draws (one crop for the whole batch would be a much weaker augmentation).
void check_chw(const Tensor& x, const char* op) {
  TT_CHECK_VALUE(x.defined() && x.dim() == 3, op, ": expected an image tensor [C, H, W], got ",
                 x.defined() ? x.toString() : std::string("an undefined tensor"),
                 x.defined() && x.dim() == 4
                     ? " — a batch [N, C, H, W]? Give the transform to the DataLoader "
                       "(DataLoaderOptions::transform): it transforms each sample, each with its "
                       "own random draws, then stacks them into the [N, C, H, W] batch"
                     : "");
  TT_CHECK_TYPE(x.is_floating_point(), op, ": expected a float32 or float64 image, got ",
                to_string(x.dtype()));
}

}  // namespace

Tensor Transform::operator()(const Tensor& x) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return apply(x, generator_);
}

// ── Normalize ────────────────────────────────────────────────────────────────────────────────

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  TT_CHECK_VALUE(!mean_.empty() && mean_.size() == std_.size(),
                 "Normalize: mean and std must be non-empty and of equal length, got ",
                 mean_.size(), " and ", std_.size());
  for (const double s : std_) {
    TT_CHECK_VALUE(s != 0.0, "Normalize: std evaluated to zero, leading to division by zero");
  }
}

Tensor Normalize::apply(const Tensor& x, Generator& /*gen*/) const {
  check_chw(x, "Normalize");
  const int64_t channels = x.size(0);
  TT_CHECK_VALUE(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == channels,
                 "Normalize: got ", mean_.size(), " means/stds for an image with ", channels,
                 " channels (shape ", x.sizes(), ")");
  Tensor out = x.clone();  // contiguous [C, H, W]: channel c is plane [c·H·W, (c+1)·H·W)
  const int64_t plane = x.size(1) * x.size(2);
  dispatch_all_types(x.dtype(), "Normalize", [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T>) {
      T* p = out.data_ptr<T>();
      for (int64_t c = 0; c < channels; ++c) {
        const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
        const auto m = static_cast<T>(mean_[k]);
        const auto inv = static_cast<T>(1.0 / std_[k]);
        for (int64_t i = 0; i < plane; ++i) p[c * plane + i] = (p[c * plane + i] - m) * inv;
      }
    }
  });
  return out;
}

// ── RandomHorizontalFlip ─────────────────────────────────────────────────────────────────────

RandomHorizontalFlip::RandomHorizontalFlip(double p, Generator generator)
    : Transform(generator), p_(p) {
  TT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
}

Tensor RandomHorizontalFlip::apply(const Tensor& x, Generator& gen) const {
  // BEGIN SOLUTION
  check_chw(x, "RandomHorizontalFlip");
  const bool flip = gen.uniform_double() < p_;  // always one draw, flipped or not
  Tensor out = x.clone();                       // contiguous [C, H, W]
  if (!flip) return out;
  const int64_t rows = x.size(0) * x.size(1);  // every (c, h) row is reversed in place
  const int64_t width = x.size(2);
  dispatch_all_types(x.dtype(), "RandomHorizontalFlip", [&]<typename T>() {
    T* p = out.data_ptr<T>();
    for (int64_t r = 0; r < rows; ++r) {
      T* row = p + r * width;
      for (int64_t a = 0, b = width - 1; a < b; ++a, --b) std::swap(row[a], row[b]);
    }
  });
  return out;
  // END SOLUTION
}

// ── RandomCrop ───────────────────────────────────────────────────────────────────────────────

RandomCrop::RandomCrop(int64_t size, int64_t padding, Generator generator)
    : RandomCrop(size, size, padding, generator) {}

RandomCrop::RandomCrop(int64_t size_h, int64_t size_w, int64_t padding, Generator generator)
    : Transform(generator), size_h_(size_h), size_w_(size_w), padding_(padding) {
  TT_CHECK_VALUE(size_h > 0 && size_w > 0, "RandomCrop: size must be positive, got (", size_h, ", ",
                 size_w, ")");
  TT_CHECK_VALUE(padding >= 0, "RandomCrop: padding must be >= 0, got ", padding);
}

Tensor RandomCrop::apply(const Tensor& x, Generator& gen) const {
  // BEGIN SOLUTION
  check_chw(x, "RandomCrop");
  const int64_t channels = x.size(0), height = x.size(1), width = x.size(2);
  const int64_t padded_h = height + 2 * padding_, padded_w = width + 2 * padding_;
  TT_CHECK_VALUE(size_h_ <= padded_h && size_w_ <= padded_w, "RandomCrop: required crop size (",
                 size_h_, ", ", size_w_, ") is larger than the padded input image size (", padded_h,
                 ", ", padded_w, ")");
  // The window's top-left corner in padded coordinates; always two draws.
  const int64_t top = gen.random_int(0, padded_h - size_h_ + 1);
  const int64_t left = gen.random_int(0, padded_w - size_w_ + 1);
  const Tensor src = x.contiguous();  // [C, H, W]
  Tensor out = zeros({channels, size_h_, size_w_}, TensorOptions(x.dtype()));
  dispatch_all_types(x.dtype(), "RandomCrop", [&]<typename T>() {
    const T* in = src.data_ptr<T>();
    T* o = out.data_ptr<T>();
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t i = 0; i < size_h_; ++i) {
        // Output row i is padded row top+i, i.e. input row top+i-padding (zeros outside).
        const int64_t y = top + i - padding_;
        if (y < 0 || y >= height) continue;
        for (int64_t j = 0; j < size_w_; ++j) {
          const int64_t xx = left + j - padding_;
          if (xx < 0 || xx >= width) continue;
          o[(c * size_h_ + i) * size_w_ + j] = in[(c * height + y) * width + xx];
        }
      }
    }
  });
  return out;
  // END SOLUTION
}

// ── Compose ──────────────────────────────────────────────────────────────────────────────────

Compose::Compose(std::vector<std::shared_ptr<const Transform>> transforms, Generator generator)
    : Transform(generator), transforms_(std::move(transforms)) {
  for (const auto& t : transforms_) {
    TT_CHECK_VALUE(t != nullptr, "Compose: a transform in the list is null");
  }
}

Tensor Compose::apply(const Tensor& x, Generator& gen) const {
  Tensor out = x;
  for (const auto& t : transforms_) out = t->apply(out, gen);
  return out;
}

}  // namespace tinytorch::data
