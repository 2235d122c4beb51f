// tinytorch/data/batch_transforms.h — libtorch's transforms (torch::data::transforms): what
// dataset.map(...) applies to each batch.
//
//   BatchTransform<In, Out>        apply_batch(In) → Out: the whole batch at once
//   ├── Transform<I, O>            apply(I) → O per example; apply_batch maps it over a vector
//   │   ├── Lambda<I, O>           apply = a function
//   │   └── TensorTransform<T>     Example<Tensor, T> → the same, with only .data changed
//   │       ├── TensorLambda<T>    .data = function(.data)
//   │       └── Normalize<T>       .data = (.data - mean) / stddev, per channel
//   ├── BatchLambda<In, Out>       apply_batch = a function
//   └── Collation = BatchTransform<std::vector<B>, B>
//       └── Stack<Example<>>       B examples → one Example<>: data [B, ...], target [B, ...]
//
// A transform is a value that each data-loader worker copies along with the dataset (see
// datasets.h), so it keeps no state that its copies would need to share.
//
// These are not the course's per-sample Transform classes (tinytorch/data/transforms.h, which
// draw augmentation randomness from a per-batch Generator for the course's DataLoader): the two
// sets live in different namespaces, data:: and data::transforms::.
#pragma once

#include <functional>
#include <tuple>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/data/example.h"

namespace tinytorch::data::transforms {

template <typename InputBatch, typename OutputBatch>
class BatchTransform {
 public:
  using InputBatchType = InputBatch;
  using OutputBatchType = OutputBatch;

  virtual ~BatchTransform() = default;
  virtual OutputBatch apply_batch(InputBatch input_batch) = 0;
};

template <typename Input, typename Output>
class Transform : public BatchTransform<std::vector<Input>, std::vector<Output>> {
 public:
  using InputType = Input;
  using OutputType = Output;

  virtual OutputType apply(InputType input) = 0;

  std::vector<Output> apply_batch(std::vector<Input> input_batch) override {
    std::vector<Output> output_batch;
    output_batch.reserve(input_batch.size());
    for (auto& input : input_batch) output_batch.push_back(apply(std::move(input)));
    return output_batch;
  }
};

template <typename Input, typename Output = Input>
class BatchLambda : public BatchTransform<Input, Output> {
 public:
  using FunctionType = std::function<Output(Input)>;
  explicit BatchLambda(FunctionType function) : function_(std::move(function)) {}
  Output apply_batch(Input input_batch) override { return function_(std::move(input_batch)); }

 private:
  FunctionType function_;
};

template <typename Input, typename Output = Input>
class Lambda : public Transform<Input, Output> {
 public:
  using FunctionType = std::function<Output(Input)>;
  explicit Lambda(FunctionType function) : function_(std::move(function)) {}
  Output apply(Input input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

// A transform that turns a vector of examples into one batch (collate.h in libtorch).
template <typename BatchType, typename T = std::vector<BatchType>>
using Collation = BatchTransform<T, BatchType>;

template <typename BatchType, typename T = std::vector<BatchType>>
using Collate = BatchLambda<T, BatchType>;

// Stacks the examples of a batch along a new first dim (tinytorch::stack): B examples with data
// [S...] and target [T...] → one Example<> with data [B, S...] and target [B, T...] (0-d targets
// become [B]). Every example must have the same shapes and dtypes: the error names the first
// one that differs.
template <typename T = Example<>>
struct Stack;

template <>
struct Stack<Example<>> : public Collation<Example<>> {
  Example<> apply_batch(std::vector<Example<>> examples) override;
};

template <>
struct Stack<TensorExample> : public Collation<TensorExample> {
  TensorExample apply_batch(std::vector<TensorExample> examples) override;
};

// Changes only the data of an Example<Tensor, Target>: operator() maps the data tensor.
template <typename Target = Tensor>
class TensorTransform : public Transform<Example<Tensor, Target>, Example<Tensor, Target>> {
 public:
  using E = Example<Tensor, Target>;
  virtual Tensor operator()(Tensor input) = 0;
  E apply(E input) override {
    input.data = (*this)(std::move(input.data));
    return input;
  }
};

template <typename Target = Tensor>
class TensorLambda : public TensorTransform<Target> {
 public:
  using FunctionType = std::function<Tensor(Tensor)>;
  explicit TensorLambda(FunctionType function) : function_(std::move(function)) {}
  Tensor operator()(Tensor input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

namespace detail {
// mean and stddev as float32 tensors [C, 1, 1], checked: C ≥ 1 values each, the same number
// (or one of them a single value), every stddev non-zero.
std::pair<Tensor, Tensor> normalize_parameters(const std::vector<double>& mean,
                                               const std::vector<double>& stddev);
// (input - mean) / stddev for a floating-point input [..., C, H, W] (mean and stddev [C, 1, 1]
// broadcast over H and W), computed in the input's dtype.
Tensor normalize(const Tensor& input, const Tensor& mean, const Tensor& stddev);
}  // namespace detail

// (x[c] - mean[c]) / stddev[c] for each channel c of an image x [C, H, W] (libtorch's
// transforms::Normalize). One value applies to every channel: Normalize<>(0.1307, 0.3081) for
// MNIST. A stddev of 0, a non-floating input and a channel count that does not match the
// number of values are errors (tinytorch::Error naming them).
template <typename Target = Tensor>
struct Normalize : public TensorTransform<Target> {
  Normalize(double mean, double stddev)
      : Normalize(std::vector<double>{mean}, std::vector<double>{stddev}) {}
  Normalize(const std::vector<double>& mean_values, const std::vector<double>& stddev_values) {
    std::tie(mean, stddev) = detail::normalize_parameters(mean_values, stddev_values);
  }

  Tensor operator()(Tensor input) override { return detail::normalize(input, mean, stddev); }

  Tensor mean, stddev;  // [C, 1, 1] float32
};

}  // namespace tinytorch::data::transforms
