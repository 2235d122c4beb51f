#include "sandbox.h"

#include <unistd.h>

#include <set>

namespace tito {

namespace {

// prlimit(1) in front of the command: the caps apply to it and everything it starts.
// RLIMIT_NPROC counts the processes of the user in the command's user namespace: inside the
// sandbox those are the sandbox's own (or nobody's); outside it, all of the caller's, so an
// unsandboxed run gets no process cap.
std::vector<std::string> limited(const std::vector<std::string>& argv, const SandboxLimits& limits,
                                 bool sandboxed) {
  const int64_t mib = 1024 * 1024;
  std::vector<std::string> out = {"prlimit", "--as=" + std::to_string(limits.memory_mib * mib),
                                  "--fsize=" + std::to_string(limits.file_mib * mib), "--core=0",
                                  "--nofile=1024"};
  if (sandboxed) out.push_back("--nproc=" + std::to_string(limits.processes));
  out.emplace_back("--");
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace

SandboxResult Sandbox::run(const std::vector<std::string>& argv,
                           const std::vector<SandboxMount>& mounts, const fs::path& cwd,
                           const SandboxLimits& limits) const {
  // timeout(1) runs outside the sandbox, so the command cannot stop its own clock.
  std::vector<std::string> command = {"timeout", "--kill-after=2", std::to_string(limits.seconds)};
  if (enabled_) {
    const bool root = geteuid() == 0;
    command.insert(command.end(),
                   {"bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
                    "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"});
    // An ordinary user needs a user namespace to mount; root keeps its own so that the command
    // can drop to nobody below (a user namespace would map nobody to nothing).
    if (!root) command.emplace_back("--unshare-user");
    command.insert(command.end(),
                   {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--perms", "1777",
                    "--size", std::to_string(256 << 20), "--tmpfs", "/tmp"});
    for (const auto& dir : hidden_) command.insert(command.end(), {"--tmpfs", dir.string()});
    // Parent folders bwrap creates for a mount point are 0700 unless told; nobody must pass.
    std::set<fs::path> made = {"/tmp"};
    for (const auto& m : mounts) {
      std::vector<fs::path> parents;
      for (auto p = m.inside.parent_path(); made.count(p) == 0 && p != p.root_path();
           p = p.parent_path()) {
        parents.push_back(p);
      }
      for (auto p = parents.rbegin(); p != parents.rend(); ++p) {
        command.insert(command.end(), {"--perms", "0755", "--dir", p->string()});
        made.insert(*p);
      }
      command.insert(command.end(),
                     {m.writable ? "--bind" : "--ro-bind", m.host.string(), m.inside.string()});
    }
    command.insert(command.end(), {"--chdir", cwd.string(), "--setenv", "TMPDIR", "/tmp",
                                   "--setenv", "HOME", "/tmp", "--"});
    if (root && limits.drop_to_nobody_as_root) {
      command.insert(command.end(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                     "--no-new-privs"});
    }
  }
  const auto inner = limited(argv, limits, enabled_);
  command.insert(command.end(), inner.begin(), inner.end());
  const auto captured = capture(command, enabled_ ? fs::path{} : cwd, limits.output_bytes);
  SandboxResult result;
  result.exit_code = captured.exit_code;
  result.output = captured.output;
  result.output_capped = captured.output_capped;
  result.timed_out =
      !captured.output_capped && (captured.exit_code == 124 || captured.exit_code == 137);
  return result;
}

std::optional<std::string> sandbox_unavailable_reason() {
  if (!find_program("bwrap")) {
    return "bubblewrap (bwrap) is not installed: sudo apt-get install bubblewrap";
  }
  for (const auto* tool : {"timeout", "prlimit", "setpriv"}) {
    if (!find_program(tool)) return std::string(tool) + " is not installed (coreutils/util-linux)";
  }
  const Sandbox sandbox(true, {});
  SandboxLimits limits;
  limits.seconds = 20;
  const auto trial = sandbox.run({"true"}, {}, "/tmp", limits);
  if (trial.exit_code != 0) {
    return "bwrap cannot start a sandbox here (exit status " + std::to_string(trial.exit_code) +
           "): " + trial.output.substr(0, 300) +
           " (a container without user namespaces or mount rights?)";
  }
  return std::nullopt;
}

}  // namespace tito
