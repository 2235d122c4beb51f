// Unit tests for the summary tables of `tito bench` (tools/tito/src/bench_report): which records
// count as figures, and the target verdicts printed from records written here — a target must
// read "NOT MET" / "BELOW TARGET" exactly when the figures miss it.
#include <gtest/gtest.h>

#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_report.h"

namespace {

using tito::bench::Json;
using tito::bench::Records;

// What f prints on std::cout.
template <typename F>
std::string printed(F f) {
  std::ostringstream out;
  std::streambuf* saved = std::cout.rdbuf(out.rdbuf());
  f();
  std::cout.rdbuf(saved);
  return out.str();
}

// The printed line that starts (after the indent) with `label`; "" when there is none.
std::string line_of(const std::string& text, const std::string& label) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find("  " + label) == 0) return line;
  }
  return "";
}

Json record(const std::string& name, const std::string& impl, int64_t threads, const char* field,
            double value, const std::string& mode = "") {
  Json r = {{"name", name}, {"impl", impl}, {"threads", threads}, {field, value}};
  if (!mode.empty()) r["mode"] = mode;
  return r;
}

// A quant record of the 784->256 layer at one thread.
Json quant(const char* name, const std::string& impl, int64_t batch, double ms) {
  Json r = record(name, impl, 1, "ms", ms);
  r["batch"] = batch;
  r["in_features"] = 784;
  r["out_features"] = 256;
  return r;
}

TEST(BenchReport, SkippedAndFailedRecordsAreNotFigures) {
  Records records;
  records.add(record("sgemm", "tinytorch-fast", 1, "gflops", 80.5));
  records.add(
      {{"name", "sgemm"}, {"impl", "openblas"}, {"threads", 1}, {"skipped", "no libopenblas"}});
  records.add(
      {{"name", "sgemm"}, {"impl", "tinytorch-reference"}, {"threads", 1}, {"failed", "rc 1"}});
  EXPECT_EQ(records.figure("sgemm", "tinytorch-fast", 0, 1), 80.5);
  EXPECT_FALSE(records.figure("sgemm", "openblas", 0, 1));
  EXPECT_EQ(records.cell("sgemm", "tinytorch-fast", 0, 1), "80.5");
  EXPECT_EQ(records.cell("sgemm", "openblas", 0, 1), "skipped");
  EXPECT_EQ(records.cell("sgemm", "tinytorch-reference", 0, 1), "FAILED");
  EXPECT_EQ(records.cell("sgemm", "tinytorch-fast", 0, 2), "-");
}

// Training: ours 130 at 2 threads against PyTorch's best 100 (its 1-thread figure): 1.30x, met.
// Cached generation 150 against 100: 1.5x, below the 2x target. Memory 50 against 100 MiB: met.
TEST(BenchReport, GptTargetsAreMetOnlyWhenTheFiguresReachThem) {
  Records records;
  for (const auto& [impl, t1, t2] :
       {std::tuple<std::string, double, double>{"tinytorch-fast", 100, 130}, {"torch", 100, 90}}) {
    records.add(record("gpt_train", impl, 1, "tokens_per_second", t1));
    records.add(record("gpt_train", impl, 2, "tokens_per_second", t2));
  }
  records.add(record("gpt_generate", "tinytorch-fast", 1, "tokens_per_second", 150, "cache"));
  records.add(record("gpt_generate", "torch", 1, "tokens_per_second", 100, "cache"));
  records.add(record("gpt_peak_rss", "tinytorch-fast", 1, "mib", 50));
  records.add(record("gpt_peak_rss", "torch", 1, "mib", 100));
  const std::string out = printed([&] { tito::bench::print_gpt(records); });
  const std::string train = line_of(out, "training (tokens/s)");
  EXPECT_NE(train.find("1.30x"), std::string::npos) << out;
  EXPECT_NE(train.find(">= 1.25x met"), std::string::npos) << out;
  const std::string cache = line_of(out, "generation, KV cache (tokens/s)");
  EXPECT_NE(cache.find("1.50x"), std::string::npos) << out;
  EXPECT_NE(cache.find("NOT MET"), std::string::npos) << out;
  const std::string rss = line_of(out, "peak RSS (MiB)");
  EXPECT_NE(rss.find("<= 1.00x met"), std::string::npos) << out;
  EXPECT_EQ(rss.find("NOT MET"), std::string::npos) << out;
}

