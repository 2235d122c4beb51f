// Sorting along one dim: sort, argsort (its indices) and topk (the first k of a sort). Their
// gradient is a scatter_add along the same indices (derivatives.cpp).
//
// Every op here works on ROWS: the sorted dim is swapped to the end and the tensor made
// contiguous, so each row of n values is one contiguous run —
//
//   x: [2, 5, 3], dim 1  →  transpose(1, 2) → [2, 3, 5] contiguous → 6 rows of 5 values
//
// — each row is sorted on its own (rows in parallel), and the result is swapped back. Ordering:
// NaN counts as larger than every number (it goes last ascending, first descending), and equal
// values keep their input order in BOTH directions (a stable sort, as torch.sort(stable=True)).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

// a < b with NaN largest (two NaNs are equal).
template <typename T>
bool nan_last_less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

// Sorts each row of `rows` (contiguous [outer, n], the sorted dim last) and keeps its first k:
// values [outer, k] and their positions in the row [outer, k]. With `keep_order` the k chosen
// positions are put back in input order (topk(sorted = false)).
// NOTE: ties are broken by position, so the order is the stable one whatever std::partial_sort
// does internally.
std::tuple<Tensor, Tensor> sort_rows(const Tensor& rows, int64_t k, bool descending,
                                     bool keep_order) {
  if (native::opmath::is_reduced(rows)) {  // comparisons are exact in float32: the same order
    return native::opmath::compute(
        rows.dtype(), [&](const Tensor& r) { return sort_rows(r, k, descending, keep_order); },
        rows);
  }
  const int64_t outer = rows.size(0), n = rows.size(1);
  Tensor values = empty({outer, k}, rows.dtype());
  Tensor indices = empty({outer, k}, kInt64);
  int64_t* ip = indices.data_ptr<int64_t>();
  dispatch_all_types(rows.dtype(), "sort", [&]<typename T>() {
    const T* x = rows.data_ptr<T>();  // [outer, n]
    T* v = values.data_ptr<T>();      // [outer, k]
    const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1));
    parallel_for(0, outer, grain, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (int64_t r = begin; r < end; ++r) {
        const T* row = x + r * n;
        std::iota(order.begin(), order.end(), int64_t{0});
        const auto before = [&](int64_t a, int64_t b) {
          const bool a_first =
              descending ? nan_last_less(row[b], row[a]) : nan_last_less(row[a], row[b]);
          const bool b_first =
              descending ? nan_last_less(row[a], row[b]) : nan_last_less(row[b], row[a]);
          return a_first || (!b_first && a < b);  // equal: the earlier position first
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        if (keep_order) std::sort(order.begin(), order.begin() + k);
        for (int64_t j = 0; j < k; ++j) {
          v[r * k + j] = row[order[static_cast<size_t>(j)]];
          ip[r * k + j] = order[static_cast<size_t>(j)];
        }
      }
    });
  });
  return {values, indices};
}

// The shared driver: dim d of self swapped last, rows sorted, the first k kept, swapped back.
std::tuple<Tensor, Tensor> sort_along(const Tensor& self, int64_t d, int64_t k, bool descending,
                                      bool keep_order) {
  if (self.dim() == 0) {  // one value: itself, at index 0
    return {self.clone(), zeros({}, kInt64)};
  }
  const int64_t last = self.dim() - 1;
  // (native:: views: these are internal buffers, not views a user sees.)
  const Tensor moved = native::transpose(self, d, last).contiguous();
  const int64_t n = moved.size(last);
  const int64_t outer = n == 0 ? 0 : moved.numel() / n;
  auto [values, indices] = sort_rows(native::view(moved, {outer, n}), k, descending, keep_order);
  std::vector<int64_t> out_shape = moved.sizes().vec();
  out_shape[static_cast<size_t>(last)] = k;
  return {native::transpose(native::view(values, out_shape), d, last).contiguous(),
          native::transpose(native::view(indices, out_shape), d, last).contiguous()};
}

}  // namespace

std::tuple<Tensor, Tensor> native::sort(const Tensor& self, int64_t dim, bool descending) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1), "sort");
  return sort_along(self, d, self.dim() == 0 ? 1 : self.size(d), descending, false);
}

