// What `tito fuzz` needs from the system, shared with `tito doctor` (cmd_fuzz.cpp).
#pragma once

#include <string>

namespace tito {

// The Debian packages that provide Clang, libFuzzer and the symbolizer for stack traces.
inline constexpr const char* kFuzzPackages = "clang clang-14 libclang-rt-14-dev llvm-14";

// Empty when clang++ and its libFuzzer runtime are installed; otherwise what is missing.
// `found` receives a description of what was found ("clang++ 14.0.6, libFuzzer").
std::string missing_fuzz_toolchain(std::string* found = nullptr);

}  // namespace tito