// Quant: ours int8 1.0 ms against ours fp32 2.5 ms (2.50x, met) and PyTorch's int8 1.5 ms (1.50x,
// NOT MET); the worst row decides, so a second row at 1.9x fails the fp32 target too.
TEST(BenchReport, QuantTargetsTakeTheWorstRow) {
  Records records;
  records.add(quant("int8_linear", "tinytorch-fast", 64, 1.0));
  records.add(quant("fp32_linear", "tinytorch-fast", 64, 2.5));
  records.add(quant("int8_linear", "torch", 64, 1.5));
  std::string out = printed([&] { tito::bench::print_quant(records); });
  EXPECT_NE(line_of(out, "784->256").find("2.50x"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "target: int8 >= 2x our fp32").find("met"), std::string::npos) << out;
  EXPECT_EQ(line_of(out, "target: int8 >= 2x our fp32").find("NOT MET"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "target: int8 >= 2x PyTorch").find("NOT MET"), std::string::npos) << out;
  records.add(quant("int8_linear", "tinytorch-fast", 256, 1.0));
  records.add(quant("fp32_linear", "tinytorch-fast", 256, 1.9));
  out = printed([&] { tito::bench::print_quant(records); });
  EXPECT_NE(line_of(out, "target: int8 >= 2x our fp32").find("1.90x — NOT MET"), std::string::npos)
      << out;
}

// The ceiling columns divide by this run's int8 peak: 784->256 at batch 64 is 25.69 M operations,
// 0.257 ms at 100 GOP/s — ours at 1.0 ms is 26% of the peak, and a kernel at the peak would beat
// PyTorch's 1.5 ms by 5.84x. At batch 256 (1.028 ms at the peak) PyTorch's 1.5 ms leaves at most
// 1.46x: that row cannot reach the 2x target, and the report says so; with no peak it says nothing.
TEST(BenchReport, QuantCeilingComesFromTheInt8Peak) {
  Records records;
  records.add(quant("int8_linear", "tinytorch-fast", 64, 1.0));
  records.add(quant("int8_linear", "torch", 64, 1.5));
  std::string out = printed([&] { tito::bench::print_quant(records); });
  EXPECT_EQ(out.find("ceiling:"), std::string::npos) << out;
  records.add(record("int8_peak", "AVX-512 VNNI vpdpbusd", 1, "gflops", 100.0));
  out = printed([&] { tito::bench::print_quant(records); });
  EXPECT_NE(line_of(out, "784->256").find("26%"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "784->256").find("5.84x"), std::string::npos) << out;
  EXPECT_EQ(out.find("ceiling:"), std::string::npos) << out;
  records.add(quant("int8_linear", "tinytorch-fast", 256, 1.2));
  records.add(quant("int8_linear", "torch", 256, 1.5));
  out = printed([&] { tito::bench::print_quant(records); });
  const std::string ceiling = line_of(out, "ceiling:");
  EXPECT_NE(ceiling.find("in 1 of 2 rows"), std::string::npos) << out;
  EXPECT_NE(ceiling.find("1.46x"), std::string::npos) << out;
  EXPECT_NE(ceiling.find("up to 69%"), std::string::npos) << out;
}

// An ops record (bench/ops_bench.cpp): ms and the GB/s that time gives for 8 MB of traffic.
Json op(const std::string& impl, int64_t threads, const std::string& mode, double ms) {
  Json r = record("softmax", impl, threads, "ms", ms, mode);
  r["pass"] = "forward";
  r["gbps"] = 8e6 / (ms * 1e-3) * 1e-9;
  return r;
}

