// Module 19 lab — Use + Analyze: measuring real pairs of kernels with statistics that can say
// "we cannot tell".
//
//   ./tito lab 19                 the full run (about a minute on the 2-core course VM)
//   ./tito lab 19 --quick         fewer rounds and sizes, a few seconds (a smoke test)
//   ./tito lab 19 --json out.json also write every measured figure to out.json
//   ./tito lab 19 --only B        only some experiments (A-C)
//
//   A  one measurement     Timer::blocked_autorange on a matmul: the block size it chose, the
//                          samples' median, mean, percentiles, IQR, bootstrap CI, outliers and the
//                          machine metadata every result carries
//   B  pairs               reference vs fast tier (matmul at a few sizes, GELU) and the same kernel
//                          twice, timed block by block in alternation (A B A B …): medians with
//                          their CIs and compare()'s verdict
//   C  few repetitions     the same kernel twice, 20 times over with 3 blocks each: how often a
//                          naive "5% faster" claim appears, and how often compare() gives a verdict
//
// All on one thread: the reference tier has none, and a 2-core VM shared with other programs is
// noisy enough.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;
namespace bm = tinytorch::benchmark;
using kernels::Tier;
using kernels::TierGuard;

json interval_json(const bm::Interval& i) {
  return json::array({i.low, i.high});
}

json measurement_json(const bm::Measurement& m) {
  return {{"label", m.label},
          {"median_s", m.median},
          {"median_ci_s", interval_json(m.median_ci)},
          {"mean_s", m.mean},
          {"iqr_s", m.iqr},
          {"min_s", m.min},
          {"max_s", m.max},
          {"blocks", m.samples.size()},
          {"calls_per_block", m.number_per_run},
          {"outliers", m.outliers.indices.size()}};
}

json machine_info_json(const bm::MachineInfo& info) {
  return {{"cpu", info.cpu_model},     {"isa", info.isa},
          {"threads", info.threads},   {"load_average", info.load_average},
          {"runnable", info.runnable}, {"clock", info.clock},
          {"commit", info.commit}};
}

std::string with_ci(const bm::Measurement& m) {
  return human_time(m.median) + " [" + human_time(m.median_ci.low) + ", " +
         human_time(m.median_ci.high) + "]";
}

// Times A and B block by block in alternation — A B, B A, A B … — so that a stretch of time in
// which the machine runs slow (another program, a frequency change) slows both alike. Each side's
// block size comes from choose_block_size (blocks of >= 1 ms here), after a warm-up.
std::pair<bm::Measurement, bm::Measurement> interleaved(const std::string& label_a,
                                                        const std::function<void()>& a,
                                                        const std::string& label_b,
                                                        const std::function<void()>& b,
                                                        int64_t rounds) {
  bm::Timer ta(a, label_a), tb(b, label_b);
  ta.timeit(3);
  tb.timeit(3);
  const auto block = [](const std::function<void()>& f) {
    return bm::choose_block_size(
        [&](int64_t n) {
          const double start = now_seconds();
          for (int64_t i = 0; i < n; ++i) f();
          return now_seconds() - start;
        },
        1e-3);
  };
  const int64_t na = block(a), nb = block(b);
  // Which side goes first in a round is a coin toss (a fixed seed): a disturbance that recurs
  // with the period of a round — another program's timer, say — cannot then land on one side.
  Generator coin(19);
  std::vector<double> sa, sb;
  for (int64_t r = 0; r < rounds; ++r) {
    const bool a_first = coin.random_int(0, 2) == 0;
    if (a_first) sa.push_back(ta.repeat(1, na, 0).median);
    sb.push_back(tb.repeat(1, nb, 0).median);
    if (!a_first) sa.push_back(ta.repeat(1, na, 0).median);
  }
  return {bm::summarize(label_a, sa, na), bm::summarize(label_b, sb, nb)};
}

