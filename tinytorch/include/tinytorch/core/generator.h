// tinytorch/core/generator.h — seedable random numbers, identical on every machine.
//
// rand/randn/randint and every random layer initialisation draw from a Generator. Same seed,
// same numbers: the engine is std::mt19937 (the Mersenne Twister, whose output sequence the C++
// standard fixes bit for bit — PyTorch's CPU generator is also an MT19937), and the conversion
// from raw 32-bit words to floats, normals and bounded integers is our own code, because the
// standard library's distributions are allowed to differ between implementations.
#pragma once

#include <cstdint>
#include <random>

namespace tinytorch {

class Generator {
 public:
  explicit Generator(uint64_t seed = kDefaultSeed) { manual_seed(seed); }

  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }

  uint32_t next_u32() { return static_cast<uint32_t>(engine_()); }
  uint64_t next_u64();
  // Uniform in [0, 1) with 24 (float) or 53 (double) random mantissa bits.
  float uniform_float();
  double uniform_double();
  // Standard normal N(0, 1) by the Box–Muller transform (one draw per call; the pair's second
  // value is cached and returned next time).
  double normal();
  // Uniform integer in [low, high), unbiased (rejection sampling). Requires low < high.
  int64_t random_int(int64_t low, int64_t high);

  // The generator's whole state, so a training checkpoint can save and restore it.
  struct State {
    std::mt19937 engine;
    uint64_t seed;
    bool has_cached_normal;
    double cached_normal;
  };
  State get_state() const { return {engine_, seed_, has_cached_normal_, cached_normal_}; }
  void set_state(const State& s);

  static constexpr uint64_t kDefaultSeed = 67280421310721ULL;  // PyTorch's default_rng_seed_val

 private:
  std::mt19937 engine_;
  uint64_t seed_ = kDefaultSeed;
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
};

// The process-wide generator that factories use when none is passed.
Generator& default_generator();
// Reseeds the default generator (torch.manual_seed).
void manual_seed(uint64_t seed);

}  // namespace tinytorch
