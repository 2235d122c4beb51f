// Module 11 — the embedding op: the native gather and scatter-add against PyTorch
// (tests/data/module11_reference.json, tools/reference/gen_module11.py) — outputs and weight
// gradients with duplicate indices, padding_idx and index tensors of rank 0-3; float64
// gradchecks; the index checks (a bad index is named, never read); nn::Embedding (init, padding
// row, printing, state_dict) and learned positions. The gradient tests need module 05.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/native/embedding.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace F = tinytorch::nn::functional;
using test::json;

const json& cases() {
  return test::load_reference("module11_reference.json").at("cases");
}

std::optional<int64_t> padding_of(const json& c) {
  return c.at("padding_idx").is_null() ? std::nullopt
                                       : std::optional<int64_t>(c.at("padding_idx").get<int64_t>());
}

// ── the native kernels against PyTorch (no autograd needed) ───────────────────────────────────

// The forward (Part 1) and the backward (Part 2) are separate tests, so that each part's
// "Test it now" runs only what that part has written.
TEST(EmbeddingReference, GatherMatchesPyTorch) {
  int n = 0;
  for (const json& c : cases()) {
    if (c.at("op") != "embedding") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor w = test::tensor_from_json(c.at("weight"));
    const Tensor idx = test::tensor_from_json(c.at("indices"));
    // The gather copies rows: exactly PyTorch's values, bit for bit.
    EXPECT_TRUE(test::tensors_match(native::embedding(w, idx), c.at("output"), 0, 0));
    ++n;
  }
  EXPECT_GE(n, 8);
}

TEST(EmbeddingReference, ScatterAddMatchesPyTorch) {
  int n = 0;
  for (const json& c : cases()) {
    if (c.at("op") != "embedding") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor w = test::tensor_from_json(c.at("weight"));
    const Tensor idx = test::tensor_from_json(c.at("indices"));
    // The native takes a resolved row (PyTorch's negative padding_idx counts from the end), or −1.
    const std::optional<int64_t> padding = padding_of(c);
    const int64_t p = !padding ? -1 : (*padding < 0 ? *padding + w.size(0) : *padding);
    const Tensor gw = native::embedding_dense_backward(test::tensor_from_json(c.at("grad_output")),
                                                       idx, w.size(0), p);
    EXPECT_TRUE(test::tensors_match(gw, c.at("grad_weight"), 1e-6, 1e-6));
    ++n;
  }
  EXPECT_GE(n, 8);
}

TEST(EmbeddingReference, FunctionalForwardAndGradientsThroughAutograd) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const json& c : cases()) {
    if (c.at("op") != "embedding") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor w = test::tensor_from_json(c.at("weight")).requires_grad_();
    const Tensor y = F::embedding(test::tensor_from_json(c.at("indices")), w,
                                  F::EmbeddingFuncOptions().padding_idx(padding_of(c)));
    EXPECT_TRUE(test::tensors_match(y, c.at("output"), 0, 0));
    EXPECT_EQ(y.grad_fn()->name(), "EmbeddingBackward0");
    y.backward(test::tensor_from_json(c.at("grad_output")));
    EXPECT_TRUE(test::tensors_match(w.grad(), c.at("grad_weight"), 1e-6, 1e-6));
  }
}

// ── the backward's rules, by hand ─────────────────────────────────────────────────────────────

// Index 2 three times: its row's gradient is the sum of the three output rows' gradients; rows
// no index used get zero; the padding row gets zero even though index 0 was looked up.
TEST(EmbeddingBackward, DuplicatesAreSummedUnusedRowsAndThePaddingRowGetZero) {
  const Tensor idx = tensor({2, 0, 2, 2}, kInt64);
  const Tensor g = tensor({{1.0f, 10.0f}, {5.0f, 5.0f}, {2.0f, 20.0f}, {4.0f, 40.0f}});
  const Tensor gw = native::embedding_dense_backward(g, idx, 4, /*padding_idx=*/0);
  EXPECT_EQ(gw.sizes(), IntArrayRef({4, 2}));
  EXPECT_EQ(gw.to_vector<float>(), (std::vector<float>{0, 0, 0, 0, 7, 70, 0, 0}));
  const Tensor no_padding = native::embedding_dense_backward(g, idx, 4, -1);
  EXPECT_EQ(no_padding.select(0, 0).to_vector<float>(), (std::vector<float>{5, 5}));
}

