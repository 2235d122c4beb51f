// Module 01 — the arithmetic of sizes and strides (tinytorch/core/shape.h), function by function.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using V = std::vector<int64_t>;

TEST(Shape, ComputeNumel) {
  EXPECT_EQ(compute_numel({}), 1);
  EXPECT_EQ(compute_numel({5}), 5);
  EXPECT_EQ(compute_numel({2, 3, 4}), 24);
  EXPECT_EQ(compute_numel({2, 0, 4}), 0);
  EXPECT_EQ(compute_numel({1, 1, 1}), 1);
  TT_EXPECT_THROW_WITH((compute_numel({2, -1})), ValueError, "negative", "-1", "[2, -1]");
  const int64_t big = int64_t{1} << 32;
  TT_EXPECT_THROW_WITH((compute_numel({big, big})), ValueError, "int64");
  // A leading zero makes the product 0 before anything can overflow.
  EXPECT_EQ((compute_numel({0, big, big})), 0);
}

TEST(Shape, ContiguousStrides) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (V{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({}), V{});
  EXPECT_EQ(contiguous_strides({7}), V{1});
  EXPECT_EQ(contiguous_strides({1, 1}), (V{1, 1}));
  // A size-0 dim counts as 1 when building strides (as PyTorch does): [2, 0, 3] → [3, 3, 1].
  EXPECT_EQ(contiguous_strides({2, 0, 3}), (V{3, 3, 1}));
  EXPECT_EQ(contiguous_strides({5, 1, 2}), (V{2, 2, 1}));
  // No elements, yet the first dim's stride would be 2^80: refused, not wrapped around.
  const int64_t big = int64_t{1} << 40;
  TT_EXPECT_THROW_WITH((contiguous_strides({0, big, big})), ValueError, "strides", "int64");
  // The last product is never a stride, so it must not be checked: [4, 2^62] is fine.
  EXPECT_EQ((contiguous_strides({4, int64_t{1} << 62})), (V{int64_t{1} << 62, 1}));
}

TEST(Shape, IsContiguousStrides) {
  EXPECT_TRUE(is_contiguous_strides({}, {}));
  EXPECT_TRUE(is_contiguous_strides({2, 3}, {3, 1}));
  EXPECT_FALSE(is_contiguous_strides({2, 3}, {1, 2}));  // transposed
  EXPECT_FALSE(is_contiguous_strides({2, 3}, {4, 1}));  // a gap after each row
  EXPECT_FALSE(is_contiguous_strides({3}, {2}));        // every other element
  EXPECT_FALSE(is_contiguous_strides({3, 4}, {1, 0}));  // expanded
  // Size-1 dims may have any stride.
  EXPECT_TRUE(is_contiguous_strides({1, 3}, {100, 1}));
  EXPECT_TRUE(is_contiguous_strides({3, 1}, {1, 7}));
  EXPECT_TRUE(is_contiguous_strides({1}, {0}));
  // No elements: contiguous whatever the strides.
  EXPECT_TRUE(is_contiguous_strides({0, 3}, {5, 9}));
  EXPECT_TRUE(is_contiguous_strides({3, 0}, {0, 0}));
  EXPECT_TRUE(is_contiguous_strides({0, 3}, {6, 2}));  // [0, 6] sliced with step 2
}

TEST(Shape, WrapDim) {
  EXPECT_EQ(wrap_dim(0, 3), 0);
  EXPECT_EQ(wrap_dim(2, 3), 2);
  EXPECT_EQ(wrap_dim(-1, 3), 2);
  EXPECT_EQ(wrap_dim(-3, 3), 0);
  // A 0-d tensor accepts 0 and -1.
  EXPECT_EQ(wrap_dim(0, 0), 0);
  EXPECT_EQ(wrap_dim(-1, 0), 0);
  TT_EXPECT_THROW_WITH(wrap_dim(3, 3, "sum"), IndexError, "sum", "[-3, 2]", "3");
  TT_EXPECT_THROW_WITH(wrap_dim(-4, 3, "transpose"), IndexError, "transpose", "-4");
  TT_EXPECT_THROW_WITH(wrap_dim(1, 0), IndexError, "[-1, 0]", "1");
}

TEST(Shape, InferSize) {
  EXPECT_EQ(infer_size({2, -1}, 6), (V{2, 3}));
  EXPECT_EQ(infer_size({-1}, 6), V{6});
  EXPECT_EQ(infer_size({-1, 1, 2}, 8), (V{4, 1, 2}));
  EXPECT_EQ(infer_size({2, 3}, 6), (V{2, 3}));
  EXPECT_EQ(infer_size({-1}, 0), V{0});
  EXPECT_EQ(infer_size({}, 1), V{});
  TT_EXPECT_THROW_WITH((infer_size({-1, -1}, 4)), ValueError, "only one", "[-1, -1]");
  TT_EXPECT_THROW_WITH((infer_size({4, -1}, 6)), ValueError, "[4, -1]", "6");
  TT_EXPECT_THROW_WITH((infer_size({2, 3}, 7)), ValueError, "[2, 3]", "7");
  TT_EXPECT_THROW_WITH((infer_size({0, -1}, 0)), ValueError, "[0, -1]");
  TT_EXPECT_THROW_WITH((infer_size({-2, 3}, 6)), ValueError, "-2");
  // Sizes whose product overflows int64 (2^40 · 2^40 wraps to 0 in 64 bits) match no count.
  const int64_t big = int64_t{1} << 40;
  TT_EXPECT_THROW_WITH((infer_size({big, big, -1}, 6)), ValueError, "int64");
  TT_EXPECT_THROW_WITH((infer_size({big, big}, 0)), ValueError, "int64");
  // ... unless a 0 among them makes the product 0.
  EXPECT_EQ((infer_size({big, big, 0}, 0)), (V{big, big, 0}));
}

