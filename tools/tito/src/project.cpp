#include "project.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "module_map.h"

namespace tito {

std::optional<std::string> stale_cache_reason(const fs::path& dir, const fs::path& root) {
  std::ifstream cache(dir / "CMakeCache.txt");
  if (!cache) return std::nullopt;
  // The same folder whether a path is written with symlinks, "..", or a trailing slash.
  const auto canonical = [](const fs::path& p) {
    std::error_code ec;
    auto c = fs::weakly_canonical(p, ec);
    return ec ? p.lexically_normal() : c;
  };
  const auto same = [&](const fs::path& a, const fs::path& b) {
    return canonical(a) == canonical(b);
  };
  // The source folder first: when the checkout moved, that is the path a user recognizes.
  const std::pair<std::string_view, fs::path> expected[] = {
      {"CMAKE_HOME_DIRECTORY:INTERNAL=", root}, {"CMAKE_CACHEFILE_DIR:INTERNAL=", dir}};
  std::vector<std::string> lines;
  for (std::string line; std::getline(cache, line);) lines.push_back(line);
  for (const auto& [key, here] : expected) {
    for (const auto& line : lines) {
      if (line.rfind(key, 0) != 0) continue;
      const fs::path cached = line.substr(key.size());
      if (!same(cached, here)) return "configured for " + cached.string();
    }
  }
  return std::nullopt;
}

int ensure_configured(const fs::path& root, const std::string& preset) {
  const fs::path dir = build_dir(root, preset);
  std::error_code ec;
  if (const auto reason = stale_cache_reason(dir, root)) {
    print_warning(fs::relative(dir, root, ec).string() + " was " + *reason +
                  " (this checkout was copied or moved): removing its CMake cache and configuring "
                  "it again (everything is rebuilt)");
    fs::remove(dir / "CMakeCache.txt", ec);
    fs::remove_all(dir / "CMakeFiles", ec);
  }
  if (fs::exists(dir / "CMakeCache.txt", ec) && fs::exists(dir / "build.ninja", ec)) return 0;
  print_step("Configuring " + fs::relative(dir, root, ec).string() + " (preset " + preset + ")");
  return run({"cmake", "--preset", preset}, {.cwd = root});
}

int build(const fs::path& root, const std::string& preset, const std::vector<std::string>& targets,
          int jobs) {
  std::vector<std::string> argv{"cmake", "--build", "--preset", preset};
  if (jobs > 0) {
    argv.emplace_back("-j");
    argv.push_back(std::to_string(jobs));
  }
  if (!targets.empty()) {
    argv.emplace_back("--target");
    argv.insert(argv.end(), targets.begin(), targets.end());
  }
  print_step("Building (preset " + preset + ")");
  return run(argv, {.cwd = root});
}

bool has_target(const fs::path& root, const std::string& preset, const std::string& target) {
  const auto result =
      capture({"ninja", "-C", build_dir(root, preset).string(), "-t", "query", target});
  if (result.exit_code == 127) return true;  // no ninja in PATH: let the build decide
  return result.exit_code == 0;
}

std::map<std::string, CompileEntry> compile_database(const fs::path& build) {
  const auto path = build / "compile_commands.json";
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(tito::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw tito::Error(path.string() + ": not valid JSON: " + e.what());
  }
  std::map<std::string, CompileEntry> out;
  for (const auto& entry : doc) {
    if (!entry.contains("file") || !entry.contains("command") || !entry.contains("directory"))
      continue;
    const auto command = entry["command"].get<std::string>();
    // Ninja writes "... -o tinytorch/CMakeFiles/tinytorch.dir/src/x.cpp.o -c /abs/x.cpp".
    const auto at = command.find(" -o ");
    if (at == std::string::npos) continue;
    const auto begin = at + 4;
    const auto end = command.find(' ', begin);
    fs::path object = command.substr(begin, end == std::string::npos ? end : end - begin);
    if (object.is_relative()) object = fs::path(entry["directory"].get<std::string>()) / object;
    std::error_code ec;
    out[fs::weakly_canonical(entry["file"].get<std::string>(), ec).string()] = {object, command};
  }
  return out;
}

std::string compiler_field(const fs::path& build, const std::string& key) {
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(build / "CMakeFiles", ec)) {
    const auto file = dir.path() / "CMakeCXXCompiler.cmake";
    if (!fs::is_regular_file(file, ec)) continue;
    std::istringstream in(tito::read_file(file));
    const std::string prefix = "set(" + key + " \"";
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(prefix, 0) != 0) continue;
      const auto value = line.substr(prefix.size());
      return value.substr(0, value.find('"'));
    }
  }
  throw tito::Error("cannot read " + key + " from " + (build / "CMakeFiles").string() +
                    "/*/CMakeCXXCompiler.cmake");
}

}  // namespace tito
