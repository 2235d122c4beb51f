// tito release --out DIR [--force] [--keep-build] [--no-build] [--no-reference] [-j N]
//
// Writes the learner repository: every file git knows (tracked, plus untracked files that are
// not ignored), except the hidden test directories of modules/modules.json and its
// release.exclude paths; every `// BEGIN SOLUTION` ... `// END SOLUTION` region replaced by a
// stub that throws tinytorch::NotImplementedError; .ci/run replaced by a learner CI script, and
// README.md by the learner's (tools/tito/release/README.md with modules.json's tables).
// Adds reference/: for every available module, the instructor's compiled objects of the
// module's files (from build/release, the learner's release preset; debug info and local symbols
// stripped) and reference/manifest.json, which `tito module use-reference NN` links instead of
// the learner's files (cmake/TinyTorchReference.cmake). Refuses malformed markers (file:line),
// checks that no solution line leaked into the output — text files line by line, binary files
// (the objects) by their printable runs, like strings(1) — and checks that the release
// configures and builds with -Werror.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "module_map.h"
#include "project.h"
#include "sha256.h"
#include "util.h"

namespace tito::release_command {
namespace {

namespace fs = tito::fs;
namespace markers = tito::markers;

struct Options {
  std::string out;
  bool force = false;
  bool keep_build = false;
  bool no_build = false;
  bool no_reference = false;
  int jobs = 2;
};

constexpr const char* kLearnerCi = R"(#!/usr/bin/env bash
# Learner CI (written by `tito release`): builds everything warning-free (-Werror) and prints
# the state of every module. It does not fail because of modules you have not finished yet;
# run `./tito module test NN` for a module's tests.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
export NO_COLOR=1 CMAKE_BUILD_PARALLEL_LEVEL=2
./tito build
./tito module status
)";

// The learner's README.md: tools/tito/release/README.md (the instructor's README.md describes
// the reference solution and prints results a release cannot), with the module and milestone
// tables filled in from modules/modules.json, so that they never disagree with it.
constexpr const char* kLearnerReadme = "tools/tito/release/README.md";

std::string learner_readme(const fs::path& root, const tito::ModuleMap& map) {
  const auto joined = [](const std::vector<std::string>& ids) {
    std::string text;
    for (const auto& id : ids) text += (text.empty() ? "" : ", ") + id;
    return text;
  };
  std::string modules = "| module | chapter | builds on |\n|---|---|---|\n";
  for (const auto& m : map.modules) {
    std::string builds_on = m.prerequisites.empty() ? "—" : joined(m.prerequisites);
    if (!m.recommended_before.empty()) {
      builds_on += "; take it before " + joined(m.recommended_before);
    }
    if (!m.available()) builds_on += " (not yet available)";
    modules += "| " + m.id + " " + m.name + " | [" + m.title + "](" + m.chapter + ") | " +
               builds_on + " |\n";
  }
  std::string milestones = "| milestone | what it trains | needs modules |\n|---|---|---|\n";
  for (const auto& ms : map.milestones) {
    milestones += "| [" + ms.id + "](" + ms.directory + "/README.md) | " + ms.title + " | " +
                  joined(ms.requires_modules) + " |\n";
  }
  std::string text = tito::read_file(root / kLearnerReadme);
  for (const auto& [key, table] : {std::pair<std::string, std::string>{"@MODULE_TABLE@", modules},
                                   {"@MILESTONE_TABLE@", milestones}}) {
    const auto at = text.find(key);
    if (at == std::string::npos) {
      throw tito::Error(std::string(kLearnerReadme) + ": the placeholder " + key + " is missing");
    }
    text.replace(at, key.size(), table.substr(0, table.size() - 1));  // without the last newline
  }
  return text;
}

bool is_cpp_source(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".h",   ".hpp", ".hh",  ".cpp", ".cc",
                                                    ".cxx", ".inl", ".ipp", ".tpp"};
  return kExtensions.count(path.extension().string()) != 0;
}

bool under(const std::string& path, const std::string& dir) {
  std::string prefix = dir;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return path == prefix || path.rfind(prefix + "/", 0) == 0;
}

bool looks_binary(const std::string& content) {
  return content.find('\0') != std::string::npos;
}

struct OutputFile {
  std::string path;  // repository-relative
  std::string text;
  fs::perms perms = fs::perms::owner_read | fs::perms::owner_write;
};

struct Plan {
  std::vector<OutputFile> files;
  std::vector<std::string> excluded;  // top-level excluded paths that existed
  int regions = 0;
  int stubbed_files = 0;
  // For the leak check (normalized lines, see markers::normalize_code_line).
  std::set<std::string> solution_lines;  // significant code lines inside regions
  std::set<std::string> public_lines;    // code lines outside regions of released C++ files
  std::set<std::string> hidden_dirs;
};

