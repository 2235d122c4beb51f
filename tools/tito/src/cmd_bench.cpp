// tito bench [all|peak|sgemm|mlp|cnn|resnet|gpt|gpt256|lstm|quant|ops|ddp|amp ...] [--quick]
// [--contended]
//            [--json PATH]
//
// Builds the benchmark programs of bench/ (preset release) and runs them. Each program prints a
// line per figure as it measures it and writes all its figures to a JSON records file
// (bench/bench_harness.h); tito then prints summary tables whose ratios (fast/openblas,
// 2 threads/1 thread, fraction of the measured peak) all come from figures of this same run, and
// with --json writes every figure as one list of records:
//   [{"name": "sgemm", "impl": "tinytorch-fast", "n": 1024, "threads": 1, "gflops": 80.1}, ...]
//
// The baselines (OpenBLAS, PyTorch) run as a user gets them: OPENBLAS_CORETYPE, which would pin
// OpenBLAS to one core's kernels, is cleared for the programs (clear_openblas_coretype), and their
// records say which kernels ran ("openblas_core", "torch_blas", ...). The one exception: a CPU
// too new for the installed OpenBLAS, which then falls back to SSE3 kernels; tito pins the best
// core it has for the CPU's features (pin_openblas_core_when_fallen_back).
//
// Adding a benchmark program is one entry in kPrograms (below): its name, its CMake target, what
// it measures, the programs whose figures its table also needs, and its table (or the generic
// one, which lists every figure). One target may serve several entries with different arguments
// (gpt and gpt256: gpt_bench --config), and one entry may run several (amp: bf16_gemm_bench, then
// gpt_bench at two configs, whose records make one table).
#include <dlfcn.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench_report.h"
#include "command.h"
#include "project.h"
#include "util.h"

namespace tito::bench_command {
namespace {

using tito::bench::Json;
using tito::bench::print_amp;
using tito::bench::print_cnn;
using tito::bench::print_contended;
using tito::bench::print_ddp;
using tito::bench::print_generic;
using tito::bench::print_gpt;
using tito::bench::print_gpt256;
using tito::bench::print_lstm;
using tito::bench::print_mlp;
using tito::bench::print_ops;
using tito::bench::print_peak;
using tito::bench::print_quant;
using tito::bench::print_resnet;
using tito::bench::print_sgemm;
using tito::bench::Records;

// ---- --contended: a competitor on one core --------------------------------------------------
//
// Laptops and shared servers always run other programs. `tito bench --contended` measures what
// our threads do then: for the whole run tito keeps a competitor busy — a child process that
// spins, at normal priority, pinned to one CPU (the first this process may use, like
// `taskset -c 0`) — and prints the 2-thread/1-thread ratio of every SGEMM size, of the MLP and
// of the CNN. A second thread must never make a call much slower than one thread: the target is >=
// 0.9x (issue 16; a thread the OS takes away must not hold up the others, see core/parallel.cpp).
class Competitor {
 public:
  Competitor() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
      throw tito::Error(
          "--contended needs at least 2 CPUs (it takes one of them away from the benchmarks)");
    }
    while (!CPU_ISSET(cpu_, &allowed)) ++cpu_;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw tito::Error("--contended: cannot start the competitor process (fork)");
    if (pid_ == 0) {
      // The competitor: dies with tito (even if tito is killed), runs on one CPU, spins.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu_, &one);
      sched_setaffinity(0, sizeof(one), &one);
      volatile uint64_t spins = 0;
      for (;;) spins = spins + 1;
    }
  }
  ~Competitor() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Competitor(const Competitor&) = delete;
  Competitor& operator=(const Competitor&) = delete;

  [[nodiscard]] int cpu() const { return cpu_; }

 private:
  int cpu_ = 0;
  pid_t pid_ = -1;
};

// ---- The programs ---------------------------------------------------------------------------

// A further run of an entry: a target and its arguments.
struct Run {
  const char* target;
  std::vector<const char*> args;
};

