// Module 13 lab — Use + Analyze: what a GPT is made of and what a training step costs, measured.
//
//   ./tito lab 13                 the full run (about half a minute on the 2-core course VM)
//   ./tito lab 13 --quick         a smaller model, a few seconds (a smoke test)
//   ./tito lab 13 --json out.json also write every measured figure to out.json
//   ./tito lab 13 --only AB       only some experiments (0, A-B)
//   ./tito lab 13 --threads 1     run the GEMMs and parallel loops on one thread
//
//   0  the parameters     where a GPT's parameters live (embeddings, attention, MLP, norms, head),
//                         the 12·L·d² + V·d + T·d formula against the count, and GPT-2 small's
//   A  a training step    forward and backward of the whole model: time, tokens/s, and the
//                         achieved GFLOP/s against the 6·N FLOPs-per-token rule (+ attention)
//   B  layer by layer     forward time of each part (embeddings, each block's attention and MLP,
//                         ln_f + lm_head) and its share of FLOPs against its share of time
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;
namespace F = nn::functional;

// The lab's model: the 2017 milestone's shape and vocabulary (the fortunes' 114 characters), fed
// random ids.
nn::GPTConfig lab_config(bool quick) {
  nn::GPTConfig c;
  c.vocab_size = 114;
  c.block_size = quick ? 32 : 64;
  c.n_layer = quick ? 2 : 4;
  c.n_head = 4;
  c.n_embd = quick ? 64 : 128;
  return c;
}

int64_t numel_sum(const std::vector<Tensor>& ps) {
  int64_t n = 0;
  for (const Tensor& p : ps) n += p.numel();
  return n;
}