Plan make_plan(const fs::path& root, const tito::ModuleMap& map) {
  Plan plan;
  std::vector<std::string> exclude = map.release_exclude;
  for (const auto& m : map.modules) {
    for (const auto& h : m.hidden_tests) {
      exclude.push_back(h);
      plan.hidden_dirs.insert(h);
    }
  }
  std::vector<std::string> errors;
  std::set<std::string> listed_files;
  for (const auto& m : map.modules) listed_files.insert(m.files.begin(), m.files.end());

  for (const auto& rel : tito::git_files(root)) {
    std::error_code ec;
    if (!fs::is_regular_file(root / rel, ec)) continue;  // deleted, or a symlink to a folder
    const auto hit = std::find_if(exclude.begin(), exclude.end(),
                                  [&](const std::string& dir) { return under(rel, dir); });
    if (hit != exclude.end()) {
      if (std::find(plan.excluded.begin(), plan.excluded.end(), *hit) == plan.excluded.end()) {
        plan.excluded.push_back(*hit);
      }
      continue;
    }
    if (rel == kLearnerReadme) continue;  // it becomes README.md
    OutputFile out;
    out.path = rel;
    out.text = tito::read_file(root / rel);
    out.perms = fs::status(root / rel).permissions();
    if (rel == ".ci/run") {
      out.text = kLearnerCi;
    } else if (rel == "README.md") {
      out.text = learner_readme(root, map);
    } else if (is_cpp_source(rel) && !looks_binary(out.text)) {
      const auto parsed = markers::parse(out.text);
      const auto* owner = parsed.has_markers ? map.owner_of_file(rel) : nullptr;
      if (parsed.has_markers && owner == nullptr) {
        int first = 0;
        for (size_t i = 0; i < parsed.lines.size() && first == 0; ++i) {
          if (markers::classify_line(parsed.lines[i]) != markers::MarkerKind::kNone) {
            first = static_cast<int>(i) + 1;
          }
        }
        errors.push_back(rel + ":" + std::to_string(first) +
                         ": solution marker in a file that no module of modules/modules.json "
                         "lists in its \"files\"");
      }
      for (const auto& e : parsed.errors) {
        errors.push_back(rel + ":" + std::to_string(e.line) + ": " + e.message);
      }
      // Leak-check sets, from the instructor's text.
      size_t next = 0;
      for (int i = 1; i <= static_cast<int>(parsed.lines.size()); ++i) {
        while (next < parsed.regions.size() && parsed.regions[next].end_line < i) ++next;
        const bool inside = next < parsed.regions.size() && parsed.regions[next].begin_line < i &&
                            i < parsed.regions[next].end_line;
        const auto norm = markers::normalize_code_line(parsed.lines[static_cast<size_t>(i - 1)]);
        if (norm.empty()) continue;
        if (inside) {
          if (markers::is_significant(norm)) plan.solution_lines.insert(norm);
        } else {
          plan.public_lines.insert(norm);
        }
      }
      if (owner != nullptr && parsed.errors.empty() && !parsed.regions.empty()) {
        out.text = markers::stubbed_text(parsed, tito::stub_context(*owner, rel));
        plan.regions += static_cast<int>(parsed.regions.size());
        ++plan.stubbed_files;
      }
    }
    plan.files.push_back(std::move(out));
  }
  for (const auto& file : listed_files) {
    std::error_code ec;
    if (!fs::is_regular_file(root / file, ec)) {
      errors.push_back("modules/modules.json: learner file " + file + " does not exist");
    }
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e << '\n';
    throw tito::Error("release refused: " + std::to_string(errors.size()) +
                      " problem(s) with solution markers (listed above as file:line)");
  }
  return plan;
}

struct LeakReport {
  std::vector<std::string> findings;  // "file:line: text" / "file: strings: text"
  int binary_files = 0;               // binary files scanned by their printable runs
  size_t binary_runs = 0;
};

