// tito module list | status | start NN | test NN | complete NN | reset NN
//             | use-reference NN... | use-mine NN...
//
// The learner's commands. A module's state is DERIVED every time from the learner's files and
// test results, never kept in a progress file that could drift:
//   not started   — every solution region of the module's files still equals the released stub
//   in progress   — some region differs from its stub (or a file lost its markers)
//   tests passing — the last `tito module test NN` passed for exactly the files there are now
//   completed     — `tito module complete NN` passed (the module's tests, and those of its
//                   prerequisites not completed or on the reference) for exactly
//                   these files: .tito/progress.json keeps the SHA-256 of the files it passed with
//   reference     — `tito module use-reference NN`: the build links the release's compiled
//                   reference of NN instead of the learner's files (course.h; graded as not
//                   started); `tito module use-mine NN` switches back
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "project.h"
#include "util.h"

namespace tito::module_command {
namespace {

using tito::ModuleInfo;
using tito::ModuleMap;
using tito::ModuleState;

struct Options {
  std::string module;                // normalized "NN"
  std::vector<std::string> modules;  // use-reference / use-mine: normalized "NN"s
  int jobs = 2;
  std::string filter;  // test: ctest -R, the tests of one part of the chapter
  bool all = false;    // test: show every failure
  bool force = false;  // start: ignore missing prerequisites
};

const char* kPreset = "release";

std::string state_color(ModuleState state) {
  using tito::Color;
  const auto name = tito::state_name(state);
  switch (state) {
    case ModuleState::kCompleted:
      return tito::paint(name, Color::kGreen);
    case ModuleState::kTestsPassing:
      return tito::paint(name, Color::kBlue);
    case ModuleState::kInProgress:
      return tito::paint(name, Color::kYellow);
    case ModuleState::kNotStarted:
      return name;
    case ModuleState::kReference:
      return tito::paint(name, Color::kBlue);
    case ModuleState::kNotAvailable:
      return tito::paint(name, Color::kDim);
  }
  return name;
}

std::set<std::string> completed_modules(const tito::fs::path& root, const ModuleMap& map) {
  std::set<std::string> done;
  for (const auto& m : map.modules) {
    if (m.available() && tito::is_completed(root, m)) done.insert(m.id);
  }
  return done;
}

// The completed modules and those on the reference: what a later module may build on.
std::set<std::string> usable_modules(const tito::fs::path& root, const ModuleMap& map) {
  auto done = completed_modules(root, map);
  for (const auto& id : tito::reference_modules(root)) done.insert(id);
  return done;
}

std::vector<std::string> missing_of(const std::vector<std::string>& required,
                                    const std::set<std::string>& done) {
  std::vector<std::string> missing;
  for (const auto& id : required) {
    if (done.count(id) == 0) missing.push_back(id);
  }
  return missing;
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// ---- list / status -------------------------------------------------------------------------

int list_modules(bool with_milestones) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  std::cout << tito::paint("Modules", tito::Color::kBold) << '\n';
  const auto done = usable_modules(root, map);
  std::set<std::string> open;  // available, neither completed nor on the reference
  for (const auto& m : map.modules) {
    const auto status = tito::module_status(root, m);
    std::ostringstream line;
    line << "  " << m.id << "  " << std::left << std::setw(14) << m.name << ' ';
    std::cout << line.str() << state_color(status.state);
    if (!status.detail.empty() && m.available()) {
      std::cout << tito::paint("  (" + status.detail + ")", tito::Color::kDim);
    }
    const bool finished =
        status.state == ModuleState::kCompleted || status.state == ModuleState::kReference;
    const auto recommendation = map.recommendation(m);
    if (m.available() && !finished && !recommendation.empty()) {
      std::cout << tito::paint("  ◄ " + recommendation, tito::Color::kYellow);
    }
    std::cout << '\n';
    if (m.available() && !finished) open.insert(m.id);
  }
  // Next: the first open module, in course order (18 before 09), whose prerequisites are usable.
  const ModuleInfo* next = nullptr;
  for (const ModuleInfo* m : map.course_order()) {
    if (open.count(m->id) != 0 && missing_of(m->prerequisites, done).empty()) {
      next = m;
      break;
    }
  }
  if (with_milestones && !map.milestones.empty()) {
    std::cout << '\n' << tito::paint("Milestones", tito::Color::kBold) << '\n';
    for (const auto& s : map.milestones) {
      const auto missing = missing_of(s.requires_modules, done);
      std::cout << "  " << s.id << "  " << std::left << std::setw(12) << s.name << ' ';
      if (missing.empty()) {
        std::cout << tito::paint("unlocked", tito::Color::kGreen);
      } else {
        std::cout << "locked"
                  << tito::paint("  (complete module(s) " + join(missing) + ")", tito::Color::kDim);
      }
      if (s.status != "available")
        std::cout << tito::paint("  [program not yet available]", tito::Color::kDim);
      std::cout << "  " << s.title << '\n';
    }
  }
  if (with_milestones) {
    std::cout << '\n';
    if (next != nullptr) {
      std::cout << "Next: ./tito module start " << next->id << "   (" << next->title << ")\n";
    } else {
      std::cout << "Every available module is completed. Well done!\n";
    }
  }
  return 0;
}

// ---- start ------------------------------------------------------------------------------

int start_module(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto& m = map.available_module(opts.module);
  const auto done = usable_modules(root, map);
  // Every missing module before this one, not only the direct prerequisite: 05 needs 04, which
  // needs 03, ... — a learner who lacks 01 must be told to start there.
  const auto missing = map.missing_prerequisites(m.id, done);
  if (!missing.empty()) {
    std::error_code ec;
    const bool references = tito::fs::exists(root / tito::kReferenceManifest, ec);
    std::string msg =
        "module " + m.id + " needs module" + (missing.size() == 1 ? " " : "s ") + join(missing) +
        " completed first" +
        (missing.size() == 1 ? " (./tito module complete " + missing.front() + ")"
                             : ", in that order (./tito module complete NN for each)") +
        (references ? "; or go on with the release's compiled reference of " +
                          std::string(missing.size() == 1 ? "it" : "them") +
                          ": ./tito module use-reference " + join(missing, " ")
                    : std::string());
    if (!opts.force) throw tito::Error(msg + "; --force starts anyway");
    tito::print_warning(msg + "; starting anyway (--force)");
  }
  std::cout << tito::paint("Module " + m.id + " — " + m.title, tito::Color::kBold) << "\n\n";
  // A module recommended before this one and not finished yet: say so (it does not block).
  for (const auto& early : map.modules) {
    const auto& before = early.recommended_before;
    if (done.count(early.id) != 0 || std::find(before.begin(), before.end(), m.id) == before.end())
      continue;
    std::cout << tito::paint("Recommended first: module " + early.id + " (" + early.name + ") — " +
                                 map.recommendation(early) + "; ./tito module start " + early.id,
                             tito::Color::kYellow)
              << "\n\n";
  }
  std::cout << "Read the chapter:   " << m.chapter << '\n';
  std::cout
      << "Edit these files (write the bodies between // BEGIN SOLUTION and // END SOLUTION):\n";
  for (const auto& file : m.files) {
    std::error_code ec;
    if (!tito::fs::is_regular_file(root / file, ec)) {
      std::cout << "  " << file << "  (missing!)\n";
      continue;
    }
    const auto parsed = tito::markers::parse(tito::read_file(root / file));
    std::vector<std::string> todo;
    const auto context = tito::stub_context(m, file);
    for (const auto& r : parsed.regions) {
      if (tito::markers::region_is_stub(parsed, r, context)) todo.push_back(r.function);
    }
    std::cout << "  " << file << "  (" << parsed.regions.size() << " functions, " << todo.size()
              << " still to write)\n";
    if (!todo.empty()) {
      std::cout << tito::paint("      " + join(tito::unique_in_order(todo)), tito::Color::kDim)
                << '\n';
    }
  }
  std::cout << "\nTest your code:     ./tito module test " << m.id << '\n';
  if (m.lab) std::cout << "Run the lab:        ./tito lab " << m.id << '\n';
  std::cout << "When tests pass:    ./tito module complete " << m.id << '\n';
  std::cout << "Start over:         ./tito module reset " << m.id
            << "   (your version is saved in .tito/backups/)\n";
  return 0;
}

// ---- test / complete ------------------------------------------------------------------------

// Builds what the tests of `ids` need (nothing else) and runs their visible tests.
std::optional<tito::TestRun> build_and_test(const tito::fs::path& root, const ModuleMap& map,
                                            const std::vector<std::string>& ids,
                                            const Options& opts) {
  if (!tito::build_module_tests(root, kPreset, map, ids, /*hidden=*/false, opts.jobs)) {
    std::cout << tito::paint("build failed", tito::Color::kRed)
              << " — fix the compile errors above, then run the command again\n";
    return std::nullopt;
  }
  tito::print_step("Running the tests of module" + std::string(ids.size() == 1 ? " " : "s ") +
                   join(ids) + (opts.filter.empty() ? "" : " matching '" + opts.filter + "'"));
  const auto dir = tito::build_dir(root, kPreset);
  tito::CtestOptions options;
  options.modules = ids;
  options.jobs = opts.jobs;
  options.filter = opts.filter;
  return tito::run_ctest(dir, options, dir / "tito-module-results.xml");
}

// The failed tests, real failures (got/expected, crashes) first: a learner fixes what is wrong
// before writing what is missing, and a test that failed an assertion and then reached a stub of
// a later part must not read as "not implemented" only. Without --all, at most 20 are listed.
void print_failures(const tito::TestRun& run, bool all) {
  const size_t limit = all ? SIZE_MAX : 20;
  const auto failures = tito::failures_in_order(run);
  for (size_t i = 0; i < failures.size() && i < limit; ++i) {
    const auto& c = *failures[i];
    std::cout << tito::paint("  FAIL ", tito::Color::kRed) << c.name;
    if (c.outcome != tito::Outcome::kFailed)
      std::cout << "  [" << tito::outcome_name(c.outcome) << "]";
    std::cout << '\n';
    const auto lines = tito::failure_lines(c.output);
    for (const auto& line : lines) std::cout << "       " << line << '\n';
    if (lines.empty() && c.outcome == tito::Outcome::kCrashed) {
      std::cout << "       the test program crashed (run it under ./tito test --sanitize)\n";
    }
    if (const auto hint = tito::not_implemented_hint(c.output)) {
      std::cout << tito::paint(std::string("       ") + (lines.empty() ? "" : "then: ") + *hint,
                               tito::Color::kYellow)
                << '\n';
    }
  }
  if (failures.size() > limit) {
    std::cout << "  ... and "
              << tito::counted(static_cast<long long>(failures.size() - limit), "more failed test")
              << " (--all shows them)\n";
  }
  const auto stubs = tito::not_implemented_summary(run);
  if (!stubs.empty()) {
    std::cout << '\n'
              << tito::paint("Not implemented yet", tito::Color::kBold)
              << " (the function most failed tests wait for first):\n";
    for (const auto& stub : stubs) {
      std::cout << "  " << stub.what << "  (" << tito::counted(stub.tests, "test") << ")\n";
    }
  }
}

void print_crash_help(const tito::TestRun& run) {
  std::cout << tito::paint("the tests did not run", tito::Color::kRed)
            << " — ctest stopped before running any test (did a test program crash at "
               "startup?). ctest said:\n";
  const auto& text = run.console;
  std::cout << text.substr(text.size() > 3000 ? text.size() - 3000 : 0) << '\n';
}

// Builds, runs the tests of `ids`, records the result for module m and prints the failures and
// a summary line. True when every test ran and passed; `ran`, when given, receives the run.
bool run_tests_and_report(const tito::fs::path& root, const ModuleMap& map, const ModuleInfo& m,
                          const std::vector<std::string>& ids, const Options& opts,
                          std::optional<tito::TestRun>* ran = nullptr) {
  const auto run = build_and_test(root, map, ids, opts);
  if (ran != nullptr) *ran = run;
  if (!run) return false;
  if (!opts.filter.empty() && run->cases.empty()) {
    std::cout << tito::paint("no test matched", tito::Color::kRed) << " — no test of module"
              << (ids.size() == 1 ? " " : "s ") << join(ids) << " matches -R '" << opts.filter
              << "' (ctest --test-dir build/release -N -L module" << m.id << " lists the names)\n";
    return false;
  }
  if (!run->ran || run->cases.empty()) {
    print_crash_help(*run);
    return false;
  }
  // A result of the reference says nothing about the learner's files, nor does one of a part.
  if (!tito::on_reference(root, m.id) && opts.filter.empty())
    tito::record_test_result(root, m, *run);
  print_failures(*run, opts.all);
  const bool ok = run->failed() == 0 && run->passed() > 0;
  std::ostringstream line;
  line << "tests: " << run->passed() << " passed, " << run->failed() << " failed";
  std::cout << tito::paint(line.str(), ok ? tito::Color::kGreen : tito::Color::kRed) << '\n';
  return ok;
}

// The earlier modules whose code a module's tests run that are the learner's own (not on the
// reference); `unverified` keeps only those whose tests are not known to pass for their files as
// they are now (neither completed nor "tests passing"): a wrong function there fails tests here
// (a wrong log_softmax_row of 02 fails the CrossEntropy tests of 04).
std::vector<const ModuleInfo*> learner_prerequisites(const tito::fs::path& root,
                                                     const ModuleMap& map, const ModuleInfo& m,
                                                     bool unverified) {
  std::vector<const ModuleInfo*> out;
  for (const auto& id : map.transitive_prerequisites(m.id)) {
    const auto& p = map.module(id);
    if (!p.available() || tito::on_reference(root, id)) continue;
    const auto state = tito::module_status(root, p).state;
    if (unverified && (state == ModuleState::kCompleted || state == ModuleState::kTestsPassing))
      continue;
    out.push_back(&p);
  }
  return out;
}

std::vector<std::string> ids_of(const std::vector<const ModuleInfo*>& modules) {
  std::vector<std::string> ids;
  for (const auto* p : modules) ids.push_back(p->id);
  return ids;
}

// After failed tests of m: the earlier modules whose code ran in them untested, and how to check
// each — when a test failed for a real reason (a stub's hint already names its module).
void print_earlier_modules(const tito::fs::path& root, const ModuleMap& map, const ModuleInfo& m,
                           const tito::TestRun& run) {
  const bool real = std::any_of(run.cases.begin(), run.cases.end(), tito::is_real_failure);
  const auto suspects = learner_prerequisites(root, map, m, /*unverified=*/true);
  if (!real || suspects.empty()) return;
  std::cout << '\n'
            << tito::paint("These tests also ran your code of earlier modules", tito::Color::kBold)
            << " whose tests have not passed for your files as they are now; a wrong function "
               "there fails tests of module "
            << m.id << " too:\n";
  for (const auto* p : suspects) {
    std::cout << "  " << p->id << " " << std::left << std::setw(14) << p->name << ' '
              << state_color(tito::module_status(root, *p).state)
              << "   check it: ./tito module test " << p->id << '\n';
  }
  std::error_code ec;
  if (tito::fs::exists(root / tito::kReferenceManifest, ec)) {
    std::cout << "Which module's code it is: ./tito diagnose " << m.id
              << " reruns the failed tests with the reference of each module in turn\n";
  }
}

int test_module(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto& m = map.available_module(opts.module);
  const bool reference = tito::on_reference(root, m.id);
  if (reference) {
    const auto earlier = ids_of(learner_prerequisites(root, map, m, /*unverified=*/false));
    std::cout << tito::paint(
                     "note: module " + m.id +
                         " runs on the reference implementation (tito module use-reference): "
                         "these tests run the reference of " +
                         m.id + ", not your files of it" +
                         (earlier.empty() ? std::string()
                                          : ", together with your code of module" +
                                                std::string(earlier.size() == 1 ? " " : "s ") +
                                                join(earlier) + ", which it builds on") +
                         "; ./tito module use-mine " + m.id + " tests yours",
                     tito::Color::kYellow)
              << '\n';
  }
  std::optional<tito::TestRun> run;
  const bool ok = run_tests_and_report(root, map, m, {m.id}, opts, &run);
  if (!ok && run) print_earlier_modules(root, map, m, *run);
  if (reference) return ok ? 0 : 1;
  if (ok && opts.filter.empty()) {
    std::cout << "All of module " << m.id << "'s tests pass: ./tito module complete " << m.id
              << '\n';
  } else if (ok) {
    std::cout << "The tests matching '" << opts.filter << "' pass; all of module " << m.id
              << "'s: ./tito module test " << m.id << '\n';
  }
  return ok ? 0 : 1;
}

int complete_module(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto& m = map.available_module(opts.module);
  if (tito::on_reference(root, m.id)) {
    throw tito::Error("module " + m.id +
                      " runs on the reference implementation, not your code: switch back with "
                      "./tito module use-mine " +
                      m.id + ", then complete it");
  }
  // NOTE: only the tests that can tell something new run (and only their programs are built): a
  // prerequisite completed for its files as they are now passed its tests with exactly these
  // files, and one on the reference runs the instructor's compiled code; the rest — not
  // completed, or edited since — are tested with the module, as one run.
  std::vector<std::string> ids, trusted;
  for (const auto& id : map.transitive_prerequisites(m.id)) {
    const bool settled = tito::on_reference(root, id) || tito::is_completed(root, map.module(id));
    (settled ? trusted : ids).push_back(id);
  }
  ids.push_back(m.id);
  if (!trusted.empty()) {
    std::cout << "Not tested again: module" << (trusted.size() == 1 ? " " : "s ") << join(trusted)
              << " (completed for your files as they are now, or on the reference)\n";
  }
  const auto before = completed_modules(root, map);
  const bool ok = run_tests_and_report(root, map, m, ids, opts);
  if (!ok) {
    std::cout << "Module " << m.id << " is not completed: its tests"
              << (ids.size() > 1 ? " and those of the modules it builds on (" + join(ids) + ")"
                                 : "")
              << " must all pass.\n";
    return 1;
  }
  tito::record_completion(root, m);
  std::cout << tito::paint("Module " + m.id + " (" + m.name + ") completed!", tito::Color::kGreen)
            << " (recorded in .tito/progress.json with a SHA-256 of your files; editing them "
               "later means completing again)\n";
  auto after = before;
  after.insert(m.id);
  for (const auto& s : map.milestones) {
    if (missing_of(s.requires_modules, before).empty()) continue;
    if (missing_of(s.requires_modules, after).empty()) {
      std::cout << "Milestone unlocked: " << s.id << " " << s.name << " — " << s.title
                << (s.status == "available" ? "" : " (its program is not available yet)") << '\n';
    }
  }
  for (const auto& other : map.modules) {
    if (other.id == m.id || after.count(other.id) != 0) continue;
    if (!missing_of(other.prerequisites, before).empty() &&
        missing_of(other.prerequisites, after).empty()) {
      std::cout << "Module " << other.id << " (" << other.name << ") can be started"
                << (other.available() ? ": ./tito module start " + other.id
                                      : " once it is released (not yet available)")
                << '\n';
    }
  }
  return 0;
}

// ---- reset ---------------------------------------------------------------------------------

int reset_module(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto& m = map.available_module(opts.module);
  std::vector<std::pair<std::string, std::string>> outputs;  // file, new text
  std::vector<std::string> problems;
  for (const auto& file : m.files) {
    std::error_code ec;
    if (!tito::fs::is_regular_file(root / file, ec)) {
      problems.push_back(file + ": missing (restore it from your release, e.g. git checkout -- " +
                         file + ")");
      continue;
    }
    const auto parsed = tito::markers::parse(tito::read_file(root / file));
    for (const auto& e : parsed.errors) {
      problems.push_back(file + ":" + std::to_string(e.line) + ": " + e.message);
    }
    if (parsed.errors.empty() && parsed.regions.empty()) {
      problems.push_back(
          file +
          ": has no solution regions (BEGIN/END SOLUTION markers) left; restore it from your "
          "release (e.g. git checkout -- " +
          file + ")");
    }
    if (parsed.errors.empty()) {
      outputs.emplace_back(file, tito::markers::stubbed_text(parsed, tito::stub_context(m, file)));
    }
  }
  if (!problems.empty()) {
    for (const auto& p : problems) std::cerr << "  " << p << '\n';
    throw tito::Error("cannot reset module " + m.id + "; nothing was changed");
  }
  const auto backup =
      tito::tito_state_dir(root) / "backups" / (m.id + "-" + tito::compact_timestamp());
  for (const auto& file : m.files) {
    tito::fs::create_directories((backup / file).parent_path());
    tito::fs::copy_file(root / file, backup / file, tito::fs::copy_options::overwrite_existing);
  }
  int changed = 0;
  for (const auto& [file, text] : outputs) {
    if (tito::read_file(root / file) == text) continue;
    tito::write_file_atomic(root / file, text);
    ++changed;
    std::cout << "  reset " << file << '\n';
  }
  std::error_code ec;
  std::cout << "Module " << m.id << ": " << tito::counted(changed, "file")
            << " restored to the released stubs "
            << "(code outside the solution regions is kept). Your previous version is in "
            << tito::fs::relative(backup, root, ec).string() << "/\n";
  return 0;
}

// ---- use-reference / use-mine ----------------------------------------------------------------

// Reconfigures the build folders that exist, so that they link what .tito/reference.json says
// (once the file exists, CMake also re-runs by itself when it changes). 0 when all succeeded.
int reconfigure(const tito::fs::path& root) {
  int status = 0;
  for (const char* preset : {"release", "debug"}) {
    std::error_code ec;
    if (!tito::fs::exists(tito::build_dir(root, preset) / "CMakeCache.txt", ec)) continue;
    tito::print_step(std::string("Re-configuring build/") + preset);
    const auto result = tito::capture({"cmake", "--preset", preset}, root);
    if (result.exit_code != 0) {
      std::cerr << result.output;
      status = result.exit_code;
    }
  }
  return status;
}

// Writes the new choice and reconfigures; puts the old choice back when configuring fails.
void switch_modules(const tito::fs::path& root, const std::vector<std::string>& before,
                    const std::vector<std::string>& after) {
  tito::write_reference_modules(root, after);
  if (reconfigure(root) != 0) {
    tito::write_reference_modules(root, before);
    reconfigure(root);
    throw tito::Error("configuring the build with that choice failed (see above); nothing changed");
  }
}

int use_reference(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  std::error_code ec;
  const auto manifest_path = root / tito::kReferenceManifest;
  if (!tito::fs::exists(manifest_path, ec)) {
    throw tito::Error(
        "this tree ships no reference implementations (" + std::string(tito::kReferenceManifest) +
        "): they exist only in a learner release made by `tito release`; in the instructor's "
        "tree every module is the solution already");
  }
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(tito::read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw tito::Error(manifest_path.string() + ": not valid JSON: " + e.what());
  }
  const auto before = tito::reference_modules(root);
  auto after = before;
  for (const auto& id : opts.modules) {
    const auto& m = map.available_module(id);
    if (!manifest.contains("modules") || !manifest["modules"].contains(m.id)) {
      throw tito::Error("the release ships no reference implementation of module " + m.id + " (" +
                        std::string(tito::kReferenceManifest) + ")");
    }
    if (std::find(after.begin(), after.end(), m.id) != after.end()) {
      std::cout << "Module " << m.id << " already runs on the reference implementation\n";
      continue;
    }
    after.push_back(m.id);
  }
  if (after == before) return 0;
  switch_modules(root, before, after);
  for (const auto& id : opts.modules) {
    const auto& m = map.module(id);
    std::cout << tito::paint("Module " + m.id + " (" + m.name + ")", tito::Color::kBold)
              << " now links the release's compiled reference implementation instead of your "
                 "files (left untouched):\n";
    for (const auto& file : m.files) std::cout << "  " << file << '\n';
  }
  std::cout << "Later modules can build on it now. Grading counts a module on the reference as "
               "not started (0 points) — switch back with ./tito module use-mine "
            << join(opts.modules, " ") << " when you are ready.\n";
  return 0;
}

int use_mine(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto before = tito::reference_modules(root);
  auto after = before;
  for (const auto& id : opts.modules) {
    const auto& m = map.available_module(id);
    const auto it = std::find(after.begin(), after.end(), m.id);
    if (it == after.end()) {
      throw tito::Error("module " + m.id +
                        " does not run on the reference implementation; it builds your files "
                        "already (tito module status)");
    }
    after.erase(it);
  }
  switch_modules(root, before, after);
  for (const auto& id : opts.modules) {
    std::cout << "Module " << id << " builds your files again (./tito module test " << id << ")\n";
  }
  return 0;
}

// ---- registration ----------------------------------------------------------------------------

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1);
  auto* list = app.add_subcommand(
      "list", "List every module with its state (derived from your code and test results)");
  auto* status = app.add_subcommand(
      "status", "Modules, their states, milestones (locked/unlocked) and what to do next");
  auto* start = app.add_subcommand(
      "start", "Check prerequisites, show the chapter, the files to edit and the test command");
  auto* test = app.add_subcommand(
      "test", "Build and run a module's visible tests, with friendly failure messages");
  auto* complete = app.add_subcommand(
      "complete",
      "Run the module's tests and those of its prerequisites not completed (nor on the "
      "reference); record completion when all pass");
  auto* reset = app.add_subcommand(
      "reset", "Restore a module's files to the released stubs (backing up your version first)");
  auto* use_ref = app.add_subcommand(
      "use-reference",
      "Link the release's compiled reference implementation of module(s) NN instead of your "
      "files, so later modules can build on it (graded as not started)");
  auto* use_mine_cmd = app.add_subcommand(
      "use-mine", "Build your own files of module(s) NN again (undoes use-reference)");
  for (auto* sub : {use_ref, use_mine_cmd}) {
    sub->add_option("modules", opts->modules, "Module numbers, e.g. 02 03 04")
        ->required()
        ->transform(tito::module_id_validator());
  }
  for (auto* sub : {start, test, complete, reset}) {
    sub->add_option("module", opts->module, "Module number, e.g. 01 or 1")
        ->required()
        ->transform(tito::module_id_validator());
  }
  test->add_option("-R,--filter", opts->filter,
                   "Only the tests whose name matches this regex (a chapter part's tests, as its "
                   "\"Test it now\" shows)");
  for (auto* sub : {test, complete}) {
    sub->add_option("-j,--jobs", opts->jobs, "Parallel build and test jobs")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    sub->add_flag("--all", opts->all, "Show every failed test (default: the first 20)");
  }
  start->add_flag("--force", opts->force, "Start even if prerequisites are not completed");
  return [opts, list, status, start, test, complete, reset, use_ref, use_mine_cmd]() -> int {
    if (list->parsed()) return list_modules(false);
    if (status->parsed()) return list_modules(true);
    if (start->parsed()) return start_module(*opts);
    if (test->parsed()) return test_module(*opts);
    if (complete->parsed()) return complete_module(*opts);
    if (reset->parsed()) return reset_module(*opts);
    if (use_ref->parsed()) return use_reference(*opts);
    if (use_mine_cmd->parsed()) return use_mine(*opts);
    return 1;
  };
}

const tito::RegisterCommand kRegistered{
    "module",
    "Work on a course module: list, status, start, test, complete, reset, use-reference, use-mine",
    setup};

}  // namespace
}  // namespace tito::module_command
