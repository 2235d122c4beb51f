// gpt_bench — a character-level GPT trained and sampled by our framework and by PyTorch, in the
// same run, at 1 and 2 threads. Two models (--config, kConfigs below):
//   2017 (`./tito bench gpt`): milestone 2017's GPT, 4 layers, 4 heads, d 128, context 64,
//        batch 32 — training and generation;
//   256  (`./tito bench gpt256`): 4 layers, 4 heads, d 256, context 128, batch 16 — training
//        only: about 4× the 2017 model's work per token, on larger matrices.
//
//   idx [B, T] ─► wte + wpe ─► 4 × pre-LN block (4 heads, d, MLP 4d, exact GELU)
//              ─► ln_f ─► lm_head (untied, no bias) ─► logits [B, T, V] ─► cross-entropy
//
// AdamW (lr 3e-4, the other hyper-parameters PyTorch's defaults), batches of B random windows of
// T tokens, Linear/Embedding weights N(0, 0.02), no dropout. What is timed, for both frameworks
// the same way (bench/gpt_torch.py is PyTorch's side, its attention written out by hand: PyTorch
// 1.13 has no scaled_dot_product_attention):
//   * TRAINING: random windows → zero_grad → forward → cross-entropy → backward → AdamW step →
//     loss value, each timed step on its own after warm-up; tokens/s = B · T / the median step's
//     seconds (the median ignores the odd step slowed down by another process). The
//     record also carries a step's FLOPs and the fraction of the machine's FMA peak they run at
//     (training_flops below; torch_baseline.h);
//   * GENERATION (2017 only): greedy, batch 1, 63 new tokens after a 1-token prompt (the whole
//     context of 64), in eval mode without autograd, WITHOUT a cache (every token re-runs the whole
//     sequence: O(T²) work per token) and WITH the KV cache (module 17: one position per token);
//     tokens/s = 63 / seconds, the median of several generations. The two must give the same
//     tokens, on each side: a difference fails the run;
//   * the PEAK resident memory of the process that did all of the above.
//
// MIXED PRECISION (--precision float32,bf16-autocast; `./tito bench amp`): each side trains once
// per precision listed, in its own process, the precisions interleaved per thread count. Under
// bf16-autocast the forward and the loss run inside an autocast region (ours:
// autocast::AutocastGuard(kCPU, kBFloat16), amp/autocast.h; PyTorch: torch.autocast("cpu",
// dtype=torch.bfloat16)) — Linear and the matrix products in bfloat16, cross-entropy in float32 —
// and the backward and AdamW step outside it, float32 weights throughout. These runs train only
// (no generation), and add the memory of one more, untimed step (grads dropped first):
//   activations    bytes live after the forward and loss minus bytes live before: what the graph
//                  keeps for the backward (ours: the allocator's counts, core/allocator.h, as
//                  bench/checkpoint_bench.cpp reads them; PyTorch: its allocator's events under
//                  torch.profiler's profile_memory, bench/gpt_torch.py);
//   step peak      the high-water mark over forward and backward, above what was live before;
//   parameters, gradients, optimizer state: their tensors' bytes.
// Their records are named <prefix>_amp_* and carry "precision", so that they never mix with the
// float32-only records of `tito bench gpt`.
//
// Both sides train on the same token stream: the parent reads the fortunes corpus
// (data::load_fortunes), keeps the training split (data::split_text) and hands that text, in a
// file, to both (--corpus); each tokenises it by character (the vocabulary: its sorted distinct
// bytes, text::CharTokenizer). Each side runs in its own process, the two interleaved per thread
// count (bench/torch_baseline.h, shared with mlp_bench and cnn_bench); PyTorch's configuration is
// printed and copied into its records.
//
//   gpt_bench [--config 2017|256] [--quick] [--records PATH] [--threads 1,2]
//             [--precision float32,bf16-autocast] [--data FORTUNES_DIR] [--python PATH]
//
// --records PATH writes the figures as JSON records for tito, named by the config's prefix
// ("gpt", "gpt256"), e.g.
//   {"name": "gpt_train", "impl": "tinytorch-fast", "threads": 1, "tokens_per_second": 41000,
//    ..., "flops": 1.1e10, "fma_peak_gflops": 117.0, "fma_peak_isa": "AVX-512",
//    "peak_fraction": 0.3}
//   {"name": "gpt_generate", "impl": "torch", "threads": 1, "mode": "cache",
//    "tokens_per_second": 2600, ...}
//   {"name": "gpt_generate", "impl": "tinytorch-fast", "threads": 2, "mode": "cache",
//    "tokens_per_second": 2900, "one_thread_tokens_per_second": 3000, ...}   (ours above 1
//    thread: each timed generation alternates with one at 1 thread — bench/torch_baseline.h)
//   {"name": "gpt256_peak_rss", "impl": "torch", "threads": 2, "mib": 390.0, "bytes": 408944640}
//   {"name": "gpt_amp_train", "impl": "torch", "threads": 1, "precision": "bf16-autocast", ...}
//   {"name": "gpt_amp_activations", "impl": "tinytorch-fast", "threads": 1,
//    "precision": "float32", "mib": 75.0, "bytes": 78643200, "step_peak_bytes": ...,
//    "parameter_bytes": ..., "gradient_bytes": ..., "optimizer_state_bytes": ...}
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/allocator.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/text.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/text/tokenizer.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/logging.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace data = tinytorch::data;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;
using tt::bench::seconds_since;