json experiment_one(const Config& cfg) {
  heading("A", "One measurement, all its statistics",
          "Timer::blocked_autorange on a 128×128 matmul (fast tier, 1 thread)");
  const Tensor a = randn({128, 128}), b = randn({128, 128});
  bm::Timer timer([&] { consume(matmul(a, b).numel()); }, "matmul 128 fast");
  const bm::Measurement m = timer.blocked_autorange(cfg.quick ? 0.1 : 0.5);
  std::cout << "  " << m.describe() << "\n  machine: " << m.machine.describe() << "\n\n";
  Table t({"statistic", "value"});
  t.add({"block size (calls)", std::to_string(m.number_per_run)});
  t.add({"blocks", std::to_string(m.samples.size())});
  t.add({"min", human_time(m.min)});
  t.add({"p10", human_time(m.percentile(10))});
  t.add({"median", human_time(m.median)});
  t.add({"mean", human_time(m.mean)});
  t.add({"p90", human_time(m.percentile(90))});
  t.add({"p99", human_time(m.percentile(99))});
  t.add({"max", human_time(m.max)});
  t.add({"IQR", human_time(m.iqr)});
  t.add({"median 95% CI (2000 resamples)", with_ci(m)});
  // The low fence of a skewed sample is often below zero: no time can be an outlier that way.
  const double low_fence = m.outliers.fences.low;
  t.add({"Tukey fences", (low_fence > 0 ? human_time(low_fence) : "0 (" + sci(low_fence) + " s)") +
                             " … " + human_time(m.outliers.fences.high)});
  t.add({"outliers (reported, kept)", std::to_string(m.outliers.indices.size())});
  t.print();
  meaning(
      "Timings are skewed to the right: nothing makes a call faster than the hardware allows, "
      "many things make it slower. So the mean sits above the median and the max can be far "
      "out; the median and its interval are what we report, the outliers are counted, not "
      "dropped.");
  json out = measurement_json(m);
  out["machine"] = machine_info_json(m.machine);
  out["p10_s"] = m.percentile(10);
  out["p90_s"] = m.percentile(90);
  out["p99_s"] = m.percentile(99);
  return out;
}

json experiment_pairs(const Config& cfg) {
  heading("B", "Pairs: reference vs fast, and a kernel against itself",
          "interleaved blocks, bootstrap CIs of both medians, compare()'s verdict");
  const int64_t rounds = cfg.quick ? 10 : 40;
  std::vector<int64_t> sizes = {32, 128};
  if (!cfg.quick) sizes.push_back(256);
  Table t({"pair (A vs B)", "A median [95% CI]", "B median [95% CI]", "verdict"});
  json out = json::array();
  const auto add = [&](const std::string& name, const std::string& la,
                       const std::function<void()>& fa, const std::string& lb,
                       const std::function<void()>& fb) {
    const auto [ma, mb] = interleaved(la, fa, lb, fb, rounds);
    const bm::Comparison c = bm::compare(ma.samples, mb.samples);
    t.add({name, with_ci(ma), with_ci(mb), c.describe(la, lb)});
    out.push_back({{"pair", name},
                   {"a", measurement_json(ma)},
                   {"b", measurement_json(mb)},
                   {"speedup", c.speedup},
                   {"speedup_ci", interval_json(c.speedup_ci)},
                   {"verdict", c.describe(la, lb)}});
  };
  for (const int64_t n : sizes) {
    const Tensor a = randn({n, n}), b = randn({n, n});
    const auto mm = [&](Tier tier) {
      return [&a, &b, tier] {
        const TierGuard guard(tier);
        consume(matmul(a, b).numel());
      };
    };
    add("matmul " + std::to_string(n), "fast", mm(Tier::kFast), "reference", mm(Tier::kReference));
  }
  const Tensor x = randn({1 << 16});
  const auto gelu = [&x](Tier tier) {
    return [&x, tier] {
      const TierGuard guard(tier);
      consume(native::gelu(x, "none").numel());
    };
  };
  add("gelu 65536", "fast", gelu(Tier::kFast), "reference", gelu(Tier::kReference));
  const Tensor a = randn({128, 128}), b = randn({128, 128});
  const auto same = [&] { consume(matmul(a, b).numel()); };
  add("matmul 128, same kernel twice", "first", same, "second", same);
  t.print();
  meaning(
      "A verdict appears only when the two medians' intervals separate and the speed-up's "
      "interval excludes 1. The same kernel twice must give \"no significant difference\"; "
      "if it ever does not, the machine changed under the measurement (see C).");
  return out;
}

