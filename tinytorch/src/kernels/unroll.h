// TT_UNROLL(n): `#pragma GCC unroll n` on the loop that follows — the fast kernels' way of keeping
// a register tile's short loops straight-line code, so its accumulators stay in registers.
// Private to src/kernels.
//
// NOTE: the sanitized build (ASan + UBSan, -O1: TINYTORCH_SANITIZE defines TINYTORCH_SANITIZED)
// drops the hint. There the fully unrolled tiles, every load and store instrumented, were the
// build's slowest files — gemm_avx512.cpp alone took 87 s of Clang's time, 6.7 s without the hints
// — while the sanitizers check the same loads, stores and arithmetic in the loops. The hint never
// changes a result: unrolling reorders no floating-point operation.
#pragma once

#define TT_UNROLL_PRAGMA(text) _Pragma(#text)
#ifdef TINYTORCH_SANITIZED
#define TT_UNROLL(n)
#else
#define TT_UNROLL(n) TT_UNROLL_PRAGMA(GCC unroll n)
#endif