TEST(Shape, ComputeViewStridesContiguous) {
  EXPECT_EQ(compute_view_strides({2, 3, 4}, {12, 4, 1}, {6, 4}), (V{4, 1}));
  EXPECT_EQ(compute_view_strides({2, 3, 4}, {12, 4, 1}, {24}), (V{1}));
  EXPECT_EQ(compute_view_strides({2, 3, 4}, {12, 4, 1}, {4, 3, 2}), (V{6, 2, 1}));
  EXPECT_EQ(compute_view_strides({6}, {1}, {1, 6, 1}), (V{6, 1, 1}));
  // 0-d ↔ all-ones.
  EXPECT_EQ(compute_view_strides({}, {}, {1, 1}), (V{1, 1}));
  EXPECT_EQ(compute_view_strides({1, 1}, {1, 1}, {}), V{});
}

TEST(Shape, ComputeViewStridesNonContiguous) {
  // A [2, 2] slice of a [2, 4] tensor (strides [4, 1]): rows are separate chunks.
  EXPECT_EQ(compute_view_strides({2, 2}, {4, 1}, {4}), std::nullopt);
  EXPECT_EQ(compute_view_strides({2, 2}, {4, 1}, {2, 1, 2}), (V{4, 2, 1}));
  EXPECT_EQ(compute_view_strides({2, 2}, {4, 1}, {2, 2, 1}), (V{4, 1, 1}));
  EXPECT_EQ(compute_view_strides({2, 2}, {4, 1}, {1, 2, 2}), (V{8, 4, 1}));
  // Transposed [4, 3] of a [3, 4]: the last dim may split, nothing may merge.
  EXPECT_EQ(compute_view_strides({4, 3}, {1, 4}, {12}), std::nullopt);
  EXPECT_EQ(compute_view_strides({4, 3}, {1, 4}, {2, 2, 3}), (V{2, 1, 4}));
  EXPECT_EQ(compute_view_strides({4, 3}, {1, 4}, {4, 3, 1}), (V{1, 4, 4}));
  EXPECT_EQ(compute_view_strides({4, 3}, {1, 4}, {1, 4, 3}), (V{4, 1, 4}));
  EXPECT_EQ(compute_view_strides({4, 3}, {1, 4}, {3, 4}), std::nullopt);
  // Expanded (stride 0) dims split into stride-0 dims.
  EXPECT_EQ(compute_view_strides({3, 4}, {1, 0}, {3, 2, 2}), (V{1, 0, 0}));
  EXPECT_EQ(compute_view_strides({3, 4}, {1, 0}, {12}), std::nullopt);
  // Every other element of a [4, 6]: [4, 3] with strides [6, 2] is evenly spaced (stride 2)...
  EXPECT_EQ(compute_view_strides({4, 3}, {6, 2}, {2, 2, 3}), (V{12, 6, 2}));
  EXPECT_EQ(compute_view_strides({4, 3}, {6, 2}, {12}), V{2});
  // ...but every other of the first 6 of a [4, 8] is not: rows are 8 apart, not 6.
  EXPECT_EQ(compute_view_strides({4, 3}, {8, 2}, {12}), std::nullopt);
  EXPECT_EQ(compute_view_strides({4, 3}, {8, 2}, {2, 2, 3}), (V{16, 8, 2}));
  EXPECT_EQ(compute_view_strides({4, 3}, {8, 2}, {4, 3, 1}), (V{8, 2, 2}));
}

TEST(Shape, ComputeViewStridesEmpty) {
  const auto s = compute_view_strides({0, 3}, {3, 1}, {3, 0});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, (V{1, 1}));
}

TEST(Shape, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({3, 1}, {4}), (V{3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}), (V{2, 3}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {}), (V{2, 3}));
  EXPECT_EQ(broadcast_shapes({}, {}), V{});
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}), (V{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({5, 1, 1}, {1, 1, 2, 3}), (V{1, 5, 2, 3}));
  EXPECT_EQ(broadcast_shapes({0}, {1}), V{0});
  EXPECT_EQ(broadcast_shapes({1}, {0}), V{0});
  EXPECT_EQ(broadcast_shapes({2, 0}, {2, 1}), (V{2, 0}));
  TT_EXPECT_THROW_WITH((broadcast_shapes({2, 3}, {3, 2})), Error, "[2, 3]", "[3, 2]", "(3)", "(2)");
  TT_EXPECT_THROW_WITH((broadcast_shapes({0}, {2})), Error, "[0]", "[2]");
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {5, 3}), (V{4, 5, 3}));
  TT_EXPECT_THROW_WITH((broadcast_shapes({4, 2, 3}, {5, 3})), Error, "[4, 2, 3]", "[5, 3]");
}

}  // namespace
}  // namespace tinytorch
