// tito diagnose NN [-R REGEX] [-j N]        a module whose tests fail
// tito diagnose MILESTONE [-j N]            a milestone (id or name) that does not train
//
// Where the learner's code first computes something else than the reference. Works in a learner
// release, which ships the compiled reference of every module (reference/manifest.json); the
// learner's files are never touched, and .tito/reference.json is put back as it was, whatever
// happens, and the build relinked.
//
// Module NN, in three steps:
//   1. NN's visible tests on the learner's code. None failing for a wrong value: nothing to do.
//   2. Op by op. tinytorch_diagnose (tools/diagnose) runs seeded programs of the ops of NN and of
//      every module NN builds on, once in the learner's build and once with the release's
//      reference of each module of theirs NN builds on (the "suspects") linked instead, and
//      compares the two traces: each program's first op whose output or gradient differs, with
//      its shapes, index, got and expected, and the files that implement it. The first difference
//      is then pinned to one module: the suspects whose files implement the op first, then the
//      others, nearest first, are put on the reference one at a time until it goes away.
//   3. Module by module (the tests' own view): each failed test is rerun with the reference of
//      one suspect at a time; a test that passes with M's reference fails because of M's code.
// A milestone gets step 2 only, with its model: one fixed batch forward, backward and one
// optimizer step, its ops labelled with the layer whose parameters they use.
//
// NOTE: both traced builds link the reference of module 05 when it is neither a suspect nor on
// the reference already — the programs need autograd to record their ops, and a learner stuck
// in module 02 may not have written it. Every switch relinks only (the library is relinked with
// the chosen objects; the learner's own objects stay in the build folder for the way back).
#include <algorithm>
#include <array>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "project.h"
#include "util.h"

namespace tito::diagnose_command {
namespace {

using json = nlohmann::json;

struct Options {
  std::string target;  // a module id ("4", "04") or a milestone id or name ("1986", "mlp")
  std::string filter;  // only these tests (ctest -R)
  int jobs = 2;
};

const char* kPreset = "release";
const char* kProgram = "tinytorch_diagnose";
constexpr int kTraceSeconds = 120;  // one traced run, the learner's code included (about 1 s)

// What to diagnose: a module (with its tests) or a milestone (its model only).
struct Subject {
  std::string id;     // "04" or "1986"
  std::string title;  // "module 04 (losses)" / "milestone 1986 (mlp)"
  bool milestone = false;
  std::vector<std::string> requires_modules;  // a milestone's "requires"
};

Subject resolve(const ModuleMap& map, const std::string& text) {
  std::string lower;
  for (const char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& m : map.milestones) {
    if (m.id == text || m.name == lower) {
      return {m.id, "milestone " + m.id + " (" + m.name + ")", true, m.requires_modules};
    }
  }
  const auto id = normalize_module_id(text);
  if (!id) {
    std::string milestones;
    for (const auto& m : map.milestones) milestones += (milestones.empty() ? "" : ", ") + m.id;
    throw Error("'" + text + "' is neither a module (" + map.available_ids() +
                ") nor a milestone (" + milestones + ")");
  }
  const auto& m = map.available_module(*id);
  return {m.id, "module " + m.id + " (" + m.name + ")", false, {}};
}

// Ctrl-C, a closed terminal or a closed pipe (`tito diagnose 04 | head`) must not leave the
// learner's build on a trial's choice: while a diagnosis runs, those signals only set a flag
// (the build tools, in the same process group, stop on their own), each step checks it, and the
// exception it throws unwinds through RestoreChoice.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) {
  g_interrupted = 1;
}

class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &action, &before_[i]);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &pipe_before_);
  }
  ~InterruptGuard() {
    for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &before_[i], nullptr);
    sigaction(SIGPIPE, &pipe_before_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> before_{};
  struct sigaction pipe_before_ {};
};

