// milestones/common/checkpointed_gpt.h — the GPT's training forward with its transformer blocks
// checkpointed (utils/checkpoint.h): milestone 2017's --checkpoint-segments and the bench that
// measures what it saves; and the training step's loss, under autocast or not (--autocast).
//
//   Tensor logits = gpt_forward(model, ids, /*segments=*/2);   // [B, T, V], as model->forward(ids)
//
//   ids ─► wte + wpe ─► drop ─► ┌ blocks 0 … L/N−1 ┐ … ┌ the last blocks ┐ ─► ln_f ─► lm_head
//                               └─ checkpointed ───┘   └ run as they are ┘
//
// segments = 0 is the model's own forward. 1 ≤ segments ≤ n_layer splits the blocks as
// checkpoint_sequential does: each segment but the last keeps only its input; its activations
// are recomputed in backward. So the live activations after the forward shrink from L blocks'
// to about (segments − 1) inputs plus L/segments blocks', for one more forward of those blocks.
//
//   Tensor loss = gpt_training_loss(model, ids, targets, segments, /*use_autocast=*/true);
//   loss.backward();  // outside the autocast region, as PyTorch advises
//
// gpt_training_loss is milestone 2017's training step up to backward: that forward and the loss,
// under bfloat16 autocast (--autocast bf16) or not.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/char_text.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/utils/checkpoint.h"

namespace tinytorch::milestones {

// NOTE: the embedding and the head repeat GPTImpl::forward's (a learner's module-13 code) so
// that its block loop can be checkpointed without changing the learner's forward; without a KV
// cache, since training needs none. ids: int64 [B, T], T ≤ block_size.
inline Tensor gpt_forward(nn::GPT& model, const Tensor& ids, int64_t segments) {
  const auto layers = static_cast<int64_t>(model->blocks.size());
  TT_CHECK_VALUE(segments >= 0 && segments <= layers, "checkpoint segments = ", segments,
                 " is out of range for a GPT of ", layers, " blocks (expected 0 to ", layers,
                 "; 0: no checkpointing)");
  if (segments == 0) return model->forward(ids);
  TT_CHECK_VALUE(ids.dim() == 2 && ids.size(1) <= model->config.block_size,
                 "gpt_forward: ids has shape ", ids.sizes(),
                 " (expected [B, T] with T <= ", model->config.block_size, ")");
  const Tensor pos = arange(0, ids.size(1), 1, kInt64);  // [T]
  const Tensor x = model->drop(model->wte(ids) + model->wpe(pos));
  std::vector<std::function<Tensor(const Tensor&)>> blocks;
  for (const nn::TransformerBlock& block : model->blocks) {
    blocks.emplace_back([block](const Tensor& h) { return block->forward(h); });
  }
  return model->lm_head(model->ln_f(utils::checkpoint_sequential(blocks, segments, x)));
}

// The training step's loss, ids and targets int64 [B, T] → the mean next-character
// cross-entropy, a float32 scalar: Python's
//
//   with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_autocast):
//       loss = F.cross_entropy(model(ids).view(-1, V), targets.view(-1))
//
// With autocast on, the region holds the forward AND the loss (amp/autocast.h's table): every
// linear layer and the attention run in bfloat16 (their float32 inputs and weights cast), the
// ops in no list in the dtype that reaches them (GELU bfloat16 on c_fc's output, LayerNorm
// float32), the residual stream stays float32 (float32 + bfloat16 promotes), and the
// cross-entropy casts the bfloat16 logits [B, T, V] up and runs in float32. The parameters stay
// float32 and get float32 gradients through the casts' backward. The region ends when this returns,
// so the caller's backward() and optimizer step run outside it; a checkpointed segment's recompute
// re-enters the region it was run under (utils/checkpoint.h). use_autocast = false: a disabled
// region, which is no region at all — the float32 step, unchanged.
inline Tensor gpt_training_loss(nn::GPT& model, const Tensor& ids, const Tensor& targets,
                                int64_t segments, bool use_autocast) {
  const autocast::AutocastGuard region(kCPU, kBFloat16, /*enabled=*/use_autocast);
  return next_char_loss(gpt_forward(model, ids, segments), targets);
}

}  // namespace tinytorch::milestones
