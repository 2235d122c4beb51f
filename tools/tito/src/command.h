// Command registry. Each command lives in its own file, cmd_<name>.cpp, and registers itself:
//
//   namespace tito::name_command {
//   namespace {
//   tito::CommandRunner setup(CLI::App& app) {
//     auto opts = std::make_shared<Options>();   // options must outlive setup()
//     app.add_flag("--sanitize", opts->sanitize, "...");
//     return [opts] { return run(*opts); };       // returns the process exit status
//   }
//   const tito::RegisterCommand kRegistered{"name", "One-line description", setup};
//   }  // namespace
//   }  // namespace tito::name_command
//
// The namespace of its own keeps a command's names (Options, run, setup) apart from the other
// commands' in tito's unity build (tools/tito/CMakeLists.txt), where a dozen files are compiled
// as one.
//
// main.cpp creates one CLI11 subcommand per registered command (sorted by name).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tito {

using CommandRunner = std::function<int()>;
using CommandSetup = CommandRunner (*)(CLI::App& app);

struct CommandInfo {
  std::string name;
  std::string description;
  CommandSetup setup;
  // If true, everything after the command's first positional argument is not parsed by
  // tito but handed over verbatim (see passthrough_args()), e.g. `tito lab 03 --epochs 5`.
  bool passthrough = false;
};

// All registered commands (function-local static: safe during static initialization).
std::vector<CommandInfo>& command_registry();

// Option validator for module numbers: accepts 0-99 and normalizes "1" to "01".
CLI::Validator module_id_validator();

// The verbatim arguments of a passthrough command (a leading "--" is dropped).
std::vector<std::string>& passthrough_args();

struct RegisterCommand {
  RegisterCommand(std::string name, std::string description, CommandSetup setup,
                  bool passthrough = false) {
    command_registry().push_back({std::move(name), std::move(description), setup, passthrough});
  }
};

}  // namespace tito
