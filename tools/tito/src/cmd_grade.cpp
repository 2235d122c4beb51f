// tito grade SUBMISSION --out REPORT [--work DIR] [--modules ID,...] [--test-timeout S]
//                                    [--module-timeout S] [--build-timeout S] [-j N]
//                                    [--unsafe-no-sandbox]
//
// Grades a learner's repository so that the learner's code cannot change the verdict from the
// outside (what it can still do from inside a test process: docs/INSTRUCTOR_GUIDE.md):
//
//   instructor's checkout (git ls-files)       submission
//        |  every file, pristine                  |  only the learner files of modules.json
//        v                                        v  (a missing one: the released stub)
//   WORK/src  <------------- overlay -------------+
//        |  configure + build: inside the sandbox (sandbox.h), the instructor's CMake only
//        v
//   WORK/build/bin/test_moduleNN[_hidden]
//        |  one sandboxed run per test suite (--gtest_filter=Suite.* --gtest_output=json),
//        |  each test of a suite that did not report rerun on its own
//        v
//   per-test verdicts  <--  the EXPECTED names: --gtest_list_tests of the instructor's own build
//                           (build/release of this checkout); a test missing from the JSON fails
//
// The submission's CMake files, tests, test data and tools are never used; every other file of
// it that differs from the release is listed in the report ("changed_files"), and so is a learner
// file edited outside its solution regions. Exit codes of the test programs are never trusted.
//
// Writes REPORT.json and REPORT.csv (a trailing .json on REPORT is dropped first), after every
// sandbox is gone. Points per module = max_points × passed / expected tests (0 when it did not
// compile, and for a module not started: all its solution regions still the released stubs).
// A module the submission's .tito/reference.json puts on the release's compiled reference
// (tito module use-reference NN) is graded as not started, with that reason ("reference": true
// in the JSON, a note in the CSV); the grader builds the learner's own files of it regardless,
// never the reference objects, so hiding the choice changes nothing but the reason.
// Exit status 0 whenever a report was written, also for a broken submission; 1 for bad
// arguments, and when the sandbox is unavailable without --unsafe-no-sandbox.
#include <algorithm>
#include <atomic>
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
#include <thread>

#include "command.h"
#include "course.h"
#include "markers.h"
#include "module_map.h"
#include "sandbox.h"
#include "util.h"

