// Module 22 lab — Use + Analyze: what 16-bit floats lose, what they save, and what they cost,
// measured.
//
//   ./tito lab 22                 the full run
//   ./tito lab 22 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 22 --json out.json also write every measured figure to out.json
//   ./tito lab 22 --only CE       only some experiments (A-E)
//   ./tito lab 22 --threads 1     run the GEMMs and parallel loops on one thread
//
//   A  conversion error     float32 values in each binade 2^k … 2^(k+1), rounded to bfloat16 and
//                           to float16 and back: the largest relative error, and how many became
//                           0 (underflow) or inf (overflow)
//   B  GEMM                 float32 (kernels::gemm_fast) against bfloat16 operands with float32
//                           sums (kernels::gemm_bf16) on a Linear-sized product: GFLOP/s, and the
//                           error of each against a float64 GEMM
//   C  gradient magnitudes  one backward of the module-13 GPT: a histogram of |gradient| by
//                           power of two, against float16's range (subnormal below 2^-14, zero
//                           below 2^-25), without and with a loss scale of 2^16
//   D  memory budget        a GPT training step's bytes: parameters, gradients, float32 copies,
//                           Adam's state, activations kept for backward, the step's peak —
//                           float32, bfloat16 parameters (alone, with float32 Adam state and with
//                           amp::MasterWeights),
//                           autocast (where this build has each)
//   E  checkpointing        the same step with the blocks checkpointed in 0 … n_layer segments:
//                           activation bytes after the forward, the step's peak
//
// Memory is the tinytorch allocator's count of tensor bytes (core/allocator.h), not the process's
// RSS. Rates are the median of several timed samples after a warm-up call.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/char_text.h"
#include "common/checkpointed_gpt.h"
#include "lab_support/lab_support.h"
#include "tinytorch/amp/master_weights.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

// Autocast (amp/autocast.h) is measured where this build has it.
#if __has_include("tinytorch/amp/autocast.h")
#include "tinytorch/amp/autocast.h"
#define LAB22_HAVE_AUTOCAST 1
#endif

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;

// ── A. conversion error ─────────────────────────────────────────────────────────────────────────

json experiment_conversion(const Config& cfg) {
  heading("A", "Conversion error across magnitudes",
          "values drawn uniformly in each binade [2^k, 2^(k+1)), rounded and widened back");
  const int per_binade = cfg.quick ? 2000 : 100000;
  std::mt19937 gen(22);
  std::uniform_real_distribution<float> unit(1.0F, 2.0F);
  Table t(
      {"binade", "bf16 max rel err", "f16 max rel err", "f16 → 0", "f16 → inf", "f16 subnormal"});
  json out = json::array();
  for (int k = -30; k <= 18; k += 2) {
    double bf_err = 0, h_err = 0;
    int64_t h_zero = 0, h_inf = 0, h_sub = 0;
    for (int i = 0; i < per_binade; ++i) {
      const float x = std::ldexp(unit(gen), k);
      const float b = kernels::BFloat16(x);
      const kernels::Half hh(x);
      const float h = hh;
      bf_err = std::max(bf_err, std::abs(static_cast<double>(b) - x) / x);
      if (std::isinf(h)) {
        ++h_inf;
        continue;
      }
      if (h == 0.0F) ++h_zero;
      if ((hh.bits & 0x7C00U) == 0 && h != 0.0F) ++h_sub;
      h_err = std::max(h_err, std::abs(static_cast<double>(h) - x) / x);
    }
    const auto pct = [&](int64_t n) { return fixed(100.0 * n / per_binade, 1) + "%"; };
    const bool any_finite = h_inf < per_binade;  // else float16 has no error to report
    t.add({"2^" + std::to_string(k), sci(bf_err), any_finite ? sci(h_err) : "— (all inf)",
           pct(h_zero), pct(h_inf), pct(h_sub)});
    out.push_back({{"binade_exponent", k},
                   {"bf16_max_relative_error", bf_err},
                   {"f16_max_relative_error_finite", any_finite ? json(h_err) : json(nullptr)},
                   {"f16_to_zero", h_zero},
                   {"f16_to_inf", h_inf},
                   {"f16_subnormal", h_sub},
                   {"samples", per_binade}});
  }
  t.print();
  meaning(
      "bfloat16's relative error is the same in every binade (8 significand bits: at most half "
      "an ulp, 2^-8); float16's is smaller (11 bits, 2^-11) until its values turn subnormal "
      "below 2^-14, where the error grows as the value shrinks, then zero below 2^-25 and inf "
      "from 65520 up. Compare the rows with the format diagrams in Part 1.");
  return out;
}