constexpr double kLearningRate = 3e-4;  // as bench/gpt_torch.py's
constexpr uint64_t kWindowSeed = 2017;  // the random windows' generator

constexpr const char* kUsage =
    "gpt_bench [--config 2017|256] [--quick] [--records PATH] [--threads LIST] "
    "[--precision float32,bf16-autocast] [--data FORTUNES_DIR] [--python PATH]";

// The precisions --precision takes: the plain float32 step, and its forward and loss under
// autocast to bfloat16. The first is the one the others are compared with.
constexpr const char* kFloat32 = "float32";
constexpr const char* kBf16Autocast = "bf16-autocast";

// "float32,bf16-autocast" → {"float32", "bf16-autocast"}; exits through usage_error otherwise.
std::vector<std::string> parse_precisions(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (item != kFloat32 && item != kBf16Autocast) {
      tt::bench::usage_error("gpt_bench", kUsage,
                             "--precision expects a comma-separated list of float32 and "
                             "bf16-autocast, got '" +
                                 list + "'");
    }
    out.push_back(item);
  }
  if (out.empty()) tt::bench::usage_error("gpt_bench", kUsage, "--precision expects a precision");
  return out;
}

// The sizes of one run: the batch, warm-up and timed training steps, and timed generations of
// each mode (after one untimed; 0: no generation). --quick (the ctest check that both sides run)
// may use a smaller batch: its figures are not the benchmark's.
struct Workload {
  int64_t batch, train_warmup, train_count, generate_count;
};

// A model measured, the same as bench/gpt_torch.py's CONFIGS.
struct BenchConfig {
  const char* name;    // --config
  const char* prefix;  // its records' names: <prefix>_train, <prefix>_generate, <prefix>_peak_rss
  int64_t context, layers, heads, embedding;
  Workload full, quick;

  [[nodiscard]] const Workload& workload(bool q) const { return q ? quick : full; }
  // Greedy generation fills the context after a 1-token prompt.
  [[nodiscard]] int64_t new_tokens() const { return context - 1; }
};
constexpr BenchConfig kConfigs[] = {
    {"2017", "gpt", 64, 4, 4, 128, {32, 10, 40, 15}, {32, 3, 5, 2}},
    {"256", "gpt256", 128, 4, 4, 256, {16, 3, 15, 0}, {4, 1, 2, 0}},
};

