// Fuzzes tito's reader of modules/modules.json (tools/tito/src/module_map.cpp, compiled into this
// harness): the input is the file; a map that loads is then queried as tito does (every module's
// transitive prerequisites, the owner of every file). Bad JSON or a bad schema must be tito::Error.
#include <cstdint>
#include <fstream>

#include "fuzz_support.h"
#include "module_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tinytorch::fuzz::TempDir root;
  static const bool made = std::filesystem::create_directories(root.path() / "modules");
  (void)made;
  {
    std::ofstream out(root.path() / "modules" / "modules.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const tito::ModuleMap map = tito::load_module_map(root.path());
    for (const auto& module : map.modules) {
      (void)map.transitive_prerequisites(module.id);
      for (const auto& file : module.files) (void)map.owner_of_file(file);
    }
  } catch (const tito::Error&) {
  }
  return 0;
}
