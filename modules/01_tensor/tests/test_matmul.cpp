// Module 01 — matmul: 1-d·1-d, 1-d·2-d, 2-d·1-d, 2-d·2-d, batched with broadcast batch dims,
// dtypes, non-contiguous operands, empty dims, mm, and the error messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using D = std::vector<double>;
using I = std::vector<int64_t>;
using test::tensors_match;
using test::values_as_double;
using test::values_as_int;

// out[b][i][j] = sum_k a[b][i][k] * b[b][k][j] in double, for contiguous [B, M, K] · [B, K, N]
// given as flat vectors (a batch stride of 0 repeats one matrix).
D naive_bmm(const D& a, const D& b, int64_t B, int64_t M, int64_t K, int64_t N,
            int64_t a_batch_stride, int64_t b_batch_stride) {
  D out(static_cast<size_t>(B * M * N), 0.0);
  for (int64_t bb = 0; bb < B; ++bb) {
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          acc += a[static_cast<size_t>(bb * a_batch_stride + i * K + k)] *
                 b[static_cast<size_t>(bb * b_batch_stride + k * N + j)];
        }
        out[static_cast<size_t>((bb * M + i) * N + j)] = acc;
      }
    }
  }
  return out;
}

TEST(Matmul, TwoByTwo) {
  const Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor b = tensor({{5.0, 6.0}, {7.0, 8.0}});
  const Tensor c = a.matmul(b);
  EXPECT_EQ(c.sizes().vec(), (I{2, 2}));
  EXPECT_EQ(c.dtype(), kFloat32);
  EXPECT_EQ(values_as_double(c), (D{19, 22, 43, 50}));
  EXPECT_EQ(values_as_double(matmul(b, a)), (D{23, 34, 31, 46}));
  EXPECT_EQ(values_as_double(mm(a, b)), (D{19, 22, 43, 50}));
  EXPECT_EQ(values_as_double(a.mm(b)), (D{19, 22, 43, 50}));
}

TEST(Matmul, VectorCases) {
  const Tensor v = tensor({1.0, 2.0, 3.0});
  const Tensor w = tensor({4.0, 5.0, 6.0});
  const Tensor dot = v.matmul(w);
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_EQ(dot.item<double>(), 32.0);
  const Tensor m = tensor({{1.0, 0.0}, {0.0, 1.0}, {2.0, -1.0}});  // [3, 2]
  const Tensor vm = v.matmul(m);                                   // [3]·[3, 2] → [2]
  EXPECT_EQ(vm.sizes().vec(), I{2});
  EXPECT_EQ(values_as_double(vm), (D{7, -1}));
  const Tensor mv = m.t().matmul(v);  // [2, 3]·[3] → [2]
  EXPECT_EQ(mv.sizes().vec(), I{2});
  EXPECT_EQ(values_as_double(mv), (D{7, -1}));
  // [4]·[2, 4, 3] → [2, 3] and [2, 4, 3]·[3] → [2, 4].
  const Tensor batch = arange(24, kFloat64).view({2, 4, 3});
  EXPECT_EQ(ones({4}, kFloat64).matmul(batch).sizes().vec(), (I{2, 3}));
  EXPECT_EQ(values_as_double(ones({4}, kFloat64).matmul(batch)), (D{18, 22, 26, 66, 70, 74}));
  EXPECT_EQ(batch.matmul(ones({3}, kFloat64)).sizes().vec(), (I{2, 4}));
  EXPECT_EQ(values_as_double(batch.matmul(ones({3}, kFloat64))),
            (D{3, 12, 21, 30, 39, 48, 57, 66}));
}

TEST(Matmul, BatchedWithBroadcastBatchDims) {
  // [2, 1, 3, 4] · [5, 4, 2] → [2, 5, 3, 2]
  const Tensor a = arange(24, kFloat64).view({2, 1, 3, 4}).div(10);
  const Tensor b = arange(40, kFloat64).view({5, 4, 2}).sub(20);
  const Tensor c = a.matmul(b);
  ASSERT_EQ(c.sizes().vec(), (I{2, 5, 3, 2}));
  EXPECT_EQ(c.dtype(), kFloat64);
  const D av = values_as_double(a), bv = values_as_double(b), cv = values_as_double(c);
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 5; ++j) {
      // Batch (i, j) multiplies a[i, 0] by b[j].
      const D want = naive_bmm(D(av.begin() + i * 12, av.begin() + (i + 1) * 12),
                               D(bv.begin() + j * 8, bv.begin() + (j + 1) * 8), 1, 3, 4, 2, 0, 0);
      for (size_t e = 0; e < 6; ++e) {
        EXPECT_NEAR(cv[static_cast<size_t>((i * 5 + j) * 6) + e], want[e], 1e-12)
            << "batch " << i << "," << j;
      }
    }
  }
  // [3, 4] · [2, 4, 5] → [2, 3, 5]: a 2-d left operand broadcasts over the batch.
  const Tensor l = arange(12, kFloat64).view({3, 4});
  const Tensor r = arange(40, kFloat64).view({2, 4, 5});
  const Tensor lr = l.matmul(r);
  EXPECT_EQ(lr.sizes().vec(), (I{2, 3, 5}));
  EXPECT_EQ(values_as_double(lr),
            naive_bmm(values_as_double(l), values_as_double(r), 2, 3, 4, 5, 0, 20));
  // Same-size batches.
  const Tensor p = arange(12, kFloat32).view({2, 2, 3});
  const Tensor q = arange(12, kFloat32).view({2, 3, 2});
  EXPECT_EQ(values_as_double(p.matmul(q)),
            naive_bmm(values_as_double(p), values_as_double(q), 2, 2, 3, 2, 6, 6));
}

