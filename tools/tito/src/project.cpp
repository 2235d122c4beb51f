#include "project.h"

namespace tito {

int ensure_configured(const fs::path& root, const std::string& preset) {
  const fs::path dir = build_dir(root, preset);
  std::error_code ec;
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

}  // namespace tito
