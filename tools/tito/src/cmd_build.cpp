// tito build [--sanitize] [-j N] [--target T...]: configure (if needed) and build.
#include <iostream>
#include <memory>

#include "command.h"
#include "project.h"
#include "util.h"

namespace tito::build_command {
namespace {

struct Options {
  bool sanitize = false;
  int jobs = 0;
  std::vector<std::string> targets;
};

int run_build(const Options& opts) {
  const auto root = tito::repo_root();
  const auto preset = tito::preset_name(opts.sanitize);
  if (tito::ensure_configured(root, preset) != 0) {
    tito::print_error("configuring with preset '" + preset + "' failed (see above)");
    return 1;
  }
  if (tito::build(root, preset, opts.targets, opts.jobs) != 0) {
    tito::print_error("build failed (see above)");
    return 1;
  }
  std::cout << tito::paint("tito build: OK", tito::Color::kGreen) << " (build/" << preset << ")\n";
  return 0;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_flag("--sanitize", opts->sanitize,
               "Use the sanitized debug build (build/debug, ASan+UBSan) instead of release");
  app.add_option("-j,--jobs", opts->jobs, "Parallel build jobs (default: 2)")
      ->check(CLI::Range(1, 64));
  app.add_option("--target", opts->targets, "Build only these CMake targets");
  return [opts] { return run_build(*opts); };
}

const tito::RegisterCommand kRegistered{"build", "Configure (if needed) and build the project",
                                        setup};

}  // namespace
}  // namespace tito::build_command