struct Program {
  const char* name;                // tito bench <name>
  const char* target;              // its CMake target (bench/CMakeLists.txt)
  const char* description;         // what it measures, for --help and the progress line
  std::vector<const char*> needs;  // programs whose figures its table uses: run them first
  void (*print)(const Records&);   // its summary table; nullptr: the generic one
  // The CMake cache entries of the optional packages it measures against (bench/CMakeLists.txt's
  // find_path/find_library results): when one says NOTFOUND, tito configures again before building,
  // so that a package installed since the last configure is found, not reported as skipped.
  std::vector<const char*> optional_finds = {};
  // Arguments the target runs with (before --records and --quick).
  std::vector<const char*> args = {};
  // Runs after that one (each with --records of its own, and --quick), whose records join its.
  std::vector<Run> also = {};

  // Every run of the entry: its target with its args, then `also`.
  [[nodiscard]] std::vector<Run> runs() const {
    std::vector<Run> all{{target, args}};
    all.insert(all.end(), also.begin(), also.end());
    return all;
  }
};

const std::vector<Program> kPrograms = {
    {"peak",
     "peak_bench",
     "the machine's FMA peak (GFLOP/s) and memory bandwidth (GB/s)",
     {},
     print_peak},
    {"sgemm",
     "sgemm_bench",
     "SGEMM GFLOP/s, N = 128..2048, 1 and 2 threads: fast tier, reference tier, OpenBLAS",
     {"peak"},
     print_sgemm,
     {"TINYTORCH_CBLAS_INCLUDE", "TINYTORCH_OPENBLAS_LIB"}},
    {"mlp",
     "mlp_bench",
     "the 1986 MLP, SGD and Adam: training step, epoch and peak memory, ours vs PyTorch, 1 and 2 "
     "threads",
     {},
     print_mlp},
    {"cnn",
     "cnn_bench",
     "the 1998 LeNet-5: training step, epoch, batch-1 latency and peak memory, ours vs PyTorch, 1 "
     "and 2 threads",
     {},
     print_cnn},
    {"resnet",
     "resnet_bench",
     "a ResNet-8 on synthetic 3x32x32 images: training step, epoch-like pass, batch-1 latency, "
     "batch-256 inference, peak memory, FLOPs and fraction of the FMA peak, ours vs PyTorch, 1 "
     "and 2 threads",
     {},
     print_resnet},
    {"gpt",
     "gpt_bench",
     "the 2017 GPT: training tokens/s (and fraction of the FMA peak), generation tokens/s with and "
     "without the KV cache, peak memory, ours vs PyTorch, 1 and 2 threads",
     {},
     print_gpt},
    {"gpt256",
     "gpt_bench",
     "a GPT with d_model 256, 4 layers, 4 heads, context 128: training tokens/s, FLOPs and "
     "fraction of the FMA peak, peak memory, ours vs PyTorch, 1 and 2 threads",
     {},
     print_gpt256,
     {},
     {"--config", "256"}},
    {"lstm",
     "lstm_bench",
     "an nn::LSTM training step (forward, backward through time, SGD step) on milestone 1997's "
     "shape (2 layers, 128->235, batch 32, T 64) and a wide one (1 layer, 64->512, batch 32, T "
     "32), "
     "ours vs PyTorch, 1 and 2 threads",
     {},
     print_lstm},
    {"quant",
     "quant_bench",
     "the dynamically quantized int8 Linear vs our float32 Linear and PyTorch's quantize_dynamic, "
     "784->256 and 1024->1024, batch 64-256, 1 and 2 threads",
     {"peak"},
     print_quant},
    {"ops",
     "ops_bench",
     "single ops of a training step (softmax and log_softmax along the last dim and another, "
     "short and long rows; cross_entropy; layer_norm; a 1x1 conv2d; DCGAN's conv_transpose2d), "
     "forward and forward+backward, ours vs PyTorch, 1 and 2 threads",
     {"peak"},
     print_ops},
    {"ddp",
     "ddp_bench",
     "an epoch of the 1986 MLP: 1 rank x 1 thread, 1 rank x 2 threads, 2 MPI ranks x 1 thread "
     "(module 21; needs Open MPI)",
     {},
     print_ddp},
    {"amp",
     "bf16_gemm_bench",
     "mixed precision: the bf16 GEMM against our float32 GEMM; the 2017 GPT and the d_model-256 "
     "GPT trained at float32 and under bf16 autocast (tokens/s, activation and step memory), ours "
     "vs PyTorch's CPU autocast, 1 and 2 threads",
     {},
     print_amp,
     {},
     {},
     {{"gpt_bench", {"--config", "2017", "--precision", "float32,bf16-autocast"}},
      {"gpt_bench", {"--config", "256", "--precision", "float32,bf16-autocast"}}}},
};