std::tuple<Tensor, Tensor> native::topk(const Tensor& self, int64_t k, int64_t dim, bool largest,
                                        bool sorted) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1), "topk");
  const int64_t n = self.dim() == 0 ? 1 : self.size(d);
  TT_CHECK_INDEX(k >= 0 && k <= n, "topk: selected index k out of range: k = ", k, " but dim ", d,
                 " of the input ", self.sizes(), " has ", n, " element(s)");
  TT_CHECK_TYPE(self.dtype() != kBool, "topk: not implemented for dtype bool");
  return sort_along(self, d, k, largest, !sorted);
}

// NOTE: given. unique: the flattened values, stably sorted (or, consecutive, in order), cut into
// runs of equal values; NaN equals nothing, so every NaN is its own run (as PyTorch's). Any dtype.
std::tuple<Tensor, Tensor, Tensor> native::unique(const Tensor& self, bool return_inverse,
                                                  bool return_counts, bool consecutive) {
  const Tensor flat = self.contiguous().view({self.numel()});
  const int64_t n = flat.numel();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<int64_t> run_of(static_cast<size_t>(n));  // run index of each element
  std::vector<int64_t> counts;
  Tensor values;
  dispatch_storage_types(self.dtype(), "unique", [&]<typename T>() {
    const T* p = flat.data_ptr<T>();
    if (!consecutive)
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return nan_last_less(p[a], p[b]); });
    std::vector<T> distinct;
    for (int64_t i = 0; i < n; ++i) {
      const T v = p[order[static_cast<size_t>(i)]];
      if (distinct.empty() || !(distinct.back() == v)) {
        distinct.push_back(v);
        counts.push_back(0);
      }
      ++counts.back();
      run_of[static_cast<size_t>(order[static_cast<size_t>(i)])] =
          static_cast<int64_t>(distinct.size()) - 1;
    }
    values = empty({static_cast<int64_t>(distinct.size())}, self.dtype());
    std::copy(distinct.begin(), distinct.end(), values.data_ptr<T>());
  });
  Tensor inverse = empty({0}, kInt64);
  if (return_inverse) {
    inverse = empty(self.sizes(), kInt64);
    std::copy(run_of.begin(), run_of.end(), inverse.data_ptr<int64_t>());
  }
  Tensor count_tensor = empty({0}, kInt64);
  if (return_counts) {
    count_tensor = empty({static_cast<int64_t>(counts.size())}, kInt64);
    std::copy(counts.begin(), counts.end(), count_tensor.data_ptr<int64_t>());
  }
  return {values, inverse, count_tensor};
}

// NOTE: given. unique_dim: the same over the slices along dim — each slice flattened into a row,
// rows compared element by element (lexicographically when sorting). As libtorch's, the inverse
// ([size(dim)]) and the counts are always computed.
std::tuple<Tensor, Tensor, Tensor> native::unique_dim(const Tensor& self, int64_t dim,
                                                      bool consecutive) {
  const int64_t d = wrap_dim(dim, self.dim(), "unique_dim");
  const int64_t n = self.size(d);
  const int64_t m = n == 0 ? 0 : self.numel() / n;
  const Tensor rows = self.transpose(0, d).contiguous().reshape({n, m});
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<int64_t> first;  // the row that stands for each run
  std::vector<int64_t> inverse(static_cast<size_t>(n)), counts;
  dispatch_storage_types(self.dtype(), "unique_dim", [&]<typename T>() {
    const T* p = rows.data_ptr<T>();
    auto row = [&](int64_t r) { return p + r * m; };
    if (!consecutive)
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return std::lexicographical_compare(row(a), row(a) + m, row(b), row(b) + m,
                                            nan_last_less<T>);
      });
    for (int64_t i = 0; i < n; ++i) {
      const int64_t r = order[static_cast<size_t>(i)];
      if (first.empty() || !std::equal(row(first.back()), row(first.back()) + m, row(r))) {
        first.push_back(r);
        counts.push_back(0);
      }
      ++counts.back();
      inverse[static_cast<size_t>(r)] = static_cast<int64_t>(first.size()) - 1;
    }
  });
  const auto k = static_cast<int64_t>(first.size());
  return {self.index_select(d, from_vector(first, {k})), from_vector(inverse, {n}),
          from_vector(counts, {k})};
}

}  // namespace tinytorch