// Ops: the forward row, ours 1.0 / 0.9 ms at 1 / 2 threads against PyTorch's best 1.0 ms (2t):
// 0.90x at best, NOT MET (<= 0.8x); the backward row, ours 0.5 ms against 1.0: met. The first
// table divides PyTorch's time by ours (1.50x at 1 thread) and the bandwidth by the triad's.
TEST(BenchReport, OpsTargetIsMetOnlyAtOrBelowFourFifthsOfPyTorchsBestTime) {
  Records records;
  records.add(record("stream_triad", "", 1, "gbps", 16.0));
  records.add(op("tinytorch-fast", 1, "4x4 dim 1 forward", 1.0));
  records.add(op("tinytorch-fast", 2, "4x4 dim 1 forward", 0.9));
  records.add(op("torch", 1, "4x4 dim 1 forward", 1.5));
  records.add(op("torch", 2, "4x4 dim 1 forward", 1.0));
  records.add(op("tinytorch-fast", 1, "4x4 dim 1 backward", 0.5));
  records.add(op("torch", 1, "4x4 dim 1 backward", 1.0));
  const std::string out = printed([&] { tito::bench::print_ops(records); });
  std::string first;  // the first table's forward row at 1 thread: PyTorch's 1.500 ms
  std::istringstream lines(out);
  for (std::string line; first.empty() && std::getline(lines, line);) {
    if (line.find("4x4 dim 1 forward") != std::string::npos &&
        line.find("1.500") != std::string::npos)
      first = line;
  }
  EXPECT_NE(first.find("1.50x"), std::string::npos) << out;
  EXPECT_NE(first.find("50%"), std::string::npos) << out;  // 8 GB/s of a 16 GB/s triad
  const std::string forward = line_of(out, "softmax 4x4 dim 1 forward");
  EXPECT_NE(forward.find("0.90x"), std::string::npos) << out;
  EXPECT_NE(forward.find("<= 0.80x NOT MET"), std::string::npos) << out;
  const std::string backward = line_of(out, "softmax 4x4 dim 1 backward");
  EXPECT_NE(backward.find("0.50x"), std::string::npos) << out;
  EXPECT_NE(backward.find("<= 0.80x met"), std::string::npos) << out;
}

// LSTM: ours 100 / 80 ms at 1 / 2 threads, PyTorch's 50 / 60 ms. The first table divides
// PyTorch's time by ours (0.50x at 1 thread); against PyTorch's best (50 ms at 1 thread) ours is
// 2.00x and 1.60x; each side at its best: ours 80 ms (2t), PyTorch's 50 ms (1t), 0.62x.
TEST(BenchReport, LstmTablesCompareEachThreadCountAndEachSidesBest) {
  Records records;
  const std::string mode = "1997: 2 layers 128->235, batch 32, T 64";
  records.add(record("lstm_step", "tinytorch-fast", 1, "ms", 100.0, mode));
  records.add(record("lstm_step", "torch", 1, "ms", 50.0, mode));
  records.add(record("lstm_step", "tinytorch-fast", 2, "ms", 80.0, mode));
  records.add(record("lstm_step", "torch", 2, "ms", 60.0, mode));
  const std::string out = printed([&] { tito::bench::print_lstm(records); });
  std::string one_thread;  // the first table's row at 1 thread: ours 100.000 ms
  std::istringstream lines(out);
  for (std::string line; one_thread.empty() && std::getline(lines, line);) {
    if (line.find("100.000") != std::string::npos) one_thread = line;
  }
  EXPECT_NE(one_thread.find("0.50x"), std::string::npos) << out;
  const std::string against_best =
      line_of(out, "lstm_step " + mode);  // one space: the second table
  EXPECT_NE(against_best.find("2.00x"), std::string::npos) << out;
  EXPECT_NE(against_best.find("1.60x"), std::string::npos) << out;
  const std::string both = line_of(out, "  " + mode);
  EXPECT_NE(both.find("ours 80.000 ms (2t), PyTorch 50.000 ms (1t), torch/ours 0.62x"),
            std::string::npos)
      << out;
}