const Program* find_program(const std::string& name) {
  for (const Program& p : kPrograms) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string program_names() {
  std::string names = "all";
  for (const Program& p : kPrograms) names += std::string(", ") + p.name;
  return names;
}

// The programs to run for the names asked for, dependencies first, each once.
std::vector<const Program*> resolve(const std::vector<std::string>& asked) {
  std::vector<const Program*> order;
  const auto visit = [&](const auto& self, const Program* p) -> void {
    if (std::find(order.begin(), order.end(), p) != order.end()) return;
    for (const char* need : p->needs) self(self, find_program(need));
    order.push_back(p);
  };
  for (const std::string& name : asked) {
    if (name == "all") {
      for (const Program& p : kPrograms) visit(visit, &p);
    } else {
      visit(visit, find_program(name));
    }
  }
  return order;
}

// ---- The command ------------------------------------------------------------------------------

struct Options {
  std::vector<std::string> which;
  bool quick = false;
  std::string json_path;
  bool contended = false;  // run beside a competitor pinned to one CPU (see Competitor)
};

// Writes `text` to `path` through a temporary file in the same directory and a rename, so the
// file is either the old one or the complete new one, never half written.
void write_atomically(const tito::fs::path& path, const std::string& text) {
  const tito::fs::path tmp = path.string() + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw tito::Error("cannot write " + tmp.string());
  }
  std::error_code ec;
  tito::fs::rename(tmp, path, ec);
  if (ec) {
    tito::fs::remove(tmp, ec);
    throw tito::Error("cannot write " + path.string() + ": " + ec.message());
  }
}

// The entries among `names` that build/<preset>/CMakeCache.txt records as not found
// ("NAME:PATH=NAME-NOTFOUND"); CMake searches for those again on the next configure.
std::vector<std::string> not_found_in_cache(const tito::fs::path& build,
                                            const std::vector<const char*>& names) {
  std::vector<std::string> missing;
  std::ifstream cache(build / "CMakeCache.txt");
  for (std::string line; std::getline(cache, line);) {
    for (const char* name : names) {
      const std::string prefix = std::string(name) + ":";
      if (line.rfind(prefix, 0) == 0 && line.size() >= 9 &&
          line.compare(line.size() - 9, 9, "-NOTFOUND") == 0) {
        missing.emplace_back(name);
      }
    }
  }
  return missing;
}

