// tito grade SUBMISSION --out REPORT [--work DIR] [--test-timeout S] [--module-timeout S]
//                                    [--build-timeout S] [-j N]
//
// Grades a learner's repository in an isolated copy: the submission is copied to a work folder
// (without build/, .git/, .tito/), the grader-owned paths are put back from this (the
// instructor's) repository — every available module's tests and hidden tests and its
// CMakeLists.txt, modules/modules.json, modules/CMakeLists.txt, and modules.json's
// grading.instructor_paths — then it configures, builds each available module's test programs
// and runs its visible + hidden tests with a per-test and a per-module time limit.
//
// Writes REPORT.json and REPORT.csv (a trailing .json on REPORT is dropped first). Points per
// module = max_points × passed / total tests (0 when it did not compile or ran out of time, and
// for a module not started: all its solution regions still the released stubs, tests not run).
// Exit status 0 whenever a report was written, also for a broken submission; 1 for bad
// arguments.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "util.h"

namespace {

namespace fs = tito::fs;
using nlohmann::json;

struct Options {
  std::string submission;
  std::string out;
  std::string work;
  int test_timeout = 60;
  int module_timeout = 600;
  int build_timeout = 1800;
  int jobs = 2;
};

struct ModuleResult {
  std::string id;
  std::string name;
  std::string status = "graded";  // graded | not started | did not compile | crashed | timed out
                                  // | grader error
  double max_points = 0;
  double points = 0;
  int passed = 0;
  int failed = 0;
  double seconds = 0;
  std::string message;
  std::vector<std::pair<std::string, std::string>> failures;  // test, message
};

std::string tail(const std::string& text, size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

// The compiler's error lines (and a little context) from a build log.
std::string build_errors(const std::string& log) {
  std::istringstream in(log);
  std::string line;
  std::string out;
  int lines = 0;
  while (std::getline(in, line) && lines < 25) {
    if (line.find("error") != std::string::npos || line.find("FAILED") != std::string::npos) {
      out += line + "\n";
      ++lines;
    }
  }
  return out.empty() ? tail(log, 2000) : out;
}

// ---- the isolated copy -------------------------------------------------------------------------

void collect(const fs::path& base, const fs::path& dir, std::map<std::string, fs::path>& files,
             bool top_level_filter) {
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) {
    files[fs::relative(dir, base).generic_string()] = dir;
    return;
  }
  if (!fs::is_directory(dir, ec)) return;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto rel = fs::relative(it->path(), base).generic_string();
    if (top_level_filter && it.depth() == 0 && it->is_directory() &&
        (rel == "build" || rel == ".git" || rel == ".tito")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink()) continue;  // a submission's links are not followed
    if (it->is_regular_file()) files[rel] = it->path();
  }
}

// Makes `dest` hold exactly `files`, rewriting only files whose content differs, so that a
// reused build folder recompiles only what changed (Ninja compares modification times).
void sync_tree(const std::map<std::string, fs::path>& files, const fs::path& dest) {
  std::map<std::string, fs::path> existing;
  collect(dest, dest, existing, false);
  for (const auto& [rel, path] : existing) {
    std::error_code ec;
    if (files.count(rel) == 0) fs::remove(path, ec);
  }
  for (const auto& [rel, source] : files) {
    const auto target = dest / rel;
    const auto content = tito::read_file(source);
    std::error_code ec;
    if (fs::is_regular_file(target, ec) && tito::read_file(target) == content) continue;
    fs::create_directories(target.parent_path());
    tito::write_file_atomic(target, content);
  }
}

std::vector<std::string> instructor_paths(const tito::ModuleMap& map) {
  std::vector<std::string> paths = {"modules/modules.json", "modules/CMakeLists.txt"};
  for (const auto& m : map.modules) {
    if (!m.available()) continue;
    paths.insert(paths.end(), m.tests.begin(), m.tests.end());
    paths.insert(paths.end(), m.hidden_tests.begin(), m.hidden_tests.end());
    paths.push_back((fs::path(m.chapter).parent_path() / "CMakeLists.txt").generic_string());
  }
  paths.insert(paths.end(), map.grading_instructor_paths.begin(),
               map.grading_instructor_paths.end());
  return paths;
}

// ---- grading ------------------------------------------------------------------------------

struct Grader {
  fs::path root;
  tito::ModuleMap map;
  Options opts;
  fs::path src;
  fs::path build;

  tito::Captured timed(std::vector<std::string> argv, int limit) const {
    argv.insert(argv.begin(), {"timeout", "--kill-after=10", std::to_string(limit)});
    return tito::capture(argv);
  }

  bool has_target(const std::string& target) const {
    return tito::capture({"ninja", "-C", build.string(), "-t", "query", target}).exit_code == 0;
  }

