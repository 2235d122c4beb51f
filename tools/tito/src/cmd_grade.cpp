// tito grade SUBMISSION --out REPORT [--work DIR] [--modules ID,...] [--test-timeout S]
//                                    [--module-timeout S] [--build-timeout S] [-j N]
//                                    [--unsafe-no-sandbox]
//
// Grades a learner's repository so that the learner's code cannot change the verdict, from the
// outside nor from inside a test process (docs/INSTRUCTOR_GUIDE.md, "The trust boundary"):
//
//   instructor's checkout (hidden from the sandbox)          submission
//   build/release (the instructor's, shared with tito test):   |  only the learner files of
//     test_moduleNN_hidden on the reference solution           |  modules.json, size-checked
//       -> expected records (rule + value of every check)      |  (a missing one: the stub)
//     the hidden sources with -DTT_GRADE_ANSWERS -> objects    v
//        |                               WORK/src: the instructor's files but the hidden tests
//        v                                  |  configure + build: inside the sandbox (sandbox.h)
//   WORK/hidden/moduleNN/*.o  ------------->+  the instructor's CMake; the hidden programs are
//                                           v  linked from those objects
//                           WORK/build/bin/test_moduleNN_hidden
//                               |  one sandboxed run per test suite, each test of a suite that
//                               |  did not finish rerun on its own; it writes the ACTUAL value of
//                               v  every check (TT_GRADE_ANSWERS), read with caps and bounds
//   per-test verdicts = graded::mismatch(rule, actual, expected) for every expected check
//
// Nothing the sandboxed runs say about verdicts is read: not GoogleTest's report, not their exit
// status, not their output (beyond a failure message's hint). The expected values and the hidden
// sources never enter the sandbox, so a run can only score a check by computing its value. The
// submission's CMake files, tests, test data and tools are never used; every other file of it
// that differs from the release is listed in the report ("changed_files"), and so is a learner
// file edited outside its solution regions.
//
// Writes REPORT.json and REPORT.csv (a trailing .json on REPORT is dropped first), after every
// sandbox is gone. Points per module = max_points × passed / graded hidden tests (0 when it did
// not compile, and for a module not started: all its solution regions still the released stubs).
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
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "command.h"
#include "course.h"
#include "markers.h"
#include "module_map.h"
#include "project.h"
#include "sandbox.h"
#include "support/graded_values.h"
#include "util.h"

namespace tito::grade_command {
namespace {

namespace fs = tito::fs;
namespace graded = tinytorch::graded;
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

// ---- the instructor's side: build/release, outside the sandbox -----------------------------
//
// The hidden tests are compiled twice in the instructor's release build, which `./tito test`
// shares (its library is not compiled a second time for grading): as the
// ordinary test program, which runs here on the reference solution and writes the EXPECTED value
// of every check (tests/support/graded.h), and as objects compiled with -DTT_GRADE_ANSWERS,
// which hold no expected value and are all of the hidden tests the sandbox ever sees. Neither the
// hidden sources nor the expected records leave the instructor's checkout, which the sandbox
// replaces with an empty folder.

constexpr const char* kInstructorPreset = "release";

struct ExpectedTest {
  std::string suite;  // "Views" or "Cases/OptimizerReference"
  std::string name;   // "Transpose" or "MatchesPyTorchAfterEveryStep/adam"
  [[nodiscard]] std::string full() const { return suite + "." + name; }
};

// One module's hidden test program.
struct HiddenProgram {
  std::string target;  // "test_module01_hidden"
  std::string prefix;  // "module01.hidden." (the names ctest shows)
  std::vector<ExpectedTest> tests;
  graded::Records expected;                           // its run on the reference solution
  std::map<std::string, std::string> answer_objects;  // file name -> the object's bytes
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

// The record files of a program's run in `dir` (tests/support/graded.cpp): "records.K" for the
// K-th test it ran, "records.rankN.K" for the other MPI ranks of module 21, whose sites are
// prefixed "rN/" and whose checks join rank 0's record of the same test. At most `max_files`
// files of each rank are read, each at most `max_bytes`; other names are ignored.
void read_records(const fs::path& dir, graded::FileKind kind, uint64_t max_bytes, size_t max_files,
                  graded::Records& into) {
  std::map<std::pair<int, size_t>, fs::path> files;  // (rank, K) -> path
  std::error_code ec;
  size_t entries = 0;
  static const std::regex kName(R"(records(?:\.rank([1-9]|1[0-5]))?\.([0-9]{1,6}))");
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (++entries > 16 * (max_files + 16)) break;  // a run that made thousands of files
    const std::string name = it->path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kName)) continue;
    const int rank = m[1].matched ? std::stoi(m[1].str()) : 0;
    const auto k = static_cast<size_t>(std::stoul(m[2].str()));
    if (k < max_files) files[{rank, k}] = it->path();
  }
  for (const auto& [key, path] : files) {
    const int rank = key.first;
    std::string text;
    try {
      text = tito::read_untrusted_file(path, max_bytes);
    } catch (const tito::Error& e) {
      into.problem = e.what();
      continue;  // that test's records are missing; the others count
    }
    graded::Records part;
    graded::parse_records(text, kind, part, rank == 0 ? "" : "r" + std::to_string(rank) + "/");
    if (!part.problem.empty()) into.problem = path.filename().string() + ": " + part.problem;
    for (auto& [name, record] : part.tests) {
      const auto mine = into.tests.find(name);
      if (mine == into.tests.end()) {
        // Rank 0 says which tests ran; another rank's test joins one of them.
        if (rank == 0) into.tests.emplace(name, std::move(record));
        continue;
      }
      // A test recorded in two files of rank 0, or another rank's part of a test.
      auto& test = mine->second;
      test.duplicates += record.duplicates + (rank == 0 ? 1 : 0);
      test.needs.insert(test.needs.end(), record.needs.begin(), record.needs.end());
      for (auto& check : record.checks) {
        if (!test.index.emplace(check.id(), test.checks.size()).second) {
          ++test.duplicates;
          continue;
        }
        test.checks.push_back(std::move(check));
      }
    }
  }
}

