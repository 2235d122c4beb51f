// tito test [--module NN] [--sanitize] [--hidden] [--filter REGEX] [-j N]
//
// Configures (if needed) and builds a preset — with --module, only module NN's test programs, as
// `tito module test NN` does (tito::build_module_tests) — then runs ctest on it:
//   ctest --test-dir build/<preset> --output-on-failure -j2 [-L ^moduleNN$] [-LE ^hidden$]
// and prints "tests: N passed, M failed" from ctest's JUnit report.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "command.h"
#include "course.h"
#include "project.h"
#include "util.h"

namespace tito::test_command {
namespace {

struct Options {
  std::string module;  // normalized "NN" or empty
  bool sanitize = false;
  bool hidden = false;
  std::string filter;
  int jobs = 2;
};

struct Summary {
  int total = 0;
  int failed = 0;
  int skipped = 0;  // skipped + disabled
  [[nodiscard]] int passed() const { return total - failed - skipped; }
};

// Integer value of attribute `name="..."` inside `tag` (attributes may be separated by
// spaces, tabs or newlines), or 0 when absent.
int attribute(const std::string& tag, const std::string& name) {
  const std::string key = name + "=\"";
  for (auto pos = tag.find(key); pos != std::string::npos; pos = tag.find(key, pos + 1)) {
    if (pos > 0 && std::isspace(static_cast<unsigned char>(tag[pos - 1])) != 0) {
      return std::atoi(tag.c_str() + pos + key.size());
    }
  }
  return 0;
}

// Reads the totals from the <testsuite ...> element of ctest's JUnit file.
std::optional<Summary> read_junit(const tito::fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string xml = buffer.str();
  const auto begin = xml.find("<testsuite ");
  if (begin == std::string::npos) return std::nullopt;
  const auto end = xml.find('>', begin);
  const std::string tag = xml.substr(begin, end - begin);
  Summary s;
  s.total = attribute(tag, "tests");
  s.failed = attribute(tag, "failures") + attribute(tag, "errors");
  s.skipped = attribute(tag, "skipped") + attribute(tag, "disabled");
  return s;
}

int run_tests(const Options& opts) {
  const auto root = tito::repo_root();
  const auto preset = tito::preset_name(opts.sanitize);
  const auto dir = tito::build_dir(root, preset);

  bool built = false;
  if (opts.module.empty()) {
    if (tito::ensure_configured(root, preset) != 0) {
      tito::print_error("configuring with preset '" + preset + "' failed (see above)");
      return 1;
    }
    built = tito::build(root, preset, {}, opts.jobs) == 0;
  } else {
    const auto map = tito::load_module_map(root);
    // An unknown or planned id: the error names the modules there are.
    static_cast<void>(map.available_module(opts.module));
    if (tito::on_reference(root, opts.module)) {
      std::cout << tito::paint("note: module " + opts.module +
                                   " runs on the reference implementation (tito module "
                                   "use-reference): its tests test the reference, not your files",
                               tito::Color::kYellow)
                << '\n';
    }
    built = tito::build_module_tests(root, preset, map, {opts.module}, opts.hidden, opts.jobs);
  }
  if (!built) {
    std::cout << tito::paint("tito test: build failed", tito::Color::kRed)
              << " — fix the compile errors above, then run tito test again\n";
    return 1;
  }

  const auto junit = dir / "tito-test-results.xml";
  std::error_code ec;
  tito::fs::remove(junit, ec);

  std::vector<std::string> argv{"ctest",
                                "--test-dir",
                                dir.string(),
                                "--output-on-failure",
                                "-j",
                                std::to_string(opts.jobs),
                                "--no-tests=error",
                                "--output-junit",
                                junit.string()};
  if (!opts.module.empty()) {
    argv.insert(argv.end(), {"-L", "^module" + opts.module + "$"});
  }
  if (!opts.hidden) argv.insert(argv.end(), {"-LE", "^hidden$"});
  if (!opts.filter.empty()) argv.insert(argv.end(), {"-R", opts.filter});

  if (opts.sanitize) {
    // Full stack traces for UBSan reports; keep any user-provided settings.
    setenv("UBSAN_OPTIONS", "print_stacktrace=1", 0);
  }

  tito::print_step("Testing (preset " + preset + ")");
  const int status = tito::run(argv, {.cwd = root});
  const auto summary = read_junit(junit);

  if (!summary) {
    // ctest stopped before running tests, typically because a test program crashed while
    // ctest asked it for its list of tests (PRE_TEST discovery).
    std::cout << tito::paint("tito test: ctest failed before running any test", tito::Color::kRed)
              << " (see the errors above; did a test program crash at startup?)\n";
    return 1;
  }
  if (summary->total == 0) {
    std::string what = "no tests matched";
    if (!opts.module.empty()) what += " for module " + opts.module;
    if (!opts.filter.empty()) what += " and filter '" + opts.filter + "'";
    std::cout << tito::paint("tito test: " + what, tito::Color::kRed) << '\n';
    if (!opts.module.empty()) {
      std::cout << "  (is tinytorch_add_module_tests(ID " << opts.module
                << " ...) declared in CMake?)\n";
    }
    return 1;
  }

  const bool ok = status == 0 && summary->failed == 0;
  std::ostringstream line;
  line << "tests: " << summary->passed() << " passed, " << summary->failed << " failed";
  if (summary->skipped > 0) line << ", " << summary->skipped << " skipped";
  std::cout << tito::paint(line.str(), ok ? tito::Color::kGreen : tito::Color::kRed) << '\n';
  if (status != 0 && summary->failed == 0) {
    tito::print_error("ctest exited with status " + std::to_string(status));
  }
  return ok ? 0 : 1;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("-m,--module", opts->module, "Only run the tests of module NN (e.g. 01 or 1)")
      ->transform(tito::module_id_validator());
  app.add_flag("--sanitize", opts->sanitize,
               "Use the sanitized debug build (build/debug, ASan+UBSan) instead of release");
  app.add_flag("--hidden", opts->hidden, "Also run the hidden (grader) tests, if present");
  app.add_option("-R,--filter", opts->filter, "Only run tests whose name matches this regex");
  app.add_option("-j,--jobs", opts->jobs, "Parallel build and test jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return [opts] { return run_tests(*opts); };
}

const tito::RegisterCommand kRegistered{"test", "Build and run the unit tests", setup};

}  // namespace
}  // namespace tito::test_command