std::string count_str(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

json experiment_parameters(const Config& cfg) {
  heading("0", "The parameters", "where they live, and the formula 12·L·d² + V·d + T·d");
  const nn::GPTConfig c = lab_config(cfg.quick);
  manual_seed(0);
  nn::GPT model(c);
  const int64_t L = c.n_layer, d = c.n_embd, V = c.vocab_size, T = c.block_size;
  const int64_t attn = numel_sum(model->blocks[0]->attn->parameters());
  const int64_t mlp = numel_sum(model->blocks[0]->mlp->parameters());
  const int64_t norms = numel_sum(model->blocks[0]->ln_1->parameters()) * 2;
  const int64_t total = model->num_parameters();
  Table t({"part", "parameters", "share"});
  auto row = [&](const std::string& name, int64_t n) {
    t.add({name, count_str(n),
           fixed(100.0 * static_cast<double>(n) / static_cast<double>(total), 1) + "%"});
  };
  row("wte (V·d)", V * d);
  row("wpe (T·d)", T * d);
  row("attention × L (4d² + 4d each)", L * attn);
  row("MLP × L (8d² + 5d each)", L * mlp);
  row("LayerNorms (4d per block + 2d)", L * norms + 2 * d);
  row("lm_head (V·d, untied)", V * d);
  t.add({"total (num_parameters)", count_str(total), "100%"});
  t.print();
  const int64_t formula = 12 * L * d * d + V * d + T * d;
  std::cout << "  12·L·d² + V·d + T·d = " << count_str(formula) << " (biases and norms left out; "
            << "an untied lm_head adds V·d = " << count_str(V * d) << ")\n";
  // GPT-2 small: L = 12, d = 768, V = 50257, T = 1024, lm_head tied to wte.
  const int64_t gpt2 = 12 * 12 * 768 * 768 + 50257 * 768 + 1024 * 768;
  std::cout << "  GPT-2 small (L=12, d=768, V=50257, T=1024, tied): 12·L·d² + V·d + T·d = "
            << count_str(gpt2) << "\n";
  meaning(
      "Each block holds 12·d² weights: 3d² for q, k, v, d² for the output projection, 8d² for "
      "the MLP's two d×4d matrices. With a character vocabulary the blocks dominate; with "
      "GPT-2's 50,257 BPE tokens the embedding table is almost a third of the model.");
  return {{"config", {{"V", V}, {"T", T}, {"L", L}, {"d", d}}},
          {"total", total},
          {"attention_per_block", attn},
          {"mlp_per_block", mlp},
          {"formula", formula},
          {"gpt2_small_formula", gpt2}};
}

// FLOPs of one forward over B·T tokens, per token: 2 per weight (a multiply and an add) for the
// GEMMs, plus attention's q·kᵀ and att·v: 2 · 2 · T · d per layer (causal: half of it useful).
double forward_flops_per_token(const nn::GPTConfig& c, int64_t T, int64_t n_matmul_params) {
  return 2.0 * static_cast<double>(n_matmul_params) +
         4.0 * static_cast<double>(c.n_layer * T * c.n_embd);
}

json experiment_step(const Config& cfg) {
  heading("A", "A training step", "forward + backward + AdamW over a batch of windows");
  const nn::GPTConfig c = lab_config(cfg.quick);
  manual_seed(1);
  nn::GPT model(c);
  const int64_t B = cfg.quick ? 8 : 16, T = c.block_size;
  Generator gen(2);
  const Tensor x = randint(0, c.vocab_size, {B, T}, kInt64, &gen);
  const Tensor y = randint(0, c.vocab_size, {B, T}, kInt64, &gen);
  optim::AdamW opt(model->parameters(), optim::AdamWOptions(3e-4));
  Tensor logits;
  auto forward = [&] {
    const NoGradGuard no_grad;
    logits = model(x);
    consume(static_cast<double>(logits.numel()));
  };
  auto step = [&] {
    opt.zero_grad();
    const Tensor loss = F::cross_entropy(model(x).reshape({-1, c.vocab_size}), y.reshape({-1}));
    loss.backward();
    opt.step();
    consume(loss.item<double>());
  };
  const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps, {forward, step});
  // The weights a token's GEMMs read: every parameter but the embedding tables (a lookup, no
  // FLOPs) — with the untied lm_head counted.
  const int64_t matmul_params =
      model->num_parameters() - c.vocab_size * c.n_embd - c.block_size * c.n_embd;
  const double fwd_per_token = forward_flops_per_token(c, T, matmul_params);
  const double tokens = static_cast<double>(B * T);
  Table t({"", "time", "tokens/s", "FLOPs/token", "GFLOP/s"});
  t.add({"forward (no graph)", human_time(ts[0].median), fixed(tokens / ts[0].median, 0),
         sci(fwd_per_token), fixed(fwd_per_token * tokens / ts[0].median / 1e9, 2)});
  t.add({"train step (fwd+bwd+AdamW)", human_time(ts[1].median), fixed(tokens / ts[1].median, 0),
         sci(3 * fwd_per_token), fixed(3 * fwd_per_token * tokens / ts[1].median / 1e9, 2)});
  t.print();
  std::cout << "  batch " << B << " × " << T
            << " tokens; N (GEMM weights) = " << count_str(matmul_params)
            << ", 6·N = " << sci(6.0 * static_cast<double>(matmul_params))
            << " FLOPs per trained token; step / forward = " << ratio(ts[1].median / ts[0].median)
            << "\n";
  meaning(
      "Training costs about 6 FLOPs per weight per token: 2 in the forward GEMMs and 4 in the "
      "backward (one GEMM for the input's gradient, one for the weight's). So the step should "
      "take about 3× the forward; more means the non-GEMM ops (softmax, LayerNorm, GELU, the "
      "optimizer) are not negligible at this small width.");
  return {{"batch", B},
          {"T", T},
          {"matmul_params", matmul_params},
          {"forward_flops_per_token", fwd_per_token},
          {"forward", to_json(ts[0])},
          {"train_step", to_json(ts[1])},
          {"train_tokens_per_s", tokens / ts[1].median}};
}

