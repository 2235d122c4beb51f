// Datasets, the index sampler and stacking samples into a batch. See tinytorch/data/dataset.h.
#include "tinytorch/data/dataset.h"

#include <cstring>
#include <numeric>
#include <utility>

#include "tinytorch/core/exception.h"

namespace tinytorch::data {
namespace {

// The rows src[indices[0]], src[indices[1]], … copied into a new contiguous tensor [B, R...].
//   src [N, R...] contiguous: row i is the bytes [i·row_bytes, (i+1)·row_bytes) of its data
// The caller has checked every index against N.
Tensor gather_rows(const Tensor& src, std::span<const int64_t> indices) {
  std::vector<int64_t> shape{static_cast<int64_t>(indices.size())};
  for (int64_t d = 1; d < src.dim(); ++d) shape.push_back(src.size(d));
  Tensor out = empty(shape, TensorOptions(src.dtype()));
  const int64_t row_bytes = src.nbytes() / src.size(0);
  if (row_bytes == 0) return out;  // rows of no elements ([N, 0, ...]): nothing to copy
  const auto* from = static_cast<const unsigned char*>(src.data_ptr());
  auto* to = static_cast<unsigned char*>(out.data_ptr());
  for (const int64_t i : indices) {
    std::memcpy(to, from + i * row_bytes, static_cast<size_t>(row_bytes));
    to += row_bytes;
  }
  return out;
}

}  // namespace

Example<> Dataset::get_batch(std::span<const int64_t> indices) const {
  TT_CHECK_VALUE(!indices.empty(), "get_batch: expects at least one index, got none");
  std::vector<Tensor> data, targets;
  data.reserve(indices.size());
  targets.reserve(indices.size());
  for (const int64_t i : indices) {
    Example<> sample = get(i);
    data.push_back(std::move(sample.data));
    targets.push_back(std::move(sample.target));
  }
  return {stack(data), stack(targets)};
}

TensorDataset::TensorDataset(Tensor data, Tensor targets)
    : data_(std::move(data)), targets_(std::move(targets)) {
  TT_CHECK_VALUE(data_.defined() && targets_.defined(),
                 "TensorDataset: data and targets must be defined tensors");
  TT_CHECK_VALUE(data_.dim() >= 1 && targets_.dim() >= 1,
                 "TensorDataset: data and targets need a first (sample) dimension, got data ",
                 data_.sizes(), " and targets ", targets_.sizes());
  TT_CHECK_VALUE(data_.size(0) == targets_.size(0),
                 "TensorDataset: size mismatch between tensors: data has ", data_.size(0),
                 " samples (shape ", data_.sizes(), ") but targets has ", targets_.size(0),
                 " (shape ", targets_.sizes(), ")");
  size_ = data_.size(0);
}

Example<> TensorDataset::get(int64_t index) const {
  TT_CHECK_INDEX(index >= 0 && index < size_, "TensorDataset::get: index ", index,
                 " is out of range for a dataset of ", size_, " samples");
  return {data_.select(0, index), targets_.select(0, index)};  // views, no copy
}

Example<> TensorDataset::get_batch(std::span<const int64_t> indices) const {
  TT_CHECK_VALUE(!indices.empty(),
                 "TensorDataset::get_batch: expects at least one index, got none");
  for (const int64_t i : indices) {
    TT_CHECK_INDEX(i >= 0 && i < size_, "TensorDataset::get_batch: index ", i,
                   " is out of range for a dataset of ", size_, " samples");
  }
  // Rows are contiguous byte ranges only in a contiguous tensor; otherwise view and stack.
  if (!data_.is_contiguous() || !targets_.is_contiguous()) return Dataset::get_batch(indices);
  return {gather_rows(data_, indices), gather_rows(targets_, indices)};
}

Subset::Subset(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> indices)
    : dataset_(std::move(dataset)), indices_(std::move(indices)) {
  TT_CHECK_VALUE(dataset_ != nullptr, "Subset: the dataset is null");
  const int64_t n = dataset_->size();
  for (const int64_t i : indices_) {
    TT_CHECK_INDEX(i >= 0 && i < n, "Subset: index ", i, " is out of range for a dataset of ", n,
                   " samples");
  }
}

Example<> Subset::get(int64_t index) const {
  TT_CHECK_INDEX(index >= 0 && index < size(), "Subset::get: index ", index,
                 " is out of range for a subset of ", size(), " samples");
  return dataset_->get(indices_[static_cast<size_t>(index)]);
}

Example<> Subset::get_batch(std::span<const int64_t> indices) const {
  std::vector<int64_t> inner;  // the same samples, numbered as the underlying dataset numbers them
  inner.reserve(indices.size());
  for (const int64_t i : indices) {
    TT_CHECK_INDEX(i >= 0 && i < size(), "Subset::get_batch: index ", i,
                   " is out of range for a subset of ", size(), " samples");
    inner.push_back(indices_[static_cast<size_t>(i)]);
  }
  return dataset_->get_batch(inner);
}

std::vector<int64_t> sample_order(int64_t n, bool shuffle, Generator& generator) {
  // BEGIN SOLUTION
  TT_CHECK_VALUE(n >= 0, "sample_order: n must be >= 0, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  // Fisher–Yates: walk from the back; swap position i with a uniformly chosen j in [0, i].
  // Every one of the n! permutations is equally likely, O(n) time, n-1 random draws — and
  // because the draws come from `generator`, the same seed gives the same permutation.
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = generator.random_int(0, i + 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
  // END SOLUTION
}

std::vector<Subset> random_split(std::shared_ptr<const Dataset> dataset,
                                 const std::vector<int64_t>& lengths, Generator& generator) {
  TT_CHECK_VALUE(dataset != nullptr, "random_split: the dataset is null");
  int64_t total = 0;
  for (const int64_t len : lengths) {
    TT_CHECK_VALUE(len >= 0, "random_split: lengths must be >= 0, got ", len);
    total += len;
  }
  TT_CHECK_VALUE(total == dataset->size(), "random_split: sum of input lengths (", total,
                 ") does not equal the length of the input dataset (", dataset->size(), ")");
  // One permutation, cut into consecutive pieces: the pieces are disjoint and cover everything.
  const std::vector<int64_t> order = sample_order(total, /*shuffle=*/true, generator);
  std::vector<Subset> parts;
  parts.reserve(lengths.size());
  auto start = order.begin();
  for (const int64_t len : lengths) {
    parts.emplace_back(dataset, std::vector<int64_t>(start, start + len));
    start += len;
  }
  return parts;
}

Tensor stack(const std::vector<Tensor>& tensors) {
  // BEGIN SOLUTION
  TT_CHECK_VALUE(!tensors.empty(), "stack: expects a non-empty list of tensors");
  const Tensor& first = tensors.front();
  // The batch is [B, S...] where S is the common sample shape.
  std::vector<int64_t> shape{static_cast<int64_t>(tensors.size())};
  for (const int64_t s : first.sizes()) shape.push_back(s);
  Tensor out = empty(shape, TensorOptions(first.dtype()));
  // Sample b occupies bytes [b·sample_bytes, (b+1)·sample_bytes) of the contiguous output, so
  // stacking is one memcpy per sample (after making the sample itself contiguous).
  const int64_t sample_bytes = first.nbytes();
  auto* dst = static_cast<unsigned char*>(out.data_ptr());
  for (size_t b = 0; b < tensors.size(); ++b) {
    const Tensor& t = tensors[b];
    TT_CHECK_VALUE(t.sizes() == first.sizes(),
                   "stack: expects each tensor to be equal size, but got ", first.sizes(),
                   " at entry 0 and ", t.sizes(), " at entry ", b);
    TT_CHECK_TYPE(
        t.dtype() == first.dtype(), "stack: expects each tensor to have the same dtype, but got ",
        to_string(first.dtype()), " at entry 0 and ", to_string(t.dtype()), " at entry ", b);
    const Tensor src = t.contiguous();
    if (sample_bytes > 0) {
      std::memcpy(dst + static_cast<int64_t>(b) * sample_bytes, src.data_ptr(),
                  static_cast<size_t>(sample_bytes));
    }
  }
  return out;
  // END SOLUTION
}

}  // namespace tinytorch::data