// Builds the programs' targets; reconfigures once when a target is unknown (Google Benchmark
// installed after the first configure) or an optional package was not found when the build was
// configured (OpenBLAS installed since). Returns false with the error printed.
bool build_programs(const tito::fs::path& root, const std::vector<const Program*>& programs) {
  const std::string preset = "release";
  if (tito::ensure_configured(root, preset) != 0) {
    tito::print_error("configuring with preset '" + preset + "' failed (see above)");
    return false;
  }
  std::vector<const char*> finds;
  for (const Program* p : programs) {
    finds.insert(finds.end(), p->optional_finds.begin(), p->optional_finds.end());
  }
  const auto build = tito::build_dir(root, preset);
  if (const auto missing = not_found_in_cache(build, finds); !missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    tito::print_step("Reconfiguring build/" + preset + ": it was configured without " + names +
                     " (optional, for a baseline); looking again in case it was installed since");
    if (const auto configure = tito::capture({"cmake", "--preset", preset}, root);
        configure.exit_code != 0) {
      std::cerr << configure.output;
      tito::print_error("configuring with preset '" + preset + "' failed (see above)");
      return false;
    }
  }
  std::vector<std::string> targets;
  for (const Program* p : programs) {
    for (const Run& r : p->runs()) {
      if (std::find(targets.begin(), targets.end(), r.target) == targets.end()) {
        targets.emplace_back(r.target);
      }
    }
  }
  const auto missing = [&] {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const std::string& t) { return !tito::has_target(root, preset, t); });
  };
  if (missing()) {
    tito::print_step("Reconfiguring build/" + preset + " (a benchmark target is missing)");
    if (tito::run({"cmake", "--preset", preset}, {.cwd = root}) != 0 || missing()) {
      tito::print_error(
          "the benchmark programs are not part of the build: they need Google Benchmark "
          "(install it with: sudo apt-get install -y libbenchmark-dev, then run tito bench "
          "again; tito doctor lists every optional package)");
      return false;
    }
  }
  if (tito::build(root, preset, targets) != 0) {
    tito::print_error("building the benchmarks failed (see above)");
    return false;
  }
  return true;
}

// The baselines run as a user who has not tuned them gets them. OPENBLAS_CORETYPE pins OpenBLAS
// (and PyTorch, which calls it for Linear) to one core's kernels: on a Zen 5 with =Haswell, its
// AVX2 ones, about half as fast as the AVX-512 ones it picks by itself (185 vs 101 GFLOP/s at
// N = 1024, 1 thread, on the course VM's thread CPU clock). A benchmark against a handicapped
// baseline flatters us, so the variable is cleared for every program, and its value handed on in
// TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE for the programs to report (bench/sgemm_bench.cpp,
// bench/mlp_torch.py).
void clear_openblas_coretype() {
  const char* pinned = std::getenv("OPENBLAS_CORETYPE");
  if (pinned == nullptr) {
    unsetenv("TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE");
    return;
  }
  const std::string value = pinned;
  setenv("TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE", value.c_str(), 1);
  unsetenv("OPENBLAS_CORETYPE");
  std::cout << "OPENBLAS_CORETYPE=" << value
            << " cleared for the benchmarks: OpenBLAS and PyTorch run the kernels OpenBLAS picks "
               "for this CPU\n";
}

// The core OpenBLAS picks for this CPU by itself ("Prescott", "SkylakeX", ...), or "" when no
// OpenBLAS is installed. Asked in a child process: loading the library starts its threads, which
// tito itself has no use for.
std::string openblas_own_core() {
  int fds[2];
  if (pipe(fds) != 0) return "";
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    for (const char* name : {"libopenblas.so.0", "libblas.so.3"}) {
      void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib == nullptr) continue;
      using Corename = char* (*)();
      if (auto* corename = reinterpret_cast<Corename>(dlsym(lib, "openblas_get_corename"))) {
        const std::string core = corename();
        (void)!write(fds[1], core.data(), core.size());
        _exit(0);
      }
    }
    _exit(1);
  }
  close(fds[1]);
  std::string core;
  char buffer[64];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) core.append(buffer, n);
  close(fds[0]);
  if (child > 0) waitpid(child, nullptr, 0);
  return core;
}