// Every significant line that appears only inside solution regions must not appear anywhere
// in the output: not as a line of a text file, nor as a printable run (strings(1)) of a binary
// file such as a reference object.
LeakReport leak_check(const fs::path& out_dir, const Plan& plan,
                      const std::vector<std::string>& allowed) {
  std::set<std::string> distinctive;
  for (const auto& line : plan.solution_lines) {
    if (plan.public_lines.count(line) == 0) distinctive.insert(line);
  }
  for (const auto& line : allowed) distinctive.erase(markers::normalize_code_line(line));
  LeakReport report;
  auto& findings = report.findings;
  for (const auto& entry : fs::recursive_directory_iterator(out_dir)) {
    if (!entry.is_regular_file()) continue;
    const auto text = tito::read_file(entry.path());
    if (looks_binary(text)) {
      ++report.binary_files;
      for (const auto run : markers::printable_runs(text, markers::kSignificantLength)) {
        ++report.binary_runs;
        if (distinctive.count(markers::normalize_code_line(run)) != 0) {
          std::error_code ec;
          findings.push_back(fs::relative(entry.path(), out_dir, ec).string() +
                             ": strings: " + std::string(run));
        }
      }
      continue;
    }
    if (text.size() > 8 * 1024 * 1024) continue;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (distinctive.count(markers::normalize_code_line(line)) != 0) {
        std::error_code ec;
        findings.push_back(fs::relative(entry.path(), out_dir, ec).string() + ":" +
                           std::to_string(number) + ": " + line);
      }
    }
  }
  for (const auto& dir : plan.hidden_dirs) {
    std::error_code ec;
    if (fs::exists(out_dir / dir, ec)) findings.push_back(dir + ": hidden tests in the release");
  }
  return report;
}

// ---- The reference implementations -----------------------------------------------------

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

// Builds the instructor's library in build/release (the learner's release preset; up to date
// already in most cases) and copies the objects of every available module's files into
// staging/reference/release/NN/, stripped of debug information and of local symbols, with
// reference/manifest.json. Returns the number of objects.
int build_references(const fs::path& root, const tito::ModuleMap& map, const fs::path& staging,
                     const Options& opts) {
  tito::print_step("Building the reference implementations (the instructor's build/release)");
  if (tito::ensure_configured(root, "release") != 0) {
    throw tito::Error("configuring the instructor's build/release failed (see above)");
  }
  if (tito::build(root, "release", {"tinytorch"}, opts.jobs) != 0) {
    throw tito::Error("the instructor's library does not build (see above)");
  }
  const auto build = tito::build_dir(root, "release");
  const auto database = compile_database(build);
  std::error_code ec;
  const auto root_text = fs::weakly_canonical(root, ec).string();
  nlohmann::json modules = nlohmann::json::object();
  int count = 0;
  for (const auto& m : map.modules) {
    if (!m.available() || m.files.empty()) continue;
    nlohmann::json objects = nlohmann::json::array();
    for (const auto& file : m.files) {
      const auto it = database.find(fs::weakly_canonical(root / file, ec).string());
      if (it == database.end()) {
        throw tito::Error((build / "compile_commands.json").string() + " has no command for " +
                          file + " (module " + m.id +
                          "): is it a source of the tinytorch library?");
      }
      const std::string object = "reference/release/" + m.id + "/" + file + ".o";
      fs::create_directories((staging / object).parent_path());
      const auto stripped =
          tito::capture({"objcopy", "--strip-debug", "--strip-unneeded", it->second.object.string(),
                         (staging / object).string()});
      if (stripped.exit_code != 0) {
        throw tito::Error("objcopy " + it->second.object.string() + " failed: " + stripped.output);
      }
      objects.push_back({{"source", file},
                         {"object", object},
                         {"sha256", tito::sha256_hex(tito::read_file(staging / object))},
                         {"command", replace_all(it->second.command, root_text + "/", "")}});
      ++count;
    }
    modules[m.id] = {{"name", m.name}, {"objects", objects}};
  }
  const nlohmann::json manifest = {
      {"version", 1},
      {"note",
       "Compiled reference implementations of the modules (tito module use-reference NN links "
       "them instead of your files; cmake/TinyTorchReference.cmake). No source text is shipped."},
      {"preset", "release"},
      {"compiler",
       {{"id", compiler_field(build, "CMAKE_CXX_COMPILER_ID")},
        {"version", compiler_field(build, "CMAKE_CXX_COMPILER_VERSION")}}},
      {"modules", modules}};
  tito::write_file_atomic(staging / tito::fs::path("reference/manifest.json"),
                          manifest.dump(2) + "\n");
  return count;
}

