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
//     loss value; tokens/s = B · T · steps / seconds over the timed steps, after warm-up. The
//     record also carries a step's FLOPs and the fraction of the machine's FMA peak they run at
//     (training_flops below; torch_baseline.h);
//   * GENERATION (2017 only): greedy, batch 1, 63 new tokens after a 1-token prompt (the whole
//     context of 64), in eval mode without autograd, WITHOUT a cache (every token re-runs the whole
//     sequence: O(T²) work per token) and WITH the KV cache (module 17: one position per token);
//     tokens/s = 63 / seconds, the median of several generations. The two must give the same
//     tokens, on each side: a difference fails the run;
//   * the PEAK resident memory of the process that did all of the above.
//
// Both sides train on the same token stream: the parent reads the fortunes corpus
// (data::load_fortunes), keeps the training split (data::split_text) and hands that text, in a
// file, to both (--corpus); each tokenises it by character (the vocabulary: its sorted distinct
// bytes, text::CharTokenizer). Each side runs in its own process, the two interleaved per thread
// count (bench/torch_baseline.h, shared with mlp_bench and cnn_bench); PyTorch's configuration is
// printed and copied into its records.
//
//   gpt_bench [--config 2017|256] [--quick] [--records PATH] [--threads 1,2]
//             [--data FORTUNES_DIR] [--python PATH]
//
// --records PATH writes the figures as JSON records for tito, named by the config's prefix
// ("gpt", "gpt256"), e.g.
//   {"name": "gpt_train", "impl": "tinytorch-fast", "threads": 1, "tokens_per_second": 41000,
//    ..., "flops": 1.1e10, "fma_peak_gflops": 117.0, "fma_peak_isa": "AVX-512",
//    "peak_fraction": 0.3}
//   {"name": "gpt_generate", "impl": "torch", "threads": 1, "mode": "cache",
//    "tokens_per_second": 2600, ...}
//   {"name": "gpt256_peak_rss", "impl": "torch", "threads": 2, "mib": 390.0, "bytes": 408944640}
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/text.h"
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
    "[--data FORTUNES_DIR] [--python PATH]";

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
    {"2017", "gpt", 64, 4, 4, 128, {32, 10, 40, 7}, {32, 3, 5, 2}},
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

// Greedy generation of `new_tokens` after `prompt` [1, 1]: the tokens, and the median tokens/s of
// `count` timed runs (after an untimed one).
std::pair<std::vector<int64_t>, double> time_generation(nn::GPT& model, const tt::Tensor& prompt,
                                                        int64_t new_tokens, bool use_cache,
                                                        int64_t count) {
  nn::GenerateOptions options;
  options.max_new_tokens = new_tokens;
  options.greedy = true;
  options.use_cache = use_cache;  // generate() runs in eval mode without a graph
  std::vector<int64_t> tokens = model->generate(prompt, options).to_vector<int64_t>();
  std::vector<double> seconds;
  for (int64_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    (void)model->generate(prompt, options);
    seconds.push_back(seconds_since(t0));
  }
  return {tokens, static_cast<double>(new_tokens) / tt::benchmark::median(seconds)};
}