const BenchConfig& find_config(const std::string& name) {
  for (const BenchConfig& c : kConfigs) {
    if (name == c.name) return c;
  }
  tt::bench::usage_error("gpt_bench", kUsage, "--config expects 2017 or 256, got '" + name + "'");
}

// One training step's floating-point operations, for B windows of T tokens, vocabulary V, L
// layers of width d: 3× the forward's matrix products (each needs its input's and its weight's
// gradient, of the forward's size; the first ones' inputs are the trained embeddings), 2 per
// multiply-add:
//   per layer   c_attn 2·BT·d·3d + c_proj 2·BT·d·d + MLP 2·BT·d·4d · 2   = 24·BT·d²
//               q·kᵀ and weights·v: 2·B·T²·d each                        =  4·B·T²·d
//               (the whole T×T square, as PyTorch's baddbmm computes it; the causal mask
//               discards the upper half, which a kernel may skip)
//   lm_head     2·BT·d·V
// LayerNorm, GELU, softmax and the embeddings' lookups are not counted (no multiply-adds). Per
// token that is PaLM's estimate (appendix B, as nanoGPT's estimate_mfu): 6 per weight of a matrix
// product, plus 12·L·T·d for attention.
double training_flops(const BenchConfig& c, int64_t batch, int64_t vocab) {
  const auto bt = static_cast<double>(batch * c.context), d = static_cast<double>(c.embedding);
  const double per_layer = 24.0 * bt * d * d + 4.0 * bt * static_cast<double>(c.context) * d;
  return 3.0 *
         (static_cast<double>(c.layers) * per_layer + 2.0 * bt * d * static_cast<double>(vocab));
}

// ── the worker: our side of the comparison ──────────────────────────────────────────────────

