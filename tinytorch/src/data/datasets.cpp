// libtorch's dataset API: MNIST, and the transforms that need compiled code (Stack, Normalize).
// See tinytorch/data/datasets.h and tinytorch/data/batch_transforms.h.
#include "tinytorch/data/datasets.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/join.h"
#include "tinytorch/data/batch_transforms.h"
#include "tinytorch/data/idx.h"

namespace tinytorch::data {

namespace datasets {

MNIST::MNIST(const std::string& root, Mode mode) : is_train_(mode == Mode::kTrain) {
  const std::string caller =
      "MNIST(root '" + root + "', " + (is_train_ ? "Mode::kTrain" : "Mode::kTest") + ")";
  data::TensorDataset split = load_mnist_split(root, is_train_, caller);  // the course's pair
  images_ = split.data();      // [N, 1, H, W] float32 in [0, 1]
  targets_ = split.targets();  // [N] int64
  TT_CHECK(images_.size(2) == 28 && images_.size(3) == 28, caller,
           ": expected 28×28 images, got images of shape ", images_.sizes());
}

Example<> MNIST::get(size_t index) {
  const auto n = static_cast<size_t>(images_.size(0));
  TT_CHECK_INDEX(index < n, "MNIST::get: index ", index, " is out of range for a dataset of ", n,
                 " examples");
  const auto i = static_cast<int64_t>(index);
  return {images_.select(0, i), targets_.select(0, i)};  // views: [1, 28, 28] and []
}

std::optional<size_t> MNIST::size() const {
  return static_cast<size_t>(images_.size(0));
}

}  // namespace datasets

namespace transforms {

Example<> Stack<Example<>>::apply_batch(std::vector<Example<>> examples) {
  std::vector<Tensor> data, targets;
  data.reserve(examples.size());
  targets.reserve(examples.size());
  for (Example<>& example : examples) {
    data.push_back(std::move(example.data));
    targets.push_back(std::move(example.target));
  }
  return {tinytorch::stack(data), tinytorch::stack(targets)};
}

TensorExample Stack<TensorExample>::apply_batch(std::vector<TensorExample> examples) {
  std::vector<Tensor> data;
  data.reserve(examples.size());
  for (TensorExample& example : examples) data.push_back(std::move(example.data));
  return tinytorch::stack(data);
}

namespace detail {

std::pair<Tensor, Tensor> normalize_parameters(const std::vector<double>& mean,
                                               const std::vector<double>& stddev) {
  TT_CHECK_VALUE(!mean.empty() && !stddev.empty(),
                 "Normalize: mean and stddev need one value per channel (or one for all), got ",
                 mean.size(), " and ", stddev.size(), " values");
  TT_CHECK_VALUE(mean.size() == stddev.size() || mean.size() == 1 || stddev.size() == 1,
                 "Normalize: mean has ", mean.size(), " values but stddev has ", stddev.size(),
                 "; expected the same number (one per channel), or one for all channels");
  for (size_t c = 0; c < stddev.size(); ++c) {
    TT_CHECK_VALUE(stddev[c] != 0.0, "Normalize: stddev must be non-zero, got 0 for channel ", c);
  }
  const auto as_channels = [](const std::vector<double>& values) {
    const auto channels = static_cast<int64_t>(values.size());
    return from_vector(values, {channels}).to(kFloat32).view({channels, 1, 1});
  };
  return {as_channels(mean), as_channels(stddev)};
}

Tensor normalize(const Tensor& input, const Tensor& mean, const Tensor& stddev) {
  TT_CHECK_TYPE(input.defined() && input.is_floating_point(),
                "Normalize: expected a float32 or float64 image tensor, got ",
                input.defined() ? to_string(input.dtype()) : std::string("an undefined tensor"));
  const int64_t channels = std::max(mean.size(0), stddev.size(0));
  TT_CHECK_VALUE(channels == 1 || (input.dim() >= 3 && input.size(-3) == channels),
                 "Normalize: mean and stddev have ", channels,
                 " values, so expected an image [..., ", channels, ", H, W], got shape ",
                 input.sizes());
  return input.sub(mean.to(input.dtype())).div(stddev.to(input.dtype()));
}

}  // namespace detail
}  // namespace transforms
}  // namespace tinytorch::data
