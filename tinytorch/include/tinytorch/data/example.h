// tinytorch/data/example.h — one sample, or one batch of them: data and target.
//
//   Example<> e{image, label};        // Example<Tensor, Tensor>: e.data [1, 28, 28], e.target []
//   Example<> batch = Stack<>()(...)  // after collation: data [B, 1, 28, 28], target [B]
//   TensorExample x{features};        // Example<Tensor, NoTarget>: data only (unlabelled sets)
//
// libtorch's torch::data::Example, with the same template parameters and defaults, so a program
// can name the type its dataset returns (`Example<>`, `Example<Tensor, int64_t>`, …). Both the
// course's Dataset/DataLoader and the libtorch-style datasets::Dataset<Self> produce it.
#pragma once

#include <utility>

#include "tinytorch/core/tensor.h"

namespace tinytorch::data {

template <typename Data = Tensor, typename Target = Tensor>
struct Example {
  using DataType = Data;
  using TargetType = Target;

  Example() = default;
  Example(Data data, Target target) : data(std::move(data)), target(std::move(target)) {}

  Data data;
  Target target;
};

namespace example {
using NoTarget = void;  // the Target of an Example that has only data
}  // namespace example

// An Example without a target: it converts to its data, so code written for Example<Data, T>
// reads `.data` alike, and code that only wants the tensor can take it directly.
template <typename Data>
struct Example<Data, example::NoTarget> {
  using DataType = Data;
  using TargetType = example::NoTarget;

  Example() = default;
  Example(Data data) : data(std::move(data)) {}  // NOLINT(google-explicit-constructor)

  operator Data&() { return data; }              // NOLINT(google-explicit-constructor)
  operator const Data&() const { return data; }  // NOLINT(google-explicit-constructor)

  Data data;
};

using TensorExample = Example<Tensor, example::NoTarget>;

}  // namespace tinytorch::data
