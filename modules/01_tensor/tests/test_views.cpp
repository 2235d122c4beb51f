// Module 01 — views: every view op's sizes, strides and storage offset, that views alias their
// base, and that reshape()/flatten() copy exactly when no view can exist.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using V = std::vector<int64_t>;
using test::values_as_int;

// [2, 3, 4] int64 tensor holding 0..23.
Tensor base234() {
  return arange(24).view({2, 3, 4});
}

// Checks sizes, strides, offset, and that t is a view of `base`.
void expect_view(const Tensor& t, const Tensor& base, const V& sizes, const V& strides,
                 int64_t offset) {
  EXPECT_EQ(t.sizes().vec(), sizes);
  EXPECT_EQ(t.strides().vec(), strides);
  EXPECT_EQ(t.storage_offset(), offset);
  EXPECT_TRUE(t.is_alias_of(base)) << "expected a view (no copy)";
  EXPECT_EQ(t.dtype(), base.dtype());
}

TEST(Views, View) {
  const Tensor a = base234();
  expect_view(a.view({6, 4}), a, {6, 4}, {4, 1}, 0);
  expect_view(a.view({-1}), a, {24}, {1}, 0);
  expect_view(a.view({4, -1, 2}), a, {4, 3, 2}, {6, 2, 1}, 0);
  expect_view(a.view({1, 24, 1}), a, {1, 24, 1}, {24, 1, 1}, 0);
  EXPECT_EQ(values_as_int(a.view({4, 6}).select(0, 1)), (V{6, 7, 8, 9, 10, 11}));
  // A view of a view keeps the offset.
  const Tensor row = a.select(0, 1);  // offset 12, [3, 4]
  expect_view(row.view({12}), a, {12}, {1}, 12);
  EXPECT_EQ(values_as_int(row.view({2, 6}).select(0, 1)), (V{18, 19, 20, 21, 22, 23}));
  // 0-d ↔ one element.
  const Tensor s = tensor(5.0);
  expect_view(s.view({1, 1}), s, {1, 1}, {1, 1}, 0);
  const Tensor one = arange(1);
  expect_view(one.view({}), one, {}, {}, 0);
}

TEST(Views, ViewOnNonContiguousOnlyWhenPossible) {
  const Tensor a = base234();
  const Tensor t = a.transpose(0, 1);  // [3, 2, 4] strides [4, 12, 1]
  // Splitting the last dim is fine...
  expect_view(t.view({3, 2, 2, 2}), a, {3, 2, 2, 2}, {4, 12, 2, 1}, 0);
  // ...merging the two swapped dims is not.
  TT_EXPECT_THROW_WITH(t.view({6, 4}), Error, "view", "[6, 4]", "[3, 2, 4]", "[4, 12, 1]",
                       "reshape");
  TT_EXPECT_THROW_WITH(t.view({-1}), Error, "view", "[24]");
}