TEST(EmbeddingBackward, GradientsAccumulateOverCallsAndThroughWeightTying) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor w = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}).requires_grad_();
  // The same table as embedding (ids → vectors) and as output projection (vectors → logits), as
  // a GPT with tie_weights does: both uses' gradients add up in w.grad.
  const Tensor h = embedding(w, tensor({1, 1}, kInt64));  // [2, 2]
  const Tensor logits = matmul(h, w.t());                 // [2, 3]
  logits.sum().backward();
  // ∂/∂w of Σ h·wᵀ: through the projection each row v gets Σ_i h_i = 2·w[1] = (6, 8); through
  // the lookup row 1 gets 2·Σ_v w[v] = 2·(9, 12) = (18, 24).
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{6, 8, 24, 32, 6, 8}));
}

// ── float64 gradchecks ────────────────────────────────────────────────────────────────────────

TEST(EmbeddingGradcheck, WeightWithDuplicatesAndRank2Indices) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Generator gen(5);
  const Tensor w = randn({5, 3}, kFloat64, &gen).requires_grad_();
  const Tensor idx = tensor({{4, 1, 1}, {0, 4, 4}}, kInt64);
  // padding_idx 2 is a row no index uses: the function is then still differentiable everywhere.
  for (int64_t padding : {int64_t{-1}, int64_t{2}}) {
    SCOPED_TRACE("padding_idx " + std::to_string(padding));
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          // A non-linear function of the output, so every row's gradient differs.
          const Tensor y = embedding(in[0], idx, padding);
          return y * y;
        },
        {w});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

// A padding row that IS looked up: the forward reads it, but its gradient is zero by decree (it
// is a constant of the model, not a parameter) — finite differences would disagree, so the
// check is: the other rows' gradients equal those without padding, the padding row's is zero.
TEST(EmbeddingGradcheck, AUsedPaddingRowIsTreatedAsAConstant) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Generator gen(6);
  const Tensor base = randn({5, 3}, kFloat64, &gen);
  const Tensor idx = tensor({{4, 1, 1}, {0, 4, 4}}, kInt64);
  const auto grad_with = [&](int64_t padding) {
    const Tensor w = base.clone().requires_grad_();
    const Tensor y = embedding(w, idx, padding);
    (y * y).sum().backward();
    return w.grad();
  };
  const Tensor plain = grad_with(-1), padded = grad_with(4);
  EXPECT_GT(plain.select(0, 4).abs().sum().item<double>(), 0.0);  // row 4 is used...
  EXPECT_TRUE(padded.select(0, 4).equal(zeros({3}, kFloat64)));   // ...and gets nothing
  EXPECT_TRUE(padded.narrow(0, 0, 4).equal(plain.narrow(0, 0, 4)));
}

// ── the index checks ──────────────────────────────────────────────────────────────────────────

TEST(EmbeddingErrors, AnOutOfRangeIndexIsNamedWithTheTableSize) {
  const Tensor w = zeros({10, 4});
  TT_EXPECT_THROW_WITH(embedding(w, tensor({3, 12, 1}, kInt64)), IndexError, "embedding",
                       "index 12", "out of range for a table of 10 rows", "[0, 10)");
  TT_EXPECT_THROW_WITH(embedding(w, tensor({-1}, kInt64)), IndexError, "index -1");
  // Far outside any memory: still the same error, never a read.
  TT_EXPECT_THROW_WITH(embedding(w, tensor({std::numeric_limits<int64_t>::max()}, kInt64)),
                       IndexError, "index 9223372036854775807");
  // Through the module: EmbeddingModule.AnOutOfRangeIndexIsNamedWithTheTableSize (Part 3).
}

TEST(EmbeddingErrors, IndicesMustBeInt64AndTheWeightTwoDimensional) {
  TT_EXPECT_THROW_WITH(embedding(zeros({4, 2}), tensor({1.0f, 2.0f})), TypeError, "embedding",
                       "expected indices of dtype int64", "float32");
  TT_EXPECT_THROW_WITH(embedding(zeros({8}), tensor({1}, kInt64)), Error, "embedding",
                       "[num_embeddings, embedding_dim]", "[8]");
  TT_EXPECT_THROW_WITH(embedding(zeros({4, 2}, kInt64), tensor({1}, kInt64)), TypeError,
                       "floating-point weight");
}

TEST(EmbeddingErrors, PaddingIdxMustLieInTheTable) {
  TT_EXPECT_THROW_WITH(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(10)), ValueError,
                       "Embedding", "padding_idx must be within num_embeddings", "got 10");
  TT_EXPECT_THROW_WITH(nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(-11)), ValueError,
                       "got -11");
  TT_EXPECT_THROW_WITH(
      F::embedding(tensor({1}, kInt64), zeros({4, 2}), F::EmbeddingFuncOptions().padding_idx(4)),
      ValueError, "padding_idx must be within num_embeddings");
}

// ── nn::Embedding ─────────────────────────────────────────────────────────────────────────────

