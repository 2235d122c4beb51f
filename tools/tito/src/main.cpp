// tito — the TinyTorch C++ course tool. Commands live in cmd_<name>.cpp (see command.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "command.h"
#include "util.h"

namespace {

bool is_option(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-';
}

// For a passthrough command (`tito lab 03 --epochs 5`), moves everything after the command's
// first positional argument out of `args` into tito::passthrough_args(), dropping one
// leading "--". Options before that positional must be flags (they take no value).
void split_passthrough(const std::vector<tito::CommandInfo>& commands,
                       std::vector<std::string>& args) {
  const auto cmd =
      std::find_if(args.begin(), args.end(), [](const auto& a) { return !is_option(a); });
  if (cmd == args.end()) return;
  const auto info =
      std::find_if(commands.begin(), commands.end(), [&](const auto& c) { return c.name == *cmd; });
  if (info == commands.end() || !info->passthrough) return;
  const auto positional =
      std::find_if(cmd + 1, args.end(), [](const auto& a) { return !is_option(a); });
  if (positional == args.end()) return;
  auto rest = positional + 1;
  if (rest != args.end() && *rest == "--") ++rest;
  tito::passthrough_args().assign(rest, args.end());
  args.erase(positional + 1, args.end());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tito — build, test and run the TinyTorch C++ course", "tito"};
  // At most one command; with none, print help (unknown words give CLI11's "not expected").
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "tito " TITO_VERSION);
  app.footer("Run `tito <command> --help` for the options of a command.");

  auto commands = tito::command_registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, tito::CommandRunner>> runners;
  for (const auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    sub->footer("");  // do not inherit the top-level footer
    runners.emplace_back(sub, command.setup(*sub));
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  split_passthrough(commands, args);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    for (const auto& [sub, runner] : runners) {
      if (sub->parsed()) return runner();
    }
  } catch (const tito::Error& e) {
    tito::print_error(e.what());
    return 1;
  } catch (const std::exception& e) {
    tito::print_error(std::string("unexpected error: ") + e.what());
    return 1;
  }
  std::cerr << app.help() << "tito: error: a command is required\n";
  return 1;
}
