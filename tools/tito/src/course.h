// Running a module's tests through ctest and reading the results, for `tito module ...` and
// `tito grade`: ctest's JUnit file gives each test's output; ctest's console summary
// ("The following tests FAILED: ... (SEGFAULT)") says how a test failed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "module_map.h"
#include "util.h"

namespace tito {

enum class Outcome { kPassed, kFailed, kCrashed, kTimedOut, kSkipped };

struct TestCase {
  std::string name;  // ctest name, e.g. "module01.Views.Transpose"
  Outcome outcome = Outcome::kFailed;
  std::string output;  // the test program's output (gtest's failure messages)
};

struct TestRun {
  bool ran = false;           // a JUnit file was produced
  bool wall_timeout = false;  // the whole run was killed at the wall-clock limit
  int exit_code = 0;
  std::string console;  // ctest's captured console output (when captured)
  std::vector<TestCase> cases;
  [[nodiscard]] int count(Outcome outcome) const;
  [[nodiscard]] int passed() const { return count(Outcome::kPassed); }
  [[nodiscard]] int failed() const {  // anything not passed and not skipped
    return static_cast<int>(cases.size()) - passed() - count(Outcome::kSkipped);
  }
};

struct CtestOptions {
  std::vector<std::string> modules;  // run the tests labelled moduleNN for these ids
  bool hidden = false;               // include tests labelled hidden
  int jobs = 2;
  int per_test_timeout = 0;  // ctest --timeout (0: the tests' own TIMEOUT property)
  int wall_limit = 0;        // seconds for the whole ctest run (0: none), via timeout(1)
  bool capture = true;       // capture ctest's output instead of streaming it
  std::string filter;        // ctest -R: only the tests whose name matches (empty: all)
};

// Configures build/<preset> if needed, then builds only what the tests of modules `ids` need:
// their test programs test_moduleNN (and test_moduleNN_hidden, where the build has one, when
// `hidden`), never the other modules' tests, the labs or the milestones. Shared by
// `tito module test/complete` and `tito test --module`. False when the build failed (the
// compiler's errors are on the terminal); throws Error when configuring fails or a module has no
// test program.
bool build_module_tests(const fs::path& root, const std::string& preset, const ModuleMap& map,
                        const std::vector<std::string>& ids, bool hidden, int jobs);

// A ctest -R regex that selects exactly these test names: "^(module04\.A\.B|module04\.C\.D)$"
// (ctest's names hold letters, digits, '_', '.' and '/', of which only '.' means something to a
// regex).
std::string exact_test_regex(const std::vector<std::string>& names);

// Runs ctest in `build` and reads the results.
TestRun run_ctest(const fs::path& build, const CtestOptions& options, const fs::path& junit);

// Parses ctest's JUnit XML (testcase name, status, system-out).
std::vector<TestCase> parse_junit(const std::string& xml);

// The words every stub's error message starts with (markers.cpp writes them).
inline constexpr const char* kNotImplemented = "not implemented yet";

// The lines of gtest's real failure report(s) in a test's output: from "...: Failure" to the end
// of that assertion's message, leaving out the blocks that only report a stub's "not implemented
// yet" (not_implemented_hint says those); at most `max_lines` lines.
std::vector<std::string> failure_lines(const std::string& output, size_t max_lines = 12);
// Whether a test failed for a real reason — an assertion, a crash, a time-out — and not only by
// reaching a stub's "not implemented yet".
bool is_real_failure(const TestCase& c);
// The failed tests of a run in the order a learner should read them: those with a real failure
// (got/expected, a crash, a time-out) first, then those that only reached a stub; run order
// within each group. A test that fails an assertion and then reaches a stub is a real failure.
std::vector<const TestCase*> failures_in_order(const TestRun& run);
// "not implemented yet — module NN (...): implement F in FILE; read CHAPTER" when the failure
// comes from a not-implemented stub.
std::optional<std::string> not_implemented_hint(const std::string& output);

std::string outcome_name(Outcome outcome);

// The "Not implemented yet" summary of a run: each stub's "implement F in FILE; read CHAPTER"
// with the number of failed tests that hit it, the real blocker first — most failed tests first
// (a helper every op calls, like compute_numel, fails nearly every test), then the earlier module,
// then the order the failures came in.
struct StubFailures {
  std::string what;  // "implement F in FILE; read CHAPTER"
  int tests = 0;
};
std::vector<StubFailures> not_implemented_summary(const TestRun& run);

// The names in their first-seen order, each once; an overloaded function has one solution region
// per overload, and a learner reads its name once.
std::vector<std::string> unique_in_order(const std::vector<std::string>& names);

// ---- Derived module state (never stored, recomputed from the learner's files) -------------

enum class ModuleState {
  kNotAvailable,
  kNotStarted,
  kInProgress,
  kTestsPassing,
  kCompleted,
  kReference  // linked against the release's compiled reference (tito module use-reference)
};
std::string state_name(ModuleState state);

struct ModuleStatus {
  ModuleState state = ModuleState::kNotAvailable;
  std::string detail;  // e.g. "3 of 21 functions written"
  int regions = 0;
  int stubs = 0;  // regions still equal to the released stub
};

// .tito/progress.json: {"version":1,"completed":{"01":{"sha256":"…","completed_at":"…"}}}
// .tito/results/NN.json: the last `tito module test/complete` run: files hash + counts.
fs::path tito_state_dir(const fs::path& root);
void record_test_result(const fs::path& root, const ModuleInfo& module, const TestRun& run);
void record_completion(const fs::path& root, const ModuleInfo& module);
// Whether the module has a recorded completion whose hash matches its files now.
bool is_completed(const fs::path& root, const ModuleInfo& module);
ModuleStatus module_status(const fs::path& root, const ModuleInfo& module);

// ---- The reference implementations (issue 21: a stuck learner can continue) ----------------
// A learner release ships, for every available module, the instructor's compiled objects of the
// module's files (reference/manifest.json, written by `tito release`). `tito module
// use-reference NN` records NN in .tito/reference.json ({"version":1,"modules":["02",...]});
// CMake (cmake/TinyTorchReference.cmake) then links those objects instead of compiling the
// learner's files of NN, which stay untouched. The grader reads the same file of a submission.
inline constexpr const char* kReferenceManifest = "reference/manifest.json";
fs::path reference_choice_file(const fs::path& root);
// The modules on the reference in `root` (map order is the caller's business; the file's order
// is kept). Empty when there is no choice file; an unreadable one is a warning and empty.
std::vector<std::string> reference_modules(const fs::path& root);
// The same from the file's parsed text (the grader reads a submission's with a size cap).
std::vector<std::string> reference_modules(const nlohmann::json& doc);
bool on_reference(const fs::path& root, const std::string& id);
// Rewrites .tito/reference.json with exactly `ids`, unless it says that already (an empty list is
// written, not removed: the build folders depend on the file once it existed).
void write_reference_modules(const fs::path& root, const std::vector<std::string>& ids);

}  // namespace tito