json experiment_layers(const Config& cfg) {
  heading("B", "Layer by layer", "forward time of each part, no graph");
  const nn::GPTConfig c = lab_config(cfg.quick);
  manual_seed(3);
  nn::GPT model(c);
  const int64_t B = cfg.quick ? 8 : 16, T = c.block_size, d = c.n_embd;
  Generator gen(4);
  const Tensor idx = randint(0, c.vocab_size, {B, T}, kInt64, &gen);
  const NoGradGuard no_grad;
  const Tensor pos = arange(T, kInt64);
  const Tensor h = model->wte(idx) + model->wpe(pos);
  const auto& block = model->blocks[0];
  const Tensor a_in = block->ln_1(h);
  const Tensor m_in = block->ln_2(h);
  const Tensor hidden = block->mlp->c_fc(m_in);  // [B, T, 4d]
  const Tensor activated = block->mlp->gelu(hidden);
  const std::vector<std::string> names = {
      "embeddings (wte + wpe)", "a LayerNorm",         "attention (one block)", "MLP c_fc (d → 4d)",
      "MLP GELU (exact, erf)",  "MLP c_proj (4d → d)", "ln_f + lm_head"};
  const double dd = static_cast<double>(d), Td = static_cast<double>(T);
  const std::vector<double> flops = {
      0.0,
      0.0,
      2.0 * 4 * dd * dd + 4.0 * Td * dd,  // projections + q·kᵀ, att·v
      2.0 * 4 * dd * dd,
      0.0,
      2.0 * 4 * dd * dd,
      2.0 * dd * static_cast<double>(c.vocab_size)};
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { consume(static_cast<double>((model->wte(idx) + model->wpe(pos)).numel())); },
       [&] { consume(static_cast<double>(block->ln_1(h).numel())); },
       [&] { consume(static_cast<double>(block->attn(a_in).numel())); },
       [&] { consume(static_cast<double>(block->mlp->c_fc(m_in).numel())); },
       [&] { consume(static_cast<double>(block->mlp->gelu(hidden).numel())); },
       [&] { consume(static_cast<double>(block->mlp->c_proj(activated).numel())); },
       [&] { consume(static_cast<double>(model->lm_head(model->ln_f(h)).numel())); }});
  // The whole forward: L blocks of (2 LayerNorms + attention + MLP) and the two ends.
  const double L = static_cast<double>(c.n_layer);
  const std::vector<double> count = {1, 2 * L + 1, L, L, L, L, 1};
  double total_t = 0, total_f = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    total_t += count[i] * ts[i].median;
    total_f += count[i] * flops[i];
  }
  Table t({"part", "time", "× count", "share of time", "share of FLOPs", "GFLOP/s"});
  json out = json::array();
  for (size_t i = 0; i < names.size(); ++i) {
    const double tokens = static_cast<double>(B * T);
    t.add({names[i], human_time(ts[i].median), fixed(count[i], 0),
           fixed(100.0 * count[i] * ts[i].median / total_t, 1) + "%",
           fixed(100.0 * count[i] * flops[i] / total_f, 1) + "%",
           flops[i] > 0 ? fixed(flops[i] * tokens / ts[i].median / 1e9, 1) : "—"});
    out.push_back({{"part", names[i]},
                   {"time", to_json(ts[i])},
                   {"count", count[i]},
                   {"flops_per_token", flops[i]}});
  }
  t.print();
  meaning(
      "Compare the two share columns. A part whose share of the time exceeds its share of the "
      "FLOPs is limited by something other than arithmetic: GELU's erf and the LayerNorms are "
      "memory passes with no GEMM FLOPs at all, and small GEMMs run below the machine's peak "
      "(the GFLOP/s column). The attention row is module 12's SDPA plus its projections; with the "
      "fused fast-tier kernel the T×T scores never reach memory.");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab13",
      .only_help = "e.g. --only AB (letters 0 A-B)",
      .threads_help = "threads for the GEMMs and parallel loops (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 7, 1};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const LabAllocator allocator(false);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 13 lab — what a GPT is made of, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  json machine = machine_json();
  machine["threads"] = get_num_threads();
  json doc = {{"lab", "13_transformers"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"machine", machine}};
  const int failed = run_experiments({{"0_parameters", [&] { return experiment_parameters(cfg); }},
                                      {"a_step", [&] { return experiment_step(cfg); }},
                                      {"b_layers", [&] { return experiment_layers(cfg); }}},
                                     opts, "13", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
