// Module 11 — hidden tests: the embedding against its definition (a one-hot matrix product) on
// duplicate-heavy random indices; strided indices and weights; empty lookups; the backward's own
// index check; the padding row through an optimizer step; dtype handling of the positional table.
// The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/native/embedding.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

// onehot [n, V] with a 1 at (i, ids[i]).
Tensor one_hot_float64(const Tensor& ids, int64_t V) {
  Tensor out = zeros({ids.numel(), V}, kFloat64);
  const std::vector<int64_t> v = ids.reshape({-1}).to_vector<int64_t>();
  double* p = out.data_ptr<double>();
  for (size_t i = 0; i < v.size(); ++i) p[static_cast<int64_t>(i) * V + v[i]] = 1.0;
  return out;
}

// forward = onehot · W and backward = onehotᵀ · g: the definition the gather and the scatter-add
// replace, on 3,000 ids into 37 rows (about 80 duplicates per row).
TEST(EmbeddingHidden, GatherAndScatterAddEqualTheOneHotProducts) {
  Generator gen(11);
  const int64_t V = 37, D = 9;
  const Tensor w = randn({V, D}, kFloat64, &gen);
  const Tensor ids = randint(0, V, {30, 100}, kInt64, &gen);
  Tensor oh;
  TT_GRADE_EXPECTED_ONLY(oh = one_hot_float64(ids, V));
  TT_GRADE_TENSOR(native::embedding(w, ids).reshape({-1, D}), matmul(oh, w), 0, 0);
  const Tensor g = randn({30, 100, D}, kFloat64, &gen);
  const Tensor gw = native::embedding_dense_backward(g, ids, V, -1);
  TT_GRADE_TENSOR(gw, matmul(oh.t(), g.reshape({-1, D})), 1e-12, 1e-12);
}

TEST(EmbeddingHidden, StridedIndicesAndWeightViews) {
  const Tensor table = arange(24, kFloat32).reshape({4, 6});  // weight = tableᵀ: [6, 4], strided
  const Tensor w = table.t();
  const Tensor ids = tensor({{5, 0, 2}, {1, 5, 3}}, kInt64).t();  // [3, 2], strided
  const Tensor y = embedding(w, ids);
  TT_GRADE_EQ(y.sizes(), IntArrayRef({3, 2, 4}));
  TT_GRADE_EQ(y, embedding(w.contiguous(), ids.contiguous()));
  TT_GRADE_EQ(y.select(0, 2).select(0, 1), w.select(0, 3));
}

TEST(EmbeddingHidden, EmptyLookupsGiveEmptyOutputsAndZeroGradients) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor w = ones({5, 3}).requires_grad_();
  const Tensor y = embedding(w, zeros({2, 0}, kInt64));
  TT_GRADE_EQ(y.sizes(), IntArrayRef({2, 0, 3}));
  y.sum().backward();
  TT_GRADE_EQ(w.grad(), zeros({5, 3}));
  // A table of no rows: every index is out of range.
  TT_GRADE_THROW_WITH(embedding(zeros({0, 3}), tensor({0}, kInt64)), IndexError, "table of 0 rows");
}

TEST(EmbeddingHidden, TheBackwardChecksIndicesAndShapesOnItsOwn) {
  TT_GRADE_THROW_WITH(
      native::embedding_dense_backward(zeros({3, 2}), tensor({0, 7, 1}, kInt64), 5, -1), IndexError,
      "index 7", "flat position 1");
  TT_GRADE_THROW_WITH(
      native::embedding_dense_backward(zeros({3, 2}), tensor({0, 1}, kInt64), 5, -1), Error,
      "grad_output must have the shape");
}

TEST(EmbeddingHidden, ThePaddingRowStaysZeroThroughTraining) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  nn::Embedding emb(nn::EmbeddingOptions(6, 4).padding_idx(2));
  optim::Adam adam(emb->parameters(), optim::AdamOptions(0.1));
  for (int step = 0; step < 3; ++step) {
    adam.zero_grad();
    emb->forward(tensor({{2, 2, 1}, {0, 2, 5}}, kInt64)).pow(2).sum().backward();
    adam.step();
  }
  TT_GRADE_EQ(emb->weight.select(0, 2), zeros({4}));
}

TEST(EmbeddingHidden, Float64TablesAndPositionalDtypes) {
  nn::Embedding emb(nn::EmbeddingOptions(4, 2).dtype(kFloat64));
  TT_GRADE_EQ(emb->forward(tensor({1}, kInt64)).dtype(), kFloat64);
  nn::SinusoidalPositionalEncoding pos(6, 4);  // a float32 table
  const Tensor y = pos->forward(zeros({2, 5, 4}, kFloat64));
  TT_GRADE_EQ(y.dtype(), kFloat64);
  TT_GRADE_TENSOR(y.select(0, 1), pos->pe.narrow(0, 0, 5).to(kFloat64), 1e-5, 1e-8);
  // A zero-length sequence adds nothing.
  TT_GRADE_EQ(pos->forward(zeros({3, 0, 4})).sizes(), IntArrayRef({3, 0, 4}));
}

}  // namespace
}  // namespace tinytorch