void check_interrupted() {
  if (g_interrupted != 0) {
    throw Error("interrupted; .tito/reference.json is put back as it was (the next build relinks)");
  }
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

// Rewrites .tito/reference.json to `ids` and builds `targets` (CMake configures again by itself
// when the file changes), quietly: the output is shown only when it fails.
bool relink(const fs::path& root, const Options& opts, const std::vector<std::string>& ids,
            const std::vector<std::string>& targets) {
  check_interrupted();
  write_reference_modules(root, ids);
  std::vector<std::string> argv = {
      "cmake", "--build", "--preset", kPreset, "-j", std::to_string(opts.jobs), "--target"};
  argv.insert(argv.end(), targets.begin(), targets.end());
  const auto result = capture(argv, root);
  check_interrupted();
  if (result.exit_code != 0) std::cout << result.output;
  return result.exit_code == 0;
}

// Builds NN's tests with the reference choice `ids` and runs the tests `filter` selects; nullopt
// when the build or the run failed (the messages are on the terminal). The learner's own build
// (`ids` as they are) is shown as `tito module test` shows it: its compile errors are theirs.
std::optional<TestRun> run_tests(const fs::path& root, const ModuleMap& map, const Options& opts,
                                 const std::string& module, const std::vector<std::string>& ids,
                                 const std::string& filter, bool trial) {
  if (trial ? !relink(root, opts, ids, {"test_module" + module})
            : !build_module_tests(root, kPreset, map, {module}, /*hidden=*/false, opts.jobs)) {
    return std::nullopt;
  }
  CtestOptions options;
  options.modules = {module};
  options.jobs = opts.jobs;
  options.filter = filter;
  const auto dir = build_dir(root, kPreset);
  auto run = run_ctest(dir, options, dir / "tito-diagnose-results.xml");
  check_interrupted();
  if (!run.ran) return std::nullopt;
  return run;
}

std::vector<std::string> with(std::vector<std::string> ids, const std::vector<std::string>& more) {
  for (const auto& id : more) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

std::string listed(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// ── op by op ──────────────────────────────────────────────────────────────────────────────────

// The traced builds and runs of one diagnosis.
class Tracer {
 public:
  Tracer(const fs::path& root, const Options& opts, std::vector<std::string> trace_args)
      : root_(root), opts_(opts), args_(std::move(trace_args)) {
    fs::create_directories(dir());
  }
  fs::path dir() const { return build_dir(root_, kPreset) / "tito-diagnose"; }

  // Builds the program with the reference of `ids` and writes its trace to dir()/name; false
  // when the build failed. A run that crashes or hits its time limit leaves a trace cut off
  // where it stopped, which the comparison reports.
  bool trace(const std::vector<std::string>& ids, const std::string& name) {
    if (!relink(root_, opts_, ids, {kProgram})) return false;
    const auto out = dir() / name;
    fs::remove(out);
    std::vector<std::string> argv = {"timeout",
                                     "-k",
                                     "5",
                                     std::to_string(kTraceSeconds),
                                     (build_dir(root_, kPreset) / "bin" / kProgram).string(),
                                     "trace"};
    argv.insert(argv.end(), args_.begin(), args_.end());
    argv.insert(argv.end(), {"--out", out.string()});
    const auto run = capture(argv, root_, 1 << 20);
    check_interrupted();
    if (run.exit_code == 124 || run.exit_code == 137) {
      std::cout << "  (the run was stopped after " << kTraceSeconds << " s)\n";
    } else if (run.exit_code >= 128) {
      std::cout << "  (the run crashed: signal " << run.exit_code - 128 << ")\n";
    } else if (run.exit_code != 0) {
      std::cout << run.output;
    }
    return fs::exists(out);
  }

  // Compares dir()/mine with dir()/reference; the JSON result, and the text when `print`.
  std::optional<json> compare(const std::string& mine, bool print) {
    const auto result = dir() / (mine + ".json");
    const auto run = capture(
        {(build_dir(root_, kPreset) / "bin" / kProgram).string(), "compare",
         (dir() / mine).string(), (dir() / "reference.trace").string(), "--json", result.string()},
        root_, 1 << 20);
    if (run.exit_code != 0 && run.exit_code != 1) {
      std::cout << run.output;
      return std::nullopt;
    }
    if (print) std::cout << run.output;
    return json::parse(read_file(result));
  }

 private:
  fs::path root_;
  const Options& opts_;
  std::vector<std::string> args_;
};

// Whether the divergence `first` (of the learner's build) is gone in `trial`: its program matches,
// or differs only later.
bool fixed_in(const json& first, const json& trial) {
  for (const auto& d : trial.at("divergences")) {
    if (d.at("program") != first.at("program")) continue;
    return d.at("kind") != "stopped" &&
           d.at("position").get<size_t>() > first.at("position").get<size_t>();
  }
  return true;
}

struct OpDiagnosis {
  bool compared = false;      // both traces were made and compared
  std::optional<json> first;  // the first divergence, when there is one
  std::string module;         // the suspect whose reference removes it ("" when none)
};

// Step 2: trace with the learner's code and with the suspects' reference; compare; pin the
// first difference to one suspect.
OpDiagnosis diagnose_ops(const fs::path& root, const ModuleMap& map, const Options& opts,
                         const std::vector<std::string>& before,
                         const std::vector<std::string>& suspects,
                         std::vector<std::string> trace_args) {
  OpDiagnosis out;
  // Autograd records the ops: module 05 on the reference in both builds when it is not one of
  // the learner's modules under test (see the NOTE at the top).
  std::vector<std::string> base = before;
  const auto* autograd = map.find("05");
  if (autograd != nullptr && autograd->available() &&
      std::find(suspects.begin(), suspects.end(), "05") == suspects.end()) {
    base = with(base, {"05"});
  }
  Tracer tracer(root, opts, std::move(trace_args));
  std::cout << "  your build: module" << (suspects.size() == 1 ? " " : "s ") << listed(suspects)
            << " yours" << (base.size() > before.size() ? "; 05 from the reference (autograd)" : "")
            << '\n';
  if (!tracer.trace(base, "mine.trace")) {
    std::cout << paint("  your build of the diagnosis program failed", Color::kRed)
              << " (the compiler's messages are above)\n";
    return out;
  }
  std::cout << "  the reference build: the release's reference of " << listed(suspects) << '\n';
  if (!tracer.trace(with(base, suspects), "reference.trace")) {
    std::cout << paint("  the reference build of the diagnosis program failed", Color::kRed)
              << '\n';
    return out;
  }
  std::cout << '\n';
  const auto result = tracer.compare("mine.trace", /*print=*/true);
  if (!result) return out;
  out.compared = true;
  if (result->at("divergences").empty()) return out;
  out.first = result->at("divergences").at(0);

  // The suspects in the order to try: those owning the files of the first difference, then the
  // rest as given (nearest first).
  std::vector<std::string> order;
  for (const auto& file : out.first->at("files")) {
    const auto* owner = map.owner_of_file(file.get<std::string>());
    if (owner != nullptr &&
        std::find(suspects.begin(), suspects.end(), owner->id) != suspects.end()) {
      order = with(order, {owner->id});
    }
  }
  order = with(order, suspects);
  if (suspects.size() == 1) {
    out.module = suspects[0];
    return out;
  }
  std::cout << "\nWhich module the first difference comes from: the reference of one module at a "
               "time\n";
  for (const auto& id : order) {
    if (!tracer.trace(with(base, {id}), "trial.trace")) {
      std::cout << "  " << id << ": the build failed; skipped\n";
      continue;
    }
    const auto trial = tracer.compare("trial.trace", /*print=*/false);
    if (!trial) continue;
    const bool fixed = fixed_in(*out.first, *trial);
    std::cout << "  " << id << " " << map.module(id).name << ": "
              << (fixed ? "the difference goes away with its reference" : "still differs") << '\n';
    if (fixed) {
      out.module = id;
      break;
    }
  }
  return out;
}

// "aten::softmax (forward) in program 'softmax'"
std::string op_summary(const json& d) {
  const std::string kind = d.at("kind");
  if (kind == "stopped")
    return "your run stopped in program '" + d.at("program").get<std::string>() + "'";
  if (kind == "error")
    return "your code raised an error in program '" + d.at("program").get<std::string>() + "'";
  const std::string op = d.at("op").get<std::string>().empty() ? d.at("node").get<std::string>()
                                                               : d.at("op").get<std::string>();
  std::string s = op + " (" + d.at("direction").get<std::string>() + ", " +
                  d.at("side").get<std::string>() + ")";
  if (!d.at("layer").get<std::string>().empty()) s += " in " + d.at("layer").get<std::string>();
  return s + ", program '" + d.at("program").get<std::string>() + "'";
}

// The files of `module` among the divergence's files, or all of the module's.
std::string files_of(const ModuleMap& map, const std::string& module, const json& d) {
  std::vector<std::string> files;
  for (const auto& f : d.at("files")) {
    const auto* owner = map.owner_of_file(f.get<std::string>());
    if (owner != nullptr && owner->id == module) files.push_back(f);
  }
  if (files.empty()) files = map.module(module).files;
  return listed(files);
}

void print_op_diagnosis(const ModuleMap& map, const OpDiagnosis& ops) {
  if (ops.compared && !ops.first) {
    std::cout << "  Every op of the programs matches the reference: what fails is code they do "
                 "not run (the tests below say which)\n";
  }
  if (!ops.first) return;
  std::cout << "  First difference: " << op_summary(*ops.first) << '\n';
  if (ops.module.empty()) {
    std::cout << "    no single module's reference removes it: more than one module differs, or "
                 "the difference is in code no module switch changes\n";
    return;
  }
  std::cout << paint("    your module " + ops.module + " (" + map.module(ops.module).name + ")",
                     Color::kRed)
            << ": " << files_of(map, ops.module, *ops.first) << '\n';
}

// The suspects: the modules in `ids` (nearest first) whose code in this build is the learner's.
std::vector<std::string> learners_modules(const fs::path& root, const ModuleMap& map,
                                          const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (map.module(id).available() && !on_reference(root, id)) out.push_back(id);
  }
  return out;
}

// NN's programs are those of NN and of every module it builds on.
std::vector<std::string> module_trace_args(const ModuleMap& map, const std::string& id) {
  auto ids = map.transitive_prerequisites(id);
  ids.push_back(id);
  std::string list;
  for (const auto& m : ids) list += (list.empty() ? "" : ",") + m;
  return {"--modules", list};
}

int diagnose_milestone(const fs::path& root, const ModuleMap& map, const Options& opts,
                       const Subject& s, const std::vector<std::string>& before) {
  std::vector<std::string> chain;
  for (const auto& id : s.requires_modules) {
    chain = with(chain, {id});
    chain = with(chain, map.transitive_prerequisites(id));
  }
  std::sort(chain.rbegin(), chain.rend());  // nearest (latest) first
  const auto suspects = learners_modules(root, map, chain);
  if (suspects.empty()) {
    std::cout << "Every module " << s.title
              << " needs runs on the reference: no code of yours runs in it.\n";
    return 0;
  }
  const RestoreChoice restore{root, before};
  print_step("Comparing " + s.title +
             " on your code and on the reference, op by op (one fixed "
             "batch forward, backward and one optimizer step, on each kernel tier)");
  const auto ops = diagnose_ops(root, map, opts, before, suspects, {"--milestone", s.id});
  if (ops.compared && !ops.first) {
    std::cout << "Your code computes " << s.title
              << "'s step as the reference does: if it does "
                 "not train, look at what the step leaves out (the data, the schedule, the "
                 "number of epochs) — ./tito milestone run "
              << s.id << " --help\n";
  } else if (ops.first) {
    std::cout << '\n' << paint("Diagnosis", Color::kBold) << '\n';
    print_op_diagnosis(map, ops);
    if (!ops.module.empty()) {
      std::cout << "Check module " << ops.module << ": ./tito module test " << ops.module << '\n';
    }
  }
  print_step("Putting .tito/reference.json back and relinking your build");
  relink(root, opts, before, {kProgram});
  return ops.compared && !ops.first ? 0 : 1;
}

int diagnose(const Options& opts) {
  const auto root = repo_root();
  const auto map = load_module_map(root);
  const Subject subject = resolve(map, opts.target);
  std::error_code ec;
  if (!fs::exists(root / kReferenceManifest, ec)) {
    throw Error(
        "tito diagnose compares your code with the release's compiled reference implementations "
        "(" +
        std::string(kReferenceManifest) +
        "), and this tree ships none: it works in a learner release made by `tito release`");
  }
  const auto before = reference_modules(root);
  const InterruptGuard interrupts;
  if (subject.milestone) {
    if (!opts.filter.empty()) throw Error("-R selects tests: a milestone has none");
    return diagnose_milestone(root, map, opts, subject, before);
  }
  const auto& m = map.available_module(subject.id);
  // The modules whose code is the learner's in this build: NN first, then what it builds on,
  // nearest first (the later a module, the more of the earlier ones its tests run through).
  auto prerequisites = map.transitive_prerequisites(m.id);
  std::reverse(prerequisites.begin(), prerequisites.end());
  prerequisites.insert(prerequisites.begin(), m.id);
  const auto suspects = learners_modules(root, map, prerequisites);

  const RestoreChoice restore{root, before};
  print_step("Running module " + m.id + "'s tests on your code");
  const auto mine = run_tests(root, map, opts, m.id, before, opts.filter, /*trial=*/false);
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
  std::cout << counted(static_cast<long long>(failed.size()), "test")
            << " fail for a wrong value (stubs not counted). Your code in them: module"
            << (suspects.size() == 1 ? " " : "s ") << listed(suspects) << ".\n";

  print_step("Comparing your code with the reference op by op: the programs of module " + m.id +
             " and of the modules it builds on");
  const auto ops = diagnose_ops(root, map, opts, before, suspects, module_trace_args(map, m.id));

  print_step(
      "Rerunning the failed tests with the reference of each of your modules, one at a "
      "time (your files are not touched)");
  std::map<std::string, std::string> cause;  // test -> the module whose reference makes it pass
  for (const auto& id : suspects) {
    std::vector<std::string> pending;
    for (const auto& name : names) {
      if (cause.count(name) == 0) pending.push_back(name);
    }
    if (pending.empty()) break;
    const auto trial = run_tests(root, map, opts, m.id, with(before, {id}),
                                 exact_test_regex(pending), /*trial=*/true);
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
  print_op_diagnosis(map, ops);
  std::set<std::string> guilty;
  if (!ops.module.empty()) guilty.insert(ops.module);
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
  relink(root, opts, before, {"test_module" + m.id, kProgram});
  return 1;
}

CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("target", opts->target,
                 "A module number (e.g. 04) or a milestone id or name (e.g. 1986, mlp)")
      ->required();
  app.add_option("-R,--filter", opts->filter,
                 "Modules only: only the tests whose name matches this regex");
  app.add_option("-j,--jobs", opts->jobs, "Parallel build and test jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return [opts] { return diagnose(*opts); };
}

const RegisterCommand kRegistered{
    "diagnose",
    "Find where your code first differs from the reference (release only): the op, its shapes, "
    "index, got/expected, and the module; for module NN or a milestone (layer by layer)",
    setup};

}  // namespace
}  // namespace tito::diagnose_command
