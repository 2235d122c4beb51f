// tinytorch/data/datasets.h — libtorch's dataset API (torch::data::datasets), beside the
// course's own Dataset (tinytorch/data/dataset.h).
//
//   class Points : public datasets::Dataset<Points> {             // CRTP: the dataset names itself
//    public:
//     Example<> get(size_t i) override { return {x_[i], y_[i]}; }
//     std::optional<size_t> size() const override { return n_; }
//   };
//   auto ds = Points(...).map(transforms::Normalize<>(0.5, 0.25))  // MapDataset<Points, …>
//                         .map(transforms::Stack<>());             // batches become one Example<>
//
// The shape of the API, as in libtorch:
//
//   BatchDataset<Self, Batch, BatchRequest>   get_batch(request) → Batch, size(), map(transform)
//   └── Dataset<Self, SingleExample>           get(index) → one example; get_batch(indices) =
//                                              {get(i) for i in indices}: a std::vector
//   MapDataset<Source, Transform>              get_batch = transform.apply_batch(source.get_batch)
//   MNIST                                      the IDX files of MNIST / Fashion-MNIST
//   TensorDataset                              the rows of one tensor, as TensorExamples
//
// The static type of a dataset says what one batch is: a Dataset<Self> yields
// std::vector<Example<>>; after .map(Stack<>()) it yields one stacked Example<>. The data loader
// (make_data_loader) hands out exactly that type.
//
// Unlike the course's Dataset (virtual get() const, shared by every worker thread), a
// libtorch-style dataset is a value: get() is not const, and the loader gives each worker thread
// its own copy. A dataset is therefore copyable, and a copy must be cheap (tensor handles,
// not tensor data) and independent of the original.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/join.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/data/example.h"

namespace tinytorch {
// libtorch programs spell the result of size() torch::optional<size_t> (c10's optional, now
// std::optional).
using std::nullopt;
using std::optional;
}  // namespace tinytorch

namespace tinytorch::data::datasets {

template <typename SourceDataset, typename AppliedTransform>
class MapDataset;

template <typename DatasetType, typename TransformType>
MapDataset<DatasetType, TransformType> map(DatasetType dataset, TransformType transform);

// A dataset that answers whole batch requests. `Self` is the derived class (map() returns a
// MapDataset over it); `BatchRequest` is what the sampler hands in — indices, viewed.
// (libtorch's default request type is c10::ArrayRef<size_t>; here a std::span<const size_t>,
// which a std::vector<size_t> from a sampler converts to.)
template <typename Self, typename Batch = std::vector<Example<>>,
          typename BatchRequest = std::span<const size_t>>
class BatchDataset {
 public:
  using SelfType = Self;
  using BatchType = Batch;
  using BatchRequestType = BatchRequest;

  virtual ~BatchDataset() = default;

  virtual Batch get_batch(BatchRequest request) = 0;
  // The number of examples, or nullopt for a dataset that does not know it (a sampler needs it).
  virtual std::optional<size_t> size() const = 0;

  // A MapDataset that applies `transform` to every batch of this dataset (copied, or moved when
  // called on a temporary: `MNIST(root).map(Stack<>())`).
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) & {
    return datasets::map(static_cast<Self&>(*this), std::move(transform));
  }
  template <typename TransformType>
  MapDataset<Self, TransformType> map(TransformType transform) && {
    return datasets::map(std::move(static_cast<Self&>(*this)), std::move(transform));
  }
};

// A dataset of single examples, read by index. get_batch gathers get(i) for each index, in order.
template <typename Self, typename SingleExample = Example<>>
class Dataset : public BatchDataset<Self, std::vector<SingleExample>> {
 public:
  using ExampleType = SingleExample;

  // The example at `index` in [0, size()): an implementation checks the range and throws.
  virtual ExampleType get(size_t index) = 0;

  std::vector<ExampleType> get_batch(std::span<const size_t> indices) override {
    std::vector<ExampleType> batch;
    batch.reserve(indices.size());
    for (const size_t i : indices) batch.push_back(get(i));
    return batch;
  }
};