namespace tito::grade_command {
namespace {

namespace fs = tito::fs;
using nlohmann::json;

struct Options {
  std::string submission;
  std::string out;
  std::string work;
  std::vector<std::string> modules;  // empty: every available module
  int test_timeout = 60;
  int module_timeout = 600;
  int build_timeout = 1800;
  int jobs = 2;
  bool unsafe_no_sandbox = false;
};

struct ModuleResult {
  std::string id;
  std::string name;
  std::string status = "graded";  // graded | not started | did not compile | crashed | timed out
                                  // | output limit | grader error
  double max_points = 0;
  double points = 0;
  int expected = 0;  // tests in the instructor's list
  int passed = 0;
  int failed = 0;
  double seconds = 0;
  std::string message;
  bool reference = false;  // the submission runs this module on the release's reference
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

// ---- the expected tests: the instructor's own build ------------------------------------

struct ExpectedTest {
  std::string suite;  // "Views" or "Cases/OptimizerReference"
  std::string name;   // "Transpose" or "MatchesPyTorchAfterEveryStep/adam"
  [[nodiscard]] std::string full() const { return suite + "." + name; }
};

struct TestProgram {
  std::string target;  // "test_module01" / "test_module01_hidden"
  std::string prefix;  // "module01." / "module01.hidden." (the names ctest shows)
  std::vector<ExpectedTest> tests;
};

// Parses `--gtest_list_tests`: "Suite.\n  Test\n  Test2  # GetParam() = 3\n".
std::vector<ExpectedTest> parse_test_list(const std::string& text) {
  std::vector<ExpectedTest> tests;
  std::istringstream in(text);
  std::string line;
  std::string suite;
  const auto strip = [](std::string s) {
    s = s.substr(0, s.find("  #"));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s.substr(std::min(s.find_first_not_of(' '), s.size()));
  };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ') {
      suite = strip(line);
      if (!suite.empty() && suite.back() == '.') suite.pop_back();
    } else if (!suite.empty()) {
      tests.push_back({suite, strip(line)});
    }
  }
  return tests;
}

// Builds the instructor's test programs of `ids` in build/release of this checkout (nothing to
// do when they are up to date, as in CI after ./tito test --hidden) and lists their tests.
std::map<std::string, std::vector<TestProgram>> expected_tests(const fs::path& root,
                                                               const tito::ModuleMap& map,
                                                               const std::vector<std::string>& ids,
                                                               int jobs) {
  tito::print_step("Listing the expected tests from the instructor's own build (build/release)");
  if (!tito::build_module_tests(root, "release", map, ids, /*hidden=*/true, jobs)) {
    throw tito::Error("the instructor's own test programs do not build (see above)");
  }
  std::map<std::string, std::vector<TestProgram>> programs;
  const auto bin = tito::build_dir(root, "release") / "bin";
  for (const auto& id : ids) {
    for (const bool hidden : {false, true}) {
      TestProgram p;
      p.target = "test_module" + id + (hidden ? "_hidden" : "");
      p.prefix = "module" + id + (hidden ? ".hidden." : ".");
      std::error_code ec;
      if (hidden && (map.module(id).hidden_tests.empty() || !fs::exists(bin / p.target, ec))) {
        continue;
      }
      const auto listed = tito::capture({(bin / p.target).string(), "--gtest_list_tests"});
      p.tests = parse_test_list(listed.output);
      if (listed.exit_code != 0 || p.tests.empty()) {
        throw tito::Error("cannot list the tests of the instructor's " + p.target + ": " +
                          tail(listed.output, 500));
      }
      programs[id].push_back(std::move(p));
    }
  }
  return programs;
}

// ---- the overlay -------------------------------------------------------------------------

// The submission's regular files (links are not followed), without build/, .git/, .tito/ and
// reference/ (the compiled reference implementations `tito release` adds; never built here).
std::map<std::string, fs::path> submission_files(const fs::path& submission) {
  std::map<std::string, fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           submission, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto rel = fs::relative(it->path(), submission).generic_string();
    if (it.depth() == 0 && it->is_directory() &&
        (rel == "build" || rel == ".git" || rel == ".tito" || rel == "reference")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_symlink() && it->is_regular_file()) files[rel] = it->path();
  }
  return files;
}

// Makes `dest` hold exactly `files` (path -> content), rewriting only files whose content
// differs, so that a reused build folder recompiles only what changed (Ninja compares times).
void sync_tree(const std::map<std::string, std::string>& files, const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(dest, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory() && files.count(fs::relative(it->path(), dest).generic_string()) == 0) {
      stale.push_back(it->path());
    }
  }
  for (const auto& path : stale) fs::remove(path, ec);
  for (const auto& [rel, content] : files) {
    const auto target = dest / rel;
    if (fs::is_regular_file(target, ec) && tito::read_file(target) == content) continue;
    tito::write_file_atomic(target, content);
  }
}

// A learner file's text with every solution region's body removed: what the learner may not
// change. std::nullopt when its markers are malformed.
std::optional<std::string> outside_regions(const std::string& text) {
  const auto parsed = tito::markers::parse(text);
  if (!parsed.errors.empty()) return std::nullopt;
  std::string out;
  size_t next = 0;
  for (int i = 1; i <= static_cast<int>(parsed.lines.size()); ++i) {
    while (next < parsed.regions.size() && parsed.regions[next].end_line < i) ++next;
    const bool inside = next < parsed.regions.size() && parsed.regions[next].begin_line < i &&
                        i < parsed.regions[next].end_line;
    if (!inside) out += parsed.lines[static_cast<size_t>(i - 1)] + "\n";
  }
  return out;
}

struct Overlay {
  std::map<std::string, std::string> files;  // what WORK/src holds
  json changed = json::array();              // {"path", "change"} for the instructor to read
};