// A timed record with its FLOPs and fraction of the FMA peak, as torch_baseline.h writes them.
Json timed(const std::string& name, const std::string& impl, const char* field, double value,
           double peak_fraction) {
  Json r = record(name, impl, 1, field, value);
  r["batch"] = 128;
  r["flops"] = 1e10;
  r["fma_peak_gflops"] = 100.0;
  r["fma_peak_isa"] = "AVX-512";
  r["peak_fraction"] = peak_fraction;
  return r;
}

// ResNet: each side's fraction of the peak comes from its own record (ours 40%, PyTorch's 25%);
// a time is compared lower-is-better (100 ms against 200: 0.50x), a rate higher-is-better
// (images/s 300 against 200: 1.50x); no targets.
TEST(BenchReport, ResnetTablesShowEachSidesPeakFractionAndRatios) {
  Records records;
  records.add(timed("resnet_step", "tinytorch-fast", "ms", 100.0, 0.40));
  records.add(timed("resnet_step", "torch", "ms", 200.0, 0.25));
  records.add(timed("resnet_inference", "tinytorch-fast", "images_per_second", 300.0, 0.3));
  records.add(timed("resnet_inference", "torch", "images_per_second", 200.0, 0.2));
  const std::string out = printed([&] { tito::bench::print_resnet(records); });
  const std::string peak = line_of(out, "training step, batch 128");
  EXPECT_NE(peak.find("40%"), std::string::npos) << out;
  EXPECT_NE(peak.find("25%"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "training step (ms)").find("0.50x"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "batch-128 inference (images/s)").find("1.50x"), std::string::npos) << out;
  EXPECT_EQ(out.find("NOT MET"), std::string::npos) << out;
  EXPECT_EQ(records.figure("resnet_inference", "torch", 0, 1), 200.0);  // images/s, not ms
}

// Ours' batch-1 latency above 1 thread carries its 1-thread twin timed interleaved in the same
// worker; the report prints that ratio (1-thread time / 2-thread time), and nothing for a thread
// count whose record lacks it.
TEST(BenchReport, InterleavedLatencyRatioIsOneThreadTimeOverMoreThreadsTime) {
  Records records;
  records.add(record("resnet_latency", "tinytorch-fast", 1, "ms", 0.50));
  Json two = record("resnet_latency", "tinytorch-fast", 2, "ms", 0.40);
  two["one_thread_ms"] = 0.44;
  records.add(two);
  records.add(record("resnet_step", "tinytorch-fast", 1, "ms", 100.0));
  records.add(record("resnet_step", "tinytorch-fast", 2, "ms", 60.0));
  const std::string out = printed([&] { tito::bench::print_resnet(records); });
  const std::string line = line_of(out, "ours, batch-1 latency at 2 threads vs 1 thread");
  EXPECT_NE(line.find("0.440 / 0.400 ms = 1.10x"), std::string::npos) << out;
  EXPECT_EQ(line_of(out, "ours, batch-1 latency at 1 threads"), "") << out;

  Records without;
  without.add(record("cnn_epoch", "tinytorch-fast", 2, "seconds", 5.0));
  without.add(record("cnn_latency", "tinytorch-fast", 2, "ms", 0.10));
  const std::string plain = printed([&] { tito::bench::print_cnn(without); });
  EXPECT_EQ(plain.find("timed interleaved"), std::string::npos) << plain;
}

// The d_model-256 GPT: its own records, no generation columns and no targets (the issue sets
// them for milestone 2017's model only).
TEST(BenchReport, Gpt256HasItsOwnRecordsAndNoTargets) {
  Records records;
  records.add(timed("gpt256_train", "tinytorch-fast", "tokens_per_second", 130.0, 0.5));
  records.add(timed("gpt256_train", "torch", "tokens_per_second", 100.0, 0.4));
  records.add(record("gpt_train", "torch", 1, "tokens_per_second", 999.0));  // another model's
  const std::string out = printed([&] { tito::bench::print_gpt256(records); });
  const std::string train = line_of(out, "training (tokens/s)");
  EXPECT_NE(train.find("100 (1t)"), std::string::npos) << out;
  EXPECT_NE(train.find("1.30x"), std::string::npos) << out;
  EXPECT_EQ(train.find("met"), std::string::npos) << out;
  EXPECT_EQ(out.find("generate"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "1 ").find("50%"), std::string::npos) << out;
}