int verify_build(const fs::path& out_dir, const Options& opts) {
  std::vector<std::string> configure;
  std::vector<std::string> build;
  fs::path temp;
  if (opts.keep_build) {
    configure = {"cmake", "--preset", "release"};
    build = {"cmake", "--build", "--preset", "release", "-j", std::to_string(opts.jobs)};
  } else {
    std::string pattern = (fs::temp_directory_path() / "tito-release-build-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw tito::Error("cannot create a temporary folder");
    temp = pattern;
    configure = {"cmake",
                 "-S",
                 out_dir.string(),
                 "-B",
                 temp.string(),
                 "-G",
                 "Ninja",
                 "-DCMAKE_BUILD_TYPE=Release",
                 "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -g0 -DNDEBUG",
                 "-DTINYTORCH_WERROR=ON"};
    build = {"cmake", "--build", temp.string(), "-j", std::to_string(opts.jobs)};
  }
  tito::print_step(
      "Verifying that the release configures and builds (-Werror)" +
      (temp.empty() ? " in " + (out_dir / "build/release").string() : " in " + temp.string()));
  const auto c = tito::capture(configure, out_dir);
  int status = c.exit_code;
  std::string log = c.output;
  if (status == 0) {
    const int b = tito::run(build, {.cwd = out_dir});
    status = b;
  }
  if (status != 0) std::cerr << log;
  if (!temp.empty()) {
    std::error_code ec;
    fs::remove_all(temp, ec);
  }
  return status;
}

int release(const Options& opts) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  if (opts.out.empty()) throw tito::Error("--out DIR is required");
  const fs::path out = fs::weakly_canonical(fs::absolute(opts.out));
  const auto root_c = fs::weakly_canonical(root);
  if (out == root_c || out.string().rfind(root_c.string() + "/", 0) == 0) {
    throw tito::Error("--out " + out.string() +
                      " is inside the repository; choose a folder "
                      "outside it, e.g. /tmp/tinytorch-learner");
  }
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    if (!opts.force) {
      throw tito::Error(out.string() + " exists and is not empty (use --force to replace it)");
    }
  }

  const auto status = tito::capture({"git", "-C", root.string(), "status", "--porcelain"});
  if (status.exit_code == 0 && !status.output.empty()) {
    tito::print_warning(
        "the working tree has uncommitted changes or untracked files; they are "
        "released as they are (release from a clean checkout for a course)");
  }

  tito::print_step("Reading " + root.string());
  const auto plan = make_plan(root, map);

  const fs::path staging = out.string() + ".partial";
  fs::remove_all(staging, ec);
  for (const auto& f : plan.files) {
    const auto path = staging / f.path;
    fs::create_directories(path.parent_path());
    tito::write_file_atomic(path, f.text);
    fs::permissions(path, f.perms, ec);
  }
  int references = 0;
  if (!opts.no_reference) {
    try {
      references = build_references(root, map, staging, opts);
    } catch (const std::exception&) {
      fs::remove_all(staging, ec);
      throw;
    }
  }
  tito::print_step("Checking that no solution text leaked");
  const auto leak = leak_check(staging, plan, map.release_allow_lines);
  const auto& leaks = leak.findings;
  if (!leaks.empty()) {
    for (const auto& l : leaks) std::cerr << l << '\n';
    fs::remove_all(staging, ec);
    throw tito::Error("release refused: " + std::to_string(leaks.size()) +
                      " line(s) of solution code appear in the release (listed above)");
  }
  fs::remove_all(out, ec);
  fs::create_directories(out.parent_path(), ec);
  fs::rename(staging, out);

  std::cout << "Wrote " << plan.files.size() << " files to " << out.string() << ": " << plan.regions
            << " solution regions in " << plan.stubbed_files
            << " files replaced by stubs; left out:";
  for (const auto& e : plan.excluded) std::cout << ' ' << e;
  std::cout << (plan.excluded.empty() ? " nothing" : "") << "; .ci/run is the learner CI.\n";
  std::cout << "Leak check: none of " << plan.solution_lines.size()
            << " significant solution lines appears in the release (text files line by line; "
            << leak.binary_files << " binary files, " << references
            << " reference objects among them, by their " << leak.binary_runs
            << " printable runs).\n";
  if (opts.no_reference) {
    tito::print_warning("--no-reference: the release ships no reference implementations");
  } else {
    std::cout << "Reference implementations: " << references
              << " stripped objects in reference/ (./tito module use-reference NN).\n";
  }

  if (opts.no_build) {
    tito::print_warning("--no-build: the release was not test-built");
    return 0;
  }
  if (verify_build(out, opts) != 0) {
    tito::print_error("the release in " + out.string() +
                      " does NOT build (see above); do not distribute it");
    return 1;
  }
  std::cout << tito::paint("Release ready: " + out.string(), tito::Color::kGreen)
            << " (builds warning-free)\n";
  return 0;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("--out", opts->out, "Folder to write the learner repository to (outside this one)")
      ->required();
  app.add_flag("--force", opts->force, "Replace the --out folder if it exists and is not empty");
  app.add_flag("--keep-build", opts->keep_build,
               "Test-build in DIR/build/release (the learner's own build folder, kept) instead "
               "of a temporary folder");
  app.add_flag("--no-build", opts->no_build, "Skip the test build (faster; for trying markers)");
  app.add_flag("--no-reference", opts->no_reference,
               "Ship no compiled reference implementations (reference/); learners then cannot "
               "use tito module use-reference");
  app.add_option("-j,--jobs", opts->jobs, "Parallel build jobs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return [opts] { return release(*opts); };
}

const tito::RegisterCommand kRegistered{
    "release", "Instructor: write the learner repository (solutions replaced by stubs)", setup};

}  // namespace
}  // namespace tito::release_command