// ── B. GEMM ─────────────────────────────────────────────────────────────────────────────────────

json experiment_gemm(const Config& cfg) {
  // A Linear of the module-13 GPT's MLP: [B·T, d] × [d, 4d]ᵀ.
  const int64_t M = cfg.quick ? 256 : 2048, K = cfg.quick ? 128 : 256, N = 4 * K;
  heading("B", "GEMM: float32 against bfloat16 operands",
          "C[" + std::to_string(M) + "×" + std::to_string(N) + "] = A[" + std::to_string(M) + "×" +
              std::to_string(K) + "] · Bᵀ, kernels::gemm_fast vs kernels::gemm_bf16 (" +
              kernels::to_string(kernels::half_isa()) + ")");
  manual_seed(1);
  const Tensor a = randn({M, K}), b = randn({N, K});
  const Tensor a16 = a.to(kBFloat16), b16 = b.to(kBFloat16);
  std::vector<float> c32(static_cast<size_t>(M * N)), c16(c32.size());
  const auto f32 = [&] {
    kernels::gemm_fast(false, true, M, N, K, 1.0F, a.data_ptr<float>(), K, b.data_ptr<float>(), K,
                       0.0F, c32.data(), N);
  };
  const auto bf16 = [&] {
    kernels::gemm_bf16(false, true, M, N, K, 1.0F, a16.data_ptr<kernels::BFloat16>(), K,
                       b16.data_ptr<kernels::BFloat16>(), K, 0.0F, c16.data(), N);
  };
  const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps, {f32, bf16});
  // Errors against float64 on the float32 operands (what the model meant).
  const Tensor exact = a.to(kFloat64).matmul(b.to(kFloat64).t());
  const auto rel_err = [&](const std::vector<float>& c) {
    const Tensor got = from_blob(const_cast<float*>(c.data()), {M, N}, kFloat32).to(kFloat64);
    return ((got - exact).abs().max() / exact.abs().max()).item<double>();
  };
  const double flops = 2.0 * static_cast<double>(M * N * K);
  Table t({"operands", "median", "GFLOP/s", "max |err| / max |C|"});
  json out = json::object();
  const char* names[] = {"float32", "bfloat16"};
  const std::vector<float>* results[] = {&c32, &c16};
  f32();
  bf16();
  for (size_t i = 0; i < 2; ++i) {
    const double err = rel_err(*results[i]);
    t.add({names[i], human_time(ts[i].median), fixed(flops / ts[i].median / 1e9, 1), sci(err)});
    out[names[i]] = {{"timing", to_json(ts[i])},
                     {"gflops", flops / ts[i].median / 1e9},
                     {"relative_error", err}};
  }
  t.print();
  out["shape"] = {M, N, K};
  out["half_isa"] = kernels::to_string(kernels::half_isa());
  meaning(
      "bfloat16 operands are half the bytes; whether they are faster depends on the instruction "
      "set printed above: with AVX512_BF16 (vdpbf16ps) each instruction does twice the "
      "multiply-adds of a float32 FMA; without it the operands are widened to float32 while "
      "packed and the same float32 micro-kernel runs. The error column is the rounding of the "
      "operands to 8 significand bits; the sums are float32 in both.");
  return out;
}

// ── the GPT of C, D, E ──────────────────────────────────────────────────────────────────────────

nn::GPTConfig gpt_config(const Config& cfg) {
  nn::GPTConfig c;  // milestone 2017's shape
  c.vocab_size = 96;
  c.block_size = cfg.quick ? 32 : 64;
  c.n_layer = cfg.quick ? 2 : 4;
  c.n_head = cfg.quick ? 2 : 4;
  c.n_embd = cfg.quick ? 64 : 128;
  return c;
}

struct Batch {
  Tensor ids, targets;
};
Batch batch(const nn::GPTConfig& c, int64_t size) {
  Generator data(1);
  return {randint(0, c.vocab_size, {size, c.block_size}, kInt64, &data),
          randint(0, c.vocab_size, {size, c.block_size}, kInt64, &data)};
}

