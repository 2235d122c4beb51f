#include "command.h"

#include "util.h"

namespace tito {

std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

std::vector<std::string>& passthrough_args() {
  static std::vector<std::string> args;
  return args;
}

CLI::Validator module_id_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const auto id = normalize_module_id(value);
        if (!id) return "expected a module number 0-99 like 01 or 3, got '" + value + "'";
        value = *id;
        return {};
      },
      "NN", "module id");
}

}  // namespace tito
