// tito fuzz list | tito fuzz NAME [--seconds S] [--runs N]: builds the libFuzzer harnesses of
// tests/fuzz (preset fuzz: Clang, ASan + UBSan) and runs one for a while, growing its corpus in
// build/fuzz/fuzz/corpus/NAME. The harness list, the flags (limits) and the folders come from
// build/fuzz/fuzz/fuzzers.json, which tests/fuzz/CMakeLists.txt writes — the smoke tests
// (ctest --preset fuzz) run the same flags.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.h"
#include "fuzz.h"
#include "project.h"
#include "util.h"

namespace tito {

std::string missing_fuzz_toolchain(std::string* found) {
  const auto version = capture({"clang++", "-dumpversion"});
  if (version.exit_code != 0) return "no clang++ in PATH";
  std::string v = version.output.substr(0, version.output.find_first_of("\r\n"));
  // libFuzzer is a runtime library of Clang's (Debian: libclang-rt-NN-dev), next to ASan's.
  const auto dir = capture({"clang++", "-print-runtime-dir"});
  const fs::path lib = fs::path(dir.output.substr(0, dir.output.find_first_of("\r\n"))) /
                       "libclang_rt.fuzzer-x86_64.a";
  std::error_code ec;
  if (dir.exit_code != 0 || !fs::exists(lib, ec)) {
    return "clang++ " + v + " without libFuzzer (" + lib.string() + " is missing)";
  }
  if (found != nullptr) *found = "clang++ " + v + ", libFuzzer";
  return {};
}

}  // namespace tito

namespace tito::fuzz_command {
namespace {

namespace fs = tito::fs;
using nlohmann::json;

struct Options {
  std::string name;  // a harness, or "list"
  int seconds = 60;
  long long runs = 0;  // 0: no limit (run for `seconds`)
};

const std::string kPreset = "fuzz";

// Configures the fuzz preset if needed and reads the harness list it wrote.
json load_fuzzers(const fs::path& root) {
  if (const std::string missing = tito::missing_fuzz_toolchain(); !missing.empty()) {
    throw tito::Error("tito fuzz needs Clang and libFuzzer: " + missing +
                      "\n    install: sudo apt-get install -y " + tito::kFuzzPackages);
  }
  if (tito::ensure_configured(root, kPreset) != 0) {
    throw tito::Error("configuring with preset '" + kPreset + "' failed (see above)");
  }
  const fs::path file = tito::build_dir(root, kPreset) / "fuzz" / "fuzzers.json";
  std::ifstream in(file);
  if (!in) {
    throw tito::Error("the fuzz build has no " + file.string() +
                      " (is tests/fuzz/CMakeLists.txt there? reconfigure: cmake --preset fuzz)");
  }
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw tito::Error(file.string() + ": " + e.what() + " (reconfigure: cmake --preset fuzz)");
  }
}

size_t count_files(const fs::path& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    n += it->is_regular_file(ec) ? 1 : 0;
  }
  return n;
}