// The expected values of `binary`'s hidden tests: its run on the reference solution, kept in
// build/release/graded/TARGET/ and reused while the program is unchanged.
graded::Records expected_records(const fs::path& binary, const fs::path& dir, int seconds) {
  std::error_code ec;
  const auto stamp = std::to_string(fs::file_size(binary, ec)) + " " +
                     std::to_string(fs::last_write_time(binary, ec).time_since_epoch().count());
  if (!fs::exists(dir / "binary.stamp", ec) || tito::read_file(dir / "binary.stamp") != stamp) {
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    // Yours only: a sandbox running as another user cannot read them even where it sees them.
    fs::permissions(dir, fs::perms::owner_all, ec);
    const auto start = std::chrono::steady_clock::now();
    const auto run = tito::capture(
        {"timeout", "--kill-after=10", std::to_string(seconds), "env",
         "TT_GRADE_EXPECTED=" + (dir / "records").string(), binary.string(), "--gtest_color=no"},
        dir, 8u << 20);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "    " << binary.filename().string() << ": recorded the expected values in "
              << std::round(took * 10) / 10 << " s\n";
    if (run.exit_code == 124 || run.exit_code == 137 || run.exit_code > 128) {
      throw tito::Error("the instructor's " + binary.string() +
                        " did not finish on the reference solution (exit status " +
                        std::to_string(run.exit_code) + "): " + tail(run.output, 800));
    }
    tito::write_file_atomic(dir / "binary.stamp", stamp);
  }
  graded::Records records;
  read_records(dir, graded::FileKind::kExpected, uint64_t{1} << 32, 100000, records);
  if (!records.problem.empty()) {
    throw tito::Error("cannot read the expected values in " + dir.string() + ": " +
                      records.problem);
  }
  return records;
}

