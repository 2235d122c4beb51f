// gpt_bench — milestone 2017's character-level GPT trained and sampled by our framework and by
// PyTorch, in the same run, at 1 and 2 threads: `./tito bench gpt`.
//
//   idx [32, 64] ─► wte + wpe ─► 4 × pre-LN block (4 heads, d 128, MLP 512, exact GELU)
//                ─► ln_f ─► lm_head (untied, no bias) ─► logits [32, 64, V] ─► cross-entropy
//
// AdamW (lr 3e-4, the other hyper-parameters PyTorch's defaults), batch 32 random windows of 64
// tokens, Linear/Embedding weights N(0, 0.02), no dropout. What is timed, for both frameworks the
// same way (bench/gpt_torch.py is PyTorch's side, its attention written out by hand: PyTorch 1.13
// has no scaled_dot_product_attention):
//   * TRAINING: random windows → zero_grad → forward → cross-entropy → backward → AdamW step →
//     loss value; tokens/s = 32 · 64 · steps / seconds over the timed steps, after warm-up;
//   * GENERATION: greedy, batch 1, 63 new tokens after a 1-token prompt (the whole context of
//     64), in eval mode without autograd, WITHOUT a cache (every token re-runs the whole
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
//   gpt_bench [--quick] [--records PATH] [--threads 1,2] [--data FORTUNES_DIR] [--python PATH]
//
// --records PATH writes the figures as JSON records for tito, e.g.
//   {"name": "gpt_train", "impl": "tinytorch-fast", "threads": 1, "tokens_per_second": 41000, ...}
//   {"name": "gpt_generate", "impl": "torch", "threads": 1, "mode": "cache",
//    "tokens_per_second": 2600, ...}
//   {"name": "gpt_peak_rss", "impl": "torch", "threads": 2, "mib": 390.0, "bytes": 408944640}
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
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

// As bench/gpt_torch.py's.
constexpr int64_t kBatch = 32, kContext = 64;
constexpr int64_t kLayers = 4, kHeads = 4, kEmbedding = 128;
constexpr double kLearningRate = 3e-4;
constexpr int64_t kNewTokens = kContext - 1;  // after a 1-token prompt: the whole context
constexpr uint64_t kWindowSeed = 2017;        // the random windows' generator

constexpr const char* kUsage =
    "gpt_bench [--quick] [--records PATH] [--threads LIST] [--data FORTUNES_DIR] [--python PATH]";

// The sizes of one run (the same as bench/gpt_torch.py's): warm-up and timed training steps, and
// timed generations of each mode (after one untimed).
struct Workload {
  int64_t train_warmup, train_count, generate_count;
};
Workload workload(bool quick) {
  return quick ? Workload{3, 5, 2} : Workload{10, 40, 7};
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

// Greedy generation of kNewTokens after `prompt` [1, 1]: the tokens, and the median tokens/s of
// `count` timed runs (after an untimed one).
std::pair<std::vector<int64_t>, double> time_generation(nn::GPT& model, const tt::Tensor& prompt,
                                                        bool use_cache, int64_t count) {
  nn::GenerateOptions options;
  options.max_new_tokens = kNewTokens;
  options.greedy = true;
  options.use_cache = use_cache;  // generate() runs in eval mode without a graph
  std::vector<int64_t> tokens = model->generate(prompt, options).to_vector<int64_t>();
  std::vector<double> seconds;
  for (int64_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    (void)model->generate(prompt, options);
    seconds.push_back(seconds_since(t0));
  }
  return {tokens, static_cast<double>(kNewTokens) / tt::benchmark::median(seconds)};
}

Json run_worker(const tt::bench::CommonOptions& o, const std::string& corpus_path) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const Workload w = workload(o.quick);
  const std::string text = training_text(corpus_path, o.data_dir);
  const auto tokenizer = tt::text::CharTokenizer::train(text);
  const tt::Tensor tokens = data::encode_to_tensor(tokenizer.encode(text));  // int64 [N]

  nn::GPTConfig config;
  config.vocab_size = tokenizer.vocab_size();
  config.block_size = kContext;
  config.n_layer = kLayers;
  config.n_head = kHeads;
  config.n_embd = kEmbedding;
  nn::GPT model(config);
  tt::optim::AdamW optimizer(model->parameters(), tt::optim::AdamWOptions(kLearningRate));
  tt::Generator windows(kWindowSeed);
  const auto step = [&] {
    const auto [x, y] = data::random_windows(tokens, kBatch, kContext, windows);  // [32, 64] each
    optimizer.zero_grad();
    const tt::Tensor logits = model->forward(x);  // [32, 64, V]
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

  // Greedy generation with the trained model, from the stream's first token.
  model->eval();
  const tt::Tensor prompt = tokens.narrow(0, 0, 1).view({1, 1});
  const auto [uncached, nocache_rate] = time_generation(model, prompt, false, w.generate_count);
  const auto [cached, cache_rate] = time_generation(model, prompt, true, w.generate_count);

  Json r;
  r["impl"] = tt::bench::tinytorch_impl();
  r["threads"] = tt::get_num_threads();
  r["train_tokens_per_second"] =
      static_cast<double>(kBatch * kContext * w.train_count) / train_seconds;
  r["train_steps"] = w.train_count;
  r["train_seconds"] = train_seconds;
  r["mean_loss"] = loss_sum / static_cast<double>(w.train_count);
  r["vocab_size"] = config.vocab_size;
  r["generate_nocache_tokens_per_second"] = nocache_rate;
  r["generate_cache_tokens_per_second"] = cache_rate;
  r["new_tokens"] = kNewTokens;
  r["cache_matches_nocache"] = cached == uncached;
  r["peak_rss_bytes"] = tt::bench::peak_rss_bytes();
  return r;
}

// ── the parent: runs both sides and writes the records ─────────────────────────────────────

// The records of one side's result `r` (or of why there is none): gpt_train, gpt_generate (mode
// nocache, then cache) and gpt_peak_rss, each with its impl and thread count, and `config`'s
// fields. Cached tokens that differ from the uncached ones make the cache record FAILED.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config) {
  const auto record = [&](const char* name, const char* mode) {
    Json rec{{"name", name}, {"impl", impl}, {"threads", threads}};
    if (mode != nullptr) rec["mode"] = mode;
    tt::bench::copy_torch_fields(config, rec);
    return rec;
  };
  Json train = record("gpt_train", nullptr);
  Json nocache = record("gpt_generate", "nocache");
  Json cache = record("gpt_generate", "cache");
  Json rss = record("gpt_peak_rss", nullptr);
  if (r.contains("failed") || r.contains("skipped")) {
    const char* why = r.contains("failed") ? "failed" : "skipped";
    for (Json* rec : {&train, &nocache, &cache, &rss}) (*rec)[why] = r[why];
    return {train, nocache, cache, rss};
  }
  train["tokens_per_second"] = r["train_tokens_per_second"];
  train["steps"] = r["train_steps"];
  train["seconds"] = r["train_seconds"];
  train["mean_loss"] = r["mean_loss"];
  train["batch"] = kBatch;
  train["context"] = kContext;
  nocache["tokens_per_second"] = r["generate_nocache_tokens_per_second"];
  nocache["new_tokens"] = r["new_tokens"];
  if (r.value("cache_matches_nocache", false)) {
    cache["tokens_per_second"] = r["generate_cache_tokens_per_second"];
    cache["new_tokens"] = r["new_tokens"];
  } else {
    cache["failed"] = "greedy generation with the KV cache gave different tokens from without it";
  }
  rss["mib"] = r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0);
  rss["bytes"] = r["peak_rss_bytes"];
  return {train, nocache, cache, rss};
}

