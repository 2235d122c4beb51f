// The machinery of the benchmarks against PyTorch. See torch_baseline.h.
#include "torch_baseline.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "machine_limits.h"
#include "openblas_coretype.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/train/logging.h"

namespace tinytorch::bench {

namespace fs = std::filesystem;

void usage_error(const std::string& program, const std::string& usage, const std::string& message) {
  std::cerr << program << ": " << message << "\nusage: " << usage << "\n";
  std::exit(2);
}

int run_main(const std::string& program, const std::string& usage, const CommonOptions& options,
             const std::function<Json()>& worker, const std::function<int()>& parent) {
  if (options.worker && options.threads.size() != 1) {
    usage_error(program, usage, "--worker runs one thread count (--threads N)");
  }
  try {
    if (options.worker) {
      std::cout << "\n" << worker().dump() << "\n";
      return 0;
    }
    return parent();
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
}

void parse_options(int argc, char** argv, const std::string& program, const std::string& usage,
                   CommonOptions& options, const OptionHook& hook) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const std::function<std::string()> value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(program, usage, arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--worker") {
      options.worker = true;
    } else if (arg == "--records") {
      options.records_path = value();
    } else if (arg == "--threads") {
      try {
        options.threads = parse_thread_list(value());
      } catch (const std::invalid_argument& e) {
        usage_error(program, usage, e.what());
      }
    } else if (arg == "--data") {
      options.data_dir = value();
    } else if (arg == "--python") {
      options.python = value();
    } else if (!hook || !hook(arg, value)) {
      usage_error(program, usage, "unknown argument '" + arg + "'");
    }
  }
}

std::vector<int> parse_thread_list(const std::string& list) {
  std::vector<int> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long t = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || t < 1 || t > 256) {
      throw std::invalid_argument(
          "--threads expects a comma-separated list of thread counts (1..256), got '" + list + "'");
    }
    out.push_back(static_cast<int>(t));
  }
  if (out.empty()) throw std::invalid_argument("--threads expects at least one thread count");
  return out;
}

int64_t minor_faults() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_minflt);
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Latencies time_latencies(int64_t warmup, int64_t count, int64_t block,
                         const std::function<void(int64_t)>& forward) {
  if (block < 1) throw std::invalid_argument("time_latencies: block must be at least 1 call");
  const int threads = get_num_threads();
  int64_t i = 0;
  for (; i < warmup; ++i) forward(i);
  Latencies out;
  const auto time_block = [&](int at, std::vector<double>& into) {
    set_num_threads(at);
    for (int64_t k = 0; k < block && static_cast<int64_t>(into.size()) < count; ++k, ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      forward(i);
      into.push_back(seconds_since(t0));
    }
  };
  while (static_cast<int64_t>(out.seconds.size()) < count) {
    if (threads > 1) time_block(1, out.one_thread_seconds);
    time_block(threads, out.seconds);
  }
  set_num_threads(threads);
  return out;
}

void add_latency_fields(Json& r, const Latencies& latencies) {
  r["latency_ms"] = 1e3 * benchmark::median(latencies.seconds);
  r["latency_p90_ms"] = 1e3 * benchmark::percentile(latencies.seconds, 90);
  r["latency_count"] = latencies.seconds.size();
  if (!latencies.one_thread_seconds.empty()) {
    r["latency_one_thread_ms"] = 1e3 * benchmark::median(latencies.one_thread_seconds);
  }
}

void copy_latency_fields(const Json& r, Json& record) {
  record["ms"] = r["latency_ms"];
  record["p90_ms"] = r["latency_p90_ms"];
  record["count"] = r["latency_count"];
  if (r.contains("latency_one_thread_ms")) record["one_thread_ms"] = r["latency_one_thread_ms"];
}

std::string capture(const std::vector<std::string>& argv, int& status) {
  std::string command;
  for (const std::string& a : argv) {
    std::string quoted = "'";
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += quoted + "' ";
  }
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return {};
  }
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int raw = pclose(pipe);
  status = raw == -1 ? -1 : (WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw));
  return out;
}

Json run_side(const std::string& who, const std::vector<std::string>& argv) {
  int status = 0;
  const std::string out = capture(argv, status);
  const size_t last = out.rfind("\n{");
  const std::string tail = out.substr(last == std::string::npos ? 0 : last + 1);
  Json r = Json::parse(tail, nullptr, /*allow_exceptions=*/false);
  if (status != 0 || !r.is_object()) {
    return Json{{"failed", who + " exited with status " + std::to_string(status) +
                               (r.is_object() ? "" : " without printing its results")}};
  }
  return r;
}