// ── C. gradient magnitudes ──────────────────────────────────────────────────────────────────────

json experiment_gradients(const Config& cfg) {
  heading("C", "Gradient magnitudes against float16's range",
          "one forward + backward of the GPT at initialisation on random tokens (float32)");
  const nn::GPTConfig c = gpt_config(cfg);
  manual_seed(0);
  nn::GPT model(c);
  const Batch b = batch(c, cfg.quick ? 4 : 16);
  milestones::next_char_loss(model->forward(b.ids), b.targets).backward();
  std::vector<float> g;
  for (const Tensor& p : model->parameters()) {
    const std::vector<float> v = p.grad().contiguous().to_vector<float>();
    g.insert(g.end(), v.begin(), v.end());
  }
  // Bins by the exponent of |g|: [2^e, 2^(e+1)).
  const int lo = -40, hi = 4;
  std::vector<int64_t> bins(static_cast<size_t>(hi - lo + 1));
  int64_t zeros = 0, below_bf16_normal = 0;
  for (const float v : g) {
    if (v == 0.0F) {
      ++zeros;
      continue;
    }
    if (std::abs(v) < 0x1p-126F) ++below_bf16_normal;
    const int e = std::clamp(std::ilogb(v), lo, hi);
    ++bins[static_cast<size_t>(e - lo)];
  }
  const auto share = [&](int64_t n) { return fixed(100.0 * n / static_cast<double>(g.size()), 2); };
  // What float16 does to each gradient, unscaled and scaled by S = 2^16.
  const auto fate = [&](double scale) {
    int64_t to_zero = 0, subnormal = 0, to_inf = 0;
    for (const float v : g) {
      if (v == 0.0F) continue;
      const kernels::Half h(static_cast<float>(v * scale));
      const float back = h;
      if (back == 0.0F) {
        ++to_zero;
      } else if (std::isinf(back)) {
        ++to_inf;
      } else if ((h.bits & 0x7C00U) == 0) {
        ++subnormal;
      }
    }
    return json{{"to_zero", to_zero}, {"subnormal", subnormal}, {"to_inf", to_inf}};
  };
  Table t({"|g| in", "count", "% of all", "float16 holds it as"});
  json hist = json::array();
  for (int e = lo; e <= hi; ++e) {
    const int64_t n = bins[static_cast<size_t>(e - lo)];
    if (n == 0) continue;
    const std::string where = e < -25   ? "0 (lost)"
                              : e < -14 ? "subnormal (fewer bits)"
                              : e >= 16 ? "inf"
                                        : "normal";
    const std::string range =
        e == lo ? "< 2^" + std::to_string(lo + 1)
                : "[2^" + std::to_string(e) + ", 2^" + std::to_string(e + 1) + ")";
    t.add({range, std::to_string(n), share(n), where});
    hist.push_back({{"exponent", e}, {"count", n}});
  }
  t.print();
  const json plain = fate(1.0), scaled = fate(65536.0);
  std::cout << "  " << g.size() << " gradient values, " << zeros << " exactly 0, "
            << below_bf16_normal << " nonzero below bfloat16's smallest normal 2^-126.\n"
            << "  In float16 as they are: " << plain["to_zero"].get<int64_t>() << " become 0, "
            << plain["subnormal"].get<int64_t>() << " subnormal, " << plain["to_inf"].get<int64_t>()
            << " inf.\n"
            << "  Scaled by 2^16 first:   " << scaled["to_zero"].get<int64_t>() << " become 0, "
            << scaled["subnormal"].get<int64_t>() << " subnormal, "
            << scaled["to_inf"].get<int64_t>() << " inf.\n";
  meaning(
      "bfloat16's normal range reaches down to 2^-126 (the count above): where no gradient "
      "falls below it, bfloat16 needs no loss scaling. float16's normal range ends at 2^-14: the "
      "rows "
      "marked subnormal keep fewer significand bits and those marked lost become 0. Multiplying "
      "the loss by S multiplies every gradient by S and moves the histogram up log2(S) rows; "
      "GradScaler picks the largest S that does not overflow.");
  return {{"values", g.size()},
          {"zeros", zeros},
          {"histogram", hist},
          {"float16_unscaled", plain},
          {"float16_scaled_2^16", scaled}};
}