TEST(Views, ReshapeViewsWhenItCanAndCopiesWhenItMust) {
  const Tensor a = base234();
  const Tensor r = a.reshape({4, 6});
  expect_view(r, a, {4, 6}, {6, 1}, 0);
  // A transposed tensor cannot be flattened without copying.
  const Tensor t = a.transpose(1, 2);  // [2, 4, 3]
  const Tensor flat = t.reshape({-1});
  EXPECT_FALSE(flat.is_alias_of(a));
  EXPECT_TRUE(flat.is_contiguous());
  EXPECT_EQ(flat.sizes().vec(), V{24});
  EXPECT_EQ(values_as_int(flat).at(0), 0);
  EXPECT_EQ(values_as_int(flat).at(1), 4);
  EXPECT_EQ(values_as_int(flat), values_as_int(t));
  // ...but it can split its last dim in place.
  expect_view(t.reshape({2, 4, 3, 1}), a, {2, 4, 3, 1}, {12, 1, 4, 4}, 0);
  // An expanded tensor copies when merged, views when split.
  const Tensor e = arange(3).view({3, 1}).expand({3, 4});
  EXPECT_FALSE(e.reshape({12}).is_alias_of(e));
  EXPECT_EQ(values_as_int(e.reshape({12})), (V{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  EXPECT_TRUE(e.reshape({3, 2, 2}).is_alias_of(e));
  // A slice with gaps copies.
  const Tensor s = arange(10).slice(0, 0, 10, 2);
  const Tensor s2 = s.reshape({5, 1});
  EXPECT_TRUE(s2.is_alias_of(s));
  EXPECT_EQ(s2.strides().vec(), (V{2, 2}));
  EXPECT_FALSE(s.view({5}).reshape({1, 5}).is_contiguous());
}

TEST(Views, Transpose) {
  const Tensor a = base234();
  expect_view(a.transpose(0, 2), a, {4, 3, 2}, {1, 4, 12}, 0);
  expect_view(a.transpose(-1, -2), a, {2, 4, 3}, {12, 1, 4}, 0);
  expect_view(a.transpose(1, 1), a, {2, 3, 4}, {12, 4, 1}, 0);
  EXPECT_FALSE(a.transpose(0, 1).is_contiguous());
  EXPECT_TRUE(a.transpose(1, 1).is_contiguous());
  // Element (i, j, k) of the transpose is element (k, j, i) of the base.
  EXPECT_EQ(a.transpose(0, 2).select(0, 3).select(0, 1).select(0, 1).item<int64_t>(),
            1 * 12 + 1 * 4 + 3);
  const Tensor m = arange(6).view({2, 3});
  expect_view(m.t(), m, {3, 2}, {1, 3}, 0);
  const Tensor v = arange(3);
  expect_view(v.t(), v, {3}, {1}, 0);
  const Tensor s = tensor(1.0);
  expect_view(s.t(), s, {}, {}, 0);
  expect_view(s.transpose(0, -1), s, {}, {}, 0);
}

TEST(Views, Permute) {
  const Tensor a = base234();
  expect_view(a.permute({2, 0, 1}), a, {4, 2, 3}, {1, 12, 4}, 0);
  expect_view(a.permute({-1, 0, -2}), a, {4, 2, 3}, {1, 12, 4}, 0);
  expect_view(a.permute({0, 1, 2}), a, {2, 3, 4}, {12, 4, 1}, 0);
  EXPECT_EQ(values_as_int(a.permute({2, 1, 0}).select(0, 1).select(0, 2)), (V{9, 21}));
  const Tensor s = tensor(2.0);
  expect_view(s.permute({}), s, {}, {}, 0);
}

TEST(Views, Flatten) {
  const Tensor a = base234();
  expect_view(a.flatten(), a, {24}, {1}, 0);
  expect_view(a.flatten(1), a, {2, 12}, {12, 1}, 0);
  expect_view(a.flatten(0, 1), a, {6, 4}, {4, 1}, 0);
  expect_view(a.flatten(-2, -1), a, {2, 12}, {12, 1}, 0);
  expect_view(a.flatten(1, 1), a, {2, 3, 4}, {12, 4, 1}, 0);
  const Tensor s = tensor(3.0);
  const Tensor f = s.flatten();
  EXPECT_EQ(f.sizes().vec(), V{1});
  EXPECT_TRUE(f.is_alias_of(s));
  // A non-contiguous range must be copied.
  const Tensor t = a.transpose(1, 2);
  EXPECT_FALSE(t.flatten(1).is_alias_of(a));
  EXPECT_EQ(values_as_int(t.flatten(1).select(0, 0)), (V{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  // Only the flattened range matters: [4, 2, 3] with strides [1, 12, 4] merges its last two
  // dims without a copy.
  expect_view(a.permute({2, 0, 1}).flatten(1), a, {4, 6}, {1, 4}, 0);
}

TEST(Views, SqueezeAndUnsqueeze) {
  const Tensor a = arange(6).view({1, 3, 1, 2});
  expect_view(a.squeeze(), a, {3, 2}, {2, 1}, 0);
  expect_view(a.squeeze(0), a, {3, 1, 2}, {2, 2, 1}, 0);
  expect_view(a.squeeze(1), a, {1, 3, 1, 2}, {6, 2, 2, 1}, 0);  // not size 1: unchanged
  expect_view(a.squeeze(-2), a, {1, 3, 2}, {6, 2, 1}, 0);
  const Tensor one = full({1, 1}, 4.5);
  expect_view(one.squeeze(), one, {}, {}, 0);
  EXPECT_EQ(one.squeeze().item<double>(), 4.5);
  const Tensor s = tensor(1.0);
  expect_view(s.squeeze(), s, {}, {}, 0);
  expect_view(s.squeeze(0), s, {}, {}, 0);

  const Tensor b = base234();
  expect_view(b.unsqueeze(0), b, {1, 2, 3, 4}, {24, 12, 4, 1}, 0);
  expect_view(b.unsqueeze(2), b, {2, 3, 1, 4}, {12, 4, 4, 1}, 0);
  expect_view(b.unsqueeze(3), b, {2, 3, 4, 1}, {12, 4, 1, 1}, 0);
  expect_view(b.unsqueeze(-1), b, {2, 3, 4, 1}, {12, 4, 1, 1}, 0);
  expect_view(b.unsqueeze(-4), b, {1, 2, 3, 4}, {24, 12, 4, 1}, 0);
  EXPECT_TRUE(b.unsqueeze(1).is_contiguous());
  expect_view(s.unsqueeze(0), s, {1}, {1}, 0);
  // Unsqueezing a transposed tensor: the new dim's stride is size * stride of the next dim.
  expect_view(b.transpose(0, 2).unsqueeze(1), b, {4, 1, 3, 2}, {1, 12, 4, 12}, 0);
}

TEST(Views, Expand) {
  const Tensor c = arange(3).view({3, 1});
  expect_view(c.expand({3, 4}), c, {3, 4}, {1, 0}, 0);
  expect_view(c.expand({-1, 4}), c, {3, 4}, {1, 0}, 0);
  expect_view(c.expand({2, 3, 5}), c, {2, 3, 5}, {0, 1, 0}, 0);
  expect_view(c.expand({3, 1}), c, {3, 1}, {1, 1}, 0);
  expect_view(c.expand({3, 0}), c, {3, 0}, {1, 0}, 0);
  const Tensor s = tensor(2.0);
  expect_view(s.expand({2, 2}), s, {2, 2}, {0, 0}, 0);
  const Tensor e = c.expand({3, 4});
  EXPECT_FALSE(e.is_contiguous());
  EXPECT_EQ(values_as_int(e), (V{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(e.numel(), 12);
  // expand_as.
  expect_view(c.expand_as(zeros({2, 3, 4})), c, {2, 3, 4}, {0, 1, 0}, 0);
}

TEST(Views, Narrow) {
  const Tensor a = base234();
  expect_view(a.narrow(1, 1, 2), a, {2, 2, 4}, {12, 4, 1}, 4);
  expect_view(a.narrow(-1, 1, 3), a, {2, 3, 3}, {12, 4, 1}, 1);
  expect_view(a.narrow(2, -3, 2), a, {2, 3, 2}, {12, 4, 1}, 1);  // negative start
  expect_view(a.narrow(0, 2, 0), a, {0, 3, 4}, {12, 4, 1}, 24);
  EXPECT_EQ(values_as_int(a.narrow(0, 1, 1).narrow(1, 2, 1)), (V{20, 21, 22, 23}));
  EXPECT_FALSE(a.narrow(2, 0, 2).is_contiguous());
  EXPECT_TRUE(a.narrow(0, 1, 1).is_contiguous());
}

TEST(Views, Select) {
  const Tensor a = base234();
  expect_view(a.select(0, 1), a, {3, 4}, {4, 1}, 12);
  expect_view(a.select(1, 2), a, {2, 4}, {12, 1}, 8);
  expect_view(a.select(-1, -1), a, {2, 3}, {12, 4}, 3);
  expect_view(a[1], a, {3, 4}, {4, 1}, 12);
  expect_view(a[1][2][3], a, {}, {}, 23);
  EXPECT_EQ(a[1][2][3].item<int64_t>(), 23);
  EXPECT_EQ(a[-1][-1][-1].item<int64_t>(), 23);
  EXPECT_EQ(values_as_int(a.select(2, 0)), (V{0, 4, 8, 12, 16, 20}));
}

TEST(Views, SliceWithStep) {
  const Tensor a = base234();
  expect_view(a.slice(2, 0, std::nullopt, 2), a, {2, 3, 2}, {12, 4, 2}, 0);
  expect_view(a.slice(1, -2), a, {2, 2, 4}, {12, 4, 1}, 4);
  expect_view(a.slice(2, 1, 100), a, {2, 3, 3}, {12, 4, 1}, 1);  // end clamps
  expect_view(a.slice(2, 3, 1), a, {2, 3, 0}, {12, 4, 1}, 3);    // empty
  expect_view(a.slice(0), a, {2, 3, 4}, {12, 4, 1}, 0);          // everything
  const Tensor r = arange(10);
  expect_view(r.slice(0, 1, std::nullopt, 3), r, {3}, {3}, 1);
  EXPECT_EQ(values_as_int(r.slice(0, 1, std::nullopt, 3)), (V{1, 4, 7}));
  EXPECT_EQ(values_as_int(r.slice(0, std::nullopt, -3, 2)), (V{0, 2, 4, 6}));
  EXPECT_EQ(values_as_int(r.slice(0, -100, 100, 4)), (V{0, 4, 8}));
  // A huge step takes the first element only, as in PyTorch: ceil((end - start) / step) must not
  // be computed as (end - start + step - 1) / step, which overflows.
  const int64_t huge = std::numeric_limits<int64_t>::max();
  const Tensor x = arange(6).reshape({2, 3});
  EXPECT_EQ(x.slice(1, 0, 3, huge).sizes().vec(), (V{2, 1}));
  EXPECT_EQ(values_as_int(x.slice(1, 0, 3, huge)), (V{0, 3}));
  EXPECT_EQ(values_as_int(x.slice(0, 1, std::nullopt, huge)), (V{3, 4, 5}));
  EXPECT_EQ(x.slice(1, 3, 3, huge).numel(), 0);
  // Slices of slices compose their steps and offsets.
  const Tensor rr = arange(20).slice(0, 1, std::nullopt, 2).slice(0, 1, std::nullopt, 3);
  EXPECT_EQ(rr.strides().vec(), V{6});
  EXPECT_EQ(rr.storage_offset(), 3);
  EXPECT_EQ(values_as_int(rr), (V{3, 9, 15}));
}

TEST(Views, AsStrided) {
  const Tensor r = arange(10);
  const Tensor w = r.as_strided({4, 3}, {2, 1}, 1);
  expect_view(w, r, {4, 3}, {2, 1}, 1);
  EXPECT_EQ(values_as_int(w), (V{1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8, 9}));
  TT_EXPECT_THROW_WITH((r.as_strided({4, 3}, {3, 1}, 1)), Error, "as_strided", "storage");
  TT_EXPECT_THROW_WITH((r.as_strided({2}, {1, 1})), Error, "as_strided");
  TT_EXPECT_THROW_WITH((r.as_strided({2}, {-1})), Error, "as_strided", "-1");
  // A stride so large that (size - 1) * stride, or the sum over dims, passes 2^63 - 1: the
  // wrapped-around value must not slip past the bounds check.
  const int64_t half = int64_t{1} << 62;
  TT_EXPECT_THROW_WITH((r.as_strided({3}, {half})), Error, "as_strided", "storage");
  TT_EXPECT_THROW_WITH((r.as_strided({2, 2}, {half, half})), Error, "as_strided", "storage");
  TT_EXPECT_THROW_WITH((r.as_strided({2}, {half}, half)), Error, "as_strided", "storage");
  // No elements: no element is reached, whatever the strides.
  EXPECT_EQ(r.as_strided({0, 3}, {half, half}).numel(), 0);
}

TEST(Views, ChainsComposeOffsetsAndStrides) {
  const Tensor a = base234();
  const Tensor v = a.transpose(0, 2).slice(0, 1, std::nullopt, 2).select(2, 1);
  expect_view(v, a, {2, 3}, {2, 4}, 13);
  EXPECT_EQ(values_as_int(v), (V{13, 17, 21, 15, 19, 23}));
  const Tensor w = a.select(0, 1).unsqueeze(0).expand({2, 3, 4});
  expect_view(w, a, {2, 3, 4}, {0, 4, 1}, 12);
  const Tensor n = a.narrow(2, 1, 3).narrow(2, 1, 2);
  expect_view(n, a, {2, 3, 2}, {12, 4, 1}, 2);
}

TEST(Views, EmptyTensors) {
  const Tensor e = zeros({0, 3});
  EXPECT_EQ(e.reshape({3, 0}).sizes().vec(), (V{3, 0}));
  EXPECT_EQ(e.transpose(0, 1).sizes().vec(), (V{3, 0}));
  EXPECT_TRUE(e.transpose(0, 1).is_contiguous());
  EXPECT_EQ(zeros({2, 0, 3}).flatten().sizes().vec(), V{0});
  EXPECT_EQ(e.view({-1}).sizes().vec(), V{0});
  TT_EXPECT_THROW_WITH(e.reshape({-1, 0}), ValueError, "[-1, 0]");
  // No elements means contiguous, whatever the strides.
  const Tensor s = zeros({0, 6}).slice(1, 0, std::nullopt, 2);
  EXPECT_EQ(s.strides().vec(), (V{6, 2}));
  EXPECT_TRUE(s.is_contiguous());
  EXPECT_TRUE(s.contiguous().is_same(s));
}

TEST(Views, ViewsOfEveryDtype) {
  for (ScalarType dt : {kBool, kInt64, kFloat32, kFloat64}) {
    const Tensor a = arange(6).to(dt).view({2, 3});
    const Tensor t = a.t();
    EXPECT_EQ(t.dtype(), dt);
    EXPECT_EQ(t.strides().vec(), (V{1, 3}));
    EXPECT_EQ(static_cast<const char*>(a.select(1, 2).data_ptr()) -
                  static_cast<const char*>(a.data_ptr()),
              2 * a.element_size());
  }
}

// Assignment follows libtorch: to a handle it rebinds, to a temporary view it writes.
TEST(Views, AssigningToATemporaryViewCopiesIntoIt) {
  Tensor m = zeros({3, 4}, kInt64);
  m[1] = arange(4);                    // copy_: row 1 of m now holds 0..3
  m.select(1, 3) = tensor({7, 8, 9});  // column 3
  m.narrow(0, 2, 1) = 5;               // fill_ through the view
  EXPECT_EQ(values_as_int(m), (V{0, 0, 0, 7, 0, 1, 2, 8, 5, 5, 5, 5}));
  // A broadcast source, and a float source cast to the view's dtype, as copy_ does.
  m[0] = tensor({2.75});
  EXPECT_EQ(values_as_int(m[0]), (V{2, 2, 2, 2}));
  // A move-assigned temporary also copies (Tensor&& on the right).
  m[2] = m[1].clone();
  EXPECT_EQ(values_as_int(m[2]), (V{0, 1, 2, 8}));
}

TEST(Views, AssigningToAHandleRebindsIt) {
  Tensor a = zeros({2}, kInt64);
  const Tensor original = a;
  a = ones({3}, kInt64);  // a names the new tensor; the old one is untouched
  EXPECT_EQ(a.numel(), 3);
  EXPECT_EQ(values_as_int(original), (V{0, 0}));
}

TEST(Views, AssigningAWrongShapeToAViewIsAnError) {
  Tensor m = zeros({3, 4});
  EXPECT_THROW(m[0] = ones({3}), Error);  // [3] does not broadcast to [4]
}

}  // namespace
}  // namespace tinytorch
