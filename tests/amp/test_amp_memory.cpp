// What a training step's forward keeps alive for its backward, in float32 and under bf16
// autocast, counted exactly: the allocator's live bytes after the forward and the loss, minus
// before (core/allocator.h counts the bytes it hands out, no rounding), against a sum derived
// tensor by tensor from what each backward formula saves (the same formulas as PyTorch's
// derivatives.yaml: addmm saves its two matrices, gelu its input, native_layer_norm its input,
// weight, bias, mean and rstd, _log_softmax its result, nll_loss its input and target, the fused
// attention q, k, v, its output and the float32 logsumexp). A byte more — a float32 copy where
// the bf16 one serves, a view that had to copy — fails the test.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/graph_viz.h"
#include "tinytorch/core/allocator.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace F = tinytorch::nn::functional;

namespace {

// A transformer's heads as GPT's split_heads makes them: q, k, v [B, H, T, hd], views of one
// [B, T, 3, H, hd] projection (strides T·3d, hd, 3d, 1).
std::vector<tt::Tensor> heads(int64_t B, int64_t T, int64_t H, int64_t hd, tt::ScalarType dtype) {
  return tt::randn({B, T, 3, H, hd}).to(dtype).permute({2, 0, 3, 1, 4}).unbind(0);
}

// The graph's saved tensors by node and dtype (autograd::saved_tensor_bytes), one per line: what
// a failing count prints, to say which node keeps the bytes that differ.
std::string saved_table(const tt::Tensor& loss) {
  std::ostringstream os;
  for (const auto& row : tt::autograd::saved_tensor_bytes(loss)) {
    os << "  " << row.node << " " << row.dtype << ": " << row.tensors << " tensors, " << row.bytes
       << " bytes\n";
  }
  return os.str();
}

}  // namespace

TEST(AmpMemory, LowPrecisionAttentionOutputIsLaidOutLikeTheQuery) {
  // The bf16/f16 attention computes in float32 on widened q, k, v (views of one float32 copy of
  // their projection); its rounded output must be [B, T, H, hd] memory like the float32 op's, so
  // merge_heads' transpose(1, 2).reshape is a view. A [B, H, T, hd] output would make that
  // reshape copy, and GPT's c_proj would save the copy besides the output the attention saves.
  const int64_t B = 2, T = 5, H = 3, hd = 4;
  tt::manual_seed(0);
  for (const tt::ScalarType dtype : {tt::kBFloat16, tt::kHalf, tt::kFloat32}) {
    const std::vector<tt::Tensor> qkv = heads(B, T, H, hd, dtype);
    const tt::Tensor out =
        tt::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], {}, 0.0, /*is_causal=*/true);
    EXPECT_EQ(out.dtype(), dtype);
    EXPECT_EQ(out.strides().vec(), (std::vector<int64_t>{T * H * hd, hd, H * hd, 1})) << dtype;
    const tt::Tensor merged = out.transpose(1, 2).reshape({B, T, H * hd});
    EXPECT_EQ(merged.data_ptr(), out.data_ptr()) << dtype << ": merging the heads copied";
    if (dtype == tt::kFloat32) continue;
    // The values are the float32 attention's on the widened inputs, rounded once (bit for bit
    // what the contiguous result was): only the layout changed.
    const tt::Tensor expected =
        tt::scaled_dot_product_attention(qkv[0].to(tt::kFloat32), qkv[1].to(tt::kFloat32),
                                         qkv[2].to(tt::kFloat32), {}, 0.0, true)
            .to(dtype);
    EXPECT_TRUE(out.equal(expected)) << dtype;
  }
}

TEST(AmpMemory, GptForwardKeepsExactlyWhatItsBackwardNeeds) {
  // GPT (bias on, untied, no dropout) with L layers, d = n_embd, H heads, V tokens; a batch
  // [B, T]; BT = B·T rows; f32 = 4 bytes, lp = 2 (bfloat16). What the forward + cross-entropy
  // leaves alive, by the node that keeps it:
  //   the residual stream, float32 in both modes (an add of float32 and bf16 promotes): x_0 (the
  //     embeddings' sum), r_l and x_{l+1} per layer — 2L + 1 tensors [BT, d], each the input a
  //     LayerNorm saves (ln_1, ln_2 per layer, ln_f);
  //   each of the 2L + 1 LayerNorms' mean and rstd: [BT] float64 each;
  //   each LayerNorm's output as the Linear after it saves it: float32, or under autocast only
  //     its bf16 cast (the float32 output is freed: ToCopyBackward0 saves nothing);
  //   per layer: qkv [BT, 3d] (the attention saves q, k, v, views of it), the attention's output
  //     [BT, d] (saved by the attention and, as a view, by c_proj), its logsumexp [B, H, T]
  //     float32, c_fc's output [BT, 4d] (GELU's input) and GELU's output [BT, 4d] (mlp.c_proj's);
  //   NOT the bf16 casts of the Linear weights (12d² per layer and lm_head's V·d): the addmm
  //     nodes that save them keep the float32 parameters instead, alive before, and cast again
  //     in backward (autograd/saved_variable.h, rule 4); the casts die with the region's cache;
  //   the positions arange(T) int64 (wpe's EmbeddingBackward0; the token ids were alive before);
  //   log_softmax's output [BT, V] float32 in both modes (cross_entropy runs in float32), which
  //     nll_loss saves too; and the loss, one float32.
  const int64_t B = 2, T = 8, L = 2, H = 2, d = 16, V = 10, BT = B * T;
  const int64_t f32 = 4, lp = 2, f64 = 8, i64 = 8;
  const auto expected = [&](int64_t act) {  // act: the element size the activations run in
    const int64_t per_layer =
        BT * 3 * d * act + BT * d * act + B * H * T * f32 + 2 * BT * 4 * d * act;
    return (2 * L + 1) * (BT * d * f32 + 2 * BT * f64 + BT * d * act) + L * per_layer + T * i64 +
           BT * V * f32 + f32;
  };
  tt::nn::GPTConfig config;
  config.vocab_size = V;
  config.block_size = T;
  config.n_layer = L;
  config.n_head = H;
  config.n_embd = d;
  tt::manual_seed(0);
  tt::nn::GPT model(config);
  const tt::Tensor x = tt::randint(0, V, {B, T}, tt::kInt64);
  const tt::Tensor y = tt::randint(0, V, {B, T}, tt::kInt64);
  for (const bool autocast : {false, true}) {
    tt::Allocator* allocator = tt::get_allocator();
    const int64_t before = allocator->stats().live_bytes;
    tt::Tensor loss;
    {
      std::optional<tt::autocast::AutocastGuard> guard;
      if (autocast) guard.emplace(tt::kCPU, tt::kBFloat16);
      loss = F::cross_entropy(model->forward(x).reshape({-1, V}), y.reshape({-1}));
    }  // the region's end frees the weight-cast cache: what stays is what the graph saved
    EXPECT_EQ(allocator->stats().live_bytes - before, expected(autocast ? lp : f32))
        << (autocast ? "bf16 autocast" : "float32") << ", saved:\n"
        << saved_table(loss);
  }
}
