// milestones/common/checkpointed_gpt.h — the GPT's training forward with its transformer blocks
// checkpointed (utils/checkpoint.h): milestone 2017's --checkpoint-segments and the bench that
// measures what it saves.
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
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

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

}  // namespace tinytorch::milestones
