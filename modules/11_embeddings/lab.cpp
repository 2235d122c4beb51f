// Module 11 lab — Use + Analyze: what an embedding table costs, measured on YOUR machine.
//
//   ./tito lab 11                 the full run (a few seconds to a minute on the course VM)
//   ./tito lab 11 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 11 --json out.json also write every measured figure to out.json
//   ./tito lab 11 --only AC       only some experiments (A-C)
//   ./tito lab 11 --no-cache      tensors from the plain allocator (see LabAllocator in
//                                 modules/lab_support/lab_support.h)
//
// Every number printed is measured (steady_clock, warm-up runs, then the median of several
// repeats, variants timed round-robin) or counted from the tensors the program made.
//
//   A  the gather         embedding forward on tables from the char model's 65×128 to GPT-2's
//                         50257×768: GB/s of rows copied, against one memcpy of the same bytes
//   B  the scatter-add    the backward of 16,384 lookups with few duplicates, many (65 rows), and
//                         all one row; and the DENSE gradient's cost on a GPT-2-sized table
//   C  the table's memory weight + gradient + Adam's two moments = 4·V·D·4 bytes, computed for
//                         GPT-2 and our char model and measured (allocator live bytes)
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/native/embedding.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line

void consume(const Tensor& t) {
  if (t.numel() > 0) g_sink = static_cast<double>(static_cast<const char*>(t.data_ptr())[0]);
}

