#include "tinytorch/core/generator.h"

#include <cmath>
#include <numbers>

#include "tinytorch/core/exception.h"

namespace tinytorch {

void Generator::manual_seed(uint64_t seed) {
  seed_ = seed;
  // mt19937 takes a 32-bit seed; fold the high half in so that every 64-bit seed counts.
  engine_.seed(static_cast<uint32_t>(seed ^ (seed >> 32)));
  has_cached_normal_ = false;
}

uint64_t Generator::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

float Generator::uniform_float() {
  // The top 24 bits of a word, times 2^-24: every float in [0, 1) on a 2^-24 grid, equally likely.
  return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f;
}

double Generator::uniform_double() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  // Box–Muller: two uniforms u1 ∈ (0, 1], u2 ∈ [0, 1) give two independent N(0, 1) values
  //   r = sqrt(-2 ln u1),  z0 = r cos(2π u2),  z1 = r sin(2π u2).
  const double u1 = 1.0 - uniform_double();  // never 0, so log(u1) is finite
  const double u2 = uniform_double();
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  cached_normal_ = r * std::sin(theta);
  has_cached_normal_ = true;
  return r * std::cos(theta);
}

int64_t Generator::random_int(int64_t low, int64_t high) {
  TT_CHECK_VALUE(low < high, "random_int: expected low < high but got low=", low, ", high=", high);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  // Rejection sampling: draw from the largest multiple of `range` below 2^64, so every residue
  // is equally likely (plain `x % range` would favour small values).
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % range + 1) % range;
  uint64_t x = next_u64();
  while (x > limit) x = next_u64();
  return static_cast<int64_t>(static_cast<uint64_t>(low) + x % range);
}

void Generator::set_state(const State& s) {
  engine_ = s.engine;
  seed_ = s.seed;
  has_cached_normal_ = s.has_cached_normal;
  cached_normal_ = s.cached_normal;
}

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) {
  default_generator().manual_seed(seed);
}

}  // namespace tinytorch
