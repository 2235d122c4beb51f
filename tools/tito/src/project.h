// CMake/ctest steps shared by commands (configure, build, target lookup).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util.h"

namespace tito {

// Runs `cmake --preset <preset>` unless build/<preset> is already configured — for this checkout:
// a build folder carried along when the repository was copied or moved keeps the old paths in
// its CMakeCache.txt (CMake then refuses it, and Ninja would check the OLD sources and call the
// old programs up to date), so its cache is removed and the folder configured again.
// Returns 0 on success, the cmake exit status otherwise.
int ensure_configured(const fs::path& root, const std::string& preset);

// Why the CMake cache in build folder `dir` belongs to another checkout than `root` ("configured
// for /old/path"), compared by CMAKE_HOME_DIRECTORY and CMAKE_CACHEFILE_DIR; nullopt when it
// belongs to this one or there is no cache.
std::optional<std::string> stale_cache_reason(const fs::path& dir, const fs::path& root);

// Runs `cmake --build --preset <preset> [-j jobs] [--target targets...]`.
// jobs <= 0 keeps the preset's default (2). Returns the cmake exit status.
int build(const fs::path& root, const std::string& preset,
          const std::vector<std::string>& targets = {}, int jobs = 0);

// Whether the configured build/<preset> knows a target of that name (asks Ninja).
// Returns true when it cannot tell, so that the build reports the real error.
bool has_target(const fs::path& root, const std::string& preset, const std::string& target);

// "<object> <command>" of each source in BUILD/compile_commands.json, by the source's canonical
// path; the object path is absolute.
struct CompileEntry {
  fs::path object;
  std::string command;
};
std::map<std::string, CompileEntry> compile_database(const fs::path& build);

// A variable of the C++ compiler a configured build folder uses (CMAKE_CXX_COMPILER,
// CMAKE_CXX_COMPILER_ID, CMAKE_CXX_COMPILER_VERSION), from CMakeFiles/*/CMakeCXXCompiler.cmake.
std::string compiler_field(const fs::path& build, const std::string& key);

}  // namespace tito