// ── D. memory budget ────────────────────────────────────────────────────────────────────────────

int64_t bytes_of(const std::vector<Tensor>& ts) {
  int64_t n = 0;
  for (const Tensor& t : ts) {
    if (t.defined()) n += t.numel() * static_cast<int64_t>(t.element_size());
  }
  return n;
}

struct Budget {
  int64_t params = 0, grads = 0, copies = 0, adam = 0, activations = 0, peak = 0;
};

// How the optimizer meets 16-bit parameters: it steps them and keeps its state in their dtype
// (kInDtype, libtorch's default), keeps its state in float32 (AdamOptions().float32_state(true)),
// or steps amp::MasterWeights' float32 copies of them.
enum class Optimizer16 { kInDtype, kFloat32State, kMasterWeights };

// One Adam training step of `model`; `forward` runs the model (plainly, or under autocast).
Budget training_step(nn::GPT& model, const Batch& b,
                     const std::function<Tensor(const Tensor&)>& forward,
                     Optimizer16 mode = Optimizer16::kInDtype) {
  Allocator* allocator = get_allocator();
  const int64_t before = allocator->stats().live_bytes;
  allocator->reset_peak();
  std::optional<amp::MasterWeights> master;
  if (mode == Optimizer16::kMasterWeights) master.emplace(model->parameters());
  const std::vector<Tensor> stepped = master ? master->parameters() : model->parameters();
  optim::Adam adam(stepped,
                   optim::AdamOptions(1e-3).float32_state(mode == Optimizer16::kFloat32State));
  Budget r;
  const int64_t before_forward = allocator->stats().live_bytes;
  Tensor loss = milestones::next_char_loss(forward(b.ids), b.targets);
  r.activations = allocator->stats().live_bytes - before_forward;
  loss.backward();
  if (master) {
    master->step(adam);
  } else {
    adam.step();
  }
  r.peak = allocator->stats().peak_bytes - before;
  std::vector<Tensor> grads, copy_grads, state;
  for (const Tensor& p : model->parameters()) grads.push_back(p.grad());
  for (const Tensor& p : stepped) {
    if (master) copy_grads.push_back(p.grad());
    if (optim::OptimizerParamState* s = adam.state_of(p)) {
      for (const auto& [name, buffer] : s->buffers()) state.push_back(*buffer);
    }
  }
  r.params = bytes_of(model->parameters());
  r.grads = bytes_of(grads);
  r.copies = master ? bytes_of(master->parameters()) + bytes_of(copy_grads) : 0;
  r.adam = bytes_of(state);
  return r;
}

json experiment_memory(const Config& cfg) {
  const nn::GPTConfig c = gpt_config(cfg);
  heading("D", "The memory budget of a training step",
          "GPT " + std::to_string(c.n_layer) + " layers, d " + std::to_string(c.n_embd) +
              ", context " + std::to_string(c.block_size) + ", Adam; bytes of tensors");
  const Batch b = batch(c, cfg.quick ? 4 : 32);
  Table t({"run", "parameters", "gradients", "float32 copies", "Adam state", "activations",
           "step peak"});
  json out = json::object();
  const auto row = [&](const std::string& name, const std::function<Budget()>& run) {
    try {
      const Budget r = run();
      t.add({name, human_bytes(r.params), human_bytes(r.grads), human_bytes(r.copies),
             human_bytes(r.adam), human_bytes(r.activations), human_bytes(r.peak)});
      out[name] = {{"parameters", r.params},       {"gradients", r.grads},
                   {"float32_copies", r.copies},   {"adam_state", r.adam},
                   {"activations", r.activations}, {"peak", r.peak}};
    } catch (const Error& e) {
      t.add({name, "—", "—", "—", "—", "—", "—"});
      out[name] = {{"error", e.what()}};
      std::cout << "  " << name << ": not measured: " << e.what() << "\n";
    }
  };
  row("float32", [&] {
    manual_seed(0);
    nn::GPT model(c);
    return training_step(model, b, [&](const Tensor& ids) { return model->forward(ids); });
  });
  row("bfloat16 parameters", [&] {
    manual_seed(0);
    nn::GPT model(c);
    model->to(kBFloat16);
    return training_step(model, b, [&](const Tensor& ids) { return model->forward(ids); });
  });
  row("bfloat16 + float32 Adam state", [&] {
    manual_seed(0);
    nn::GPT model(c);
    model->to(kBFloat16);
    return training_step(
        model, b, [&](const Tensor& ids) { return model->forward(ids); },
        Optimizer16::kFloat32State);
  });
  row("bfloat16 + MasterWeights", [&] {
    manual_seed(0);
    nn::GPT model(c);
    model->to(kBFloat16);
    return training_step(
        model, b, [&](const Tensor& ids) { return model->forward(ids); },
        Optimizer16::kMasterWeights);
  });
#ifdef LAB22_HAVE_AUTOCAST
  row("autocast (bfloat16)", [&] {
    manual_seed(0);
    nn::GPT model(c);
    return training_step(model, b, [&](const Tensor& ids) {
      const autocast::AutocastGuard guard(kCPU, kBFloat16);
      return model->forward(ids);
    });
  });
#else
  t.add({"autocast (bfloat16)", "—", "—", "—", "—", "—", "—"});
  out["autocast (bfloat16)"] = {{"error", "this build has no amp/autocast.h"}};
#endif
  t.print();
  meaning(
      "Parameters, gradients and Adam's two moments scale with the parameter count and the bytes "
      "per element; activations scale with batch × context × width × layers. bfloat16 "
      "parameters halve the first three; float32 Adam state gives the moments back their "
      "float32 bytes; MasterWeights adds float32 copies and their gradients and keeps Adam's "
      "state in float32; autocast keeps float32 parameters (and so float32 "
      "gradients and state) and stores the GEMMs' inputs and outputs in bfloat16. The peak "
      "includes the optimizer's step.");
  return out;
}

