// The sandbox `tito grade` runs a submission's build and tests in: Debian's bubblewrap (bwrap).
//
//   host                                   inside the sandbox
//   /  (everything)                  -->   /  read-only
//   the instructor's checkout        -->   an empty tmpfs (hidden)
//   /tmp                             -->   a private tmpfs (size-capped, gone with the sandbox)
//   mounts[i].host                   -->   mounts[i].inside (read-only unless writable)
//   network, PIDs, IPC, hostname     -->   new, empty namespaces; /proc shows the sandbox only
//
// Every run gets its own PID namespace and bwrap --die-with-parent: when the command ends, is
// killed at its time limit, or prints more than its output cap, the namespace's init dies and the
// kernel kills every process left in it (a detached daemon included) before run() returns.
// Limits inside (prlimit): address space, processes, file size, core dumps, open files. As root
// the command runs as nobody (65534) — the kernel does not apply RLIMIT_NPROC to root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util.h"

namespace tito {

struct SandboxMount {
  fs::path host;
  fs::path inside;
  bool writable = false;
};

struct SandboxLimits {
  int seconds = 60;                    // wall clock, enforced by timeout(1) outside the sandbox
  int64_t memory_mib = 4096;           // RLIMIT_AS of each process
  int processes = 256;                 // RLIMIT_NPROC (threads count too)
  int64_t file_mib = 64;               // RLIMIT_FSIZE: the largest file a process may write
  size_t output_bytes = 1u << 20;      // stdout+stderr read through the pipe; more kills the run
  bool drop_to_nobody_as_root = true;  // false for the build: it writes the build folder
};

struct SandboxResult {
  int exit_code = -1;
  std::string output;          // at most output_bytes
  bool timed_out = false;      // killed at limits.seconds
  bool output_capped = false;  // killed for printing more than limits.output_bytes
};

class Sandbox {
 public:
  // enabled = false: --unsafe-no-sandbox; commands then run directly under the same time,
  // output and prlimit caps, with the host's paths (mounts' inside = host expected).
  Sandbox(bool enabled, std::vector<fs::path> hidden)
      : enabled_(enabled), hidden_(std::move(hidden)) {}

  [[nodiscard]] bool enabled() const { return enabled_; }
  // Where `mount` is seen by the command: mount.inside when sandboxed, mount.host otherwise.
  [[nodiscard]] fs::path inside(const SandboxMount& mount) const {
    return enabled_ ? mount.inside : mount.host;
  }
  SandboxResult run(const std::vector<std::string>& argv, const std::vector<SandboxMount>& mounts,
                    const fs::path& cwd, const SandboxLimits& limits) const;

 private:
  bool enabled_;
  std::vector<fs::path> hidden_;  // host folders replaced by an empty tmpfs
};

// Why the sandbox cannot be used here (bwrap missing, or it fails to start a trial sandbox);
// std::nullopt when it works. For `tito doctor` and `tito grade`.
std::optional<std::string> sandbox_unavailable_reason();

}  // namespace tito