// The instructor's files, with the learner files taken from the submission (whole; one the
// submission lacks is the released stub). Lists the submission's other files that differ from
// the release, and learner files edited outside their solution regions.
Overlay make_overlay(const fs::path& root, const tito::ModuleMap& map, const fs::path& submission) {
  const auto theirs = submission_files(submission);
  std::set<std::string> not_shipped;  // in the instructor's tree, never in a release
  for (const auto& m : map.modules)
    not_shipped.insert(m.hidden_tests.begin(), m.hidden_tests.end());
  not_shipped.insert(map.release_exclude.begin(), map.release_exclude.end());
  const auto shipped = [&](const std::string& rel) {
    return std::none_of(not_shipped.begin(), not_shipped.end(), [&](const std::string& dir) {
      return rel == dir || rel.rfind(dir + "/", 0) == 0;
    });
  };
  Overlay overlay;
  const auto note = [&](const std::string& path, const std::string& change) {
    overlay.changed.push_back({{"path", path}, {"change", change}});
  };
  std::set<std::string> ours;
  for (const auto& rel : tito::git_files(root)) {
    std::error_code ec;
    if (!fs::is_regular_file(root / rel, ec)) continue;
    ours.insert(rel);
    auto text = tito::read_file(root / rel);
    const auto* owner = map.owner_of_file(rel);
    const auto it = theirs.find(rel);
    if (owner != nullptr) {
      const auto parsed = tito::markers::parse(text);
      const auto stub = tito::markers::stubbed_text(parsed, tito::stub_context(*owner, rel));
      const auto instructor_outside = outside_regions(text);
      if (it == theirs.end() || !owner->available()) {
        if (it == theirs.end()) note(rel, "missing (graded as the released stub)");
        text = stub;
      } else {
        text = tito::read_file(it->second);
        // Either the release's text outside the regions (the stub may add an #include) or the
        // instructor's own.
        const auto outside = outside_regions(text);
        if (outside != outside_regions(stub) && outside != instructor_outside) {
          note(rel, "learner file edited outside its solution regions (or its markers)");
        }
      }
    } else if (it == theirs.end()) {
      if (shipped(rel) && rel != ".ci/run") note(rel, "missing (the instructor's copy was used)");
    } else if (rel != ".ci/run" && tito::read_file(it->second) != text) {
      // .ci/run is the learner CI in a release; any other difference is the learner's.
      note(rel, shipped(rel) ? "changed (not used: the instructor's copy was built)"
                             : "present though never released (not used)");
    }
    overlay.files[rel] = std::move(text);
  }
  for (const auto& [rel, path] : theirs) {
    if (ours.count(rel) == 0) note(rel, "added (not used)");
  }
  return overlay;
}

// ---- grading ------------------------------------------------------------------------------

// Where the work folder's parts are mounted in the sandbox (the build tree's absolute paths).
const fs::path kInsideSrc = "/tmp/grade/src";
const fs::path kInsideBuild = "/tmp/grade/build";
const fs::path kInsideOut = "/tmp/grade/out";

enum class Verdict { kPassed, kFailed, kSkipped, kCrashed, kTimedOut, kOutputLimit, kMissing };

struct TestVerdict {
  Verdict verdict = Verdict::kMissing;
  std::string message;
};

// One sandboxed run of a test program with a gtest filter.
struct Job {
  const TestProgram* program = nullptr;
  std::string filter;
  std::vector<size_t> tests;  // indices into program->tests
  int seconds = 0;            // limit for the whole run
};

struct Grader {
  fs::path root;
  tito::ModuleMap map;
  Options opts;
  fs::path work;
  std::unique_ptr<tito::Sandbox> sandbox;

  [[nodiscard]] fs::path src() const { return work / "src"; }
  [[nodiscard]] fs::path build() const { return work / "build"; }
  [[nodiscard]] tito::SandboxMount src_mount() const { return {src(), kInsideSrc, false}; }
  [[nodiscard]] tito::SandboxMount build_mount(bool writable) const {
    return {build(), kInsideBuild, writable};
  }

  // Configure and build steps: the instructor's CMake on the overlay; only the compiler reads
  // the learner's text. They write the build folder, so they keep the caller's user.
  tito::SandboxResult build_step(const std::vector<std::string>& argv) const {
    tito::SandboxLimits limits;
    limits.seconds = opts.build_timeout;
    limits.memory_mib = 8192;  // cc1plus on a large translation unit
    limits.processes = 512;
    limits.file_mib = 1024;
    limits.output_bytes = 8u << 20;
    limits.drop_to_nobody_as_root = false;
    return sandbox->run(argv, {src_mount(), build_mount(true)}, sandbox->inside(build_mount(true)),
                        limits);
  }

