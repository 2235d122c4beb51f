// tinytorch/data/dataset.h — what a training loop reads from: samples, by index.
//
//   Dataset                 the interface: size() samples, get(i) → Example<>{data, target},
//                           get_batch(indices) → the samples stacked into [B, ...]
//   ├── TensorDataset       samples are the rows of two tensors (data [N, ...], targets [N, ...]);
//   │                       get_batch gathers the rows straight into the batch
//   └── Subset              a view of another dataset through a list of indices
//   random_split(...)       shuffles the indices once and cuts them into disjoint Subsets
//
// Same vocabulary as torch.utils.data / libtorch's torch::data. A Dataset is read from several
// DataLoader worker threads at once, so get() is const and must be safe to call concurrently
// (TensorDataset::get only builds views: no shared mutable state). The same holds for get_batch.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/data/example.h"

namespace tinytorch::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  // The sample at `index` in [0, size()). Must be thread-safe: DataLoader workers call it
  // concurrently.
  virtual Example<> get(int64_t index) const = 0;
  virtual int64_t size() const = 0;
  // The samples at `indices` (in that order, repeats allowed) as one batch: data [B, ...] and
  // target [B, ...] (0-d targets → [B]). This default gets each sample and stacks them — B calls,
  // B views, B copies. A dataset that can do better overrides it: TensorDataset copies each row
  // straight into the batch. (libtorch: Dataset::get_batch; torch.utils.data: __getitems__.)
  // Errors when `indices` is empty; thread-safe like get().
  virtual Example<> get_batch(std::span<const int64_t> indices) const;
};

// Samples are the rows (first dim) of `data` and `targets`: get(i) = {data[i], targets[i]}, both
// views (no copy). get_batch gathers rows data[i] for i in indices into a new contiguous batch
// (torch.index_select(data, 0, indices)): one copy per row and no view in between. Errors when
// the first dims differ or a tensor is 0-d.
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor data, Tensor targets);
  Example<> get(int64_t index) const override;
  Example<> get_batch(std::span<const int64_t> indices) const override;
  int64_t size() const override { return size_; }

  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor data_;     // [N, ...]
  Tensor targets_;  // [N, ...]
  int64_t size_ = 0;
};

// The samples of `dataset` at `indices`, in that order: get(i) = dataset.get(indices[i]), and
// get_batch translates the indices and asks `dataset` for the whole batch.
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices);
  Example<> get(int64_t index) const override;
  Example<> get_batch(std::span<const int64_t> indices) const override;
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  std::vector<int64_t> indices_;
};

// Splits `dataset` into disjoint random Subsets of the given lengths
// (torch.utils.data.random_split). The lengths must be ≥ 0 and sum to dataset->size(). Same
// generator state, same split.
std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<int64_t>& lengths, Generator& generator);

// Convenience: takes the dataset by value (a TensorDataset copy only copies tensor handles).
template <std::derived_from<Dataset> D>
std::vector<Subset> random_split(D dataset, const std::vector<int64_t>& lengths,
                                 Generator& generator) {
  return random_split(std::make_shared<const D>(std::move(dataset)), lengths, generator);
}

// A random permutation of 0 … n-1 (Fisher–Yates), or 0 … n-1 in order when shuffle is false.
// Used by DataLoader (each epoch) and random_split.
std::vector<int64_t> sample_order(int64_t n, bool shuffle, Generator& generator);

// Stacks B tensors of identical shape S and dtype into one new contiguous tensor [B, S...]
// (torch.stack(tensors, 0)). Errors name the first tensor that differs. The tensor API's
// tinytorch::stack (core/join.h) is the general form: any dim, recorded by autograd.
Tensor stack(const std::vector<Tensor>& tensors);

}  // namespace tinytorch::data
