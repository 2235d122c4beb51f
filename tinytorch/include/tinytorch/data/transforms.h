// tinytorch/data/transforms.h — per-sample transforms: normalisation and augmentation.
//
// A transform maps one sample's data [C, H, W] to a new tensor (inputs are never modified).
// Called on a batch [N, C, H, W], it transforms each sample on its own, in order: every sample
// gets its own random crop/flip (all its channels alike), and t(batch, gen) equals stacking
// t(batch[0], gen), t(batch[1], gen), … — the draws of sample i follow those of sample i-1.
// Random transforms draw every random number from a Generator, so results are reproducible:
//
//   t(x)        uses the transform's own Generator (seeded at construction; not thread-safe
//               in the sense that concurrent callers would interleave its draws — guarded by a
//               mutex, but the order then depends on thread timing)
//   t(x, gen)   uses `gen`. The DataLoader does this: it hands each batch its own Generator
//               derived from (loader seed, epoch, batch number), so augmentation is the same
//               whatever the number of worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::data {

class Transform {
 public:
  explicit Transform(Generator generator = Generator()) : generator_(generator) {}
  virtual ~Transform() = default;
  Transform(const Transform&) = delete;
  Transform& operator=(const Transform&) = delete;

  // The transform itself: x [C, H, W] → new tensor; random draws come from `gen`.
  virtual Tensor apply(const Tensor& x, Generator& gen) const = 0;

  // x [C, H, W], or a batch [N, C, H, W] (N ≥ 1) transformed sample by sample (see above).
  Tensor operator()(const Tensor& x, Generator& gen) const;
  Tensor operator()(const Tensor& x) const;  // draws from the transform's own Generator

 private:
  mutable std::mutex mutex_;  // guards generator_
  mutable Generator generator_;
};

// (x[c] - mean[c]) / std[c] per channel c of x [C, H, W] (torchvision's Normalize). A single
// mean/std applies to every channel. Floating-point inputs only; std must be non-zero.
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor apply(const Tensor& x, Generator& gen) const override;

 private:
  std::vector<double> mean_, std_;
};

// Mirrors x [C, H, W] left↔right with probability p. Draws exactly one uniform number per call,
// flipped or not, so later draws do not depend on earlier outcomes.
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5, Generator generator = Generator());
  Tensor apply(const Tensor& x, Generator& gen) const override;

 private:
  double p_;
};

// Pads x [C, H, W] with `padding` zeros on every side, then cuts a random [C, size_h, size_w]
// window (torchvision's RandomCrop(size, padding)). Draws two integers per call (top, left).
class RandomCrop : public Transform {
 public:
  RandomCrop(int64_t size, int64_t padding = 0, Generator generator = Generator());
  RandomCrop(int64_t size_h, int64_t size_w, int64_t padding, Generator generator = Generator());
  Tensor apply(const Tensor& x, Generator& gen) const override;

 private:
  int64_t size_h_, size_w_, padding_;
};

// Applies transforms in order, passing the same Generator along.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<std::shared_ptr<const Transform>> transforms,
                   Generator generator = Generator());
  Tensor apply(const Tensor& x, Generator& gen) const override;

 private:
  std::vector<std::shared_ptr<const Transform>> transforms_;
};

}  // namespace tinytorch::data