// The training text: the --corpus file the parent wrote, or (a worker run by hand) the training
// split of the corpus in `fortunes_dir`.
std::string training_text(const std::string& corpus_path, const std::string& fortunes_dir) {
  if (corpus_path.empty()) return data::split_text(data::load_fortunes(fortunes_dir)).train;
  std::ifstream in(corpus_path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read --corpus " + corpus_path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Greedy generation of `new_tokens` after `prompt` [1, 1]: the tokens, then `count` timed runs
// after an untimed one; above 1 thread each timed run alternates with one at 1 thread
// (bench/torch_baseline.h, time_latencies: a generation is a fraction of a second, at the mercy
// of the host's other guests in that moment).
std::pair<std::vector<int64_t>, tt::bench::Latencies> time_generation(
    nn::GPT& model, const tt::Tensor& prompt, int64_t new_tokens, bool use_cache, int64_t count) {
  nn::GenerateOptions options;
  options.max_new_tokens = new_tokens;
  options.greedy = true;
  options.use_cache = use_cache;  // generate() runs in eval mode without a graph
  std::vector<int64_t> tokens = model->generate(prompt, options).to_vector<int64_t>();
  tt::bench::Latencies seconds = tt::bench::time_latencies(
      0, count, 1, [&](int64_t) { (void)model->generate(prompt, options); });
  return {tokens, std::move(seconds)};
}

// The memory of one training step (the file's comment: activations, step peak, parameters,
// gradients, optimizer state), in bytes, from the allocator's counts. `forward_loss` runs the
// forward and the loss of a batch (in the run's precision); the grads are dropped first, so the
// peak includes the gradients the backward allocates.
Json step_memory(
    nn::GPT& model, tt::optim::Optimizer& optimizer, const tt::Tensor& x, const tt::Tensor& y,
    const std::function<tt::Tensor(const tt::Tensor&, const tt::Tensor&)>& forward_loss) {
  tt::Allocator* allocator = tt::get_allocator();
  optimizer.zero_grad();  // grads → undefined
  const int64_t before = allocator->stats().live_bytes;
  allocator->reset_peak();
  tt::Tensor loss = forward_loss(x, y);
  const int64_t activations = allocator->stats().live_bytes - before;
  loss.backward();
  const int64_t peak = allocator->stats().peak_bytes - before;
  optimizer.step();
  int64_t parameters = 0, gradients = 0, state = 0;
  for (const tt::Tensor& p : model->parameters()) {
    parameters += p.nbytes();
    if (p.grad().defined()) gradients += p.grad().nbytes();
    if (tt::optim::OptimizerParamState* s = optimizer.state_of(p)) {
      for (const auto& [name, buffer] : s->buffers()) {
        if (buffer->defined()) state += buffer->nbytes();
      }
    }
  }
  return Json{{"activation_bytes", activations},
              {"step_peak_bytes", peak},
              {"parameter_bytes", parameters},
              {"gradient_bytes", gradients},
              {"optimizer_state_bytes", state}};
}

Json run_worker(const tt::bench::CommonOptions& o, const BenchConfig& c,
                const std::string& corpus_path, const std::string& precision) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  Workload w = c.workload(o.quick);
  if (!precision.empty()) w.generate_count = 0;  // the mixed-precision runs train only
  const std::string text = training_text(corpus_path, o.data_dir);
  const auto tokenizer = tt::text::CharTokenizer::train(text);
  const tt::Tensor tokens = data::encode_to_tensor(tokenizer.encode(text));  // int64 [N]

  nn::GPTConfig config;
  config.vocab_size = tokenizer.vocab_size();
  config.block_size = c.context;
  config.n_layer = c.layers;
  config.n_head = c.heads;
  config.n_embd = c.embedding;
  nn::GPT model(config);
  tt::optim::AdamW optimizer(model->parameters(), tt::optim::AdamWOptions(kLearningRate));
  tt::Generator windows(kWindowSeed);
  // The forward and the loss of x, y [B, T]: under bf16-autocast inside an autocast region (the
  // backward runs after it ends, as in PyTorch's recipe).
  const auto forward_loss = [&](const tt::Tensor& x, const tt::Tensor& y) {
    std::optional<tt::autocast::AutocastGuard> autocast;
    if (precision == kBf16Autocast) autocast.emplace(tt::kCPU, tt::kBFloat16);
    const tt::Tensor logits = model->forward(x);  // [B, T, V]
    return F::cross_entropy(logits.reshape({-1, config.vocab_size}), y.reshape({-1}));
  };
  const auto step = [&] {
    const auto [x, y] = data::random_windows(tokens, w.batch, c.context, windows);  // [B, T] each
    optimizer.zero_grad();
    tt::Tensor loss = forward_loss(x, y);
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  };
  for (int64_t i = 0; i < w.train_warmup; ++i) step();
  double loss_sum = 0.0;
  std::vector<double> step_seconds;
  step_seconds.reserve(static_cast<size_t>(w.train_count));
  for (int64_t i = 0; i < w.train_count; ++i) {
    const auto t0 = Clock::now();
    loss_sum += step();
    step_seconds.push_back(seconds_since(t0));
  }
  const double median_step_seconds = tt::benchmark::median(step_seconds);

  Json r;
  if (!precision.empty()) {
    const auto [x, y] = data::random_windows(tokens, w.batch, c.context, windows);
    r["precision"] = precision;
    r["half_isa"] = tt::kernels::to_string(tt::kernels::half_isa());
    r.update(step_memory(model, optimizer, x, y, forward_loss));
  }
  if (w.generate_count > 0) {
    // Greedy generation with the trained model, from the stream's first token.
    model->eval();
    const tt::Tensor prompt = tokens.narrow(0, 0, 1).view({1, 1});
    const auto [uncached, nocache] =
        time_generation(model, prompt, c.new_tokens(), false, w.generate_count);
    const auto [cached, cache] =
        time_generation(model, prompt, c.new_tokens(), true, w.generate_count);
    // tokens/s of the median run, at this thread count and (above 1 thread) interleaved at 1
    const auto rate = [&](const std::vector<double>& seconds) {
      return static_cast<double>(c.new_tokens()) / tt::benchmark::median(seconds);
    };
    r["generate_nocache_tokens_per_second"] = rate(nocache.seconds);
    r["generate_cache_tokens_per_second"] = rate(cache.seconds);
    if (!cache.one_thread_seconds.empty()) {
      r["generate_nocache_one_thread_tokens_per_second"] = rate(nocache.one_thread_seconds);
      r["generate_cache_one_thread_tokens_per_second"] = rate(cache.one_thread_seconds);
    }
    r["new_tokens"] = c.new_tokens();
    r["cache_matches_nocache"] = cached == uncached;
  }
  r.update(tt::bench::measure_fma_peak(200));  // after the figures, at the same thread count
  r["impl"] = tt::bench::tinytorch_impl();
  r["threads"] = tt::get_num_threads();
  r["train_tokens_per_second"] = static_cast<double>(w.batch * c.context) / median_step_seconds;
  r["train_steps"] = w.train_count;
  r["train_seconds"] = std::accumulate(step_seconds.begin(), step_seconds.end(), 0.0);
  r["train_step_seconds"] = median_step_seconds;
  r["mean_loss"] = loss_sum / static_cast<double>(w.train_count);
  r["vocab_size"] = config.vocab_size;
  r["peak_rss_bytes"] = tt::bench::peak_rss_bytes();
  return r;
}

// ── the parent: runs both sides and writes the records ─────────────────────────────────────

// The records of one side's result `r` (or of why there is none), named by the config's prefix:
// <prefix>_train, then (when the config generates) <prefix>_generate (mode nocache, then cache),
// and <prefix>_peak_rss, each with its impl and thread count, and `config`'s fields. The training
// record carries a step's FLOPs and their fraction of the FMA peak our worker `ours` measured at
// that thread count. Cached tokens that differ from the uncached ones make the cache record FAILED.
// A run at a `precision` (--precision) names its records <prefix>_amp_train, <prefix>_amp_peak_rss
// and <prefix>_amp_activations (the step's memory, the figure its activations in MiB), each with
// "precision"; the bf16-autocast step's FLOPs are not set against the float32 FMA peak.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config, const BenchConfig& c, bool quick,
                               const Json& ours, const std::string& precision) {
  const std::string prefix = std::string(c.prefix) + (precision.empty() ? "" : "_amp");
  const auto record = [&](const std::string& name, const char* mode) {
    Json rec{{"name", prefix + name}, {"impl", impl}, {"threads", threads}};
    if (mode != nullptr) rec["mode"] = mode;
    if (!precision.empty()) rec["precision"] = precision;
    tt::bench::copy_torch_fields(config, rec);
    return rec;
  };
  const Workload& w = c.workload(quick);
  Json train = record("_train", nullptr);
  Json nocache = record("_generate", "nocache");
  Json cache = record("_generate", "cache");
  Json rss = record("_peak_rss", nullptr);
  Json memory = record("_activations", nullptr);
  std::vector<Json*> records{&train, &nocache, &cache, &rss};
  if (!precision.empty()) {
    records = {&train, &memory, &rss};
  } else if (w.generate_count == 0) {
    records = {&train, &rss};
  }
  const auto out = [&] {
    std::vector<Json> list;
    for (const Json* rec : records) list.push_back(*rec);
    return list;
  };
  if (r.contains("failed") || r.contains("skipped")) {
    const char* why = r.contains("failed") ? "failed" : "skipped";
    for (Json* rec : records) (*rec)[why] = r[why];
    return out();
  }
  train["tokens_per_second"] = r["train_tokens_per_second"];
  train["steps"] = r["train_steps"];
  train["seconds"] = r["train_seconds"];
  train["step_seconds"] = r["train_step_seconds"];
  train["mean_loss"] = r["mean_loss"];
  train["batch"] = w.batch;
  train["context"] = c.context;
  train["d_model"] = c.embedding;
  train["layers"] = c.layers;
  train["heads"] = c.heads;
  if (r.contains("half_isa")) train["half_isa"] = r["half_isa"];
  tt::bench::add_peak_fraction(train, training_flops(c, w.batch, r["vocab_size"].get<int64_t>()),
                               r["train_step_seconds"].get<double>(),
                               precision == kBf16Autocast ? Json() : ours);
  if (!precision.empty()) {
    memory["mib"] = r["activation_bytes"].get<double>() / (1024.0 * 1024.0);
    memory["bytes"] = r["activation_bytes"];
    for (const char* field :
         {"step_peak_bytes", "parameter_bytes", "gradient_bytes", "optimizer_state_bytes"}) {
      memory[field] = r[field];
    }
  } else if (w.generate_count > 0) {
    nocache["tokens_per_second"] = r["generate_nocache_tokens_per_second"];
    nocache["new_tokens"] = r["new_tokens"];
    if (r.contains("generate_nocache_one_thread_tokens_per_second")) {
      nocache["one_thread_tokens_per_second"] = r["generate_nocache_one_thread_tokens_per_second"];
    }
    if (r.value("cache_matches_nocache", false)) {
      cache["tokens_per_second"] = r["generate_cache_tokens_per_second"];
      cache["new_tokens"] = r["new_tokens"];
      if (r.contains("generate_cache_one_thread_tokens_per_second")) {
        cache["one_thread_tokens_per_second"] = r["generate_cache_one_thread_tokens_per_second"];
      }
    } else {
      cache["failed"] = "greedy generation with the KV cache gave different tokens from without it";
    }
  }
  rss["mib"] = r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0);
  rss["bytes"] = r["peak_rss_bytes"];
  return out();
}

