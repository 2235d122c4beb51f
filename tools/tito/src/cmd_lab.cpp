// tito lab NN [args...]: build target labNN (release) and run build/release/bin/labNN args...
#include <algorithm>
#include <iostream>
#include <memory>

#include "command.h"
#include "project.h"
#include "util.h"

namespace tito::lab_command {
namespace {

struct Options {
  std::string id;  // normalized "NN"
};

// Module directories modules/NN_<name>/ that contain a lab.cpp, as {"NN", dir}.
std::vector<std::pair<std::string, tito::fs::path>> find_labs(const tito::fs::path& root) {
  std::vector<std::pair<std::string, tito::fs::path>> labs;
  std::error_code ec;
  for (const auto& entry : tito::fs::directory_iterator(root / "modules", ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() < 3 || name[2] != '_') continue;
    const auto id = tito::normalize_module_id(name.substr(0, 2));
    if (id && tito::fs::exists(entry.path() / "lab.cpp", ec)) labs.emplace_back(*id, entry.path());
  }
  std::sort(labs.begin(), labs.end());
  return labs;
}

int run_lab(const Options& opts) {
  const auto root = tito::repo_root();
  const auto labs = find_labs(root);
  const auto it =
      std::find_if(labs.begin(), labs.end(), [&](const auto& lab) { return lab.first == opts.id; });
  if (it == labs.end()) {
    std::string msg =
        "no lab for module " + opts.id + " (expected modules/" + opts.id + "_<name>/lab.cpp)";
    if (labs.empty()) {
      msg += "; no labs exist yet";
    } else {
      msg += "; available labs:";
      for (const auto& lab : labs) msg += " " + lab.first;
    }
    tito::print_error(msg);
    return 1;
  }

  const std::string preset = "release";
  const std::string target = "lab" + opts.id;
  if (tito::ensure_configured(root, preset) != 0) {
    tito::print_error("configuring with preset '" + preset + "' failed (see above)");
    return 1;
  }
  if (!tito::has_target(root, preset, target)) {
    tito::print_error("the build has no target '" + target + "' — add tinytorch_add_lab(ID " +
                      opts.id + " SOURCE lab.cpp) to " +
                      tito::fs::relative(it->second, root).string() + "/CMakeLists.txt");
    return 1;
  }
  if (tito::build(root, preset, {target}) != 0) {
    tito::print_error("building " + target + " failed (see above)");
    return 1;
  }

  std::vector<std::string> argv{(tito::build_dir(root, preset) / "bin" / target).string()};
  const auto& extra = tito::passthrough_args();
  argv.insert(argv.end(), extra.begin(), extra.end());
  tito::print_step("Running " + target);
  tito::export_commit(root);
  return tito::run(argv);
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("NN", opts->id, "Module number of the lab (e.g. 01 or 1)")
      ->required()
      ->transform(tito::module_id_validator());
  app.footer(
      "Everything after NN is passed to the lab unchanged, e.g.: tito lab 03 --epochs 5\n"
      "(so `tito lab 03 --help` shows the lab's own help).");
  return [opts] { return run_lab(*opts); };
}

const tito::RegisterCommand kRegistered{"lab", "Build and run the lab of a module", setup,
                                        /*passthrough=*/true};

}  // namespace
}  // namespace tito::lab_command
