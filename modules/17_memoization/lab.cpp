// Module 17 lab — Use + Analyze: what the KV cache saves, and what it costs, measured.
//
//   ./tito lab 17                 the full run (sequences up to 512 tokens; a minute or two on
//                                 the 2-core course VM, most of it the uncached runs)
//   ./tito lab 17 --quick         sequences up to 64 tokens, a few seconds (a smoke test)
//   ./tito lab 17 --json out.json also write every measured figure to out.json
//   ./tito lab 17 --only A        only some experiments (A-B)
//   ./tito lab 17 --threads 1     run the GEMMs and parallel loops on one thread
//
//   A  cached vs uncached   greedy generation of 16 … 512 tokens from a 1-token prompt, with and
//                           without the cache: total time, tokens/s, and the speed-up as the
//                           sequence grows (uncached recomputes every earlier position each step)
//   B  memory per token     2 · n_layer · n_embd · bytes per element, for this model (measured
//                           from the cache's buffers) and for GPT-2 and LLaMA sizes (computed)
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;

// The module 13 lab's model (milestone 2017's shape and 114 characters), with room for 512
// positions.
nn::GPTConfig lab_config() {
  nn::GPTConfig c;
  c.vocab_size = 114;
  c.block_size = 512;
  c.n_layer = 4;
  c.n_head = 4;
  c.n_embd = 128;
  return c;
}

json experiment_generation(const Config& cfg) {
  heading("A", "Cached vs uncached generation",
          "greedy, from a 1-token prompt, to a total of n tokens");
  manual_seed(0);
  nn::GPT model(lab_config());
  const Tensor prompt = zeros({1, 1}, kInt64);
  std::vector<int64_t> lengths = {16, 32, 64};
  if (!cfg.quick) {
    lengths.push_back(128);
    lengths.push_back(256);
    lengths.push_back(512);
  }
  Table t({"tokens n", "uncached", "cached", "uncached tok/s", "cached tok/s", "speed-up"});
  json out = json::array();
  for (const int64_t n : lengths) {
    auto run = [&](bool use_cache) {
      return [&, use_cache] {
        const Tensor tokens = model->generate(
            prompt, {.max_new_tokens = n - 1, .greedy = true, .use_cache = use_cache});
        consume(tokens.select(1, -1).item<int64_t>());
      };
    };
    // Long uncached runs take seconds: fewer repeats there.
    const int reps = n >= 256 ? 1 : cfg.reps;
    const std::vector<Timing> ts =
        measure_round_robin(n >= 256 ? 0 : cfg.warmup, reps, {run(false), run(true)});
    const double new_tokens = static_cast<double>(n - 1);
    t.add({std::to_string(n), human_time(ts[0].median), human_time(ts[1].median),
           fixed(new_tokens / ts[0].median, 0), fixed(new_tokens / ts[1].median, 0),
           ratio(ts[0].median / ts[1].median)});
    out.push_back({{"n", n},
                   {"uncached", to_json(ts[0])},
                   {"cached", to_json(ts[1])},
                   {"speedup", ts[0].median / ts[1].median}});
  }
  t.print();
  meaning(
      "Without the cache, step t runs the whole model over all t positions, so n tokens cost "
      "about n²/2 position-forwards: doubling n quadruples the time and the tokens/s halve. With "
      "it, step t runs the model over ONE position and only attention reads the t cached keys "
      "and values: the time grows about linearly and the tokens/s stay nearly flat until the "
      "attention over a long cache starts to show.");
  return out;
}

json experiment_memory(const Config&) {
  heading("B", "Memory per token", "2 (K and V) · n_layer · n_embd · bytes per element");
  const nn::GPTConfig c = lab_config();
  manual_seed(1);
  nn::GPT model(c);
  const nn::KVCache cache = model->make_cache(1);
  const int64_t measured = cache.keys(0).nbytes() * 2 * cache.n_layer() / cache.max_seq_len();
  struct Model {
    std::string name;
    int64_t layers, kv_width, bytes;  // kv_width: n_kv_heads · head_dim (= d without GQA)
  };
  const std::vector<Model> models = {
      {"this lab's GPT (float32)", c.n_layer, c.n_embd, 4},
      {"GPT-2 small (fp32)", 12, 768, 4},
      {"GPT-2 XL (fp32)", 48, 1600, 4},
      {"LLaMA-2 7B (fp16)", 32, 4096, 2},
      {"LLaMA-2 70B (fp16, GQA 8 KV heads)", 80, 8 * 128, 2},
  };
  Table t({"model", "layers", "K/V width", "per token", "2,048 tokens", "× batch 32"});
  json out = json::array();
  for (const Model& m : models) {
    const int64_t per_token = 2 * m.layers * m.kv_width * m.bytes;
    t.add({m.name, std::to_string(m.layers), std::to_string(m.kv_width), human_bytes(per_token),
           human_bytes(static_cast<double>(per_token) * 2048),
           human_bytes(static_cast<double>(per_token) * 2048 * 32)});
    out.push_back({{"model", m.name}, {"bytes_per_token", per_token}});
  }
  t.print();
  std::cout << "  measured: our cache's buffers hold " << human_bytes(cache.nbytes()) << " for "
            << cache.max_seq_len() << " positions = " << human_bytes(measured)
            << " per token; bytes_per_token() = " << cache.bytes_per_token() << " B\n";
  meaning(
      "The cache grows linearly with the context and the batch, and at production sizes it, not "
      "the weights, is what limits how many sequences a GPU can serve at once: LLaMA-2 7B's "
      "fp16 weights are 13.5 GB, and 32 sequences of 2,048 tokens need 32 GiB of cache. That is "
      "why grouped-query attention shares K/V heads, and why vLLM pages the cache in blocks "
      "instead of reserving max_seq_len for every sequence as this cache does.");
  return {{"models", out},
          {"ours_bytes_per_token", cache.bytes_per_token()},
          {"ours_measured_bytes_per_token", measured},
          {"ours_nbytes", cache.nbytes()}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab17",
      .only_help = "e.g. --only A (letters A-B)",
      .threads_help = "threads for the GEMMs and parallel loops (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 3, 1};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const LabAllocator allocator(false);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 17 lab — what the KV cache saves, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  json machine = machine_json();
  machine["threads"] = get_num_threads();
  json doc = {
      {"lab", "17_memoization"}, {"quick", cfg.quick}, {"repeats", cfg.reps}, {"machine", machine}};
  const int failed = run_experiments({{"a_generation", [&] { return experiment_generation(cfg); }},
                                      {"b_memory", [&] { return experiment_memory(cfg); }}},
                                     opts, "17", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
