# Compiler warnings, sanitizers and OpenMP for TinyTorch.
#
# Provides:
#   tinytorch_warnings  INTERFACE target: -Wall -Wextra -Wpedantic [-Werror]. Link it from
#                       every project target (PRIVATE).
#   tinytorch_command_line  INTERFACE target for programs whose own code is command-line glue
#                       around the library (the milestones, module 20's tools, the course
#                       tooling and its tests): -O0 in a sanitized build, -O1 in Release (see
#                       below).
#   tinytorch_openmp    INTERFACE target: OpenMP::OpenMP_CXX + TINYTORCH_HAVE_OPENMP=1 when
#                       OpenMP is available and TINYTORCH_OPENMP is ON, empty otherwise.
#   TINYTORCH_HAVE_OPENMP (cache, ON/OFF): whether OpenMP is used.
#   TINYTORCH_HAVE_LLD  (cache): whether the compiler links with lld (-fuse-ld=lld); checked, and
#                       used, only where TINYTORCH_LLD is ON.
include_guard(GLOBAL)

# ---- Warnings -------------------------------------------------------------------
add_library(tinytorch_warnings INTERFACE)
# Clang reports an `omp simd` loop it could not vectorise as a warning (-Wpass-failed): the pragma
# is a request (TT_PRAGMA_OMP_SIMD, core/simd.h), GCC drops an unmet one silently, and the loop is
# correct either way, so that is not an error here.
target_compile_options(tinytorch_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
  $<$<CXX_COMPILER_ID:Clang,AppleClang>:-Wno-pass-failed>
  $<$<AND:$<BOOL:${TINYTORCH_WERROR}>,$<CXX_COMPILER_ID:GNU,Clang,AppleClang>>:-Werror>)