// `transform` applied to each batch of `dataset`: get_batch(r) = transform.apply_batch(
// dataset.get_batch(r)). Its batch type is the transform's output (OutputBatchType).
template <typename SourceDataset, typename AppliedTransform>
class MapDataset : public BatchDataset<MapDataset<SourceDataset, AppliedTransform>,
                                       typename AppliedTransform::OutputBatchType,
                                       typename SourceDataset::BatchRequestType> {
 public:
  using DatasetType = SourceDataset;
  using TransformType = AppliedTransform;
  using BatchRequestType = typename SourceDataset::BatchRequestType;
  using OutputBatchType = typename AppliedTransform::OutputBatchType;

  MapDataset(DatasetType dataset, TransformType transform)
      : dataset_(std::move(dataset)), transform_(std::move(transform)) {}

  OutputBatchType get_batch(BatchRequestType indices) override {
    return transform_.apply_batch(dataset_.get_batch(std::move(indices)));
  }
  std::optional<size_t> size() const override { return dataset_.size(); }

  const SourceDataset& dataset() const noexcept { return dataset_; }
  const AppliedTransform& transform() const noexcept { return transform_; }

 private:
  SourceDataset dataset_;
  AppliedTransform transform_;
};

template <typename DatasetType, typename TransformType>
MapDataset<DatasetType, TransformType> map(DatasetType dataset, TransformType transform) {
  // A mismatch here is a compile error, not a wrong batch at run time: e.g. Stack<>() after a
  // dataset whose batches are already stacked, or Normalize<>() after Stack<>().
  static_assert(
      std::is_same_v<typename DatasetType::BatchType, typename TransformType::InputBatchType>,
      "map: the dataset's BatchType does not match the transform's InputBatchType");
  return {std::move(dataset), std::move(transform)};
}

// MNIST or Fashion-MNIST from the four IDX files in `root` (libtorch's datasets::MNIST):
//   kTrain: train-images-idx3-ubyte, train-labels-idx1-ubyte
//   kTest:  t10k-images-idx3-ubyte,  t10k-labels-idx1-ubyte
// each plain or gzip-compressed (the name plus ".gz", as Debian's dataset-fashion-mnist ships
// them: MNIST(data::kFashionMnistDir) reads Fashion-MNIST unchanged). get(i) is
// {image [1, 28, 28] float32 in [0, 1], label int64 0-d}. The files are read by read_idx, with
// its limits; errors (missing files, a bad magic number, truncation, images that are not 28×28,
// files that disagree on N) name `root`, the mode and the file.
class MNIST : public Dataset<MNIST> {
 public:
  enum class Mode { kTrain, kTest };

  explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);

  // Throws tinytorch::IndexError naming the index and the size when index ≥ size().
  Example<> get(size_t index) override;
  std::optional<size_t> size() const override;

  bool is_train() const noexcept { return is_train_; }
  const Tensor& images() const { return images_; }    // [N, 1, 28, 28] float32
  const Tensor& targets() const { return targets_; }  // [N] int64

 private:
  Tensor images_, targets_;
  bool is_train_;
};

// libtorch's TensorDataset: ONE tensor [N, ...] whose rows are the examples, get(i) = the view
// tensor[i] as a TensorExample (data only, no target). From a list of tensors of one shape it
// stacks them first ([N, ...] from N tensors). `.map(transforms::Stack<TensorExample>())` makes
// batches of one stacked TensorExample [B, ...].
// NOTE: not the course's data::TensorDataset(data, targets) (data/dataset.h), which pairs two
// tensors into Example<>s: libtorch names this one only as datasets::TensorDataset.
struct TensorDataset : public Dataset<TensorDataset, TensorExample> {
  explicit TensorDataset(const std::vector<Tensor>& tensors)
      : TensorDataset(tinytorch::stack(tensors)) {}
  explicit TensorDataset(Tensor tensor) : tensor(std::move(tensor)) {}

  // Throws tinytorch::IndexError naming the index and the size when index ≥ size().
  TensorExample get(size_t index) override { return tensor[static_cast<int64_t>(index)]; }
  std::optional<size_t> size() const override { return static_cast<size_t>(tensor.size(0)); }

  Tensor tensor;  // [N, ...]
};

}  // namespace tinytorch::data::datasets

namespace tinytorch::data {
// libtorch also names BatchDataset and Dataset one namespace up (torch::data::Dataset<Self>).
// Here data::Dataset is the course's dataset interface (dataset.h), so a program must spell the
// template datasets::Dataset<Self>; torch::data::Dataset<Self> does not compile.
using datasets::BatchDataset;
}  // namespace tinytorch::data