json experiment_few(const Config& cfg) {
  heading("C", "How few repetitions mislead",
          "the same 128×128 matmul twice: 20 experiments (10 with --quick) of 3 blocks each, then "
          "40 blocks");
  const Tensor a = randn({128, 128}), b = randn({128, 128});
  const auto same = [&] { consume(matmul(a, b).numel()); };
  const int experiments = cfg.quick ? 10 : 20;
  int naive_claims = 0, separated = 0;
  double lo = 1e300, hi = 0;
  bm::Measurement ma3, mb3;  // the last experiment's, for compare() below
  for (int e = 0; e < experiments; ++e) {
    std::tie(ma3, mb3) = interleaved("first", same, "second", same, 3);
    const double ratio = mb3.median / ma3.median;
    lo = std::min(lo, ratio);
    hi = std::max(hi, ratio);
    naive_claims += (ratio > 1.05 || ratio < 1 / 1.05) ? 1 : 0;
    separated += ma3.median_ci.separated_from(mb3.median_ci) ? 1 : 0;
  }
  const auto [ma, mb] = interleaved("first", same, "second", same, 40);
  const bm::Comparison c = bm::compare(ma.samples, mb.samples);
  Table t({"", "value"});
  t.add({"ratio of medians, 3 blocks each: lowest … highest", fixed(lo, 3) + " … " + fixed(hi, 3)});
  t.add({"naive \"≥5% faster\" claims",
         std::to_string(naive_claims) + " of " + std::to_string(experiments)});
  t.add({"median CIs that separate (3 blocks each)",
         std::to_string(separated) + " of " + std::to_string(experiments)});
  t.add({"compare(), last 3-block experiment", bm::compare(ma3.samples, mb3.samples).describe()});
  t.add({"40 blocks each", c.describe("first", "second")});
  t.print();
  meaning(
      "With 3 samples the ratio of two medians of the SAME code wanders by several percent "
      "on a shared VM, and a rule like \"5% faster wins\" declares winners that do not exist. "
      "The bootstrap interval of 3 samples is their whole range, and two ranges of 3 samples of "
      "the same code separate 1 time in 10 by chance alone (2 of the 20 orderings of 6 values), "
      "so compare() gives no verdict below 5 samples a side. 40 blocks give a narrow interval "
      "and an honest answer.");
  return {{"experiments", experiments},
          {"ratio_min", lo},
          {"ratio_max", hi},
          {"naive_claims", naive_claims},
          {"separated_cis_3_blocks", separated},
          {"verdict_40_blocks", c.describe("first", "second")},
          {"speedup_40_blocks", c.speedup},
          {"speedup_ci_40_blocks", interval_json(c.speedup_ci)}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{.name = "lab19", .only_help = "e.g. --only B (letters A-C)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, 1, 1};
  set_num_threads(1);
  const LabAllocator allocator(false);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 19 lab — benchmarks with confidence intervals",
              cfg.quick ? " (--quick: fewer rounds)" : "", "; 1 thread");
  const bm::MachineInfo machine = bm::machine_info();
  std::cout << "  before the run: " << machine.describe() << "\n";
  json doc = {{"lab", "19_benchmarking"},
              {"quick", cfg.quick},
              {"machine", machine_json()},
              {"machine_before_run", machine_info_json(machine)}};
  const int failed = run_experiments({{"a_one", [&] { return experiment_one(cfg); }},
                                      {"b_pairs", [&] { return experiment_pairs(cfg); }},
                                      {"c_few", [&] { return experiment_few(cfg); }}},
                                     opts, "19", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  print_cpu_share(total, stopwatch.cpu_seconds());
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
