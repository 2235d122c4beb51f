// The register-only FMA kernels that measure a core's floating-point peak, one per instruction
// set: fma_peak_avx2.cpp (8-float ymm registers) and fma_peak_avx512.cpp (16-float zmm registers);
// and the int8 GEMM's instruction sequences, int8_peak_avx2 (fma_peak_avx2.cpp) and
// int8_peak_avx512_vnni (int8_peak_vnni.cpp).
// Each file is compiled for its own instructions (bench/CMakeLists.txt), so nobody may call a
// kernel before checking that the CPU has them: use fma_peak_for_this_cpu() (machine_limits.h),
// which picks the widest kernel this CPU runs.
//
// This header is included by those two files, so it declares plain functions and constants only:
// an inline function or template defined here would be compiled with AVX-512 in one of them, and
// the linker may keep that copy for every caller (see fma_peak_loop.h).
#pragma once

#include <cstdint>

namespace tinytorch::bench {

// Independent accumulators of each kernel, each updated by one FMA per step (fma_peak_loop.h).
constexpr int kFmaPeakAccumulators = 12;

// Single-precision flops one step of each kernel does: one FMA per accumulator x lanes x 2 flops
// (a multiply and an add).
constexpr double kFmaPeakAvx2FlopsPerStep = kFmaPeakAccumulators * 8 * 2;
constexpr double kFmaPeakAvx512FlopsPerStep = kFmaPeakAccumulators * 16 * 2;

// The int8 kernel (fma_peak_avx2.cpp) does per step and accumulator what the int8 GEMM's AVX2
// micro-kernel does per 32 multiply-adds: vpmaddubsw (32 u8·s8 products, summed in pairs to
// int16), vpmaddwd by ones (pairs of those to int32), vpaddd into the accumulator. Operations
// are counted as quant_bench counts them: a multiply-add is 2.
// 10 accumulators, not 12: with the two products, the ones and the weights, 12 would not fit in
// AVX2's 16 registers.
constexpr int kInt8PeakAccumulators = 10;
constexpr double kInt8PeakAvx2OpsPerStep = kInt8PeakAccumulators * 32 * 2;
// The VNNI kernel (int8_peak_vnni.cpp): one vpdpbusd per step and accumulator, 64 multiply-adds.
constexpr int kInt8PeakVnniAccumulators = 12;
constexpr double kInt8PeakVnniOpsPerStep = kInt8PeakVnniAccumulators * 64 * 2;

// Run `steps` steps; the result only exists so the work cannot be optimised away.
// REQUIRES: the CPU supports AVX2 and FMA.
float fma_peak_avx2(int64_t steps);
// REQUIRES: the CPU supports AVX-512F (the 512-bit FMA is one of its instructions).
float fma_peak_avx512(int64_t steps);
// REQUIRES: the CPU supports AVX2.
float int8_peak_avx2(int64_t steps);
// REQUIRES: the CPU supports AVX-512F, AVX-512BW and AVX-512 VNNI.
float int8_peak_avx512_vnni(int64_t steps);

}  // namespace tinytorch::bench
