// Values the kernel tests share: seeded random floats and infinity. One definition each: the test
// files of a program may be compiled as one translation unit (cmake/TinyTorchModules.cmake).
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace tinytorch::testing {

inline constexpr float kInf = std::numeric_limits<float>::infinity();

// count values uniform in [-scale, scale), the same for the same seed; one more is allocated, so
// that data() is never null (count may be 0).
inline std::vector<float> random_values(int64_t count, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> v(static_cast<size_t>(count) + 1);
  for (float& x : v) x = uniform(rng);
  return v;
}

}  // namespace tinytorch::testing
