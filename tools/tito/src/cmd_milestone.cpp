// tito milestone list
// tito milestone run <id|name> [args...]
//
// The historic milestones (milestones/<year>_<name>/): programs that train real models with the
// learner's framework. Their catalogue is the "milestones" section of modules/modules.json:
//
//   { "id": "1957", "name": "perceptron", "aliases": ["rosenblatt"],
//     "title": "...", "directory": "milestones/1957_perceptron",
//     "executable": "milestone_1957", "requires": ["03"], "status": "available" }
//
// `run` builds the program's target in the release preset (like `tito lab`), then runs
// build/release/bin/<executable> with every argument after the id passed through unchanged
// (`tito milestone run xor --epochs 500 --json r.json`), and exits with the program's status.
// A milestone whose modules are not completed yet still runs — with the code as it is — after a
// note saying which modules are missing. A module on the release's compiled reference (tito module
// use-reference NN) counts as done for unlocking, and the run says "ran with the reference for
// module NN" for each one it needs.
#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "command.h"
#include "course.h"
#include "module_map.h"
#include "project.h"
#include "util.h"

namespace tito::milestone_command {
namespace {

const char* kPreset = "release";

// `tito milestone run --help` (the arguments after `run` are not parsed by CLI11: they are the
// program's).
const char* kRunUsage =
    "Usage: tito milestone run <id|name> [program arguments...]\n"
    "  <id|name>  a milestone id, name or alias from `tito milestone list`, e.g. 1957,\n"
    "             perceptron, xor, mlp\n"
    "Builds the milestone's program (release preset), then runs it with every argument after\n"
    "the id, unchanged, e.g.\n"
    "  tito milestone run 1969 --epochs 500 --seed 7 --json results.json\n"
    "  tito milestone run mlp --help     (the program's own options)\n"
    "and exits with the program's exit status.";

struct Milestone {
  std::string id;  // "1957"
  std::string name;
  std::vector<std::string> aliases;
  std::string title;
  std::string directory;   // repository-relative
  std::string executable;  // CMake target and program name
  std::vector<std::string> requires_modules;
  std::string status;  // "available" or "planned"

  [[nodiscard]] bool available() const { return status == "available"; }
  [[nodiscard]] std::string label() const { return id + " (" + name + ")"; }
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// Module ids as ranges: {"01", "02", "03", "05"} → "01-03, 05".
std::string ranges(const std::vector<std::string>& ids) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && std::stoi(ids[j + 1]) == std::stoi(ids[j]) + 1) ++j;
    parts.push_back(j == i ? ids[i] : ids[i] + "-" + ids[j]);
    i = j + 1;
  }
  return join(parts);
}

