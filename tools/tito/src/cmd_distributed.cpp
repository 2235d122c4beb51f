// tito distributed run [-n N] 1986 [-- args...]: build milestone_1986_ddp (release) and train the
// 1986 MLP on N MPI ranks (module 21).
//
// The program starts mpirun itself (distributed::relaunch_under_mpirun), with the flags that
// cmake/TinyTorchMPI.cmake chose for this machine (--allow-run-as-root, --oversubscribe for Open
// MPI), so this command, `tito lab 21` and the tests all launch ranks the same way. By hand:
//   mpirun --allow-run-as-root -np 2 build/release/bin/milestone_1986_ddp
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "project.h"
#include "util.h"

namespace tito::distributed_command {
namespace {

struct Options {
  int ranks = 2;
  std::string milestone;
  std::vector<std::string> args;  // handed to the program unchanged
};

int run_distributed(const Options& opts) {
  const auto root = tito::repo_root();
  const std::string preset = "release";
  const std::string target = "milestone_1986_ddp";
  if (tito::ensure_configured(root, preset) != 0) {
    tito::print_error("configuring with preset '" + preset + "' failed (see above)");
    return 1;
  }
  if (!tito::has_target(root, preset, target)) {
    tito::print_step("Re-configuring build/" + preset + " (looking for MPI again)");
    if (tito::run({"cmake", "--preset", preset}, {.cwd = root}) != 0 ||
        !tito::has_target(root, preset, target)) {
      tito::print_error(
          "the build has no " + target +
          ": it needs Open MPI (sudo apt-get install -y openmpi-bin libopenmpi-dev, or "
          "./tito doctor --install), then run this again");
      return 1;
    }
  }
  if (tito::build(root, preset, {target}) != 0) {
    tito::print_error("building " + target + " failed (see above)");
    return 1;
  }
  std::vector<std::string> argv{(tito::build_dir(root, preset) / "bin" / target).string(),
                                "--ranks", std::to_string(opts.ranks)};
  argv.insert(argv.end(), opts.args.begin(), opts.args.end());
  tito::print_step("Training milestone " + opts.milestone + " on " + std::to_string(opts.ranks) +
                   " MPI rank(s); the program starts mpirun itself");
  return tito::run(argv, {.cwd = root});
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "Train a milestone data-parallel on N MPI ranks");
  run->add_option("-n,--ranks", opts->ranks, "number of ranks (processes)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  run->add_option("milestone", opts->milestone, "the milestone to train (1986: the MLP)")
      ->required()
      ->check(CLI::IsMember({"1986"}));
  run->add_option("args", opts->args,
                  "after --: arguments for the program, e.g. -- --epochs 2 (see "
                  "build/release/bin/milestone_1986_ddp --help)");
  run->footer(
      "Example: tito distributed run -n 2 1986 -- --epochs 3\n"
      "Several machines: mpirun --hostfile hosts -np 8 build/release/bin/milestone_1986_ddp\n"
      "(modules/21_distributed/README.md explains both).");
  return [opts] { return run_distributed(*opts); };
}

const tito::RegisterCommand kRegistered{
    "distributed", "Data-parallel training on several MPI ranks (module 21)", setup};

}  // namespace
}  // namespace tito::distributed_command