Json run_worker(const tt::bench::CommonOptions& o, const BenchConfig& c,
                const std::string& corpus_path) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const Workload& w = c.workload(o.quick);
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
  const auto step = [&] {
    const auto [x, y] = data::random_windows(tokens, w.batch, c.context, windows);  // [B, T] each
    optimizer.zero_grad();
    const tt::Tensor logits = model->forward(x);  // [B, T, V]
    tt::Tensor loss = F::cross_entropy(logits.reshape({-1, config.vocab_size}), y.reshape({-1}));
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  };
  for (int64_t i = 0; i < w.train_warmup; ++i) step();
  double loss_sum = 0.0;
  const auto t0 = Clock::now();
  for (int64_t i = 0; i < w.train_count; ++i) loss_sum += step();
  const double train_seconds = seconds_since(t0);

  Json r;
  if (w.generate_count > 0) {
    // Greedy generation with the trained model, from the stream's first token.
    model->eval();
    const tt::Tensor prompt = tokens.narrow(0, 0, 1).view({1, 1});
    const auto [uncached, nocache_rate] =
        time_generation(model, prompt, c.new_tokens(), false, w.generate_count);
    const auto [cached, cache_rate] =
        time_generation(model, prompt, c.new_tokens(), true, w.generate_count);
    r["generate_nocache_tokens_per_second"] = nocache_rate;
    r["generate_cache_tokens_per_second"] = cache_rate;
    r["new_tokens"] = c.new_tokens();
    r["cache_matches_nocache"] = cached == uncached;
  }
  r.update(tt::bench::measure_fma_peak(30));  // after the figures, at the same thread count
  r["impl"] = tt::bench::tinytorch_impl();
  r["threads"] = tt::get_num_threads();
  r["train_tokens_per_second"] =
      static_cast<double>(w.batch * c.context * w.train_count) / train_seconds;
  r["train_steps"] = w.train_count;
  r["train_seconds"] = train_seconds;
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
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config, const BenchConfig& c, bool quick,
                               const Json& ours) {
  const std::string prefix = c.prefix;
  const auto record = [&](const std::string& name, const char* mode) {
    Json rec{{"name", prefix + name}, {"impl", impl}, {"threads", threads}};
    if (mode != nullptr) rec["mode"] = mode;
    tt::bench::copy_torch_fields(config, rec);
    return rec;
  };
  const Workload& w = c.workload(quick);
  Json train = record("_train", nullptr);
  Json nocache = record("_generate", "nocache");
  Json cache = record("_generate", "cache");
  Json rss = record("_peak_rss", nullptr);
  std::vector<Json*> records{&train, &nocache, &cache, &rss};
  if (w.generate_count == 0) records = {&train, &rss};
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
  train["mean_loss"] = r["mean_loss"];
  train["batch"] = w.batch;
  train["context"] = c.context;
  train["d_model"] = c.embedding;
  train["layers"] = c.layers;
  train["heads"] = c.heads;
  tt::bench::add_peak_fraction(train, training_flops(c, w.batch, r["vocab_size"].get<int64_t>()),
                               r["train_seconds"].get<double>() / r["train_steps"].get<double>(),
                               ours);
  if (w.generate_count > 0) {
    nocache["tokens_per_second"] = r["generate_nocache_tokens_per_second"];
    nocache["new_tokens"] = r["new_tokens"];
    if (r.value("cache_matches_nocache", false)) {
      cache["tokens_per_second"] = r["generate_cache_tokens_per_second"];
      cache["new_tokens"] = r["new_tokens"];
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

int run_parent(const tt::bench::CommonOptions& o, const BenchConfig& c, const char* argv0) {
  const CorpusFile corpus(data::split_text(data::load_fortunes(o.data_dir)).train);
  tt::bench::SideBySide run("gpt_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "gpt_torch.py", argv0);
  const Workload& w = c.workload(o.quick);
  std::cout << "  GPT --config " << c.name << ": " << c.layers << " layers, " << c.heads
            << " heads, d_model " << c.embedding << ", context " << c.context << ", batch "
            << w.batch << "\n";
  using Kind = tt::bench::Compared::Kind;
  std::vector<tt::bench::Compared> compared{{"train_tokens_per_second", "training", Kind::kRate}};
  if (w.generate_count > 0) {
    compared.push_back(
        {"generate_nocache_tokens_per_second", "generation without cache", Kind::kRate});
    compared.push_back(
        {"generate_cache_tokens_per_second", "generation with the KV cache", Kind::kRate});
  }
  compared.push_back({"peak_rss_bytes", "peak RSS", Kind::kSize});
  for (const int t : o.threads) {
    std::vector<std::string> args{"--config", c.name, "--corpus", corpus.path()};
    if (o.quick) args.emplace_back("--quick");
    const Json mine = run.run_ours(t, args);
    run.add(make_records(mine, mine.value("impl", tt::bench::tinytorch_impl()), t, Json(), c,
                         o.quick, mine));
    const Json theirs = run.run_torch(t, args);
    run.add(make_records(theirs, "torch", t, run.torch_config(), c, o.quick, mine));
    tt::bench::print_ratios(mine, theirs, t, compared);
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  o.data_dir = std::string(data::kFortunesDir);
  std::string corpus_path;  // internal (--worker): the training text the parent wrote
  const BenchConfig* config = &kConfigs[0];
  tt::bench::parse_options(argc, argv, "gpt_bench", kUsage, o,
                           [&](const std::string& arg, const std::function<std::string()>& value) {
                             if (arg == "--corpus") {
                               corpus_path = value();
                             } else if (arg == "--config") {
                               config = &find_config(value());
                             } else {
                               return false;
                             }
                             return true;
                           });
  return tt::bench::run_main(
      "gpt_bench", kUsage, o, [&] { return run_worker(o, *config, corpus_path); },
      [&] { return run_parent(o, *config, argv[0]); });
}
