// What OPENBLAS_CORETYPE did to a baseline's OpenBLAS, in the words of the benchmarks' headers.
//
// Debian's OpenBLAS is built with DYNAMIC_ARCH: kernels for many CPUs, one set picked when the
// library loads — the one for the CPU it detects, or the one named by OPENBLAS_CORETYPE. `tito
// bench` clears that variable for its programs (so the baselines run as a user gets them) and hands
// its old value on in kClearedCoretypeVariable. Used by sgemm_bench (OpenBLAS itself) and mlp_bench
// (the OpenBLAS PyTorch's Linear calls, asked by bench/mlp_torch.py).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace tinytorch::bench {

inline constexpr const char* kClearedCoretypeVariable = "TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE";
// Set by tito bench when it pinned the core because OpenBLAS fell back to an older CPU's kernels
// (pin_openblas_core_when_fallen_back in tools/tito/src/cmd_bench.cpp): the fallback's name.
inline constexpr const char* kFallbackCoreVariable = "TINYTORCH_BENCH_OPENBLAS_FALLBACK_CORE";

// The variable's value in the user's environment (nullopt: unset) and whether tito cleared it.
struct OpenBlasCoretype {
  std::optional<std::string> value;
  bool cleared = false;

  // As this process's environment says (OpenBLAS has read the same environment when it loaded).
  static OpenBlasCoretype from_environment() {
    if (const char* pinned = std::getenv("OPENBLAS_CORETYPE")) return {pinned, false};
    if (const char* cleared = std::getenv(kClearedCoretypeVariable)) return {cleared, true};
    return {};
  }

  // Why OpenBLAS runs the core it runs: "chosen for this CPU (OPENBLAS_CORETYPE=Haswell was
  // cleared by tito bench)", or "named by OPENBLAS_CORETYPE=Haswell (pinned: ...)".
  [[nodiscard]] std::string reason() const {
    if (!value) return "chosen for this CPU (OPENBLAS_CORETYPE unset)";
    if (cleared)
      return "chosen for this CPU (OPENBLAS_CORETYPE=" + *value + " was cleared by tito bench)";
    if (const char* fallback = std::getenv(kFallbackCoreVariable))
      return "named by OPENBLAS_CORETYPE=" + *value + " (set by tito bench: OpenBLAS's own pick, " +
             fallback + ", is its fallback for a CPU it does not know)";
    return "named by OPENBLAS_CORETYPE=" + *value +
           " (pinned: not necessarily OpenBLAS's best kernels for this CPU)";
  }
};

}  // namespace tinytorch::bench