// Beside a competitor, a second thread must not make a call slower than 0.9x of one thread.
TEST(BenchReport, ContendedTableFlagsEveryFigureBelowTheTarget) {
  Records records;
  for (const auto& [threads, gflops] : {std::pair<int64_t, double>{1, 100}, {2, 95}}) {
    Json r = record("sgemm", "tinytorch-fast", threads, "gflops", gflops);
    r["n"] = 512;
    records.add(r);
  }
  // A step time (lower is better): 2 ms on one thread, 2.5 ms on two is 0.80x.
  for (const auto& [threads, ms] : {std::pair<int64_t, double>{1, 2.0}, {2, 2.5}}) {
    Json r = record("mlp_step", "tinytorch-fast", threads, "ms", ms);
    r["optimizer"] = "sgd";
    records.add(r);
  }
  const std::string out = printed([&] { tito::bench::print_contended(records, 0); });
  const std::string sgemm = line_of(out, "SGEMM N = 512");
  EXPECT_NE(sgemm.find("0.95x"), std::string::npos) << out;
  EXPECT_NE(sgemm.find("ok"), std::string::npos) << out;
  const std::string step = line_of(out, "MLP sgd training step");
  EXPECT_NE(step.find("0.80x"), std::string::npos) << out;
  EXPECT_NE(step.find("BELOW TARGET"), std::string::npos) << out;
  EXPECT_NE(out.find("1 figure(s) below the target"), std::string::npos) << out;
}

}  // namespace

namespace {

// A SGEMM record at n = 128 with its figure's 95% interval (as the harness writes it), or none.
Json sgemm(const std::string& impl, double gflops, std::optional<std::pair<double, double>> ci) {
  Json r = record("sgemm", impl, 1, "gflops", gflops);
  r["n"] = 128;
  if (ci) r["gflops_ci95"] = {ci->first, ci->second};
  return r;
}

// A verdict only when the intervals separate; none without intervals (one repetition).
TEST(BenchReport, VerdictsOnlyWhenTheIntervalsSeparate) {
  const Json fast = sgemm("tinytorch-fast", 40, std::pair{38.0, 41.0});
  const Json ref = sgemm("tinytorch-reference", 1.3, std::pair{1.2, 1.4});
  const Json close = sgemm("openblas", 39.5, std::pair{37.0, 42.0});
  const Json once = sgemm("openblas", 39.5, std::nullopt);
  EXPECT_EQ(tito::bench::verdict(&fast, &ref), "higher");
  EXPECT_EQ(tito::bench::verdict(&ref, &fast), "lower");
  EXPECT_EQ(tito::bench::verdict(&fast, &close), "no significant difference");
  EXPECT_EQ(tito::bench::verdict(&fast, &once), "");
  EXPECT_EQ(tito::bench::verdict(&fast, nullptr), "");
  Json malformed = fast;
  malformed["gflops_ci95"] = "38-41";
  EXPECT_FALSE(Records::interval(malformed));
  EXPECT_EQ(Records::interval(fast), (std::pair{38.0, 41.0}));
}

// The ratio table marks "~" the ratios whose figures' intervals overlap, and only those.
TEST(BenchReport, SgemmRatiosAreMarkedWhenNotSignificant) {
  Records records;
  records.add(sgemm("tinytorch-fast", 40, std::pair{38.0, 41.0}));
  records.add(sgemm("tinytorch-reference", 1.3, std::pair{1.2, 1.4}));
  records.add(sgemm("openblas", 39.5, std::pair{37.0, 42.0}));
  const std::string out = printed([&] { tito::bench::print_sgemm(records); });
  std::string row;
  std::istringstream in(out.substr(out.find("SGEMM ratios")));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("  128 ", 0) == 0) row = line;
  }
  EXPECT_NE(row.find("30.77x "), std::string::npos) << out;  // fast/reference: separated
  EXPECT_EQ(row.find("30.77x ~"), std::string::npos) << out;
  EXPECT_NE(row.find("1.01x ~"), std::string::npos) << out;  // fast/openblas: overlapping
}

