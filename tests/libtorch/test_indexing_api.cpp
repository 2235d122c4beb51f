// libtorch's tensor indexing API ("Tensor Indexing API" in the C++ frontend docs) through
// <torch/torch.h>: each test is written as a libtorch program would write it, with
// `using namespace torch::indexing`, and checks that it means here what it means in libtorch.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace torch::indexing;

std::vector<float> values(const torch::Tensor& t) {
  return t.to(torch::kFloat).to_vector<float>();
}

// The docs' table, Python on the left: every row's C++ spelling gives Python's shape.
TEST(TensorIndexing, TheDocsTranslationTable) {
  const torch::Tensor x = torch::randn({5, 6, 7});
  EXPECT_EQ(x.index({None}).sizes(), (std::vector<int64_t>{1, 5, 6, 7}));
  EXPECT_EQ(x.index({Ellipsis, 0}).sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(x.index({"...", 0}).sizes(), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(x.index({1, 2}).sizes(), (std::vector<int64_t>{7}));
  EXPECT_EQ(x.index({true, false}).sizes(),
            (std::vector<int64_t>{0, 5, 6, 7}));  // [1], [0] broadcast
  EXPECT_EQ(x.index({Slice(1, None)}).size(0), 4);
  EXPECT_EQ(x.index({Slice(None, 3)}).size(0), 3);
  EXPECT_EQ(x.index({Slice(None, None, 2)}).size(0), 3);
  EXPECT_EQ(x.index({Slice(1, 3), Slice(1, None, 2), Slice(None, 3, 2)}).sizes(),
            (std::vector<int64_t>{2, 3, 2}));
  EXPECT_EQ(x.index({torch::tensor({1, 2})}).sizes(), (std::vector<int64_t>{2, 6, 7}));
  EXPECT_EQ(x.index({Slice(), torch::tensor({{0, 1}, {4, 3}})}).sizes(),
            (std::vector<int64_t>{5, 2, 2, 7}));
}

// Found by fuzz_indexing (UBSan): a row of a tensor with a zero-sized dim is a view with a
// non-zero offset into no buffer; reading it (sum, and sum's backward) computed null + offset.
TEST(TensorIndexing, ViewsOfAnEmptyTensorReadNothing) {
  const torch::Tensor x = torch::zeros({3, 0, 4}).requires_grad_();
  for (const torch::Tensor& row :
       {x.index({torch::tensor(int64_t{-2})}), x.index({1}), x.index({Slice(2), Ellipsis})}) {
    EXPECT_EQ(row.numel(), 0);
    EXPECT_EQ(row.sum().item<float>(), 0.0F);
  }
  x.index({torch::tensor(int64_t{-2})}).sum().backward();
  EXPECT_EQ(x.grad().sizes(), x.sizes());
}

// Found by fuzz_indexing (UBSan): a slice whose step is INT64_MAX keeps one element with stride
// INT64_MAX, and the element-wise loop multiplied that stride by the element size (overflow).
TEST(TensorIndexing, AHugeStepKeepsOneElement) {
  const torch::Tensor x = torch::arange(12, torch::kFloat32).reshape({3, 4}).t();
  const torch::Tensor first = x.index({Slice(None, None, INDEX_MAX)});
  EXPECT_EQ(first.sizes(), torch::IntArrayRef({1, 3}));
  EXPECT_TRUE(first.clone().equal(x.index({Slice(0, 1)})));
  EXPECT_TRUE((first + 1).equal(x.index({Slice(0, 1)}) + 1));
}

TEST(TensorIndexing, SettersWriteIntoTheTensor) {
  torch::Tensor x = torch::zeros({3, 4});
  x.index_put_({Slice(), 0}, 1);                                   // x[:, 0] = 1
  x.index_put_({1, Slice(1, None)}, torch::tensor({2., 3., 4.}));  // x[1, 1:] = ...
  x.index({2, Slice(None, None, 2)}) = torch::full({2}, 5.);       // rvalue view: copies into x
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 0, 0, 1, 2, 3, 4, 5, 0, 5, 0}));
  x.index_put_({x > 2}, 0);  // x[x > 2] = 0
  EXPECT_EQ(values(x), (std::vector<float>{1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0}));
}

TEST(TensorIndexing, AtAliasAndVectorForm) {
  const at::Tensor x = at::arange(6).view({2, 3});
  std::vector<at::indexing::TensorIndex> idx;
  idx.emplace_back(at::indexing::Slice());
  idx.emplace_back(-1);
  EXPECT_EQ(values(x.index(idx)), (std::vector<float>{2, 5}));
  EXPECT_EQ(values(x.index({torch::indexing::Ellipsis, torch::indexing::Slice(1, 2)})),
            (std::vector<float>{1, 4}));
}

// A one-hot matrix and a cross entropy by hand: scatter_ and gather, as libtorch code writes them.
TEST(TensorIndexing, OneHotAndPickedLogProbabilities) {
  const torch::Tensor labels = torch::tensor({2, 0, 1});
  const torch::Tensor onehot = torch::zeros({3, 4}).scatter_(1, labels.unsqueeze(1), 1.0);
  EXPECT_EQ(values(onehot.sum(1)), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(values(onehot.argmax(1)), (std::vector<float>{2, 0, 1}));

  torch::Tensor logits = torch::randn({3, 4}, torch::requires_grad());
  const torch::Tensor logp = torch::log_softmax(logits, 1);
  const torch::Tensor loss = -logp.gather(1, labels.unsqueeze(1)).squeeze(1).mean();
  loss.backward();
  // The same gradient as the library's cross entropy.
  torch::Tensor same = logits.detach().clone().requires_grad_();
  torch::nn::functional::cross_entropy(same, labels).backward();
  EXPECT_TRUE(logits.grad().allclose(same.grad(), 1e-5, 1e-6));
}

TEST(TensorIndexing, AdvancedIndexingAndAccumulate) {
  torch::Tensor counts = torch::zeros({4}, torch::kLong);
  const torch::Tensor tokens = torch::tensor({3, 1, 3, 3});
  counts.index_put_({tokens}, torch::ones({4}, torch::kLong), /*accumulate=*/true);
  EXPECT_EQ(values(counts), (std::vector<float>{0, 1, 0, 3}));
  EXPECT_EQ(values(torch::nonzero(counts).squeeze(1)), (std::vector<float>{1, 3}));
  const torch::Tensor table = torch::arange(12, torch::kFloat).view({4, 3});
  EXPECT_EQ(values(torch::index_select(table, 0, tokens.index({Slice(None, 2)}))),
            (std::vector<float>{9, 10, 11, 3, 4, 5}));
  EXPECT_EQ(values(torch::masked_select(table, table.gt(8))), (std::vector<float>{9, 10, 11}));
}

TEST(TensorIndexing, ErrorsAreLibtorchs) {
  const torch::Tensor x = torch::zeros({3});
  EXPECT_THROW(x.index({3}), torch::IndexError);
  EXPECT_THROW(x.index({Slice(None, None, -1)}), torch::ValueError);
  EXPECT_THROW(x.index({torch::tensor({0.5})}), torch::IndexError);
  EXPECT_THROW(x.index({}), torch::Error);
}

}  // namespace