// Baselines run at their best: PyTorch 1.13 runs ATen's own loops on AVX2 kernels even on a CPU
// with AVX-512 unless ATEN_CPU_CAPABILITY asks for more. So when the CPU has the AVX-512 subsets
// PyTorch's kernels need and the user has not chosen, the PyTorch side gets avx512, as a user who
// tuned it would; torch_cpu_capability in the records says what it ran with. (oneDNN's
// convolutions pick their own instruction set either way. On the course VM the LeNet-5 epoch
// varied more between runs, 3.5-5.6 s, than between the two settings.)
void prefer_widest_aten_capability() {
  if (std::getenv("ATEN_CPU_CAPABILITY") != nullptr) return;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    setenv("ATEN_CPU_CAPABILITY", "avx512", 1);
  }
#endif
}

Json torch_configuration(const std::string& python, const fs::path& script) {
  prefer_widest_aten_capability();
  if (!fs::exists(script)) {
    return Json{{"skipped", "the PyTorch side " + script.string() + " is missing"}};
  }
  Json config =
      run_side(script.filename().string() + " --describe", {python, script.string(), "--describe"});
  if (!config.contains("failed")) return config;
  int status = 0;
  capture({python, "-c", "import torch"}, status);
  if (status != 0) {
    return Json{{"skipped", "PyTorch is not installed for " + python +
                                " (sudo apt-get install -y python3-torch)"}};
  }
  return config;  // PyTorch is there, the script failed: every torch figure is FAILED
}

bool torch_runs(const Json& config) {
  return !config.contains("skipped") && !config.contains("failed");
}

void copy_torch_fields(const Json& config, Json& record) {
  static constexpr const char* kFields[] = {
      "torch_version",     "torch_cpu_capability",      "torch_blas",  "openblas_core",
      "openblas_coretype", "openblas_coretype_cleared", "torch_mkldnn"};
  for (const char* field : kFields) {
    if (config.contains(field)) record[field] = config[field];
  }
}

// ./tito's OpenMP spin limit, given to the PyTorch side when the environment sets no policy.
constexpr const char* kTorchSpinCount = "GOMP_SPINCOUNT=10000";

std::vector<std::string> torch_command(const std::string& python, const fs::path& script,
                                       int threads, const std::vector<std::string>& args) {
  const std::string t = std::to_string(threads);
  std::vector<std::string> argv{"env", "OPENBLAS_NUM_THREADS=" + t, "OMP_NUM_THREADS=" + t};
  // PyTorch's OpenMP threads and OpenBLAS's pool share the cores. With libgomp's default
  // spinning, PyTorch at 2 threads trained the 2017 GPT at 6.7-7.4k tokens/s on a 2-vCPU Zen 4
  // against 14.9-21.7k with GOMP_SPINCOUNT=10000, the value ./tito exports when no policy is
  // set. The child gets the same whether or not the program was started through ./tito, so that
  // a ratio is never taken against a baseline slowed by its own threads; a policy the caller set
  // stands.
  if (openmp_wait_policy_is_default()) argv.emplace_back(kTorchSpinCount);
  argv.insert(argv.end(), {python, script.string(), "--threads", t});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string tinytorch_impl() {
  return kernels::tier() == kernels::Tier::kFast ? "tinytorch-fast" : "tinytorch-reference";
}

std::string self_path(const char* argv0) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : exe.string();
}

void print_header(const Json& torch_config) {
  if (const auto busy = cpu_busy_fraction()) {
    std::cout << "  CPU time used by other programs just before the run: "
              << static_cast<int>(std::lround(100.0 * *busy)) << "%\n";
  }
  std::cout << "  OpenMP wait policy: " << openmp_wait_policy()
            << (openmp_wait_policy_is_default()
                    ? std::string("; PyTorch's side runs with ") + kTorchSpinCount + " (./tito's)"
                    : std::string())
            << "\n";
  std::cout << "  tinytorch: gemm_fast CPU capability "
            << kernels::to_string(kernels::get_cpu_capability()) << "\n";
  if (!torch_runs(torch_config)) {
    std::cout << "  PyTorch: " << torch_config.begin().value().get<std::string>() << "\n";
    return;
  }
  const Json capability = torch_config.value("torch_cpu_capability", Json());
  std::cout << "  PyTorch " << torch_config.value("torch_version", "?") << " (ATen CPU capability "
            << (capability.is_string() ? capability.get<std::string>() : "?") << "), BLAS "
            << torch_config.value("torch_blas", "?") << "\n";
  if (torch_config.contains("openblas_core")) {
    const Json value = torch_config.value("openblas_coretype", Json());
    OpenBlasCoretype coretype;
    if (value.is_string()) coretype.value = value.get<std::string>();
    coretype.cleared = torch_config.value("openblas_coretype_cleared", false);
    std::cout << "  PyTorch's OpenBLAS core: " << torch_config["openblas_core"].get<std::string>()
              << ", " << coretype.reason() << "\n";
  }
  std::cout.flush();
}