// `tito bench amp`'s records of one side at one precision: a GPT's training tokens/s and its
// step's activation bytes, or a GEMM's GFLOP/s.
Json amp(const std::string& name, const std::string& impl, const std::string& precision,
         const char* field, double value) {
  Json r = record(name, impl, 1, field, value);
  r["precision"] = precision;
  return r;
}

// The GEMM: bf16 at 1.7x float32 misses the 1.8x target where the CPU has avx512_bf16, meets the
// 1.0x one where it has not. The GPT: autocast at 1.2x float32's tokens/s is faster (met); its
// activations at 0.7x float32's miss the 0.6x target, at 0.5x meet it.
TEST(BenchReport, AmpTargetsFollowTheFiguresAndTheCpusBf16Capability) {
  const auto run = [](const char* isa, double activations_autocast) {
    Records records;
    for (const auto& [precision, gflops] :
         {std::pair<std::string, double>{"float32", 100.0}, {"bfloat16", 170.0}}) {
      Json r = amp("amp_gemm", "tinytorch-fast", precision, "gflops", gflops);
      r["shape"] = "512 x 512 x 512";
      r["half_isa"] = isa;
      records.add(r);
    }
    records.add(amp("gpt_amp_train", "tinytorch-fast", "float32", "tokens_per_second", 1000));
    records.add(amp("gpt_amp_train", "tinytorch-fast", "bf16-autocast", "tokens_per_second", 1200));
    records.add(amp("gpt_amp_train", "torch", "float32", "tokens_per_second", 900));
    records.add(amp("gpt_amp_train", "torch", "bf16-autocast", "tokens_per_second", 1500));
    for (const auto& [precision, mib] : {std::pair<std::string, double>{"float32", 100.0},
                                         {"bf16-autocast", activations_autocast}}) {
      Json r = amp("gpt_amp_activations", "tinytorch-fast", precision, "mib", mib);
      r["bytes"] = mib * 1024 * 1024;
      records.add(r);
    }
    records.add({{"name", "gpt_amp_activations"},
                 {"impl", "torch"},
                 {"threads", 1},
                 {"precision", "float32"},
                 {"skipped", "PyTorch is not installed"}});
    return printed([&] { tito::bench::print_amp(records); });
  };
  std::string out = run("AVX512_BF16", 70.0);
  EXPECT_NE(line_of(out, "target: bf16 GEMM >= 1.8x").find("1.70x — NOT MET"), std::string::npos)
      << out;
  EXPECT_NE(line_of(out, "target: our autocast training").find("1.20x — met"), std::string::npos)
      << out;
  EXPECT_NE(line_of(out, "target: our activations").find("0.70x — NOT MET"), std::string::npos)
      << out;
  // ours/torch under autocast: 1200 / 1500; PyTorch's own autocast/f32: 1500 / 900.
  EXPECT_NE(line_of(out, "1 ").find("0.80x"), std::string::npos) << out;
  EXPECT_NE(line_of(out, "1 ").find("1.67x"), std::string::npos) << out;
  EXPECT_NE(out.find("skipped: gpt_amp_activations torch threads=1"), std::string::npos) << out;
  out = run("AVX2", 50.0);
  EXPECT_NE(line_of(out, "target: bf16 GEMM >= 1.0x").find("1.70x — met"), std::string::npos)
      << out;
  EXPECT_NE(line_of(out, "target: our activations").find("0.50x — met"), std::string::npos) << out;
}

}  // namespace