TEST(EmbeddingModule, WeightIsStandardNormalWithThePaddingRowZero) {
  nn::Embedding emb(nn::EmbeddingOptions(400, 50).padding_idx(3));
  ASSERT_EQ(emb->named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(emb->weight.sizes(), IntArrayRef({400, 50}));
  EXPECT_TRUE(emb->weight.requires_grad());
  const Tensor w = emb->weight.detach().to(kFloat64);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.02);                      // 20,000 draws
  EXPECT_NEAR(std::sqrt(w.var().item<double>()), 1.0, 0.02);            // N(0, 1), not U
  EXPECT_TRUE(emb->weight.select(0, 3).equal(zeros({50})));             // the padding row
  EXPECT_GT(emb->weight.select(0, 4).abs().sum().item<float>(), 0.0f);  // the others are not
  EXPECT_EQ(*emb->options.padding_idx(), 3);
  nn::Embedding last(nn::EmbeddingOptions(6, 2).padding_idx(-1));
  EXPECT_EQ(*last->options.padding_idx(), 5);  // resolved, as PyTorch stores it
  EXPECT_TRUE(last->weight.select(0, 5).equal(zeros({2})));
}

TEST(EmbeddingModule, ForwardIsTheRowGatherAndThePaddingRowGetsNoGradient) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::Embedding emb(nn::EmbeddingOptions(5, 3).padding_idx(0));
  const Tensor ids = tensor({{0, 2, 2}, {4, 0, 1}}, kInt64);
  const Tensor y = emb->forward(ids);
  EXPECT_EQ(y.sizes(), IntArrayRef({2, 3, 3}));
  EXPECT_TRUE(y.select(0, 1).select(0, 0).equal(emb->weight.select(0, 4)));
  y.sum().backward();
  EXPECT_TRUE(emb->weight.grad().select(0, 0).equal(zeros({3})));  // padding: none
  EXPECT_TRUE(emb->weight.grad().select(0, 2).equal(full({3}, 2.0)));
  EXPECT_TRUE(emb->weight.grad().select(0, 3).equal(zeros({3})));  // unused
}

// The module's forward reports a bad index as F::embedding does (its constructor runs Part 3's
// reset_parameters, so this lives here rather than with Part 1's EmbeddingErrors).
TEST(EmbeddingModule, AnOutOfRangeIndexIsNamedWithTheTableSize) {
  nn::Embedding emb(nn::EmbeddingOptions(65, 8));
  TT_EXPECT_THROW_WITH(emb->forward(tensor({{0, 65}}, kInt64)), IndexError, "index 65",
                       "table of 65 rows");
}

TEST(EmbeddingModule, PrintsLikePyTorch) {
  int checked = 0;
  for (const json& c : cases()) {
    if (c.at("op") != "repr") continue;
    const std::string name = c.at("name");
    std::shared_ptr<nn::Module> m;
    if (name == "repr_embedding") {
      m = nn::Embedding(10, 3).ptr();
    } else if (name == "repr_embedding_padding") {
      m = nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(0)).ptr();
    } else if (name == "repr_embedding_negative_padding") {
      m = nn::Embedding(nn::EmbeddingOptions(65, 128).padding_idx(-1)).ptr();
    } else {
      ADD_FAILURE() << "no C++ module for reference case " << name;
      continue;
    }
    std::ostringstream os;
    os << *m;
    EXPECT_EQ(os.str(), c.at("expected").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(EmbeddingModule, StateDictRoundTrip) {
  nn::Embedding a(nn::EmbeddingOptions(7, 4)), b(nn::EmbeddingOptions(7, 4));
  b->load_state_dict(a->state_dict());
  EXPECT_TRUE(b->weight.equal(a->weight));
}

// GPT-2's learned positions: an Embedding over arange(T), broadcast over the batch.
TEST(EmbeddingModule, LearnedPositionsAreAnEmbeddingOverArange) {
  nn::Embedding wte(nn::EmbeddingOptions(11, 6)), wpe(nn::EmbeddingOptions(8, 6));
  const Tensor ids = tensor({{3, 1, 4, 1, 5}, {9, 2, 6, 5, 3}}, kInt64);  // [B = 2, T = 5]
  const Tensor pos = arange(5, kInt64);
  const Tensor x = wte->forward(ids) + wpe->forward(pos);  // [2, 5, 6] + [5, 6]
  EXPECT_EQ(x.sizes(), IntArrayRef({2, 5, 6}));
  EXPECT_TRUE(
      x.select(0, 1).select(0, 4).allclose(wte->weight.select(0, 3) + wpe->weight.select(0, 4)));
}

}  // namespace
}  // namespace tinytorch