// The training text both sides read, in a temporary file removed when the run ends.
class CorpusFile {
 public:
  explicit CorpusFile(const std::string& text)
      : path_(fs::temp_directory_path() /
              ("tinytorch_gpt_bench_" + std::to_string(getpid()) + ".txt")) {
    tt::train::write_file_atomically(path_.string(), text);
  }
  ~CorpusFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  CorpusFile(const CorpusFile&) = delete;
  CorpusFile& operator=(const CorpusFile&) = delete;
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// "  bf16-autocast / float32 at 1 thread: training tokens/s ours 1.52x, PyTorch 1.61x;
// activations ours 0.55x, PyTorch 0.59x": each side's results at `precision` over its results at
// `base` (the first precision listed).
void print_precision_ratios(const std::string& precision, const std::string& base,
                            const Json& ours_base, const Json& ours_lowp, const Json& torch_base,
                            const Json& torch_lowp, int threads) {
  const auto ratio = [](const Json& a, const Json& b, const char* key) {
    if (!a.contains(key) || !b.contains(key) || b[key].get<double>() <= 0.0) {
      return std::string("-");
    }
    std::ostringstream text;
    text << std::fixed << std::setprecision(2) << a[key].get<double>() / b[key].get<double>()
         << "x";
    return text.str();
  };
  std::cout << "  " << precision << " / " << base << " at " << threads
            << (threads == 1 ? " thread" : " threads") << ": training tokens/s ours "
            << ratio(ours_lowp, ours_base, "train_tokens_per_second") << ", PyTorch "
            << ratio(torch_lowp, torch_base, "train_tokens_per_second") << "; activations ours "
            << ratio(ours_lowp, ours_base, "activation_bytes") << ", PyTorch "
            << ratio(torch_lowp, torch_base, "activation_bytes") << "\n"
            << std::flush;
}

int run_parent(const tt::bench::CommonOptions& o, const BenchConfig& c, const char* argv0,
               const std::vector<std::string>& precisions) {
  const CorpusFile corpus(data::split_text(data::load_fortunes(o.data_dir)).train);
  tt::bench::SideBySide run("gpt_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "gpt_torch.py", argv0);
  const Workload& w = c.workload(o.quick);
  std::cout << "  GPT --config " << c.name << ": " << c.layers << " layers, " << c.heads
            << " heads, d_model " << c.embedding << ", context " << c.context << ", batch "
            << w.batch << "\n";
  if (!precisions.empty()) {
    std::cout << "  tinytorch: 16-bit kernels (gemm_bf16) "
              << tt::kernels::to_string(tt::kernels::half_isa()) << "\n";
  }
  using Kind = tt::bench::Compared::Kind;
  std::vector<tt::bench::Compared> compared{{"train_tokens_per_second", "training", Kind::kRate}};
  if (!precisions.empty()) {
    compared.push_back({"activation_bytes", "activations", Kind::kSize});
  } else if (w.generate_count > 0) {
    compared.push_back({"generate_nocache_tokens_per_second", "generation without cache",
                        Kind::kRate, "generate_nocache_one_thread_tokens_per_second"});
    compared.push_back({"generate_cache_tokens_per_second", "generation with the KV cache",
                        Kind::kRate, "generate_cache_one_thread_tokens_per_second"});
  }
  compared.push_back({"peak_rss_bytes", "peak RSS", Kind::kSize});
  // Per thread count, each precision in turn (none: the plain float32 run), both sides (run_both).
  const std::vector<std::string> runs =
      precisions.empty() ? std::vector<std::string>{""} : precisions;
  for (const int t : o.threads) {
    std::vector<std::pair<Json, Json>> results;  // (ours, PyTorch's) per entry of `runs`
    for (const std::string& precision : runs) {
      std::vector<std::string> args{"--config", c.name, "--corpus", corpus.path()};
      if (o.quick) args.emplace_back("--quick");
      if (!precision.empty()) args.insert(args.end(), {"--precision", precision});
      if (!precision.empty()) std::cout << "  " << precision << ":\n";
      const auto [mine, theirs] = run.run_both(t, t == o.threads.front(), args);
      run.add(make_records(mine, mine.value("impl", tt::bench::tinytorch_impl()), t, Json(), c,
                           o.quick, mine, precision));
      run.add(make_records(theirs, "torch", t, run.torch_config(), c, o.quick, mine, precision));
      run.compare(mine, theirs, t, compared, precision);
      results.emplace_back(mine, theirs);
    }
    for (size_t i = 1; i < runs.size(); ++i) {
      print_precision_ratios(runs[i], runs[0], results[0].first, results[i].first,
                             results[0].second, results[i].second, t);
    }
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  o.data_dir = std::string(data::kFortunesDir);
  std::string corpus_path;  // internal (--worker): the training text the parent wrote
  const BenchConfig* config = &kConfigs[0];
  std::vector<std::string> precisions;  // --precision: empty for the plain float32 run
  tt::bench::parse_options(argc, argv, "gpt_bench", kUsage, o,
                           [&](const std::string& arg, const std::function<std::string()>& value) {
                             if (arg == "--corpus") {
                               corpus_path = value();
                             } else if (arg == "--config") {
                               config = &find_config(value());
                             } else if (arg == "--precision") {
                               precisions = parse_precisions(value());
                             } else {
                               return false;
                             }
                             return true;
                           });
  return tt::bench::run_main(
      "gpt_bench", kUsage, o,
      [&] {
        if (precisions.size() > 1) {
          tt::bench::usage_error("gpt_bench", kUsage, "--worker runs one --precision");
        }
        return run_worker(o, *config, corpus_path, precisions.empty() ? "" : precisions.front());
      },
      [&] { return run_parent(o, *config, argv[0], precisions); });
}