# ---- Sanitizers (global, so that every target — and its tests — is instrumented) ----
if(TINYTORCH_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "TINYTORCH_SANITIZE requires GCC or Clang")
  endif()
  set(_tt_sanitize_flags
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_compile_options(${_tt_sanitize_flags})
  add_link_options(${_tt_sanitize_flags})
  unset(_tt_sanitize_flags)
  # The fast kernels' unrolling hints are dropped (src/kernels/unroll.h): instrumented, the
  # unrolled register tiles took minutes of compile time and check nothing the loops do not.
  add_compile_definitions(TINYTORCH_SANITIZED)
  # GCC 12's -Wmaybe-uninitialized reports false positives in instrumented -O1 code — e.g. inside
  # libstdc++'s <regex> automaton (a std::function move), in any file that builds a std::regex.
  # GCC's manual says the sanitizers can cause such warnings. The release build (-O2, not
  # instrumented) keeps the warning as an error, so real cases are still caught there.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

# tinytorch_build_by_name_when_sanitized(<target>...): the sanitized build builds what its tests
# run. Programs no sanitized test runs (the tool ./tito runs from build/release, benchmarks, labs,
# milestones whose tests train for real) and the libraries only they use are left out of its
# `all` there: `cmake --build build/debug --target <name>` still builds one. In other builds it
# does nothing.
function(tinytorch_build_by_name_when_sanitized)
  if(TINYTORCH_SANITIZE)
    set_target_properties(${ARGN} PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
endfunction()

# A program's command-line front end (CLI11, cpp-httplib) is compiled at -O0 under the sanitizers.
# CLI11 2.1 defines its validators as objects in every file that includes it, so the compiler
# instruments and optimises all of their code again for each program: including the header alone
# costs 16 s of compiler time per file under ASan + UBSan at -O1 (4.7 s at -O1 without them), and
# milestone 1957's main.cpp took 43 s at -O1 against 20 s at -O0. The sanitizers check -O0 code
# just as well, and what these programs spend their time on (training) runs in the library,
# which keeps the build's optimisation level. The course tooling's code and tests (tito's
# sources, the diagnose trace; tests/course) take the same rule: half the compiler time.
# In Release the same code is compiled at -O1: milestone 1998's main.cpp took 28.3 s of compiler
# time at -O2 and 20.5 s at -O1 (GCC 12, the 2-vCPU Xeon of docs/engineering/18_acceleration.md),
# of which CLI11's validators alone take about 9 s at -O2. The programs' precompiled header,
# compiled at the build's -O2, serves -O1 files too (both define __OPTIMIZE__; -O0 does not).
add_library(tinytorch_command_line INTERFACE)
if(TINYTORCH_SANITIZE)
  target_compile_options(tinytorch_command_line INTERFACE -O0)
elseif(CMAKE_BUILD_TYPE STREQUAL "Release")
  target_compile_options(tinytorch_command_line INTERFACE -O1)
endif()

# ---- libFuzzer (tests/fuzz) ------------------------------------------------------------
# Everything is compiled with libFuzzer's coverage instrumentation (fuzzer-no-link), so the
# fuzzer sees which branches of the library an input reaches; only the harnesses link libFuzzer
# itself (-fsanitize=fuzzer, which brings its main()). Needs the sanitizers too: a fuzzer that
# cannot see a bad read finds only the crashes.
if(TINYTORCH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TINYTORCH_FUZZ requires Clang with libFuzzer (Debian: clang-14 "
                        "libclang-rt-14-dev); configure with the fuzz preset")
  endif()
  if(NOT TINYTORCH_SANITIZE)
    message(FATAL_ERROR "TINYTORCH_FUZZ requires TINYTORCH_SANITIZE=ON (ASan + UBSan)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
  # fuzzer-no-link also traces every comparison (trace-cmp: a call per compare, so that libFuzzer
  # can learn the values an input is compared with). A build that serves the tests as well (CI's:
  # see .ci/run) spent a quarter of a GEMM test's time in those calls, for a smoke run of 2000
  # inputs per harness; it turns them off and keeps the edge counters. tito fuzz keeps them.
  option(TINYTORCH_FUZZ_TRACE_CMP "Trace comparisons for libFuzzer (-fsanitize-coverage=trace-cmp)"
         ON)
  if(NOT TINYTORCH_FUZZ_TRACE_CMP)
    add_compile_options(-fno-sanitize-coverage=trace-cmp)
  endif()
endif()

# ---- Linker ------------------------------------------------------------------------------
# Every test program, milestone and tool is a link of the whole library with its own objects, and
# a release build has 113 of them; a learner's edit of one library file relinks the module's test
# program. GNU ld (Debian's default) spends seconds on each; LLVM's lld, Debian's `lld`, which
# ./tito installs, reads the same objects and archives about four times as fast: CI's sanitized
# test_kernels 4.2 -> 0.9 s, test_module01 4.7 -> 1.1 s, milestone_2017 5.1 -> 1.1 s (Clang 14,
# ASan+UBSan, -g1; the 2-vCPU Xeon of docs/engineering/18_acceleration.md). Where the compiler
# cannot link with it (lld missing, another platform) the default linker is kept. Directory scope:
# the project's own targets only; an installed TinyTorch imposes no linker on its users.
if(TINYTORCH_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" TINYTORCH_HAVE_LLD)
  if(TINYTORCH_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  else()
    message(STATUS "TinyTorch: lld not found, linking with the compiler's default linker")
  endif()
endif()

# ---- OpenMP (optional) ----------------------------------------------------------------
add_library(tinytorch_openmp INTERFACE)
set(_tt_have_openmp OFF)
if(TINYTORCH_OPENMP)
  find_package(OpenMP COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(_tt_have_openmp ON)
    target_link_libraries(tinytorch_openmp INTERFACE OpenMP::OpenMP_CXX)
    target_compile_definitions(tinytorch_openmp INTERFACE TINYTORCH_HAVE_OPENMP=1)
  else()
    message(STATUS "TinyTorch: OpenMP not found, building single-threaded kernels")
  endif()
endif()
set(TINYTORCH_HAVE_OPENMP ${_tt_have_openmp} CACHE BOOL
  "Result: OpenMP is used by TinyTorch (read-only; set TINYTORCH_OPENMP instead)" FORCE)
mark_as_advanced(TINYTORCH_HAVE_OPENMP)
unset(_tt_have_openmp)