  // Runs one job in its own sandbox and reads gtest's JSON report of it.
  std::map<size_t, TestVerdict> run_job(const Job& job, const fs::path& out_dir) const {
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    fs::create_directories(out_dir);
    // The test runs as nobody when tito is root: it may write this folder and /tmp only.
    fs::permissions(out_dir, fs::perms::all, ec);
    const tito::SandboxMount out{out_dir, kInsideOut, true};
    const auto binary = sandbox->inside(build_mount(false)) / "bin" / job.program->target;
    const auto report = sandbox->inside(out) / "report.json";
    tito::SandboxLimits limits;
    limits.seconds = std::max(1, job.seconds);
    const auto run =
        sandbox->run({binary.string(), "--gtest_filter=" + job.filter,
                      "--gtest_output=json:" + report.string(), "--gtest_color=no"},
                     {src_mount(), build_mount(false), out}, sandbox->inside(out), limits);
    json parsed;
    try {
      if (fs::is_regular_file(out_dir / "report.json", ec) &&
          fs::file_size(out_dir / "report.json", ec) < (16u << 20)) {
        parsed = json::parse(tito::read_file(out_dir / "report.json"));
      }
    } catch (const std::exception&) {
      parsed = json();  // a torn or forged file: every test of the job is missing
    }
    fs::remove_all(out_dir, ec);
    std::map<std::string, const json*> reported;  // "Suite.Name" -> testcase object
    if (parsed.is_object() && parsed.contains("testsuites") && parsed["testsuites"].is_array()) {
      for (const auto& suite : parsed["testsuites"]) {
        if (!suite.is_object() || !suite.contains("testsuite") || !suite["testsuite"].is_array() ||
            !suite.value("name", json()).is_string()) {
          continue;
        }
        for (const auto& test : suite["testsuite"]) {
          if (test.is_object() && test.value("name", json()).is_string()) {
            reported[suite["name"].get<std::string>() + "." + test["name"].get<std::string>()] =
                &test;
          }
        }
      }
    }
    std::map<size_t, TestVerdict> verdicts;
    for (const auto index : job.tests) {
      TestVerdict v;
      const auto found = reported.find(job.program->tests[index].full());
      if (found != reported.end()) {
        const json& t = *found->second;
        const auto result = t.value("result", std::string());
        const bool has_failures = t.contains("failures") && !t["failures"].empty();
        if (result == "SKIPPED") {
          v.verdict = Verdict::kSkipped;
        } else if (t.value("status", std::string()) == "RUN" && result == "COMPLETED" &&
                   !has_failures) {
          v.verdict = Verdict::kPassed;
        } else {
          v.verdict = Verdict::kFailed;
          if (has_failures && t["failures"].is_array()) {
            for (const auto& f : t["failures"]) {
              if (f.is_object() && f.value("failure", json()).is_string()) {
                v.message += f["failure"].get<std::string>() + "\n";
              }
            }
          }
          if (v.message.empty()) v.message = "failed (result: " + result + ")";
        }
      } else if (run.output_capped) {
        v.verdict = Verdict::kOutputLimit;
        v.message =
            "stopped: printed more than " + std::to_string(limits.output_bytes >> 20) + " MiB";
      } else if (run.timed_out) {
        v.verdict = Verdict::kTimedOut;
        v.message = "did not finish within " + std::to_string(job.seconds) + " s";
      } else if (run.exit_code > 128) {
        v.verdict = Verdict::kCrashed;
        v.message = "the test program was killed by signal " + std::to_string(run.exit_code - 128) +
                    ": " + tail(run.output, 800);
      } else {
        v.message = "the test program (exit status " + std::to_string(run.exit_code) +
                    ") did not report this test as passed in its gtest JSON output: " +
                    tail(run.output, 800);
      }
      verdicts[index] = v;
    }
    return verdicts;
  }