std::vector<Json> unmeasured_records(const Json& result, const std::vector<const char*>& names,
                                     const std::function<Json(const char*)>& make_record) {
  const char* why = result.contains("failed") ? "failed" : "skipped";
  std::vector<Json> out;
  for (const char* name : names) {
    Json rec = make_record(name);
    rec[why] = result[why];
    out.push_back(rec);
  }
  return out;
}

Json measure_fma_peak(int calls) {
  const std::optional<FmaPeak> fma = fma_peak_for_this_cpu();
  if (!fma) return Json::object();
  // ≈ 0.5 ms per call: AVX-512 at 200 GFLOP/s per core, or AVX2 (half the flops per step) at 100
  constexpr int64_t kSteps = int64_t{1} << 18;
  const int threads = get_num_threads();
  std::vector<float> results(static_cast<size_t>(threads));  // kept, so the loops stay
  double best = std::numeric_limits<double>::infinity();
  // A VM's vCPU can be taken away for tens of milliseconds: 30 back-to-back calls (15 ms) once
  // gave a 2-thread peak of one core's 118 GFLOP/s on the 2-vCPU Zen 4, and the step's fraction
  // of it came out at 119%. So the calls go in rounds with a pause between, for the best of them
  // to come from a stretch when every thread had its core.
  constexpr int kRound = 25;
  for (int i = 0; i <= calls; ++i) {  // call 0 wakes the threads and warms up: not counted
    if (i > 0 && i % kRound == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto t0 = std::chrono::steady_clock::now();
    // One kernel per thread. (If the pool gave us fewer threads, a thread runs several in turn
    // and the peak honestly comes out lower.)
    parallel_for(0, threads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) results[static_cast<size_t>(t)] += fma->kernel(kSteps);
    });
    if (i > 0) best = std::min(best, seconds_since(t0));
  }
  volatile float sink = 0.0f;
  for (const float r : results) sink = sink + r;
  return Json{
      {"fma_peak_gflops", fma->flops_per_step * static_cast<double>(kSteps * threads) / best / 1e9},
      {"fma_peak_isa", fma->isa}};
}

void add_peak_fraction(Json& record, double flops, double seconds, const Json& ours) {
  record["flops"] = flops;
  if (!ours.contains("fma_peak_gflops") || seconds <= 0.0) return;
  const double peak = ours["fma_peak_gflops"].get<double>();
  record["fma_peak_gflops"] = peak;
  record["fma_peak_isa"] = ours["fma_peak_isa"];
  record["peak_fraction"] = flops / seconds / (peak * 1e9);
}

std::string describe(const Json& rec) {
  std::ostringstream line;
  line << "  " << rec["name"].get<std::string>() << " " << rec["impl"].get<std::string>();
  if (rec.contains("optimizer")) line << " " << rec["optimizer"].get<std::string>();
  if (rec.contains("mode")) line << " " << rec["mode"].get<std::string>();
  if (rec.contains("precision")) line << " " << rec["precision"].get<std::string>();
  if (rec.contains("in_features")) {
    line << " " << rec["in_features"].get<int64_t>() << "->" << rec["out_features"].get<int64_t>();
  }
  if (rec.contains("batch")) line << " batch=" << rec["batch"].get<int64_t>();
  line << " threads=" << rec["threads"].get<int>() << ": ";
  if (rec.contains("ms")) line << rec["ms"].get<double>() << " ms";
  if (rec.contains("p90_ms")) line << " (p90 " << rec["p90_ms"].get<double>() << " ms)";
  if (rec.contains("minor_faults")) {
    line << ", " << rec["minor_faults"].get<double>() << " page faults per step";
  }
  if (rec.contains("images_per_second")) {
    line << (rec.contains("ms") ? ", " : "") << std::lround(rec["images_per_second"].get<double>())
         << " images/s";
  }
  if (rec.contains("tokens_per_second")) {
    line << std::lround(rec["tokens_per_second"].get<double>()) << " tokens/s";
  } else if (rec.contains("seconds")) {
    line << rec["seconds"].get<double>() << " s (" << rec["batches"].get<int64_t>()
         << " batches, mean loss " << rec["mean_loss"].get<double>() << ", "
         << rec["data"].get<std::string>() << " data)";
  }
  if (rec.contains("mib")) line << rec["mib"].get<double>() << " MiB";
  if (rec.contains("flops")) line << "; " << rec["flops"].get<double>() / 1e9 << " GFLOP";
  if (rec.contains("peak_fraction")) {
    line << " at " << std::lround(100.0 * rec["peak_fraction"].get<double>()) << "% of the "
         << rec["fma_peak_isa"].get<std::string>() << " FMA peak ("
         << std::lround(rec["fma_peak_gflops"].get<double>()) << " GFLOP/s)";
  }
  if (rec.contains("failed")) line << "FAILED: " << rec["failed"].get<std::string>();
  if (rec.contains("skipped")) line << "skipped: " << rec["skipped"].get<std::string>();
  return line.str();
}