int run_fuzz(const Options& opts) {
  const auto root = tito::repo_root();
  const json fuzzers = load_fuzzers(root);
  const fs::path fuzz_dir = fuzzers.at("fuzz_dir").get<std::string>();
  std::vector<std::string> names;
  for (const auto& f : fuzzers.at("fuzzers")) names.push_back(f.at("name").get<std::string>());

  if (opts.name == "list") {
    std::cout << "Harnesses (tests/fuzz/fuzz_NAME.cpp), with the inputs their corpus holds:\n";
    for (const auto& n : names) {
      std::cout << "  " << n << "  (" << count_files(fuzz_dir / "seeds" / n) << " seeds, "
                << count_files(fuzz_dir / "corpus" / n) << " in corpus)\n";
    }
    std::cout << "Run one: ./tito fuzz NAME [--seconds S] [--runs N]\n";
    return 0;
  }
  const auto it = std::find(names.begin(), names.end(), opts.name);
  if (it == names.end()) {
    std::string known;
    for (const auto& n : names) known += " " + n;
    tito::print_error("no harness '" + opts.name + "'; known:" + known);
    return 1;
  }

  const std::string target = "fuzz_" + opts.name;
  if (tito::build(root, kPreset, {target, "fuzz_corpus"}) != 0) {
    tito::print_error("building " + target + " failed (see above)");
    return 1;
  }
  // The sanitizers' settings, unless the caller chose their own.
  for (const auto& entry : fuzzers.at("environment")) {
    const auto text = entry.get<std::string>();
    const auto eq = text.find('=');
    setenv(text.substr(0, eq).c_str(), text.substr(eq + 1).c_str(), /*overwrite=*/0);
  }
  const fs::path artifacts = fuzz_dir / "artifacts";
  std::error_code ec;  // libFuzzer needs both folders to exist
  fs::create_directories(artifacts, ec);
  fs::create_directories(fuzz_dir / "corpus" / opts.name, ec);
  std::vector<std::string> argv{
      (fs::path(fuzzers.at("binary_dir").get<std::string>()) / target).string()};
  for (const auto& flag : fuzzers.at("fuzzers").at(it - names.begin()).at("flags")) {
    argv.push_back(flag.get<std::string>());
  }
  argv.push_back("-max_total_time=" + std::to_string(opts.seconds));
  if (opts.runs > 0) argv.push_back("-runs=" + std::to_string(opts.runs));
  argv.push_back("-artifact_prefix=" + (artifacts / (opts.name + "-")).string());
  argv.push_back((fuzz_dir / "corpus" / opts.name).string());
  argv.push_back((fuzz_dir / "seeds" / opts.name).string());
  tito::print_step("Fuzzing " + opts.name + " for " + std::to_string(opts.seconds) + " s" +
                   (opts.runs > 0 ? " or " + std::to_string(opts.runs) + " runs" : ""));
  const int rc = tito::run(argv);
  // libFuzzer's exit status when SIGINT stopped it (-interrupted_exitcode's default): a run cut
  // short, not a finding.
  constexpr int kInterrupted = 72;
  if (rc == kInterrupted) {
    tito::print_error("fuzz_" + opts.name +
                      " was interrupted before its time or run limit; no problem found up to "
                      "then (its last lines above give the executions). The corpus keeps what it "
                      "learned: the next run starts from it.");
    return 1;
  }
  if (rc != 0) {
    tito::print_error("fuzz_" + opts.name + " found a problem (exit " + std::to_string(rc) +
                      "); the input is saved under " + artifacts.string() + "/" + opts.name +
                      "-*. Reproduce: " + argv.front() + " <that file>");
    return 1;
  }
  std::cout << tito::paint("No crash, leak, slow unit or oversized allocation.",
                           tito::Color::kGreen)
            << " Corpus: " << count_files(fuzz_dir / "corpus" / opts.name) << " inputs in "
            << (fuzz_dir / "corpus" / opts.name).string() << '\n';
  return 0;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("NAME", opts->name, "A harness (tests/fuzz/fuzz_NAME.cpp), or 'list'")->required();
  app.add_option("--seconds", opts->seconds, "How long to fuzz (default 60)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  app.add_option("--runs", opts->runs, "Stop after this many executions (default: no limit)")
      ->check(CLI::PositiveNumber);
  app.footer(
      "Builds with Clang (preset fuzz: libFuzzer + ASan + UBSan) into build/fuzz. Limits per "
      "input:\n1 s, the allocation and memory caps of tests/fuzz/CMakeLists.txt. Short smoke "
      "runs of\nevery harness: ctest --preset fuzz.");
  return [opts] { return run_fuzz(*opts); };
}

const tito::RegisterCommand kRegistered{
    "fuzz", "Fuzz a file reader with libFuzzer (list: the harnesses)", setup};

}  // namespace
}  // namespace tito::fuzz_command