struct TableShape {
  std::string name;
  int64_t V, D;
};

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. The gather
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_gather(const Config& cfg) {
  const int64_t n = cfg.quick ? 2048 : 16384;  // lookups: a batch of 64 sequences of 256 tokens
  heading("A", "The gather: an embedding forward is a row copy",
          "out[i] = weight[ids[i]] for " + std::to_string(n) +
              " random ids. Bytes moved = 2·n·D·4 (read a row, write it);\n"
              "  the memcpy column copies the same bytes in one block — the ceiling for a gather.");
  std::vector<TableShape> tables = {{"char model (65×128)", 65, 128},
                                    {"BPE 8k (8192×256)", 8192, 256}};
  if (!cfg.quick) tables.push_back({"GPT-2 (50257×768)", 50257, 768});
  Table table({"table", "table size", "gather", "GB/s", "memcpy GB/s", "gather / memcpy"});
  json out = json::array();
  Generator gen(1);
  for (const TableShape& t : tables) {
    const Tensor w = randn({t.V, t.D}, kFloat32, &gen);
    const Tensor ids = randint(0, t.V, {n}, kInt64, &gen);
    const int64_t bytes = n * t.D * 4;
    const Tensor src = ones({n, t.D}), dst = empty({n, t.D});
    const std::vector<Timing> ts = measure_round_robin(
        cfg.warmup, cfg.reps,
        {[&] { consume(native::embedding(w, ids)); },
         [&] {
           std::memcpy(dst.data_ptr(), src.data_ptr(), static_cast<size_t>(bytes));
           consume(dst);
         }});
    const double gather_gbs = 2.0 * static_cast<double>(bytes) / ts[0].median / 1e9;
    const double copy_gbs = 2.0 * static_cast<double>(bytes) / ts[1].median / 1e9;
    table.add({t.name, human_bytes(static_cast<double>(t.V * t.D * 4)), human_time(ts[0].median),
               fixed(gather_gbs, 1), fixed(copy_gbs, 1), ratio(gather_gbs / copy_gbs)});
    out.push_back({{"table", t.name},
                   {"V", t.V},
                   {"D", t.D},
                   {"lookups", n},
                   {"gather", to_json(ts[0])},
                   {"memcpy", to_json(ts[1])},
                   {"gather_gb_per_s", gather_gbs},
                   {"memcpy_gb_per_s", copy_gbs}});
  }
  table.print();
  meaning(
      "The lookup does no arithmetic: it moves bytes, so its speed is the memory system's. A "
      "small table (the char model's 33 KiB) stays in cache and the gather runs near memcpy "
      "speed; GPT-2's 147 MiB table does not, and each random row is a fresh trip to DRAM. The "
      "one-hot product it replaces would do V·D multiply-adds per token — 38.6 million for "
      "GPT-2 — for the same row.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. The scatter-add
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_scatter(const Config& cfg) {
  const int64_t n = cfg.quick ? 2048 : 16384, D = 128;
  heading("B", "The backward: a scatter-add, and the dense gradient's price",
          "grad_weight[ids[i]] += grad[i] for " + std::to_string(n) +
              " lookups of D = 128, by how often ids repeat.\n"
              "  The backward first zeroes the dense [V, D] gradient; the scatter column is the "
              "rest.");
  Generator gen(2);
  const Tensor g = randn({n, D}, kFloat32, &gen);
  struct Case {
    std::string name;
    int64_t V;
    Tensor ids;
  };
  const int64_t wide = 4 * n;  // ids drawn from 4n rows: few repeats
  std::vector<Case> cases = {
      {"few duplicates (V = " + std::to_string(wide) + ")", wide,
       randint(0, wide, {n}, kInt64, &gen)},
      {"char model (V = 65)", 65, randint(0, 65, {n}, kInt64, &gen)},
      {"one id for all (V = 65)", 65, zeros({n}, kInt64)},
  };
  Table table({"indices", "rows touched", "backward", "zeros(V, D)", "scatter", "lookups / µs"});
  json out = json::array();
  std::vector<std::function<void()>> bodies;
  for (const Case& c : cases) {
    bodies.push_back([&c, &g] { consume(native::embedding_dense_backward(g, c.ids, c.V, -1)); });
    bodies.push_back([&c] { consume(zeros({c.V, D})); });
  }
  const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps, bodies);
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const Tensor touched = native::embedding_dense_backward(ones({n, 1}), c.ids, c.V, -1).gt(0);
    const int64_t rows = touched.sum().item<int64_t>();
    const Timing& backward = ts[2 * k];
    const Timing& zero = ts[2 * k + 1];
    const double scatter = std::max(backward.median - zero.median, 1e-9);
    table.add({c.name, std::to_string(rows), human_time(backward.median), human_time(zero.median),
               human_time(scatter), fixed(static_cast<double>(n) / scatter / 1e6, 1)});
    out.push_back({{"indices", c.name},
                   {"V", c.V},
                   {"rows_touched", rows},
                   {"backward", to_json(backward)},
                   {"zeros", to_json(zero)},
                   {"scatter_s", scatter}});
  }
  table.print();
  std::cout << "\n";
  // The dense gradient on a big table: most of the work is writing V·D zeros.
  const int64_t V = cfg.quick ? 8192 : 50257, Dg = cfg.quick ? 256 : 768, tokens = 1024;
  const Tensor gg = randn({tokens, Dg}, kFloat32, &gen);
  const Tensor ids = randint(0, V, {tokens}, kInt64, &gen);
  const std::vector<Timing> dense =
      measure_round_robin(cfg.warmup, cfg.reps,
                          {[&] { consume(native::embedding_dense_backward(gg, ids, V, -1)); },
                           [&] {
                             consume(zeros({V, Dg}));
                           }});
  Table t2({"table", "tokens", "dense backward", "zeros(V, D) alone", "rows with gradient"});
  t2.add({std::to_string(V) + "×" + std::to_string(Dg), std::to_string(tokens),
          human_time(dense[0].median), human_time(dense[1].median),
          fixed(100.0 * static_cast<double>(tokens) / static_cast<double>(V), 1) + "% at most"});
  t2.print();
  out.push_back({{"dense_table", {V, Dg}},
                 {"tokens", tokens},
                 {"dense_backward", to_json(dense[0])},
                 {"zeros_alone", to_json(dense[1])}});
  meaning(
      "On a CPU, repeated ids make the scatter FASTER, not slower: a row that comes back is "
      "still in cache, while ids spread over a big table miss it on every add. (On a GPU it is "
      "the opposite: thousands of threads adding into one row must use atomics and serialise.) "
      "Compare the scatter column with the zeros column: on a big vocabulary the dense gradient "
      "is the real cost — a step that looked up 1,024 tokens still writes all V·D gradient "
      "values, and Adam then updates every row. A sparse gradient (PyTorch's sparse=True) keeps "
      "only the touched rows.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. The table's memory
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory(const Config& cfg) {
  heading(
      "C", "The table's memory: weight, gradient, Adam's two moments",
      "Training keeps 4 copies of a V×D float32 table: 4·V·D·4 bytes. Computed for three\n"
      "  tables; measured (the allocator's live bytes) after one Adam step of the smaller ones.");
  std::vector<TableShape> tables = {{"char model (65×128)", 65, 128},
                                    {"BPE 8k (8192×256)", 8192, 256},
                                    {"GPT-2 (50257×768)", 50257, 768}};
  Table table({"table", "weight", "+ grad + Adam (computed)", "measured after a step"});
  json out = json::array();
  for (const TableShape& t : tables) {
    const double weight = static_cast<double>(t.V * t.D * 4);
    std::string measured = "(not run)";
    int64_t measured_bytes = -1;
    if (t.V * t.D <= (cfg.quick ? 65 * 128 : 8192 * 256)) {
      const int64_t before = get_allocator()->stats().live_bytes;
      {
        nn::Embedding emb(nn::EmbeddingOptions(t.V, t.D));
        optim::Adam adam(emb->parameters(), optim::AdamOptions(1e-3));
        emb->forward(randint(0, t.V, {64}, kInt64)).sum().backward();
        adam.step();
        measured_bytes = get_allocator()->stats().live_bytes - before;
      }
      measured = human_bytes(static_cast<double>(measured_bytes));
    }
    table.add({t.name, human_bytes(weight), human_bytes(4 * weight), measured});
    out.push_back({{"table", t.name},
                   {"weight_bytes", weight},
                   {"training_bytes_computed", 4 * weight},
                   {"training_bytes_measured", measured_bytes}});
  }
  table.print();
  meaning(
      "GPT-2's token table alone is 147 MiB of weights and 589 MiB while training with Adam — "
      "more than all twelve of its attention layers' weights together. The char model's table "
      "is 33 KiB. Weight tying (the output projection reuses the table) saves a second V×D "
      "matrix and its three training copies.");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{.name = "lab11", .no_cache = true, .only_help = "e.g. --only AC (A-C)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 9, 1};
  const LabAllocator allocator(opts.no_cache);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 11 lab — what an embedding table costs, measured",
              cfg.quick ? " (--quick: small sizes)" : "");
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run; timings vary between runs and machines.\n";
  json doc = {{"lab", "11_embeddings"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"machine", machine_json()}};
  const std::vector<Experiment> experiments = {
      {"a_gather", [&] { return experiment_gather(cfg); }},
      {"b_scatter", [&] { return experiment_scatter(cfg); }},
      {"c_memory", [&] { return experiment_memory(cfg); }},
  };
  const int failed = run_experiments(experiments, opts, "11", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = stopwatch.cpu_seconds();
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
