// CMake/ctest steps shared by commands (configure, build, target lookup).
#pragma once

#include <string>
#include <vector>

#include "util.h"

namespace tito {

// Runs `cmake --preset <preset>` unless build/<preset> is already configured.
// Returns 0 on success, the cmake exit status otherwise.
int ensure_configured(const fs::path& root, const std::string& preset);

// Runs `cmake --build --preset <preset> [-j jobs] [--target targets...]`.
// jobs <= 0 keeps the preset's default (2). Returns the cmake exit status.
int build(const fs::path& root, const std::string& preset,
          const std::vector<std::string>& targets = {}, int jobs = 0);

// Whether the configured build/<preset> knows a target of that name (asks Ninja).
// Returns true when it cannot tell, so that the build reports the real error.
bool has_target(const fs::path& root, const std::string& preset, const std::string& target);

}  // namespace tito
