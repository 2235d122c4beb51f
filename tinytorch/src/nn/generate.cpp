// Module 13 — sampling from a GPT (modules/13_transformers/README.md, Part 5): turning the last
// position's logits into the next token (greedy, temperature, top-k), and the generation loop
// that feeds each new token back in — recomputing the whole context, or (use_cache, module 17)
// feeding only the new token and reusing every earlier position's keys and values.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/modules/transformer.h"

namespace tinytorch::nn {

namespace {

void check_options(const GenerateOptions& o, const char* who) {
  TT_CHECK_VALUE(o.max_new_tokens >= 0, who, ": max_new_tokens must be >= 0, but got ",
                 o.max_new_tokens);
  TT_CHECK_VALUE(o.top_k >= 0, who, ": top_k must be >= 0 (0 = no top-k filter), but got ",
                 o.top_k);
  TT_CHECK_VALUE(o.greedy || (std::isfinite(o.temperature) && o.temperature > 0.0), who,
                 ": temperature must be a positive finite number, but got ", o.temperature,
                 " (for the most likely token use greedy(true))");
}

// One token from one row of logits [V].
int64_t sample_row(std::span<const double> logits, const GenerateOptions& options,
                   Generator& generator) {
  // BEGIN SOLUTION
  const auto V = static_cast<int64_t>(logits.size());
  if (options.greedy) {  // the first maximum, as argmax
    return std::max_element(logits.begin(), logits.end()) - logits.begin();
  }
  // Temperature: softmax(z / τ). τ → 0 approaches argmax, τ = 1 is the model's distribution,
  // τ > 1 flattens it.
  std::vector<double> z(logits.begin(), logits.end());
  for (double& v : z) v /= options.temperature;
  // Top-k: every logit below the k-th largest is removed (ties with it stay, as nanoGPT's
  // `logits[logits < v[:, [-1]]] = -inf`).
  double threshold = -INFINITY;
  if (options.top_k > 0 && options.top_k < V) {
    std::vector<double> sorted = z;
    std::nth_element(sorted.begin(), sorted.begin() + (options.top_k - 1), sorted.end(),
                     std::greater<>());
    threshold = sorted[options.top_k - 1];
  }
  // The softmax over the kept logits (max subtracted: exp never overflows), then inverse-CDF
  // sampling: the first token whose cumulative weight exceeds u · total, u ~ U[0, 1).
  const double zmax = *std::max_element(z.begin(), z.end());
  double total = 0.0;
  for (double& v : z) {
    v = v >= threshold ? std::exp(v - zmax) : 0.0;
    total += v;
  }
  const double u = generator.uniform_double() * total;
  double cumulative = 0.0;
  int64_t last_kept = 0;
  for (int64_t i = 0; i < V; ++i) {
    if (z[i] == 0.0) continue;
    cumulative += z[i];
    last_kept = i;
    if (u < cumulative) return i;
  }
  return last_kept;  // u within rounding of the total
  // END SOLUTION
}

// Sets a module tree to eval mode and puts every module's own flag back when it goes out of
// scope (a model may have, e.g., frozen eval-mode parts).
class EvalModeGuard {
 public:
  explicit EvalModeGuard(Module& root) : root_(root), root_was_training_(root.is_training()) {
    for (const auto& m : root.modules(/*include_self=*/false))
      saved_.emplace_back(m, m->is_training());
    root.eval();
  }
  ~EvalModeGuard() {
    root_.train(root_was_training_);
    for (const auto& [m, was_training] : saved_) m->train(was_training);
  }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  Module& root_;
  bool root_was_training_;
  std::vector<std::pair<std::shared_ptr<Module>, bool>> saved_;
};

}  // namespace

Tensor sample_next_token(const Tensor& logits, const GenerateOptions& options,
                         Generator& generator) {
  check_options(options, "sample_next_token");
  TT_CHECK(logits.dim() == 2 && logits.size(1) >= 1,
           "sample_next_token: expected logits of shape [B, V] with V >= 1, but got shape ",
           logits.sizes());
  TT_CHECK_TYPE(logits.is_floating_point(),
                "sample_next_token: expected floating-point logits, but got ", logits.dtype());
  const int64_t B = logits.size(0), V = logits.size(1);
  const std::vector<double> values = logits.to(kFloat64).to_vector<double>();  // row-major
  for (const double v : values) {
    TT_CHECK_VALUE(!std::isnan(v),
                   "sample_next_token: the logits contain NaN (did training "
                   "diverge? check the loss)");
  }
  Tensor next = empty({B}, kInt64);
  int64_t* out = next.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    out[b] = sample_row(std::span<const double>(values.data() + b * V, static_cast<size_t>(V)),
                        options, generator);
  }
  return next;
}

Tensor GPTImpl::generate(const Tensor& idx, const GenerateOptions& options) {
  check_options(options, "GPT.generate");
  TT_CHECK_TYPE(idx.dtype() == kInt64, "GPT.generate: expected token ids of dtype int64, but got ",
                idx.dtype());
  TT_CHECK(idx.dim() == 2 && idx.size(0) >= 1 && idx.size(1) >= 1,
           "GPT.generate: expected a prompt of shape [B, T0] with B, T0 >= 1, but got shape ",
           idx.sizes());
  detail::check_token_ids(idx, config.vocab_size, "GPT.generate");
  const NoGradGuard no_grad;
  const EvalModeGuard eval_mode(*this);  // no dropout while sampling
  Generator generator(options.seed);     // local: the global generator is not touched

  const int64_t B = idx.size(0), T0 = idx.size(1), total = T0 + options.max_new_tokens;
  const int64_t block = config.block_size;
  Tensor out = empty({B, total}, kInt64);  // prompt, then each new token as it is drawn
  out.narrow(1, 0, T0).copy_(idx);
  std::optional<KVCache> cache;
  if (options.use_cache) cache.emplace(make_cache(B));

  for (int64_t len = T0; len < total; ++len) {
    Tensor logits;  // [B, t, V]
    if (cache && len <= block) {
      // Feed only what the cache lacks: the whole prompt first (prefill), then one token.
      const int64_t past = cache->length();
      try {
        logits = forward(out.narrow(1, past, len - past), &*cache);
      } catch (const NotImplementedError& e) {
        // The cache is only a shortcut to the same tokens: in a learner's tree where module 17
        // is not written yet (its stubs throw naming it), generate recomputes instead.
        if (std::string_view(e.what()).find("module 17") == std::string_view::npos) throw;
        cache.reset();
      }
    }
    if (!logits.defined()) {
      // No cache, or the context outgrew block_size: the last block_size tokens, recomputed.
      // (Learned positions make the sliding window's keys change every step, so a cache
      // cannot be reused past block_size — RoPE models can roll theirs.)
      const int64_t start = std::max<int64_t>(0, len - block);
      logits = forward(out.narrow(1, start, len - start));
    }
    out.select(1, len).copy_(sample_next_token(logits.select(1, -1), options, generator));
  }
  return out;
}

}  // namespace tinytorch::nn