SideBySide::SideBySide(std::string program, std::string python, fs::path script, const char* argv0)
    : program_(std::move(program)),
      python_(std::move(python)),
      self_(self_path(argv0)),
      script_(std::move(script)),
      torch_config_(torch_configuration(python_, script_)) {
  print_header(torch_config_);
}

Json SideBySide::run_ours(int threads, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{self_, "--worker", "--threads", std::to_string(threads)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_side(program_ + " --worker", argv);
}

Json SideBySide::run_torch(int threads, const std::vector<std::string>& args) const {
  if (!torch_runs(torch_config_)) return torch_config_;  // {"skipped"/"failed": why}
  return run_side(script_.filename().string(), torch_command(python_, script_, threads, args));
}

std::pair<Json, Json> SideBySide::run_both(int threads, bool first,
                                           const std::vector<std::string>& args) const {
  if (first) {
    Json theirs = run_torch(threads, args);
    return {run_ours(threads, args), std::move(theirs)};
  }
  Json mine = run_ours(threads, args);
  return {std::move(mine), run_torch(threads, args)};
}

namespace {

// "1.31x": side / base for a rate or a size, base / side for a time (> 1x: side is faster or
// bigger), or "-" where either lacks the figure.
std::string ratio_text(const Json& side, const Json& base, const Compared& c) {
  if (!side.contains(c.key) || !base.contains(c.key)) return "-";
  const double a = side[c.key].get<double>(), b = base[c.key].get<double>();
  if (a <= 0.0 || b <= 0.0) return "-";
  std::ostringstream text;
  text << std::fixed << std::setprecision(2) << (c.kind == Compared::Kind::kTime ? b / a : a / b)
       << "x";
  return text.str();
}

std::string threads_text(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

void print_ratios(const Json& ours, const Json& torch, int threads,
                  const std::vector<Compared>& figures) {
  std::ostringstream speed, size;
  for (const Compared& c : figures) {
    std::ostringstream& out = c.kind == Compared::Kind::kSize ? size : speed;
    out << (out.tellp() > 0 ? ", " : "") << c.label << " " << ratio_text(ours, torch, c);
  }
  std::cout << "  ours vs PyTorch at " << threads_text(threads)
            << ", speed (> 1x: ours is faster): " << speed.str();
  if (size.tellp() > 0) std::cout << "; ours/PyTorch (< 1x: ours is smaller): " << size.str();
  std::cout << "\n" << std::flush;
}

// Speed only: a size does not scale with threads.
void print_scaling(const Json& first, int first_threads, const Json& ours, int threads,
                   const std::vector<Compared>& figures) {
  std::ostringstream speed;
  for (const Compared& c : figures) {
    if (c.kind == Compared::Kind::kSize) continue;
    speed << (speed.tellp() > 0 ? ", " : "") << c.label << " " << ratio_text(ours, first, c);
    if (c.interleaved_one_thread_key != nullptr && ours.contains(c.interleaved_one_thread_key)) {
      // ours' own 1-thread figure stands in for the first run's: the same ratio, in one process
      Json one_thread = {{c.key, ours[c.interleaved_one_thread_key]}};
      speed << " (interleaved in one process: " << ratio_text(ours, one_thread, c) << ")";
    }
  }
  std::cout << "  ours at " << threads_text(threads) << " vs " << threads_text(first_threads)
            << ", speed (> 1x: " << threads_text(threads) << " are faster): " << speed.str() << "\n"
            << std::flush;
}

}  // namespace

void SideBySide::compare(const Json& mine, const Json& theirs, int threads,
                         const std::vector<Compared>& figures, const std::string& series) {
  print_ratios(mine, theirs, threads, figures);
  const auto [at, inserted] = first_.try_emplace(series, threads, mine);
  if (!inserted) print_scaling(at->second.second, at->second.first, mine, threads, figures);
}

void SideBySide::add(const std::vector<Json>& records) {
  for (const Json& rec : records) {
    std::cout << describe(rec) << "\n" << std::flush;
    records_.push_back(rec);
    ok_ = ok_ && !rec.contains("failed");
  }
}

int SideBySide::finish(const std::string& records_path) const {
  if (!records_path.empty()) {
    train::write_file_atomically(records_path, records_.dump(2) + "\n");
  }
  return ok_ ? 0 : 1;
}

}  // namespace tinytorch::bench