// Builds the hidden tests of `ids` in build/release of this checkout (nothing to do when they
// are up to date), lists their tests, records their expected values, and reads the objects of
// their answers build. A module without hidden tests has no entry.
std::map<std::string, HiddenProgram> hidden_programs(const fs::path& root,
                                                     const tito::ModuleMap& map,
                                                     const std::vector<std::string>& ids, int jobs,
                                                     int seconds) {
  tito::print_step("Building the hidden tests in build/" + std::string(kInstructorPreset) +
                   " (the instructor's tree, outside the sandbox)");
  if (tito::ensure_configured(root, kInstructorPreset) != 0) {
    throw tito::Error("configuring build/" + std::string(kInstructorPreset) +
                      " failed (see above)");
  }
  std::vector<std::string> targets;
  std::vector<std::string> with_hidden;
  for (const auto& id : ids) {
    const std::string target = "test_module" + id + "_hidden";
    if (map.module(id).hidden_tests.empty() || !tito::has_target(root, kInstructorPreset, target)) {
      continue;
    }
    with_hidden.push_back(id);
    targets.insert(targets.end(), {target, target + "_answers"});
  }
  if (!targets.empty() && tito::build(root, kInstructorPreset, targets, jobs) != 0) {
    throw tito::Error("the instructor's hidden tests do not build (see above)");
  }
  tito::print_step("Recording the expected values: the hidden tests on the reference solution");
  std::map<std::string, HiddenProgram> programs;
  const auto dir = tito::build_dir(root, kInstructorPreset);
  for (const auto& id : with_hidden) {
    HiddenProgram p;
    p.target = "test_module" + id + "_hidden";
    p.prefix = "module" + id + ".hidden.";
    const auto binary = dir / "bin" / p.target;
    const auto listed = tito::capture({binary.string(), "--gtest_list_tests"});
    p.tests = parse_test_list(listed.output);
    if (listed.exit_code != 0 || p.tests.empty()) {
      throw tito::Error("cannot list the tests of the instructor's " + p.target + ": " +
                        tail(listed.output, 500));
    }
    p.expected = expected_records(binary, dir / "graded" / p.target, seconds);
    for (const auto& test : p.tests) {
      const auto it = p.expected.tests.find(test.full());
      if (it == p.expected.tests.end() || !it->second.ended || it->second.status == "failed") {
        tito::print_warning(p.prefix + test.full() +
                            " fails on the instructor's own build: it is not graded");
      } else if (it->second.status != "skipped" && it->second.checks.empty()) {
        tito::print_warning(p.prefix + test.full() +
                            " makes no graded check (TT_GRADE_*, tests/support/graded.h): it is "
                            "not graded");
      }
    }
    const auto manifest = dir / "hidden-answers" / ("module" + id + ".objects");
    std::istringstream objects(tito::read_file(manifest));
    for (std::string line; std::getline(objects, line);) {
      if (line.empty()) continue;
      auto name = fs::path(line).filename().string();
      while (p.answer_objects.count(name) != 0) name = "_" + name;
      p.answer_objects[name] = tito::read_file(line);
    }
    if (p.answer_objects.empty()) throw tito::Error(manifest.string() + " lists no object");
    programs[id] = std::move(p);
  }
  return programs;
}

// The instructor's objects of the library's files that are no module's learner files, keyed
// "<path in the tree>.o": build/release's, brought up to date by hidden_programs. The sandbox
// compiles only the learner files and links these (TINYTORCH_LIBRARY_OBJECTS_DIR,
// cmake/TinyTorchReference.cmake), with the compiler that made them: a submission can change
// nothing else in the library, so compiling the rest again there gave the same objects.
std::map<std::string, std::string> library_objects(const fs::path& root,
                                                   const tito::ModuleMap& map) {
  std::set<std::string> learner;
  for (const auto& m : map.modules) learner.insert(m.files.begin(), m.files.end());
  std::error_code ec;
  const auto build = tito::build_dir(root, kInstructorPreset);
  const auto library_dir =
      fs::weakly_canonical(build / "tinytorch/CMakeFiles/tinytorch.dir", ec).string() + "/";
  const auto root_dir = fs::weakly_canonical(root, ec);
  std::map<std::string, std::string> objects;
  for (const auto& [source, entry] : tito::compile_database(build)) {
    const auto object = fs::weakly_canonical(entry.object, ec);
    if (object.string().rfind(library_dir, 0) != 0 || !fs::is_regular_file(object, ec)) continue;
    const auto rel = fs::path(source).lexically_relative(root_dir).generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0 || learner.count(rel) != 0) continue;
    objects[rel + ".o"] = tito::read_file(object);
  }
  return objects;
}

// ---- the overlay -------------------------------------------------------------------------

// What the grader reads of a submission, at most (docs/INSTRUCTOR_GUIDE.md, "What the grader
// reads"): every file is lstat'ed first (st_size and st_blocks, links not followed) and read only
// when within its cap, so a 4 GiB sparse file costs one lstat.
constexpr uint64_t kMaxLearnerFileBytes = 1u << 20;    // a learner file (the largest: ~60 KB)
constexpr uint64_t kMaxComparedFileBytes = 16u << 20;  // another file, compared with ours only
                                                       // when it has our copy's size