// NOTE: OpenBLAS picks its kernels from the CPU's family and model; a model newer than the
// library (OpenBLAS 0.3.21 on a 5th-generation Xeon, family 6 model 207) gets its fallback,
// "Prescott": SSE3 kernels, on a CPU with AVX-512 (PyTorch's 1024^3 matmul at 1 thread: 102
// GFLOP/s with OPENBLAS_CORETYPE=SkylakeX). A baseline must run at its best, so when the core
// OpenBLAS picks has no AVX2 (ranked below) and the CPU has AVX2 and FMA, the benchmarks pin the
// best core this OpenBLAS has for the CPU's features: SkylakeX with AVX-512 (F, BW, DQ, VL),
// else Haswell. A core of the CPU's own generation (Zen, Haswell, SkylakeX, ...) is left alone.
void pin_openblas_core_when_fallen_back() {
  unsetenv("TINYTORCH_BENCH_OPENBLAS_FALLBACK_CORE");  // bench/openblas_coretype.h reads it
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string core = openblas_own_core();
  static const std::set<std::string> kBelowAvx2 = {
      "Prescott", "Core2",     "Penryn", "Dunnington", "Nehalem",   "Sandybridge", "Atom",
      "Katmai",   "Northwood", "Banias", "Opteron",    "Barcelona", "Bobcat",      "Bulldozer"};
  __builtin_cpu_init();
  if (core.empty() || kBelowAvx2.count(core) == 0 || !__builtin_cpu_supports("avx2") ||
      !__builtin_cpu_supports("fma")) {
    return;
  }
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  const char* pinned = avx512 ? "SkylakeX" : "Haswell";
  setenv("OPENBLAS_CORETYPE", pinned, 1);
  setenv("TINYTORCH_BENCH_OPENBLAS_FALLBACK_CORE", core.c_str(), 1);
  std::cout << "OpenBLAS picks its fallback core " << core << " on this CPU, which has AVX2"
            << (avx512 ? " and AVX-512" : "") << ": OPENBLAS_CORETYPE=" << pinned
            << " set for the benchmarks, so that OpenBLAS and PyTorch run at their best\n";
}