TEST(Matmul, Dtypes) {
  const Tensor a = tensor({{1, 2}, {3, 4}});
  const Tensor c = a.matmul(a);
  EXPECT_EQ(c.dtype(), kInt64);
  EXPECT_EQ(values_as_int(c), (I{7, 10, 15, 22}));
  // int64 products are exact beyond 2^53.
  const int64_t big = (int64_t{1} << 40) + 1;
  EXPECT_EQ(values_as_int(tensor({{big}}).matmul(tensor({{int64_t{1} << 20}}))), I{big << 20});
  const Tensor d = tensor({{0.1, 0.2}}, kFloat64).matmul(tensor({{0.3}, {0.4}}, kFloat64));
  EXPECT_EQ(d.dtype(), kFloat64);
  EXPECT_DOUBLE_EQ(d.item<double>(), 0.1 * 0.3 + 0.2 * 0.4);
}

TEST(Matmul, NonContiguousOperands) {
  const Tensor a = arange(12, kFloat64).view({3, 4});
  const Tensor b = arange(20, kFloat64).view({4, 5});
  const Tensor want = a.matmul(b);
  EXPECT_TRUE(tensors_match(a.t().contiguous().t().matmul(b), want, 0, 0));
  EXPECT_TRUE(tensors_match(a.matmul(b.t().contiguous().t()), want, 0, 0));
  // Strided slices and an expanded operand.
  const Tensor wide = arange(24, kFloat64).view({3, 8}).slice(1, 0, std::nullopt, 2);  // [3, 4]
  EXPECT_TRUE(tensors_match(wide.matmul(b), wide.contiguous().matmul(b), 0, 0));
  const Tensor rows = tensor({1.0, 2.0, 3.0, 4.0}, kFloat64).expand({3, 4});
  EXPECT_TRUE(tensors_match(rows.matmul(b), rows.contiguous().matmul(b), 0, 0));
  // The operands are untouched and the result is a fresh contiguous tensor.
  EXPECT_EQ(values_as_double(a), values_as_double(arange(12, kFloat64)));
  EXPECT_TRUE(want.is_contiguous());
  EXPECT_FALSE(want.is_alias_of(a));
}

TEST(Matmul, IdentityAndEmptyDims) {
  const Tensor x = randn({4, 6}, kFloat64);
  EXPECT_TRUE(tensors_match(eye(4, kFloat64).matmul(x), x, 0, 0));
  EXPECT_TRUE(tensors_match(x.matmul(eye(6, kFloat64)), x, 0, 0));
  // K = 0: a sum of nothing is 0, whatever the output buffer held before.
  const Tensor z = empty({2, 0}).matmul(empty({0, 3}));
  EXPECT_EQ(z.sizes().vec(), (I{2, 3}));
  EXPECT_EQ(values_as_double(z), D(6, 0.0));
  EXPECT_EQ(empty({0}).matmul(empty({0})).item<double>(), 0.0);
  EXPECT_EQ(zeros({0, 3}).matmul(zeros({3, 2})).sizes().vec(), (I{0, 2}));
  EXPECT_EQ(zeros({2, 3}).matmul(zeros({3, 0})).sizes().vec(), (I{2, 0}));
  EXPECT_EQ(zeros({0, 2, 3}).matmul(zeros({3, 4})).sizes().vec(), (I{0, 2, 4}));
}

TEST(Matmul, LargerAgainstNaiveDouble) {
  Generator g(3);
  const Tensor a = randn({37, 53}, kFloat32, &g);
  const Tensor b = randn({53, 19}, kFloat32, &g);
  const D want = naive_bmm(values_as_double(a), values_as_double(b), 1, 37, 53, 19, 0, 0);
  const D got = values_as_double(a.matmul(b));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4) << i;
}

TEST(Matmul, Errors) {
  TT_EXPECT_THROW_WITH(zeros({2, 3}).matmul(zeros({4, 5})), Error, "matmul", "[2, 3]", "[4, 5]");
  TT_EXPECT_THROW_WITH(zeros({3}).matmul(zeros({4})), Error, "matmul", "[3]", "[4]");
  TT_EXPECT_THROW_WITH(zeros({2, 3}).matmul(zeros({2})), Error, "matmul", "[2, 3]", "[2]");
  TT_EXPECT_THROW_WITH(zeros({2, 2, 3}).matmul(zeros({3, 3, 2})), Error, "matmul", "[2, 2, 3]",
                       "[3, 3, 2]");
  TT_EXPECT_THROW_WITH(tensor(1.0).matmul(zeros({3})), Error, "matmul", "0D");
  TT_EXPECT_THROW_WITH(zeros({3}).matmul(tensor(1.0)), Error, "matmul", "0D");
  TT_EXPECT_THROW_WITH(zeros({2, 3}).matmul(zeros({3, 2}, kFloat64)), TypeError, "matmul",
                       "float32", "float64");
  TT_EXPECT_THROW_WITH(zeros({2, 2}, kBool).matmul(zeros({2, 2}, kBool)), TypeError, "matmul",
                       "bool");
  TT_EXPECT_THROW_WITH(mm(zeros({3}), zeros({3, 2})), Error, "mm", "[3]", "[3, 2]");
  TT_EXPECT_THROW_WITH(zeros({2, 2, 2}).mm(zeros({2, 2})), Error, "mm", "[2, 2, 2]");
}

}  // namespace
}  // namespace tinytorch
