// milestones/common/outputs.h — checking a milestone's output locations before it trains.
//
//   check_outputs(settings.json_path, settings.out_dir);   // throws tinytorch::Error, or returns
//
// A run that trains for minutes and then cannot write its results has wasted the minutes: every
// milestone calls this first.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "tinytorch/core/exception.h"

namespace tinytorch::milestones {

// json_path (--json, may be empty): its directory must exist. out_dir (--out, may be empty):
// created if missing, and must then be a directory.
inline void check_outputs(const std::string& json_path, const std::string& out_dir) {
  namespace fs = std::filesystem;
  if (!json_path.empty()) {
    const fs::path parent = fs::path(json_path).parent_path();
    if (!parent.empty() && !fs::is_directory(parent)) {
      throw Error("--json " + json_path + ": directory '" + parent.string() + "' does not exist");
    }
  }
  if (!out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir)) {
      throw Error("--out " + out_dir + ": cannot create the directory" +
                  (ec ? " (" + ec.message() + ")" : std::string(" (a file is in the way)")));
    }
  }
}

}  // namespace tinytorch::milestones
