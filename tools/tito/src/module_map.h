// The module map, modules/modules.json: which files a learner edits in each module, its tests,
// prerequisites and points, and the milestones. Schema: docs/INSTRUCTOR_GUIDE.md.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "markers.h"
#include "util.h"

namespace tito {

struct ModuleInfo {
  std::string id;  // "01"
  std::string name;
  std::string title;
  std::string chapter;
  std::vector<std::string> files;         // the learner's files (repository-relative)
  std::vector<std::string> tests;         // visible test directories
  std::vector<std::string> hidden_tests;  // grader-only test directories (never released)
  std::optional<std::string> lab;
  std::vector<std::string> prerequisites;
  // Modules this one should come before, though they do not build on it: module 18's fast tier
  // is what the milestones from 09 on need to reach their targets ("recommended_before": ["09"]).
  std::vector<std::string> recommended_before;
  std::vector<std::string> unlocks;
  double points = 0;
  std::string status;  // "available" or "planned"

  [[nodiscard]] bool available() const { return status == "available"; }
  [[nodiscard]] std::string dir_name() const { return id + "_" + name; }  // "01_tensor"
};

struct MilestoneInfo {
  std::string id;  // "1957"
  std::string name;
  std::string title;
  std::vector<std::string> requires_modules;  // "requires"
  std::string status;
  std::string directory;  // repository-relative, "milestones/1957_perceptron"
};

struct ModuleMap {
  std::vector<ModuleInfo> modules;
  std::vector<MilestoneInfo> milestones;
  // "release" section (optional): paths never shipped to learners, besides hidden_tests.
  std::vector<std::string> release_exclude;
  // release.allow_lines: solution lines the instructor deliberately shows outside the regions
  // (e.g. as an example in a chapter); the leak check ignores them (whitespace-insensitive).
  std::vector<std::string> release_allow_lines;

  // The module with this id; throws Error naming the available modules when there is none.
  [[nodiscard]] const ModuleInfo& module(const std::string& id) const;
  // The module with this id when a learner can work on it; throws Error when it is unknown or
  // only planned.
  [[nodiscard]] const ModuleInfo& available_module(const std::string& id) const;
  // The available modules' ids, in map order ("01, 02, ..."), for messages.
  [[nodiscard]] std::string available_ids() const;
  [[nodiscard]] const ModuleInfo* find(const std::string& id) const;
  // The module whose `files` list this repository-relative path, or nullptr.
  [[nodiscard]] const ModuleInfo* owner_of_file(const std::string& path) const;
  // All prerequisites of `id`, transitively, in map order (without `id`).
  [[nodiscard]] std::vector<std::string> transitive_prerequisites(const std::string& id) const;
  // The prerequisites of `id`, transitively and in map order, that are not in `done`: every
  // module to complete before `id`, in the order to do them.
  [[nodiscard]] std::vector<std::string> missing_prerequisites(
      const std::string& id, const std::set<std::string>& done) const;
  // The order in which to take the modules: map order, except that a module with
  // `recommended_before` comes just before the first module it names (18 before 09).
  [[nodiscard]] std::vector<const ModuleInfo*> course_order() const;
  // The ids of the milestones whose "requires" lists `id` ("1998", "2017" for 18).
  [[nodiscard]] std::vector<std::string> milestones_requiring(const std::string& id) const;
  // Why to take `module` early, for `tito module status` and `start`: "take it before 09:
  // milestones 1998, 2017 need it"; "" when it has no recommended_before.
  [[nodiscard]] std::string recommendation(const ModuleInfo& module) const;
};

// Reads and validates <root>/modules/modules.json; throws Error with the problem.
ModuleMap load_module_map(const fs::path& root);

markers::StubContext stub_context(const ModuleInfo& module, const std::string& file);

// Reads a whole file; throws Error when it cannot.
std::string read_file(const fs::path& path);
// Writes a file atomically (a temporary file in the same folder, then rename).
void write_file_atomic(const fs::path& path, const std::string& content);

// SHA-256 over the module's learner files (path, size and bytes of each, in map order); a
// missing file counts as "<missing>".
std::string module_files_hash(const fs::path& root, const ModuleInfo& module);

// "2024-05-01T12:34:56Z" / "20240501-123456" (UTC).
std::string utc_timestamp();
std::string compact_timestamp();

}  // namespace tito