int run_bench(const Options& opts) {
  // Fail before a minute of measuring, not after it, when the JSON cannot be written there.
  tito::fs::path json_path;
  if (!opts.json_path.empty()) {
    json_path = tito::fs::absolute(opts.json_path);
    std::error_code ec;
    if (!tito::fs::is_directory(json_path.parent_path(), ec)) {
      tito::print_error("--json " + opts.json_path + ": directory " +
                        json_path.parent_path().string() + " does not exist");
      return 1;
    }
    if (tito::fs::is_directory(json_path, ec)) {
      tito::print_error("--json " + opts.json_path + " is a directory; give a file name");
      return 1;
    }
  }

  clear_openblas_coretype();
  pin_openblas_core_when_fallen_back();
  const auto root = tito::repo_root();
  tito::export_commit(root);
  const auto programs = resolve(opts.which.empty() ? std::vector<std::string>{"all"} : opts.which);
  if (!build_programs(root, programs)) return 1;

  const auto bin = tito::build_dir(root, "release") / "bin";
  const auto records_dir = tito::build_dir(root, "release") / "bench";
  std::error_code ec;
  tito::fs::create_directories(records_dir, ec);

  Records records;
  std::map<std::string, std::vector<Json>> by_program;
  bool ok = true;
  std::optional<Competitor> competitor;
  if (opts.contended) competitor.emplace();
  for (const Program* p : programs) {
    const std::vector<Run> runs = p->runs();
    for (size_t i = 0; i < runs.size(); ++i) {
      const Run& run = runs[i];
      const auto records_file =
          records_dir /
          (std::string(p->name) + (i == 0 ? "" : "." + std::to_string(i)) + ".records.json");
      tito::fs::remove(records_file, ec);
      std::vector<std::string> argv{(bin / run.target).string()};
      argv.insert(argv.end(), run.args.begin(), run.args.end());
      std::string command = run.target;
      for (const char* arg : run.args) command += std::string(" ") + arg;
      tito::print_step("Running " + command + ": " + p->description);
      argv.insert(argv.end(), {"--records", records_file.string()});
      if (opts.quick) argv.emplace_back("--quick");
      const int status = tito::run(argv, {.cwd = root, .echo = false});
      std::ifstream in(records_file);
      if (!in) {
        tito::print_error(command + " stopped without writing its figures (exit status " +
                          std::to_string(status) + ")");
        ok = false;
        continue;
      }
      try {
        for (Json record : Json::parse(in)) {
          if (competitor) record["contended_cpu"] = competitor->cpu();
          records.add(record);
          by_program[p->name].push_back(record);
        }
      } catch (const Json::exception& e) {
        tito::print_error(records_file.string() + " is not a list of records: " + e.what());
        ok = false;
        continue;
      }
      if (status != 0) {
        tito::print_error(command + " reported failures (exit status " + std::to_string(status) +
                          ")");
        ok = false;
      }
    }
  }

  for (const Program* p : programs) {
    if (p->print != nullptr) {
      p->print(records);
    } else {
      print_generic(p->description, by_program[p->name]);
    }
  }
  if (competitor) print_contended(records, competitor->cpu());
  competitor.reset();

  if (!json_path.empty()) {
    Json figures = Json::array();
    for (const Json& r : records.all()) {
      if (Records::is_figure(r)) figures.push_back(r);
    }
    write_atomically(json_path, figures.dump(2) + "\n");
    std::cout << "\n" << figures.size() << " figures written to " << opts.json_path << "\n";
  }
  if (opts.quick) {
    std::cout << "\n(--quick: one short repetition per figure; run without it for the figures to "
                 "record)\n";
  }
  return ok ? 0 : 1;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("benchmark", opts->which,
                 "What to run: " + program_names() + " (default: all; several may be given)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "all" || find_program(value) != nullptr) return {};
            return "unknown benchmark '" + value + "'; choose from: " + program_names();
          },
          "", "benchmark name"))
      ->type_name("BENCHMARK");
  app.add_flag("--quick", opts->quick,
               "One short repetition per figure (seconds instead of a minute; noisier)");
  app.add_flag("--contended", opts->contended,
               "Run beside a busy competitor process pinned to one CPU and print the 2-thread / "
               "1-thread ratios (a second thread must never make a call much slower)");
  app.add_option("--json", opts->json_path,
                 "Also write every figure to this file as a JSON list of records")
      ->type_name("PATH");
  std::string footer = "Benchmarks:\n";
  for (const Program& p : kPrograms) {
    std::string name = p.name;
    name.resize(std::max<size_t>(name.size() + 2, 8), ' ');
    footer += "  " + name + p.description;
    for (size_t i = 0; i < p.needs.size(); ++i) {
      footer += std::string(i == 0 ? " (runs " : ", ") + p.needs[i];
    }
    footer += p.needs.empty() ? "\n" : " too, for its table)\n";
  }
  footer +=
      "\nFigures are medians of 9 repetitions (1 with --quick), measured on this machine in this\n"
      "run; ratios are computed from figures of the same run. Close other programs first: on a\n"
      "busy machine figures are noisy, 2-thread ones most (each program prints how busy the\n"
      "CPUs were; README.md, Benchmarks, explains the OpenMP spin setting tito uses). On a busy\n"
      "machine, TINYTORCH_BENCH_CLOCK=thread-cpu times 1-thread figures by the thread's CPU "
      "clock.\n"
      "The baselines run as a user gets them: OPENBLAS_CORETYPE is cleared for OpenBLAS and\n"
      "PyTorch (pinned to SkylakeX or Haswell only where OpenBLAS falls back to SSE3 kernels on\n"
      "a CPU it does not know), and every run names the OpenBLAS core they ran.";
  app.footer(footer);
  return [opts] { return run_bench(*opts); };
}

const tito::RegisterCommand kRegistered{
    "bench",
    "Build and run the benchmarks: machine peak, SGEMM, the MLP, the CNNs and the GPTs against "
    "PyTorch, mixed precision",
    setup};

}  // namespace
}  // namespace tito::bench_command
