// The register-only FMA kernel that measures a core's floating-point peak (fma_peak_avx2.cpp).
#pragma once

#include <cstdint>

namespace tinytorch::bench {

// Single-precision flops one step of fma_peak_kernel does: 12 FMAs x 8 lanes x 2 flops.
constexpr double kFmaPeakFlopsPerStep = 12 * 8 * 2;

// Runs `steps` steps; the result only exists so the work cannot be optimised away.
// REQUIRES: the CPU supports AVX2 and FMA (the file is compiled with -mavx2 -mfma).
float fma_peak_kernel(int64_t steps);

}  // namespace tinytorch::bench