  void grade_module(const tito::ModuleInfo& m, ModuleResult& r) const {
    std::vector<std::string> targets;
    for (const auto& t : {"test_module" + m.id, "test_module" + m.id + "_hidden"}) {
      if (has_target(t)) targets.push_back(t);
    }
    if (targets.empty() || targets.front() != "test_module" + m.id) {
      r.status = "did not compile";
      r.message = "the build has no test program test_module" + m.id;
      return;
    }
    std::vector<std::string> argv = {
        "cmake", "--build", build.string(), "-j", std::to_string(opts.jobs), "--target"};
    argv.insert(argv.end(), targets.begin(), targets.end());
    const auto built = timed(argv, opts.build_timeout);
    if (built.exit_code != 0) {
      r.status = "did not compile";
      r.message = built.exit_code == 124 || built.exit_code == 137
                      ? "the build ran out of time (" + std::to_string(opts.build_timeout) + " s)"
                      : build_errors(built.output);
      return;
    }
    tito::CtestOptions options;
    options.modules = {m.id};
    options.hidden = true;
    options.jobs = opts.jobs;
    options.per_test_timeout = opts.test_timeout;
    options.wall_limit = opts.module_timeout;
    const auto run = tito::run_ctest(build, options, build / ("grade-" + m.id + ".xml"));
    if (run.wall_timeout) {
      r.status = "timed out";
      r.message = "the tests of module " + m.id + " did not finish within " +
                  std::to_string(opts.module_timeout) + " s (an endless loop?)";
      return;
    }
    if (!run.ran || run.cases.empty()) {
      r.status = "crashed";
      r.message = "ctest could not run the tests (a test program crashed or hung at start-up): " +
                  tail(run.console, 1500);
      return;
    }
    r.passed = run.passed();
    r.failed = run.failed();
    const int total = r.passed + r.failed;
    if (run.count(tito::Outcome::kTimedOut) > 0) {
      r.status = "timed out";
    } else if (run.count(tito::Outcome::kCrashed) > 0) {
      r.status = "crashed";
    }
    for (const auto& c : run.cases) {
      if (c.outcome == tito::Outcome::kPassed || c.outcome == tito::Outcome::kSkipped) continue;
      std::string message;
      if (const auto hint = tito::not_implemented_hint(c.output)) {
        message = *hint;
      } else {
        for (const auto& line : tito::failure_lines(c.output, 8)) message += line + "\n";
        if (message.empty()) message = tito::outcome_name(c.outcome);
      }
      r.failures.emplace_back(c.name, tail(message, 1000));
    }
    r.points = total == 0 ? 0 : std::round(r.max_points * r.passed / total * 100.0) / 100.0;
    if (r.status != "graded") {
      r.message = std::to_string(run.count(tito::Outcome::kCrashed)) + " test(s) crashed, " +
                  std::to_string(run.count(tito::Outcome::kTimedOut)) + " timed out (" +
                  std::to_string(opts.test_timeout) + " s each)";
    }
  }

  std::vector<ModuleResult> grade(const fs::path& submission) const {
    std::vector<ModuleResult> results;
    for (const auto& m : map.modules) {
      if (!m.available()) continue;
      ModuleResult r;
      r.id = m.id;
      r.name = m.name;
      r.max_points = m.points;
      results.push_back(r);
    }
    auto fail_all = [&](const std::string& status, const std::string& message) {
      for (auto& r : results) {
        r.status = status;
        r.message = message;
      }
      return results;
    };
    std::error_code ec;
    if (!fs::is_regular_file(submission / "CMakeLists.txt", ec)) {
      return fail_all("did not compile", "the submission has no CMakeLists.txt at its top level");
    }
    tito::print_step("Copying the submission to " + src.string());
    std::map<std::string, fs::path> files;
    collect(submission, submission, files, true);
    for (const auto& path : instructor_paths(map)) {
      for (auto it = files.begin(); it != files.end();) {
        const bool inside = it->first == path || it->first.rfind(path + "/", 0) == 0;
        it = inside ? files.erase(it) : std::next(it);
      }
      collect(root, root / path, files, false);
    }
    sync_tree(files, src);

    tito::print_step("Configuring " + build.string());
    const auto configured = timed(
        {"cmake", "-S", src.string(), "-B", build.string(), "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -g0 -DNDEBUG",
         "-DTINYTORCH_WERROR=OFF", "-DTINYTORCH_TEST_TIMEOUT=" + std::to_string(opts.test_timeout)},
        opts.build_timeout);
    if (configured.exit_code != 0) {
      return fail_all("did not compile",
                      "cmake configure failed: " + tail(configured.output, 2000));
    }
    for (auto& r : results) {
      const auto start = std::chrono::steady_clock::now();
      tito::print_step("Module " + r.id + " (" + r.name +
                       "): building and running visible + hidden tests");
      try {
        // A module whose solution regions are all still the released stubs is not run: its
        // tests could only earn points for checks that hold without any of the learner's code.
        const auto& m = map.module(r.id);
        if (tito::module_status(src, m).state == tito::ModuleState::kNotStarted) {
          r.status = "not started";
          r.message = "every solution region is still the released stub";
        } else {
          grade_module(m, r);
        }
      } catch (const std::exception& e) {
        r.status = "grader error";
        r.message = e.what();
      }
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "    " << r.status << ": " << r.passed << " passed, " << r.failed << " failed, "
                << r.points << "/" << r.max_points << " points\n";
    }
    return results;
  }
};

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_reports(const fs::path& base, const std::string& submission,
                   const std::vector<ModuleResult>& results, const std::string& error) {
  json modules = json::object();
  double total = 0;
  double max_total = 0;
  std::ostringstream csv;
  csv << "module,name,status,tests_passed,tests_failed,points,max_points\n";
  for (const auto& r : results) {
    json failures = json::array();
    for (const auto& [test, message] : r.failures)
      failures.push_back({{"test", test}, {"message", message}});
    modules[r.id] = {{"name", r.name},
                     {"status", r.status},
                     {"points", r.points},
                     {"max_points", r.max_points},
                     {"tests_passed", r.passed},
                     {"tests_failed", r.failed},
                     {"failures", failures},
                     {"message", r.message},
                     {"seconds", std::round(r.seconds * 10) / 10}};
    total += r.points;
    max_total += r.max_points;
    csv << r.id << ',' << csv_field(r.name) << ',' << csv_field(r.status) << ',' << r.passed << ','
        << r.failed << ',' << r.points << ',' << r.max_points << '\n';
  }
  csv << "total,,,"
      << ",," << total << ',' << max_total << '\n';
  json report = {{"submission", submission},
                 {"graded_at", tito::utc_timestamp()},
                 {"tito_version", TITO_VERSION},
                 {"modules", modules},
                 {"total", total},
                 {"max_total", max_total}};
  if (!error.empty()) report["error"] = error;
  tito::write_file_atomic(base.string() + ".json", report.dump(2) + "\n");
  tito::write_file_atomic(base.string() + ".csv", csv.str());
}