constexpr uint64_t kMaxChoiceFileBytes = 64u << 10;    // .tito/reference.json
constexpr size_t kMaxSubmissionEntries = 100000;       // folder entries walked
constexpr size_t kMaxChangedNotes = 500;               // entries of changed_files
// And of the work folder, which sandboxed builds write: WORK/build/CMakeCache.txt.
constexpr uint64_t kMaxCacheBytes = 16u << 20;

struct SubmissionFile {
  fs::path path;
  tito::FileFootprint footprint;
};

struct SubmissionTree {
  std::map<std::string, SubmissionFile> files;  // relative path -> file
  bool truncated = false;                       // more than kMaxSubmissionEntries entries
};

// The submission's files (links are not followed), without build/, .git/, .tito/ and
// reference/ (the compiled reference implementations `tito release` adds; never built here).
SubmissionTree submission_files(const fs::path& submission) {
  SubmissionTree tree;
  std::error_code ec;
  size_t entries = 0;
  for (auto it = fs::recursive_directory_iterator(
           submission, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (++entries > kMaxSubmissionEntries) {
      tree.truncated = true;
      break;
    }
    // Lexically: fs::relative would resolve a link to its target's path.
    const auto rel = it->path().lexically_relative(submission).generic_string();
    if (it.depth() == 0 && it->is_directory() &&
        (rel == "build" || rel == ".git" || rel == ".tito" || rel == "reference")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
    // A link, FIFO, socket or device is listed (never read, never followed).
    if (const auto footprint = tito::file_footprint(it->path())) {
      tree.files[rel] = {it->path(), *footprint};
    }
  }
  return tree;
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

std::string size_text(const tito::FileFootprint& f) {
  return std::to_string(f.size) + " bytes, " + std::to_string(f.allocated) + " allocated";
}

// The instructor's files, with the learner files taken from the submission (whole; one the
// submission lacks, or one over kMaxLearnerFileBytes, is the released stub). Lists the
// submission's other files that differ from the release, and learner files edited outside their
// solution regions. The hidden tests are left out.
Overlay make_overlay(const fs::path& root, const tito::ModuleMap& map, const fs::path& submission) {
  const auto theirs = submission_files(submission);
  std::set<std::string> hidden;  // in the instructor's tree, never in a release nor the sandbox
  for (const auto& m : map.modules) hidden.insert(m.hidden_tests.begin(), m.hidden_tests.end());
  std::set<std::string> not_shipped = hidden;
  not_shipped.insert(map.release_exclude.begin(), map.release_exclude.end());
  const auto under = [](const std::set<std::string>& dirs, const std::string& rel) {
    return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& dir) {
      return rel == dir || rel.rfind(dir + "/", 0) == 0;
    });
  };
  Overlay overlay;
  size_t notes = 0;
  const auto note = [&](const std::string& path, const std::string& change) {
    if (++notes <= kMaxChangedNotes) {
      overlay.changed.push_back({{"path", path}, {"change", change}});
    }
  };
  std::set<std::string> ours;
  for (const auto& rel : tito::git_files(root)) {
    std::error_code ec;
    if (!fs::is_regular_file(root / rel, ec)) continue;
    ours.insert(rel);
    const auto it = theirs.files.find(rel);
    if (under(hidden, rel)) {  // never in the sandbox: it gets hidden_programs()' objects
      if (it != theirs.files.end()) note(rel, "present though never released (not used)");
      continue;
    }
    auto text = tito::read_file(root / rel);
    const auto* owner = map.owner_of_file(rel);
    if (owner != nullptr) {
      const auto parsed = tito::markers::parse(text);
      const auto stub = tito::markers::stubbed_text(parsed, tito::stub_context(*owner, rel));
      const auto instructor_outside = outside_regions(text);
      std::optional<std::string> learners;
      if (it == theirs.files.end()) {
        note(rel, "missing (graded as the released stub)");
      } else if (!it->second.footprint.regular) {
        note(rel, "not a regular file (a link is not followed): graded as the released stub");
      } else if (!tito::within(it->second.footprint, kMaxLearnerFileBytes)) {
        note(rel, "too large to read (" + size_text(it->second.footprint) + "; the cap is " +
                      std::to_string(kMaxLearnerFileBytes >> 20) +
                      " MiB): graded as the released stub");
      } else {
        try {
          learners = tito::read_untrusted_file(it->second.path, kMaxLearnerFileBytes);
        } catch (const tito::Error& e) {
          note(rel, std::string("unreadable (graded as the released stub): ") + e.what());
        }
      }
      if (!learners || !owner->available()) {
        text = stub;
      } else {
        text = std::move(*learners);
        // Either the release's text outside the regions (the stub may add an #include) or the
        // instructor's own.
        const auto outside = outside_regions(text);
        if (outside != outside_regions(stub) && outside != instructor_outside) {
          note(rel, "learner file edited outside its solution regions (or its markers)");
        }
      }
    } else if (it == theirs.files.end()) {
      if (!under(not_shipped, rel) && rel != ".ci/run") {
        note(rel, "missing (the instructor's copy was used)");
      }
    } else if (rel != ".ci/run") {
      // .ci/run is the learner CI in a release; any other difference is the learner's. Only a
      // file of our copy's size can be the same: the others are never read.
      const auto& f = it->second.footprint;
      bool same = f.regular && f.size == text.size() && tito::within(f, kMaxComparedFileBytes);
      if (same) {
        try {
          same = tito::read_untrusted_file(it->second.path, kMaxComparedFileBytes) == text;
        } catch (const tito::Error&) {
          same = false;
        }
      }
      if (!same) {
        note(rel, under(not_shipped, rel) ? "present though never released (not used)"
                                          : "changed (not used: the instructor's copy was built)");
      }
    }
    overlay.files[rel] = std::move(text);
  }
  for (const auto& [rel, file] : theirs.files) {
    if (ours.count(rel) == 0) note(rel, "added (not used)");
  }
  if (theirs.truncated) {
    note(".", "more than " + std::to_string(kMaxSubmissionEntries) +
                  " files and folders: the rest was not looked at");
  }
  if (notes > kMaxChangedNotes) {
    overlay.changed.push_back(
        {{"path", "..."},
         {"change", std::to_string(notes - kMaxChangedNotes) + " more (not listed)"}});
  }
  return overlay;
}

// The modules the submission's .tito/reference.json puts on the reference (a link, or a file
// over kMaxChoiceFileBytes, counts as no choice: those modules are then graded on their files).
std::vector<std::string> submission_reference_modules(const fs::path& submission) {
  const auto path = tito::reference_choice_file(submission);
  std::error_code ec;
  if (fs::is_symlink(tito::tito_state_dir(submission), ec) || !fs::exists(path, ec)) return {};
  try {
    return tito::reference_modules(
        json::parse(tito::read_untrusted_file(path, kMaxChoiceFileBytes)));
  } catch (const std::exception& e) {
    tito::print_warning("ignoring the submission's " + path.string() + ": " + e.what());
    return {};
  }
}

// ---- grading ------------------------------------------------------------------------------

// Where the work folder's parts are mounted in the sandbox (the build tree's absolute paths).
const fs::path kInsideSrc = "/tmp/grade/src";
const fs::path kInsideBuild = "/tmp/grade/build";
const fs::path kInsideHidden = "/tmp/grade/hidden";
const fs::path kInsideLibrary = "/tmp/grade/library";
const fs::path kInsideOut = "/tmp/grade/out";
// The answers one test may write (a file per test, graded.cpp); the sandbox lets a test run
// write files of up to 128 MiB (a test of module 10 writes a 64 MiB file to see it refused).
constexpr uint64_t kMaxAnswersBytes = 64u << 20;
constexpr int64_t kTestFileMib = 128;

enum class Verdict {
  kPassed,
  kFailed,
  kSkipped,    // skipped on the instructor's build too (e.g. a data set not installed)
  kNotGraded,  // the instructor's build fails it, or it makes no graded check
  kCrashed,
  kTimedOut,
  kOutputLimit,
  kMissing
};

struct TestVerdict {
  Verdict verdict = Verdict::kMissing;
  std::string message;
};

// One sandboxed run of a test program with a gtest filter.
struct Job {
  const HiddenProgram* program = nullptr;
  std::string filter;
  std::vector<size_t> tests;  // indices into program->tests
  int seconds = 0;            // limit for the whole run
};

// What the program printed while running `test` (its "[ RUN ] Suite.Name" block): the learner's
// code prints there too, so it only ever goes into a failure message.
std::string test_output(const std::string& output, const std::string& test) {
  const auto start = output.find("[ RUN      ] " + test + "\n");
  if (start == std::string::npos) return {};
  const auto end = output.find("[ RUN      ] ", start + 13);
  return output.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The verdict of one test: the learner's answers against the reference's expected values. Only
// the expected record (trusted) says which checks exist; the answers are data.
TestVerdict judge(const graded::TestRecord& expected, const graded::TestRecord& answers) {
  if (answers.duplicates > 0) {
    return {Verdict::kFailed, "its answers are ambiguous (a check, or the test, recorded twice)"};
  }
  std::vector<std::string> problems;
  size_t matched = 0;
  for (const auto& check : expected.checks) {
    const auto id = check.id();
    const auto found = answers.index.find(id);
    if (found == answers.index.end()) {
      problems.push_back(check.site + " (check " + std::to_string(check.occurrence) +
                         " there): never made");
      continue;
    }
    ++matched;
    const auto problem =
        graded::mismatch(check.rule, answers.checks[found->second].value, check.value);
    if (!problem.empty()) {
      problems.push_back(check.site + " (check " + std::to_string(check.occurrence) +
                         " there): " + problem);
    }
  }
  if (answers.checks.size() > matched) {
    std::string first;
    for (const auto& check : answers.checks) {
      if (expected.index.count(check.id()) == 0) {
        first = check.site + " #" + std::to_string(check.occurrence);
        break;
      }
    }
    problems.push_back(std::to_string(answers.checks.size() - matched) +
                       " check(s) the reference did not make (first: " + first + ")");
  }
  if (problems.empty()) return {Verdict::kPassed, ""};
  std::string message = std::to_string(problems.size()) + " of " +
                        std::to_string(expected.checks.size()) + " checks failed:\n";
  for (size_t i = 0; i < problems.size() && i < 3; ++i) message += problems[i] + "\n";
  return {Verdict::kFailed, message};
}

struct Grader {
  fs::path root;
  tito::ModuleMap map;
  Options opts;
  fs::path work;
  std::unique_ptr<tito::Sandbox> sandbox;
  // Modules the submission has not written (only stubs, or on the reference): a hidden test
  // that needs one (TT_GRADE_SKIP_WITHOUT_AUTOGRAD) is skipped.
  std::set<std::string> unwritten;

  [[nodiscard]] fs::path src() const { return work / "src"; }
  [[nodiscard]] fs::path build() const { return work / "build"; }
  [[nodiscard]] fs::path hidden() const { return work / "hidden"; }
  [[nodiscard]] tito::SandboxMount src_mount() const { return {src(), kInsideSrc, false}; }
  [[nodiscard]] tito::SandboxMount build_mount(bool writable) const {
    return {build(), kInsideBuild, writable};
  }
  [[nodiscard]] tito::SandboxMount hidden_mount() const { return {hidden(), kInsideHidden, false}; }
  [[nodiscard]] fs::path library() const { return work / "library"; }
  [[nodiscard]] tito::SandboxMount library_mount() const {
    return {library(), kInsideLibrary, false};
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
    // No compiler launcher from the caller's environment either: CMake starts its compiler
    // checks (try_compile) from the CMAKE_CXX_COMPILER_LAUNCHER variable even when the cache says
    // none, and a ccache whose CCACHE_DIR lies outside the sandbox's writable folders fails
    // them all ("Could NOT find Threads": every submission "did not compile").
    std::vector<std::string> command = {"env", "-u", "CMAKE_CXX_COMPILER_LAUNCHER", "-u",
                                        "CMAKE_C_COMPILER_LAUNCHER"};
    command.insert(command.end(), argv.begin(), argv.end());
    return sandbox->run(command, {src_mount(), build_mount(true), hidden_mount(), library_mount()},
                        sandbox->inside(build_mount(true)), limits);
  }

  // Runs one job in its own sandbox, reads the answers it wrote and judges each of its tests.
  std::map<size_t, TestVerdict> run_job(const Job& job, const fs::path& out_dir) const {
    std::error_code ec;
    fs::remove_all(out_dir, ec);
    fs::create_directories(out_dir);
    // The test runs as nobody when tito is root: it may write this folder and /tmp only.
    fs::permissions(out_dir, fs::perms::all, ec);
    const tito::SandboxMount out{out_dir, kInsideOut, true};
    const auto binary = sandbox->inside(build_mount(false)) / "bin" / job.program->target;
    tito::SandboxLimits limits;
    limits.seconds = std::max(1, job.seconds);
    limits.file_mib = kTestFileMib;
    const auto run =
        sandbox->run({"env", "TT_GRADE_ANSWERS=" + (sandbox->inside(out) / "records").string(),
                      binary.string(), "--gtest_filter=" + job.filter, "--gtest_color=no"},
                     {src_mount(), build_mount(false), out}, sandbox->inside(out), limits);
    // Everything the run wrote is untrusted: capped reads, no links followed, a malformed line
    // ends the parse (the tests after it are missing).
    graded::Records answers;
    read_records(out_dir, graded::FileKind::kAnswers, kMaxAnswersBytes, job.tests.size(), answers);
    fs::remove_all(out_dir, ec);
    std::map<size_t, TestVerdict> verdicts;
    for (const auto index : job.tests) {
      const auto name = job.program->tests[index].full();
      TestVerdict v;
      const auto& expected = job.program->expected.tests;
      const auto mine = expected.find(name);
      const auto theirs = answers.tests.find(name);
      if (mine == expected.end() || !mine->second.ended || mine->second.status == "failed") {
        v = {Verdict::kNotGraded, "not graded: it fails on the instructor's own build"};
      } else if (mine->second.status == "skipped") {
        v = {Verdict::kSkipped, "skipped on the instructor's own build"};
      } else if (const auto need =
                     std::find_if(mine->second.needs.begin(), mine->second.needs.end(),
                                  [&](const std::string& id) { return unwritten.count(id) != 0; });
                 need != mine->second.needs.end()) {
        v = {Verdict::kSkipped, "needs module " + *need + ", which the submission has not written"};
      } else if (mine->second.checks.empty()) {
        v = {Verdict::kNotGraded, "not graded: the test makes no graded check"};
      } else if (theirs != answers.tests.end() && theirs->second.ended) {
        v = judge(mine->second, theirs->second);
        if (v.verdict == Verdict::kFailed) {
          // The program's own words about this test (a stub's "not implemented yet" hint).
          const auto said = test_output(run.output, name);
          if (!said.empty()) v.message += "output: " + tail(said, 1500);
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
                    ") ended without recording this test's end" +
                    (answers.problem.empty() ? "" : " (its records: " + answers.problem + ")") +
                    ": " + tail(run.output, 800);
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

  void run_tests(const HiddenProgram& p, ModuleResult& r) const {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(opts.module_timeout);
    // Pass 1: one run per suite (cheap: a few dozen sandboxes per module).
    std::vector<Job> jobs;
    std::map<std::string, std::vector<size_t>> suites;
    for (size_t i = 0; i < p.tests.size(); ++i) suites[p.tests[i].suite].push_back(i);
    for (const auto& [suite, tests] : suites) {
      jobs.push_back({&p, suite + ".*", tests, opts.test_timeout * static_cast<int>(tests.size())});
    }
    std::map<size_t, TestVerdict> verdicts;
    auto results = run_jobs(jobs, r.id, deadline);
    // Pass 2: each test that a suite run did not finish (it crashed, hung or stopped early)
    // runs on its own, so one bad test does not take its suite's other tests with it.
    std::vector<Job> reruns;
    for (size_t j = 0; j < jobs.size(); ++j) {
      for (const auto& [index, v] : results[j]) {
        const bool unreported = v.verdict == Verdict::kCrashed || v.verdict == Verdict::kTimedOut ||
                                v.verdict == Verdict::kOutputLimit ||
                                v.verdict == Verdict::kMissing;
        if (unreported && jobs[j].tests.size() > 1 && !v.message.starts_with("not run")) {
          reruns.push_back({&p, p.tests[index].full(), {index}, opts.test_timeout});
        } else {
          verdicts[index] = v;
        }
      }
    }
    results = run_jobs(reruns, r.id, deadline);
    for (size_t j = 0; j < reruns.size(); ++j) {
      for (const auto& [index, v] : results[j]) verdicts[index] = v;
    }
    std::map<Verdict, int> counts;
    for (const auto& [index, v] : verdicts) {
      ++counts[v.verdict];
      if (v.verdict == Verdict::kPassed || v.verdict == Verdict::kSkipped) continue;
      // The failed checks (got/expected) first; the stub the test reached, if any, after it.
      std::string message = v.message;
      if (const auto hint = tito::not_implemented_hint(v.message)) {
        message = message.substr(0, message.find("output: ")) + *hint;
      }
      r.failures.emplace_back(p.prefix + p.tests[index].full(), tail(message, 1500));
    }
    r.expected = static_cast<int>(verdicts.size());
    r.passed = counts[Verdict::kPassed];
    r.failed = r.expected - r.passed - counts[Verdict::kSkipped] - counts[Verdict::kNotGraded];
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
    const auto add = [&](int n, const std::string& what) {
      if (n > 0) r.message += (r.message.empty() ? "" : "; ") + std::to_string(n) + what;
    };
    add(counts[Verdict::kMissing], " test(s) ended without recording their end");
    add(counts[Verdict::kNotGraded],
        " test(s) not graded (they fail, or make no graded check, on the instructor's build)");
  }

  void grade_module(const HiddenProgram& program, ModuleResult& r) const {
    std::vector<std::string> argv = {
        "cmake",    "--build",     kInsideBuild.string(), "-j", std::to_string(opts.jobs),
        "--target", program.target};
    if (!sandbox->enabled()) argv[2] = build().string();
    const auto built = build_step(argv);
    if (built.exit_code != 0) {
      r.status = "did not compile";
      r.message = built.timed_out
                      ? "the build ran out of time (" + std::to_string(opts.build_timeout) + " s)"
                      : build_errors(built.output);
      return;
    }
    run_tests(program, r);
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
    // The learner's choice, as `tito module use-reference` recorded it.
    const auto on_reference = submission_reference_modules(submission);
    for (const auto& m : map.modules) {
      if (!m.available()) continue;
      if (std::find(on_reference.begin(), on_reference.end(), m.id) != on_reference.end() ||
          tito::module_status(src(), m).state == tito::ModuleState::kNotStarted) {
        unwritten.insert(m.id);
      }
    }
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
    const auto programs =
        hidden_programs(root, map, started, opts.jobs, std::max(opts.module_timeout, 600));
    // The answers objects, and nothing else of the hidden tests, go to the sandbox.
    std::map<std::string, std::string> objects;
    for (const auto& [id, p] : programs) {
      for (const auto& [name, bytes] : p.answer_objects)
        objects["module" + id + "/" + name] = bytes;
    }
    sync_tree(objects, hidden());
    sync_tree(library_objects(root, map), library());

    // A build folder configured for other paths (a work folder used without the sandbox
    // before) is started afresh; so is one whose cache a sandboxed build made unreadable.
    const auto src_inside = sandbox->inside(src_mount());
    const auto build_inside = sandbox->inside(build_mount(true));
    std::error_code ec;
    if (fs::exists(fs::symlink_status(build() / "CMakeCache.txt", ec))) {
      std::string cache;
      try {
        cache = tito::read_untrusted_file(build() / "CMakeCache.txt", kMaxCacheBytes);
      } catch (const tito::Error&) {
        cache.clear();
      }
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
    const auto configured = build_step(
        {"cmake", "-S", src_inside.string(), "-B", build_inside.string(), "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -g0 -DNDEBUG",
         "-DTINYTORCH_WERROR=OFF", "-DCMAKE_CXX_COMPILER_LAUNCHER=",
         "-DCMAKE_CXX_COMPILER=" +
             tito::compiler_field(tito::build_dir(root, kInstructorPreset), "CMAKE_CXX_COMPILER"),
         "-DTINYTORCH_HIDDEN_OBJECTS_DIR=" + sandbox->inside(hidden_mount()).string(),
         "-DTINYTORCH_LIBRARY_OBJECTS_DIR=" + sandbox->inside(library_mount()).string()});
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
                       "): building and running its hidden tests");
      try {
        const auto found = programs.find(r.id);
        if (found == programs.end()) {
          r.status = "grader error";
          r.message = "the instructor's tree has no hidden tests for module " + r.id;
        } else {
          r.expected = static_cast<int>(found->second.tests.size());
          grade_module(found->second, r);
        }
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