// A figure of a result (a worker's JSON), if it was measured.
std::optional<double> figure(const Json& r, const char* key) {
  if (!r.contains(key)) return std::nullopt;
  return r[key].get<double>();
}

// "  ours/PyTorch at 1 thread: training 1.31x, generation 2.52x without cache, ..." (> 1x: ours
// is faster; for memory < 1x: ours uses less).
void print_ratios(const Json& ours, const Json& torch, int threads) {
  const auto ratio = [&](const char* key) {
    const auto a = figure(ours, key), b = figure(torch, key);
    if (!a || !b || *b <= 0.0) return std::string("-");
    std::ostringstream text;
    text << std::fixed << std::setprecision(2) << *a / *b << "x";
    return text.str();
  };
  std::cout << "  ours/PyTorch at " << threads << (threads == 1 ? " thread" : " threads")
            << ": training " << ratio("train_tokens_per_second") << ", generation "
            << ratio("generate_nocache_tokens_per_second") << " without cache, "
            << ratio("generate_cache_tokens_per_second") << " with the KV cache (tokens/s; > 1x: "
            << "ours is faster), peak RSS " << ratio("peak_rss_bytes") << "\n"
            << std::flush;
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

int run_parent(const tt::bench::CommonOptions& o, const char* argv0) {
  const CorpusFile corpus(data::split_text(data::load_fortunes(o.data_dir)).train);
  tt::bench::SideBySide run("gpt_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "gpt_torch.py", argv0);
  for (const int t : o.threads) {
    std::vector<std::string> args{"--corpus", corpus.path()};
    if (o.quick) args.emplace_back("--quick");
    const Json mine = run.run_ours(t, args);
    run.add(make_records(mine, mine.value("impl", tt::bench::tinytorch_impl()), t, Json()));
    const Json theirs = run.run_torch(t, args);
    run.add(make_records(theirs, "torch", t, run.torch_config()));
    print_ratios(mine, theirs, t);
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  o.data_dir = std::string(data::kFortunesDir);
  std::string corpus_path;  // internal (--worker): the training text the parent wrote
  tt::bench::parse_options(argc, argv, "gpt_bench", kUsage, o,
                           [&](const std::string& arg, const std::function<std::string()>& value) {
                             if (arg != "--corpus") return false;
                             corpus_path = value();
                             return true;
                           });
  return tt::bench::run_main(
      "gpt_bench", kUsage, o, [&] { return run_worker(o, corpus_path); },
      [&] { return run_parent(o, argv[0]); });
}