  // Runs `jobs` on opts.jobs threads; a job that would start after `deadline` is not run.
  std::vector<std::map<size_t, TestVerdict>> run_jobs(
      std::vector<Job>& jobs, const std::string& tag,
      std::chrono::steady_clock::time_point deadline) const {
    std::vector<std::map<size_t, TestVerdict>> results(jobs.size());
    std::atomic<size_t> next{0};
    const auto worker = [&](size_t slot) {
      for (size_t i = next++; i < jobs.size(); i = next++) {
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left < 1) {
          for (const auto index : jobs[i].tests) {
            results[i][index] = {Verdict::kTimedOut,
                                 "not run: the module's tests ran out of time (" +
                                     std::to_string(opts.module_timeout) + " s)"};
          }
          continue;
        }
        jobs[i].seconds = static_cast<int>(std::min<int64_t>(jobs[i].seconds, left));
        results[i] = run_job(jobs[i], work / "out" / (tag + "-" + std::to_string(slot)));
      }
    };
    std::vector<std::thread> threads;
    const auto n = std::min<size_t>(static_cast<size_t>(std::max(1, opts.jobs)), jobs.size());
    for (size_t slot = 0; slot < n; ++slot) threads.emplace_back(worker, slot);
    for (auto& t : threads) t.join();
    return results;
  }

  void run_tests(const std::vector<TestProgram>& programs, ModuleResult& r) const {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(opts.module_timeout);
    // Pass 1: one run per suite (cheap: a few dozen sandboxes per module).
    std::vector<Job> jobs;
    for (const auto& p : programs) {
      std::map<std::string, std::vector<size_t>> suites;
      for (size_t i = 0; i < p.tests.size(); ++i) suites[p.tests[i].suite].push_back(i);
      for (const auto& [suite, tests] : suites) {
        jobs.push_back(
            {&p, suite + ".*", tests, opts.test_timeout * static_cast<int>(tests.size())});
      }
    }
    std::map<std::pair<const TestProgram*, size_t>, TestVerdict> verdicts;
    auto results = run_jobs(jobs, r.id, deadline);
    // Pass 2: each test that a suite run did not report (it crashed, hung or stopped early)
    // runs on its own, so one bad test does not take its suite's other tests with it.
    std::vector<Job> reruns;
    for (size_t j = 0; j < jobs.size(); ++j) {
      for (const auto& [index, v] : results[j]) {
        const bool unreported = v.verdict != Verdict::kPassed && v.verdict != Verdict::kFailed &&
                                v.verdict != Verdict::kSkipped;
        if (unreported && jobs[j].tests.size() > 1 && !v.message.starts_with("not run")) {
          reruns.push_back(
              {jobs[j].program, jobs[j].program->tests[index].full(), {index}, opts.test_timeout});
        } else {
          verdicts[{jobs[j].program, index}] = v;
        }
      }
    }
    results = run_jobs(reruns, r.id, deadline);
    for (size_t j = 0; j < reruns.size(); ++j) {
      for (const auto& [index, v] : results[j]) verdicts[{reruns[j].program, index}] = v;
    }
    std::map<Verdict, int> counts;
    for (const auto& [key, v] : verdicts) {
      ++counts[v.verdict];
      if (v.verdict == Verdict::kPassed || v.verdict == Verdict::kSkipped) continue;
      const auto& [program, index] = key;
      // The real failure (got/expected) first; the stub the test reached, if any, after it.
      std::string message;
      for (const auto& line : tito::failure_lines(v.message, 8)) message += line + "\n";
      if (const auto hint = tito::not_implemented_hint(v.message)) {
        message += *hint;
      } else if (message.empty()) {
        message = v.message;
      }
      r.failures.emplace_back(program->prefix + program->tests[index].full(), tail(message, 1000));
    }
    r.expected = static_cast<int>(verdicts.size());
    r.passed = counts[Verdict::kPassed];
    r.failed = r.expected - r.passed - counts[Verdict::kSkipped];
    const int total = r.passed + r.failed;
    r.points = total == 0 ? 0 : std::round(r.max_points * r.passed / total * 100.0) / 100.0;
    if (counts[Verdict::kTimedOut] > 0) {
      r.status = "timed out";
    } else if (counts[Verdict::kOutputLimit] > 0) {
      r.status = "output limit";
    } else if (counts[Verdict::kCrashed] > 0) {
      r.status = "crashed";
    }
    if (r.status != "graded") {
      r.message = std::to_string(counts[Verdict::kCrashed]) + " test(s) crashed, " +
                  std::to_string(counts[Verdict::kTimedOut]) + " timed out (" +
                  std::to_string(opts.test_timeout) + " s each), " +
                  std::to_string(counts[Verdict::kOutputLimit]) + " printed without end";
    }
    if (counts[Verdict::kMissing] > 0) {
      r.message += (r.message.empty() ? "" : "; ") + std::to_string(counts[Verdict::kMissing]) +
                   " expected test(s) never reported as run";
    }
  }

  void grade_module(const std::vector<TestProgram>& programs, ModuleResult& r) const {
    std::vector<std::string> argv = {
        "cmake", "--build", kInsideBuild.string(), "-j", std::to_string(opts.jobs), "--target"};
    if (!sandbox->enabled()) argv[2] = build().string();
    for (const auto& p : programs) argv.push_back(p.target);
    const auto built = build_step(argv);
    if (built.exit_code != 0) {
      r.status = "did not compile";
      r.message = built.timed_out
                      ? "the build ran out of time (" + std::to_string(opts.build_timeout) + " s)"
                      : build_errors(built.output);
      return;
    }
    run_tests(programs, r);
  }

  std::vector<ModuleResult> grade(const fs::path& submission, const std::vector<std::string>& ids,
                                  json& changed) {
    std::vector<ModuleResult> results;
    for (const auto& id : ids) {
      const auto& m = map.module(id);
      ModuleResult r;
      r.id = m.id;
      r.name = m.name;
      r.max_points = m.points;
      results.push_back(r);
    }
    tito::print_step("Overlaying the submission's learner files on the instructor's tree in " +
                     src().string());
    auto overlay = make_overlay(root, map, submission);
    changed = std::move(overlay.changed);
    sync_tree(overlay.files, src());
    // A module whose solution regions are all still the released stubs is not run: its tests
    // could only earn points for checks that hold without any of the learner's code.
    std::vector<std::string> started;
    // The learner's choice, as `tito module use-reference` recorded it (a link is not followed).
    std::error_code ec;
    const bool linked = fs::is_symlink(tito::tito_state_dir(submission), ec) ||
                        fs::is_symlink(tito::reference_choice_file(submission), ec);
    const auto on_reference =
        linked ? std::vector<std::string>{} : tito::reference_modules(submission);
    for (auto& r : results) {
      if (std::find(on_reference.begin(), on_reference.end(), r.id) != on_reference.end()) {
        r.status = "not started";
        r.reference = true;
        r.message = "ran on the reference implementation (tito module use-reference " + r.id +
                    "): a module linked against the release's compiled reference earns no points";
        std::cout << "    module " << r.id << ": " << r.message << '\n';
      } else if (tito::module_status(src(), map.module(r.id)).state ==
                 tito::ModuleState::kNotStarted) {
        r.status = "not started";
        r.message = "every solution region is still the released stub";
      } else {
        started.push_back(r.id);
      }
    }
    if (started.empty()) return results;
    const auto programs = expected_tests(root, map, started, opts.jobs);

    // A build folder configured for other paths (a work folder used without the sandbox
    // before) is started afresh.
    const auto src_inside = sandbox->inside(src_mount());
    const auto build_inside = sandbox->inside(build_mount(true));
    if (fs::exists(build() / "CMakeCache.txt", ec)) {
      const auto cache = tito::read_file(build() / "CMakeCache.txt");
      if (cache.find("CMAKE_HOME_DIRECTORY:INTERNAL=" + src_inside.string() + "\n") ==
              std::string::npos ||
          cache.find("CMAKE_CACHEFILE_DIR:INTERNAL=" + build_inside.string() + "\n") ==
              std::string::npos) {
        fs::remove_all(build(), ec);
      }
    }
    fs::create_directories(build());
    tito::print_step(std::string("Configuring ") + build().string() +
                     (sandbox->enabled() ? " (in the sandbox)" : " (NO SANDBOX)"));
    // No compiler launcher: the sandbox's / is read-only, and nothing the submission compiles
    // belongs in the instructor's compiler cache.
    const auto configured =
        build_step({"cmake", "-S", src_inside.string(), "-B", build_inside.string(), "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -g0 -DNDEBUG",
                    "-DTINYTORCH_WERROR=OFF", "-DCMAKE_CXX_COMPILER_LAUNCHER="});
    if (configured.exit_code != 0) {
      for (auto& r : results) {
        if (r.status == "not started") continue;
        r.status = "did not compile";
        r.message = "cmake configure failed: " + tail(configured.output, 2000);
      }
      return results;
    }
    for (auto& r : results) {
      if (r.status == "not started") continue;
      const auto start = std::chrono::steady_clock::now();
      tito::print_step("Module " + r.id + " (" + r.name +
                       "): building and running visible + hidden tests");
      try {
        const auto& mine = programs.at(r.id);
        for (const auto& p : mine) r.expected += static_cast<int>(p.tests.size());
        grade_module(mine, r);
      } catch (const std::exception& e) {
        r.status = "grader error";
        r.message = e.what();
      }
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "    " << r.status << ": " << r.passed << " passed, " << r.failed
                << " failed of " << r.expected << " expected, " << r.points << "/" << r.max_points
                << " points\n";
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

void write_reports(const fs::path& base, const std::string& submission, bool sandboxed,
                   const std::vector<ModuleResult>& results, const json& changed,
                   const std::string& error) {
  json modules = json::object();
  double total = 0;
  double max_total = 0;
  std::ostringstream csv;
  csv << "module,name,status,tests_passed,tests_failed,points,max_points,note\n";
  for (const auto& r : results) {
    json failures = json::array();
    for (const auto& [test, message] : r.failures)
      failures.push_back({{"test", test}, {"message", message}});
    modules[r.id] = {{"name", r.name},
                     {"status", r.status},
                     {"points", r.points},
                     {"max_points", r.max_points},
                     {"tests_expected", r.expected},
                     {"tests_passed", r.passed},
                     {"tests_failed", r.failed},
                     {"failures", failures},
                     {"message", r.message},
                     {"reference", r.reference},
                     {"seconds", std::round(r.seconds * 10) / 10}};
    total += r.points;
    max_total += r.max_points;
    csv << r.id << ',' << csv_field(r.name) << ',' << csv_field(r.status) << ',' << r.passed << ','
        << r.failed << ',' << r.points << ',' << r.max_points << ','
        << (r.reference ? "ran on the reference implementation" : "") << '\n';
  }
  csv << "total,,,"
      << ",," << total << ',' << max_total << ",\n";
  json report = {{"submission", submission},
                 {"graded_at", tito::utc_timestamp()},
                 {"tito_version", TITO_VERSION},
                 {"sandbox", sandboxed},
                 {"changed_files", changed},
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
  std::vector<std::string> ids;
  for (const auto& text : opts.modules) {
    const auto id = tito::normalize_module_id(text);
    const auto* m = id ? grader.map.find(*id) : nullptr;
    if (m == nullptr || !m->available()) {
      throw tito::Error("--modules: '" + text + "' is not an available module");
    }
    if (std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
  }
  if (ids.empty()) {
    for (const auto& m : grader.map.modules) {
      if (m.available()) ids.push_back(m.id);
    }
  }
  if (opts.unsafe_no_sandbox) {
    tito::print_warning(
        "--unsafe-no-sandbox: the submission's code runs with your rights, can read and write "
        "your files and outlive tito; grade only code you trust this way");
  } else if (const auto why = tito::sandbox_unavailable_reason()) {
    throw tito::Error("the grading sandbox is unavailable: " + *why +
                      ". Grading runs the submission's code; without the sandbox it could change "
                      "your files or the report. See ./tito doctor; --unsafe-no-sandbox grades "
                      "anyway");
  }

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
  grader.work = work;
  // The instructor's checkout is hidden from everything the submission runs.
  grader.sandbox =
      std::make_unique<tito::Sandbox>(!opts.unsafe_no_sandbox, std::vector<fs::path>{grader.root});

  std::vector<ModuleResult> results;
  json changed = json::array();
  std::string error;
  try {
    results = grader.grade(submission, ids, changed);
  } catch (const std::exception& e) {
    error = std::string("the grader failed: ") + e.what();
    results.clear();
    for (const auto& id : ids) {
      const auto& m = grader.map.module(id);
      ModuleResult r;
      r.id = m.id;
      r.name = m.name;
      r.max_points = m.points;
      r.status = "grader error";
      r.message = error;
      results.push_back(r);
    }
  }
  // Every sandbox is gone here (each run tore its PID namespace down before returning).
  write_reports(base, submission.string(), grader.sandbox->enabled(), results, changed, error);
  if (temporary) fs::remove_all(work, ec);
  double total = 0;
  double max_total = 0;
  for (const auto& r : results) {
    total += r.points;
    max_total += r.max_points;
  }
  if (!changed.empty()) {
    std::cout << changed.size()
              << " file(s) of the submission differ from the release (report: changed_files)\n";
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
  app.add_option("--modules", opts->modules,
                 "Grade only these modules (e.g. --modules 01,05). Default: every available one")
      ->delimiter(',')
      ->allow_extra_args(false);  // one value per --modules: never the submission after it
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
  app.add_flag("--unsafe-no-sandbox", opts->unsafe_no_sandbox,
               "Grade without the bubblewrap sandbox (only for code you trust; see tito doctor)");
  return [opts] { return grade(*opts); };
}

const tito::RegisterCommand kRegistered{
    "grade", "Instructor: grade a submission with the hidden tests; writes a JSON + CSV report",
    setup};

}  // namespace
}  // namespace tito::grade_command
