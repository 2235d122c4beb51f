// tito diagnose NN [-R REGEX] [-j N]
//
// Which module's code makes module NN's tests fail. Runs NN's visible tests on the learner's code;
// then, for each module whose code in this build is the learner's — NN itself and every module NN
// builds on that is not on the reference — links the release's compiled reference of that one
// module instead (as `tito module use-reference` does, for the length of the command), reruns the
// failed tests, and reports which of them pass with it: a test that fails with the learner's
// module M and passes with M's reference fails because of M's code. The learner's files are never
// touched; .tito/reference.json is put back as it was, whatever happens, and the build relinked.
//
// NOTE: each trial rebuilds only what the switch changes (the library is relinked with M's
// objects, M's own object files stay in the build folder for the way back) and reruns only the
// failed tests. It locates the MODULE; the failing assertion of the learner's run (got/expected,
// the index) is shown next to it. Naming the first diverging op inside the module (comparing
// every op's output and gradient between the two builds) is not done here.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "project.h"
#include "util.h"

namespace tito::diagnose_command {
namespace {

struct Options {
  std::string module;  // normalized "NN"
  std::string filter;  // only these tests (ctest -R)
  int jobs = 2;
};

const char* kPreset = "release";

// Relinks NN's test program for the reference choice `ids` (CMake configures again by itself
// when .tito/reference.json changes), quietly: its output is shown only when it fails.
bool relink(const fs::path& root, const Options& opts, const std::vector<std::string>& ids) {
  write_reference_modules(root, ids);
  const auto result = capture({"cmake", "--build", "--preset", kPreset, "-j",
                               std::to_string(opts.jobs), "--target", "test_module" + opts.module},
                              root);
  if (result.exit_code != 0) std::cout << result.output;
  return result.exit_code == 0;
}

// Builds NN's tests with the reference choice `ids` and runs the tests `filter` selects; nullopt
// when the build or the run failed (the messages are on the terminal). The learner's own build
// (`ids` as they are) is shown as `tito module test` shows it: its compile errors are theirs.
std::optional<TestRun> run_with(const fs::path& root, const ModuleMap& map, const Options& opts,
                                const std::vector<std::string>& ids, const std::string& filter,
                                bool trial) {
  if (trial ? !relink(root, opts, ids)
            : !build_module_tests(root, kPreset, map, {opts.module}, /*hidden=*/false, opts.jobs)) {
    return std::nullopt;
  }
  CtestOptions options;
  options.modules = {opts.module};
  options.jobs = opts.jobs;
  options.filter = filter;
  const auto dir = build_dir(root, kPreset);
  auto run = run_ctest(dir, options, dir / "tito-diagnose-results.xml");
  if (!run.ran) return std::nullopt;
  return run;
}

// Puts .tito/reference.json back as it was when it goes out of scope (the next build relinks).
struct RestoreChoice {
  fs::path root;
  std::vector<std::string> ids;
  ~RestoreChoice() {
    try {
      write_reference_modules(root, ids);
    } catch (const std::exception& e) {
      print_error(std::string("could not restore .tito/reference.json: ") + e.what());
    }
  }
};

int diagnose(const Options& opts) {
  const auto root = repo_root();
  const auto map = load_module_map(root);
  const auto& m = map.available_module(opts.module);
  std::error_code ec;
  if (!fs::exists(root / kReferenceManifest, ec)) {
    throw Error(
        "tito diagnose compares your code with the release's compiled reference implementations "
        "(" +
        std::string(kReferenceManifest) +
        "), and this tree ships none: it works in a learner release made by `tito release`");
  }
  const auto before = reference_modules(root);
  // The modules whose code is the learner's in this build: NN first, then what it builds on,
  // nearest first (the later a module, the more of the earlier ones its tests run through).
  std::vector<std::string> suspects;
  auto prerequisites = map.transitive_prerequisites(m.id);
  std::reverse(prerequisites.begin(), prerequisites.end());
  prerequisites.insert(prerequisites.begin(), m.id);
  for (const auto& id : prerequisites) {
    if (map.module(id).available() && !on_reference(root, id)) suspects.push_back(id);
  }

  const RestoreChoice restore{root, before};
  print_step("Running module " + m.id + "'s tests on your code");
  const auto mine = run_with(root, map, opts, before, opts.filter, /*trial=*/false);
  if (!mine) {
    std::cout << paint("the tests did not build or run", Color::kRed) << " — ./tito module test "
              << m.id << " shows why\n";
    return 1;
  }
  std::vector<const TestCase*> failed;
  for (const auto* c : failures_in_order(*mine)) {
    if (is_real_failure(*c)) failed.push_back(c);
  }
  const auto stubs = mine->failed() - static_cast<int>(failed.size());
  if (failed.empty()) {
    std::cout << "No test of module " << m.id << " fails for a wrong value"
              << (stubs > 0 ? " (" + counted(stubs, "test") +
                                  " still reach a function not written yet: ./tito module test " +
                                  m.id + ")"
                            : "")
              << "; nothing to diagnose.\n";
    return 0;
  }
  if (suspects.empty()) {
    std::cout << "Module " << m.id
              << " and every module it builds on run on the reference: no code of yours ran in "
                 "these tests.\n";
    return 1;
  }
  std::vector<std::string> names;
  for (const auto* c : failed) names.push_back(c->name);
  std::string listed;
  for (const auto& id : suspects) listed += (listed.empty() ? "" : ", ") + id;
  std::cout << counted(static_cast<long long>(failed.size()), "test")
            << " fail for a wrong value (stubs not counted). Your code in them: module"
            << (suspects.size() == 1 ? " " : "s ") << listed
            << ". Trying the reference of each, one at a time (your files are not touched):\n";

  std::map<std::string, std::string> cause;  // test -> the module whose reference makes it pass
  for (const auto& id : suspects) {
    std::vector<std::string> pending;
    for (const auto& name : names) {
      if (cause.count(name) == 0) pending.push_back(name);
    }
    if (pending.empty()) break;
    auto ids = before;
    ids.push_back(id);
    const auto trial = run_with(root, map, opts, ids, exact_test_regex(pending), /*trial=*/true);
    if (!trial) {
      std::cout << "  (the build or the run with the reference of " << id << " failed; skipped)\n";
      continue;
    }
    int fixed = 0;
    for (const auto& c : trial->cases) {
      if (c.outcome == Outcome::kPassed && cause.emplace(c.name, id).second) ++fixed;
    }
    std::cout << "  " << id << " " << map.module(id).name << ": " << fixed << " of "
              << pending.size() << " pass with its reference\n";
  }

  std::cout << '\n' << paint("Diagnosis", Color::kBold) << '\n';
  std::set<std::string> guilty;
  for (const auto* c : failed) {
    const auto it = cause.find(c->name);
    std::cout << paint("  " + c->name, it == cause.end() ? Color::kYellow : Color::kRed) << '\n';
    if (it != cause.end()) {
      guilty.insert(it->second);
      std::cout << "    fails because of your module " << it->second << " ("
                << map.module(it->second).name << "): it passes with the reference of "
                << it->second << "\n";
    } else {
      std::cout << "    fails with each of them on the reference alone: more than one module is "
                   "wrong, or the test needs what no single switch changes\n";
    }
    const auto lines = failure_lines(c->output, 8);
    for (const auto& line : lines) std::cout << "      " << line << '\n';
  }
  for (const auto& id : guilty) {
    std::cout << "Check module " << id << ": ./tito module test " << id
              << (id == m.id ? "" : "   (its own tests test that code directly)") << '\n';
  }
  print_step("Putting .tito/reference.json back and relinking your build");
  relink(root, opts, before);
  return 1;
}

CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("module", opts->module, "Module number, e.g. 04")
      ->required()
      ->transform(module_id_validator());
  app.add_option("-R,--filter", opts->filter, "Only the tests whose name matches this regex");
  app.add_option("-j,--jobs", opts->jobs, "Parallel build and test jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return [opts] { return diagnose(*opts); };
}

const RegisterCommand kRegistered{
    "diagnose",
    "Find which module's code makes module NN's tests fail: rerun them with the release's "
    "reference of each of your modules in turn",
    setup};

}  // namespace
}  // namespace tito::diagnose_command