std::vector<std::string> strings(const nlohmann::json& object, const char* key,
                                 const std::string& where) {
  std::vector<std::string> out;
  if (!object.contains(key) || object[key].is_null()) return out;
  if (!object[key].is_array()) throw tito::Error(where + ": '" + key + "' must be a list");
  for (const auto& item : object[key]) {
    if (!item.is_string()) throw tito::Error(where + ": '" + key + "' must list strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

// The "milestones" section of modules/modules.json, validated: unique ids, names and aliases;
// required modules that exist in the map.
std::vector<Milestone> load_milestones(const tito::fs::path& root, const tito::ModuleMap& map) {
  const auto path = root / "modules" / "modules.json";
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(tito::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw tito::Error(path.string() + ": not valid JSON: " + e.what());
  }
  std::vector<Milestone> out;
  if (!doc.contains("milestones")) return out;
  if (!doc["milestones"].is_array()) {
    throw tito::Error("modules/modules.json: 'milestones' must be a list");
  }
  std::set<std::string> keys;  // every id, name and alias, lower-case
  for (const auto& m : doc["milestones"]) {
    const std::string where =
        "modules/modules.json: milestone " + (m.contains("id") ? m["id"].dump() : "?");
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) {
      throw tito::Error(where + ": missing string field 'id'");
    }
    Milestone s;
    s.id = m["id"].get<std::string>();
    s.name = m.value("name", s.id);
    s.aliases = strings(m, "aliases", where);
    s.title = m.value("title", s.name);
    s.directory = m.value("directory", "milestones/" + s.id + "_" + s.name);
    s.executable = m.value("executable", "milestone_" + s.id);
    s.requires_modules = strings(m, "requires", where);
    s.status = m.value("status", "planned");
    if (s.status != "available" && s.status != "planned") {
      throw tito::Error(where + ": 'status' must be \"available\" or \"planned\"");
    }
    std::vector<std::string> names{s.id, s.name};
    names.insert(names.end(), s.aliases.begin(), s.aliases.end());
    for (const auto& n : names) {
      if (!keys.insert(lower(n)).second) {
        throw tito::Error(where + ": the id, name or alias '" + n + "' is used twice");
      }
    }
    for (const auto& r : s.requires_modules) {
      if (map.find(r) == nullptr) {
        throw tito::Error(where + ": requires unknown module '" + r + "'");
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The milestone called `key` (its id, name, an alias or its folder name; any case), or nullptr.
const Milestone* find_milestone(const std::vector<Milestone>& milestones, const std::string& key) {
  const std::string k = lower(key);
  for (const auto& s : milestones) {
    if (lower(s.id) == k || lower(s.name) == k ||
        lower(tito::fs::path(s.directory).filename().string()) == k) {
      return &s;
    }
    for (const auto& a : s.aliases) {
      if (lower(a) == k) return &s;
    }
  }
  return nullptr;
}

std::string valid_ids(const std::vector<Milestone>& milestones) {
  std::vector<std::string> ids;
  for (const auto& s : milestones) {
    std::vector<std::string> names{s.name};
    names.insert(names.end(), s.aliases.begin(), s.aliases.end());
    ids.push_back(s.id + " (" + join(names, ", ") + (s.available() ? "" : "; planned") + ")");
  }
  return ids.empty() ? "none (modules/modules.json lists no milestones)" : join(ids, ", ");
}

// Every module a milestone needs: the ones it lists and, transitively, their prerequisites, in
// module-map order.
std::vector<std::string> needed_modules(const tito::ModuleMap& map, const Milestone& s) {
  std::set<std::string> needed(s.requires_modules.begin(), s.requires_modules.end());
  for (const auto& r : s.requires_modules) {
    for (const auto& p : map.transitive_prerequisites(r)) needed.insert(p);
  }
  std::vector<std::string> out;
  for (const auto& m : map.modules) {
    if (needed.count(m.id) != 0) out.push_back(m.id);
  }
  return out;
}

struct Readiness {
  std::vector<std::string> modules;        // every module needed
  std::vector<std::string> not_released;   // needed modules still "planned"
  std::vector<std::string> not_completed;  // available, but not (or no longer) completed
  std::vector<std::string> reference;      // needed modules on the reference implementation
  [[nodiscard]] bool unlocked() const { return not_released.empty() && not_completed.empty(); }
};

Readiness readiness(const tito::fs::path& root, const tito::ModuleMap& map, const Milestone& s) {
  Readiness r;
  r.modules = needed_modules(map, s);
  for (const auto& id : r.modules) {
    const auto& m = map.module(id);
    if (!m.available()) {
      r.not_released.push_back(id);
    } else if (tito::on_reference(root, id)) {
      r.reference.push_back(id);
    } else if (!tito::is_completed(root, m)) {
      r.not_completed.push_back(id);
    }
  }
  return r;
}

// ---- list ----------------------------------------------------------------------------------

int list_milestones() {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto milestones = load_milestones(root, map);
  std::cout << tito::paint("Milestones", tito::Color::kBold)
            << "  (./tito milestone run <id or name> [--epochs N] [--seed S] [--json PATH] ...)\n";
  if (milestones.empty()) {
    std::cout << "  none yet (modules/modules.json has no milestones)\n";
    return 0;
  }
  for (const auto& s : milestones) {
    std::ostringstream head;
    head << "  " << s.id << "  " << std::left << std::setw(12) << s.name << ' ';
    std::cout << head.str() << s.title;
    if (!s.aliases.empty())
      std::cout << tito::paint("  (also: " + join(s.aliases) + ")", tito::Color::kDim);
    std::cout << '\n';

    const auto r = readiness(root, map, s);
    std::string modules = r.modules.empty() ? "no modules" : "modules " + ranges(r.modules);
    std::cout << "        " << modules << " · ";
    if (r.unlocked()) {
      std::cout << tito::paint("unlocked", tito::Color::kGreen);
      if (!r.reference.empty()) {
        std::cout << tito::paint(" (with the reference for module " + ranges(r.reference) + ")",
                                 tito::Color::kDim);
      }
    } else if (!r.not_completed.empty()) {
      std::cout << "locked"
                << tito::paint(" (complete " + ranges(r.not_completed) + ")", tito::Color::kDim);
      if (!r.not_released.empty()) {
        std::cout << tito::paint(" · not released yet: " + ranges(r.not_released),
                                 tito::Color::kDim);
      }
    } else {
      std::cout << "locked"
                << tito::paint(" (not released yet: " + ranges(r.not_released) + ")",
                               tito::Color::kDim);
    }
    std::cout << " · program ";
    if (s.available()) {
      std::cout << s.executable;
    } else {
      std::cout << tito::paint("planned", tito::Color::kDim);
    }
    std::cout << '\n';
  }
  std::cout << "\nA milestone unlocks when its modules are completed (./tito module status); a "
               "locked one still\nruns, with the framework code as it is now.\n";
  return 0;
}

// ---- run -----------------------------------------------------------------------------------

int run_milestone(const std::vector<std::string>& args) {
  const auto root = tito::repo_root();
  const auto map = tito::load_module_map(root);
  const auto milestones = load_milestones(root, map);
  if (args.empty()) {
    throw tito::Error(
        "which milestone? usage: tito milestone run <id> [program arguments...]; "
        "milestones: " +
        valid_ids(milestones));
  }
  const std::string& key = args.front();
  if (key == "-h" || key == "--help") {
    std::cout << "tito milestone run: build and run a milestone program\n\n" << kRunUsage << '\n';
    return 0;
  }
  if (key.size() > 1 && key[0] == '-') {
    throw tito::Error("expected a milestone id before the program's options, got '" + key +
                      "'; usage: tito milestone run <id> [program arguments...], e.g. tito "
                      "milestone run 1957 --epochs 10");
  }
  const Milestone* s = find_milestone(milestones, key);
  if (s == nullptr) {
    throw tito::Error("unknown milestone '" + key + "'; valid ids: " + valid_ids(milestones));
  }
  if (!s->available()) {
    throw tito::Error("milestone " + s->label() +
                      " is planned: its program has not been written yet (see tito milestone "
                      "list)");
  }
  std::error_code ec;
  if (!tito::fs::exists(root / s->directory / "CMakeLists.txt", ec)) {
    throw tito::Error("milestone " + s->label() + ": " + s->directory +
                      "/CMakeLists.txt is missing (modules/modules.json's 'directory')");
  }

  const auto r = readiness(root, map, *s);
  if (!r.not_completed.empty() || !r.not_released.empty()) {
    std::vector<std::string> parts;
    if (!r.not_completed.empty()) parts.push_back("not completed: " + ranges(r.not_completed));
    if (!r.not_released.empty()) parts.push_back("not released yet: " + ranges(r.not_released));
    std::cout << tito::paint("note: milestone " + s->id + " is locked (modules " +
                                 join(parts, "; ") +
                                 "); it runs with the framework code as it is now",
                             tito::Color::kDim)
              << '\n';
  }

  if (tito::ensure_configured(root, kPreset) != 0) {
    tito::print_error(std::string("configuring with preset '") + kPreset + "' failed (see above)");
    return 1;
  }
  if (!tito::has_target(root, kPreset, s->executable)) {
    // The milestone folders are found when CMake configures: a folder added since then needs a
    // fresh configure.
    tito::print_step("Re-configuring build/" + std::string(kPreset) + " to find " + s->directory);
    if (tito::run({"cmake", "--preset", kPreset}, {.cwd = root}) != 0 ||
        !tito::has_target(root, kPreset, s->executable)) {
      tito::print_error("the build has no target '" + s->executable + "' — " + s->directory +
                        "/CMakeLists.txt should call tinytorch_add_milestone(ID " + s->id +
                        " SOURCES ...)");
      return 1;
    }
  }
  if (tito::build(root, kPreset, {s->executable}) != 0) {
    tito::print_error("building " + s->executable + " failed (see above)");
    return 1;
  }
  std::vector<std::string> argv{(tito::build_dir(root, kPreset) / "bin" / s->executable).string()};
  argv.insert(argv.end(), args.begin() + 1, args.end());
  tito::print_step("Running milestone " + s->id + " — " + s->title);
  for (const auto& id : r.reference) {
    std::cout << "note: module " << id << " runs on the reference implementation\n";
  }
  tito::export_commit(root);
  const int status = tito::run(argv);
  for (const auto& id : r.reference) {
    std::cout << "milestone " << s->id << " ran with the reference for module " << id
              << " (not your code; ./tito module use-mine " << id << ")\n";
  }
  return status;
}

// ---- registration --------------------------------------------------------------------------

tito::CommandRunner setup(CLI::App& app) {
  app.require_subcommand(1);
  auto* list = app.add_subcommand(
      "list", "Every milestone: id, name, title, the modules it needs and whether it is unlocked");
  auto* run = app.add_subcommand(
      "run", "Build and run a milestone program: tito milestone run <id|name> [args...]");
  run->footer(kRunUsage);
  return [list, run]() -> int {
    const auto& args = tito::passthrough_args();
    if (list->parsed()) {
      if (!args.empty()) {
        throw tito::Error("tito milestone list takes no arguments (got '" + join(args, " ") + "')");
      }
      return list_milestones();
    }
    if (run->parsed()) return run_milestone(args);
    return 1;
  };
}

const tito::RegisterCommand kRegistered{
    "milestone", "List the historic milestones, or build and run one", setup, /*passthrough=*/true};

}  // namespace
}  // namespace tito::milestone_command