// ── E. checkpointing ────────────────────────────────────────────────────────────────────────────

json experiment_checkpoint(const Config& cfg) {
  const nn::GPTConfig c = gpt_config(cfg);
  heading("E", "Activation checkpointing: segments against memory",
          "the float32 step of D with its blocks in 0 (off) … n_layer checkpointed segments");
  const Batch b = batch(c, cfg.quick ? 4 : 32);
  manual_seed(0);
  nn::GPT model(c);
  Table t({"segments", "activations after forward", "step peak", "vs off"});
  json out = json::array();
  int64_t off = 0;
  for (int64_t segments = 0; segments <= c.n_layer; ++segments) {
    for (Tensor& p : model->parameters()) p.mutable_grad() = Tensor();
    Allocator* allocator = get_allocator();
    const int64_t before = allocator->stats().live_bytes;
    allocator->reset_peak();
    Tensor loss =
        milestones::next_char_loss(milestones::gpt_forward(model, b.ids, segments), b.targets);
    const int64_t live = allocator->stats().live_bytes - before;
    loss.backward();
    const int64_t peak = allocator->stats().peak_bytes - before;
    if (segments == 0) off = peak;
    t.add({std::to_string(segments), human_bytes(live), human_bytes(peak),
           ratio(static_cast<double>(peak) / static_cast<double>(off))});
    out.push_back({{"segments", segments}, {"live_after_forward", live}, {"peak", peak}});
  }
  t.print();
  meaning(
      "With s segments the forward keeps s − 1 segment inputs and the last segment's "
      "activations; backward recomputes one segment at a time, so the peak holds about one "
      "segment's activations more. Counted in blocks, (s − 1) + L/s is smallest at s = √L; "
      "but a segment input is one [B, T, d] tensor while a block keeps many, so the best s "
      "here lies above √L. (checkpoint_sequential gives each segment L/s blocks, rounded "
      "down, and the last one the rest.)");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab22",
      .only_help = "e.g. --only CE (letters A-E)",
      .threads_help = "threads for the GEMMs and parallel loops (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 7, 1};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const LabAllocator allocator(false);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 22 lab — mixed precision, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  json machine = machine_json();
  machine["threads"] = get_num_threads();
  json doc = {{"lab", "22_mixed_precision"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"machine", machine}};
  const int failed = run_experiments({{"a_conversion", [&] { return experiment_conversion(cfg); }},
                                      {"b_gemm", [&] { return experiment_gemm(cfg); }},
                                      {"c_gradients", [&] { return experiment_gradients(cfg); }},
                                      {"d_memory", [&] { return experiment_memory(cfg); }},
                                      {"e_checkpoint", [&] { return experiment_checkpoint(cfg); }}},
                                     opts, "22", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