int grade(const Options& opts) {
  // Bad arguments: the only failures with a non-zero exit status.
  const fs::path submission = fs::absolute(opts.submission);
  std::error_code ec;
  if (!fs::is_directory(submission, ec)) {
    throw tito::Error("submission folder " + opts.submission +
                      " does not exist (or is not a folder)");
  }
  fs::path base = fs::absolute(opts.out);
  if (fs::is_directory(base, ec) || !base.has_filename()) {
    throw tito::Error("--out " + opts.out + " is a folder; give a report path such as " +
                      (base / "alice").string() + " (writes alice.json and alice.csv)");
  }
  if (base.extension() == ".json" || base.extension() == ".csv") base.replace_extension();
  if (!fs::is_directory(base.parent_path(), ec)) {
    throw tito::Error("--out: folder " + base.parent_path().string() + " does not exist");
  }
  Grader grader;
  grader.root = tito::repo_root();
  grader.map = tito::load_module_map(grader.root);
  grader.opts = opts;

  fs::path work;
  bool temporary = false;
  if (!opts.work.empty()) {
    work = fs::absolute(opts.work);
    fs::create_directories(work, ec);
  } else {
    std::string pattern = (fs::temp_directory_path() / "tito-grade-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw tito::Error("cannot create a temporary folder");
    work = pattern;
    temporary = true;
  }
  grader.src = work / "src";
  grader.build = work / "build";

  std::vector<ModuleResult> results;
  std::string error;
  try {
    results = grader.grade(submission);
  } catch (const std::exception& e) {
    error = std::string("the grader failed: ") + e.what();
    for (const auto& m : grader.map.modules) {
      if (!m.available()) continue;
      ModuleResult r;
      r.id = m.id;
      r.name = m.name;
      r.max_points = m.points;
      r.status = "grader error";
      r.message = error;
      results.push_back(r);
    }
  }
  write_reports(base, submission.string(), results, error);
  if (temporary) fs::remove_all(work, ec);
  double total = 0;
  double max_total = 0;
  for (const auto& r : results) {
    total += r.points;
    max_total += r.max_points;
  }
  std::cout << "Report: " << base.string() << ".json and " << base.string() << ".csv — total "
            << total << " / " << max_total << '\n';
  return 0;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("submission", opts->submission, "The learner's repository (a folder)")->required();
  app.add_option("--out", opts->out,
                 "Report path: writes REPORT.json and REPORT.csv (a .json suffix is dropped)")
      ->required();
  app.add_option("--work", opts->work,
                 "Work folder to keep and reuse between submissions (src/ and build/ inside; only "
                 "changed files are rebuilt). Default: a temporary folder, deleted afterwards");
  app.add_option("--test-timeout", opts->test_timeout, "Seconds one test may run")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--module-timeout", opts->module_timeout,
                 "Seconds all of one module's tests may run together")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--build-timeout", opts->build_timeout,
                 "Seconds the configure and each build may take")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("-j,--jobs", opts->jobs, "Parallel build and test jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return [opts] { return grade(*opts); };
}

const tito::RegisterCommand kRegistered{
    "grade", "Instructor: grade a submission with the hidden tests; writes a JSON + CSV report",
    setup};

}  // namespace
