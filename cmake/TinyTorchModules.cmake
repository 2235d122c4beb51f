# Helpers to declare per-module tests and labs.
#
#   tinytorch_add_module_tests(ID <NN> SOURCES <file>... [HIDDEN_SOURCES <file>...])
#     - executable test_module<NN> from SOURCES, linked to tinytorch, GTest::gtest_main,
#       tinytorch_warnings; tests registered as "module<NN>.<Suite>.<Test>", label module<NN>.
#     - if HIDDEN_SOURCES are given and all exist (and TINYTORCH_HIDDEN_TESTS is ON, the
#       default): executable test_module<NN>_hidden, tests named
#       "module<NN>.hidden.<Suite>.<Test>", labels module<NN> and hidden.
#     - the grader's two builds of the hidden tests (tools/tito/src/cmd_grade.cpp,
#       tests/support/graded.h):
#         the instructor's build/release (outside the sandbox), wherever the hidden tests are
#           built: also an object library test_<mod>_hidden_answers, built only by name, the
#           hidden sources compiled with -DTT_GRADE_ANSWERS (their expected values left out);
#           the list of its object files is written to <build>/hidden-answers/<mod>.objects.
#         TINYTORCH_HIDDEN_OBJECTS_DIR=DIR (the submission's build, in the sandbox, where the
#           hidden sources are absent): test_<mod>_hidden is linked from DIR/<mod>/*.o, those
#           objects copied there by the grader.
#     - both get TT_TEST_DATA_DIR (<repo>/tests/data as seen from the folder of the test program,
#       e.g. "../../../tests/data"), <repo>/tests on the include path (for tests/support/*.h) and
#       nlohmann-json.
#
#     - DISTRIBUTED (module 21): the programs link tinytorch_distributed and, instead of
#       gtest_main, tests/support/mpi_gtest_main.cpp, which starts them on 2 ranks under mpirun
#       (cmake/TinyTorchMPI.cmake), so ctest and the grader run them like any test program.
#       Without MPI: nothing is built, and one test, skipped, says why.
#
#   tinytorch_compile_like_module_tests(<target>)
#     - a suite's test program (tests/<suite>/) compiled like a module's: tinytorch_test_support,
#       TT_TEST_DATA_DIR, the test programs' options and their precompiled header.
#
#   tinytorch_batch_sources(<out-var> <name> [BATCH <n>] <file>...)
#     - a program's sources, its .cpp files compiled in batches (<n> files per generated file, by
#       default TINYTORCH_TEST_BATCH: the test programs, the module ones above included; tito
#       takes 12).
#
#   tinytorch_add_suite_tests(<target> PREFIX <prefix> LABELS <label>...)
#     - a framework test program's tests (tests/kernels, libtorch, amp, utils: no module's, whose
#       tests a learner runs and reads one by one), registered with ctest one per gtest test suite:
#       "<prefix><Suite>", running `<target> --gtest_filter=<Suite>.*` (cmake/TinyTorchSuiteTests.cmake).
#
#   tinytorch_program_pch(<target>...)
#     - a program built on the library (a lab, milestone, benchmark or tool) reuses the
#       programs' precompiled header (the whole framework and nlohmann-json; TINYTORCH_PCH), where
#       it is compiled with the flags of that header: not in a sanitized build, nor a program
#       that links MPI. (Not the examples: they must compile from <torch/torch.h> alone.)
#
#   tinytorch_add_lab(ID <NN> SOURCE <file> [COUNT_HEAP] [DISTRIBUTED])
#     - executable lab<NN> (in ${CMAKE_BINARY_DIR}/bin), linked to tinytorch, tinytorch_warnings
#       and tinytorch_lab_support (modules/lab_support: the code every lab shares).
#     - COUNT_HEAP: also the counting operator new of modules/lab_support/heap_counter.h.
#     - DISTRIBUTED: also tinytorch_distributed; not built without MPI.
#
# Relative file names are relative to the calling CMakeLists.txt. <NN> is two digits ("01").
include_guard(GLOBAL)
include(TinyTorchMPI)  # TINYTORCH_HAVE_MPI, for DISTRIBUTED modules

# Repository root, independent of where the function is called from.
get_filename_component(TINYTORCH_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
# The test data folder relative to the test programs' folder. Relative, so that the compile
# commands of two copies of the tree are identical and a compiler cache can share their objects
# (CI: the learner release reuses the release build's); tests/support/reference.h resolves it
# against the running program's own location.
file(RELATIVE_PATH TINYTORCH_TEST_DATA_DIR "${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
  "${TINYTORCH_SOURCE_ROOT}/tests/data")

# The test programs are compiled for a short build, the library for speed: a test file is mostly
# gtest macros, which take longer to optimise than to run, while the time the tests run is spent
# in the library. So the test programs are compiled at -O0 in both builds; the library keeps its
# -O2 (Release) / -O1 (sanitized). Measured on the 2-vCPU model-207 Xeon (GCC 12, Release, the
# files with their precompiled header): module 01's two batches 37.6 + 31.3 s of compiler time at
# -O1, 17.0 + 12.5 at -O0; every module's, the hidden tests' and the suites' programs ~140 s less
# in all; their tests (ctest -j2, 1,621 tests) 20.7 s of user CPU at -O1, 41.3 s at -O0 first,
# module 06's 140 tests 6.0 -> 15.3 s of test time, most of it parsing its reference JSON in every
# process: hence reference.cpp at -O1 below (module 06: 10.4 s). Under ASan+UBSan, -O0 compiles
# several times faster (test_elementwise.cpp: 74 s at -O1, 16 s at -O0) and keeps every check in
# the test code itself.
function(_tinytorch_test_compile_options target)
  target_compile_options(${target} PRIVATE -O0)
endfunction()

# Test support (tests/support/*.h) reads reference data with nlohmann-json. Its functions
# (tests/support/reference.cpp; graded*.cpp, the hidden tests' checks) are compiled once, into
# tinytorch_test_support, which every module's test programs link; it is compiled like them (the
# same definitions and options).
find_package(nlohmann_json 3 REQUIRED)
add_library(tinytorch_test_support STATIC "${TINYTORCH_SOURCE_ROOT}/tests/support/reference.cpp"
  "${TINYTORCH_SOURCE_ROOT}/tests/support/graded.cpp"
  "${TINYTORCH_SOURCE_ROOT}/tests/support/graded_values.cpp")
target_include_directories(tinytorch_test_support PUBLIC "${TINYTORCH_SOURCE_ROOT}/tests")
target_compile_definitions(tinytorch_test_support PRIVATE
  TT_TEST_DATA_DIR="${TINYTORCH_TEST_DATA_DIR}")
target_link_libraries(tinytorch_test_support PUBLIC tinytorch GTest::gtest
  nlohmann_json::nlohmann_json PRIVATE tinytorch_warnings)
_tinytorch_test_compile_options(tinytorch_test_support)
# Except the JSON parser (reference.cpp's load_reference), run by every process of a test program
# that registers its cases from a reference file (module 06). Not in the sanitized build, where
# -O1 costs more compile time than it saves. (At -O1 the file cannot use the -O0 precompiled header:
# __OPTIMIZE__ differs.)
if(NOT TINYTORCH_SANITIZE)
  set_source_files_properties("${TINYTORCH_SOURCE_ROOT}/tests/support/reference.cpp" PROPERTIES
    COMPILE_OPTIONS -O1 SKIP_PRECOMPILE_HEADERS ON)
endif()
# Every test file starts by parsing gtest, the whole framework and usually nlohmann-json: about
# 1.5 s of each file's 4 s compile (-O1, GCC 12). TINYTORCH_PCH (on by default) parses
# them once: a precompiled header compiled here and reused by the test programs compiled with the
# same flags. The headers are named by include path, never by absolute path, so that two copies of
# the tree generate the same header and a compiler cache can share its objects between them (CI's
# learner release reuses the release build's; ccache needs CCACHE_SLOPPINESS=pch_defines,time_macros
# to cache anything compiled with a precompiled header).
set(_TINYTORCH_TEST_PCH_HEADERS <gtest/gtest.h> <nlohmann/json.hpp> <support/reference.h>)
if(TINYTORCH_PCH)
  target_precompile_headers(tinytorch_test_support PRIVATE ${_TINYTORCH_TEST_PCH_HEADERS})
endif()

# The programs built on the library (labs, milestones, benchmarks, tools: about 70 files in a
# release build) include the framework too, at the build's own optimisation level (-O2
# in Release): they share a second precompiled header, owned by an object library with no code of
# its own. It saves ~1.6 s of each such file's compile (lab 07's lab.cpp: 6.9 -> 5.3 s, -O2, GCC
# 12). A sanitized build compiles its few programs at two levels (tinytorch_command_line's -O0 and
# the build's -O1), and a precompiled header serves one: none there. MPI's programs add its
# include folders: none for them either.
if(TINYTORCH_PCH AND NOT TINYTORCH_SANITIZE)
  file(CONFIGURE OUTPUT "${CMAKE_BINARY_DIR}/tinytorch_program_pch.cpp" CONTENT
    "// The owner of the programs' precompiled header (tinytorch_program_pch in cmake/TinyTorchModules.cmake).\n")
  add_library(tinytorch_program_pch OBJECT "${CMAKE_BINARY_DIR}/tinytorch_program_pch.cpp")
  target_link_libraries(tinytorch_program_pch PRIVATE tinytorch tinytorch_warnings
    nlohmann_json::nlohmann_json)
  target_precompile_headers(tinytorch_program_pch PRIVATE <tinytorch/tinytorch.h>
    <nlohmann/json.hpp>)
endif()

function(tinytorch_program_pch)
  if(NOT TARGET tinytorch_program_pch)
    return()
  endif()
  foreach(target IN LISTS ARGN)
    # At the end of the calling folder's CMakeLists.txt, when the target's libraries are all
    # known (EVAL: the deferred call gets the name now, not the variable).
    cmake_language(EVAL CODE "cmake_language(DEFER CALL _tinytorch_program_pch_reuse [[${target}]])")
  endforeach()
endfunction()

function(_tinytorch_program_pch_reuse target)
  get_target_property(libraries ${target} LINK_LIBRARIES)
  if(NOT "tinytorch_distributed" IN_LIST libraries)
    target_precompile_headers(${target} REUSE_FROM tinytorch_program_pch)
  endif()
endfunction()

# Seconds a single test may run before ctest kills it (sanitized builds are slower).
set(TINYTORCH_TEST_TIMEOUT 300 CACHE STRING "Per-test timeout in seconds")

function(_tinytorch_check_id fn id)
  if(NOT id MATCHES "^[0-9][0-9]$")
    message(FATAL_ERROR "${fn}: ID must be two digits (e.g. 01), got '${id}'")
  endif()
  if(NOT TARGET tinytorch)
    message(FATAL_ERROR "${fn}(ID ${id}): the 'tinytorch' library target does not exist yet "
                        "(tinytorch/CMakeLists.txt must define it before modules are added)")
  endif()
endfunction()

# A program's files are compiled a few at a time: each batch is one generated file that includes
# them (a "unity" build). A test file's own code is small; what the compiler spends its time on is
# what every file of a program instantiates and generates again — gtest's assertions, the
# framework's templates, nlohmann-json's readers, CLI11's validators — and a batch does that once.
# At most <n> files per batch, in even batches (1: every file alone). Twelve rather than six: the
# nine programs with more than six files took 267 s of compiler time instead of 308 in CI's
# sanitized build (Clang 14, ASan+UBSan; the 2-vCPU Xeon of docs/engineering/18_acceleration.md).
#
# NOTE: the files of one program share a translation unit here, so two of them must not define
# the same name at namespace scope, even in an anonymous namespace or as `static`.
# The batch includes each file by its path from the repository root (the root on the batch
# file's include path), so that a test's failure names its file as it does compiled alone, and
# two copies of the tree (the learner release) generate the same batch files: a compiler cache
# shares their objects. (CMake's UNITY_BUILD includes each file by its absolute path: neither.)
set(TINYTORCH_TEST_BATCH 12 CACHE STRING
  "Test files compiled together in one translation unit (1: each file alone)")

# tinytorch_batch_sources(<out-var> <name> [BATCH <n>] <file>...): the sources to compile for a
# program called <name>: its .cpp files in batches of at most <n> (TINYTORCH_TEST_BATCH when not
# given), anything else as given.
function(tinytorch_batch_sources out_var name)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "BATCH" "")
  set(batch_size "${TINYTORCH_TEST_BATCH}")
  if(DEFINED ARG_BATCH)
    set(batch_size "${ARG_BATCH}")
  endif()
  set(result "")
  set(cpp "")
  foreach(src IN LISTS ARG_UNPARSED_ARGUMENTS)
    cmake_path(ABSOLUTE_PATH src BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
      OUTPUT_VARIABLE abs)
    cmake_path(IS_PREFIX TINYTORCH_SOURCE_ROOT "${abs}" NORMALIZE in_tree)
    if(abs MATCHES "\\.cpp$" AND in_tree)
      list(APPEND cpp "${abs}")
    else()
      list(APPEND result "${abs}")
    endif()
  endforeach()
  list(LENGTH cpp count)
  if(count LESS 2 OR batch_size LESS 2)
    set(${out_var} ${result} ${cpp} PARENT_SCOPE)
    return()
  endif()
  math(EXPR batches "(${count} + ${batch_size} - 1) / ${batch_size}")
  set(first 0)
  foreach(batch RANGE 1 ${batches})
    math(EXPR end "${count} * ${batch} / ${batches}")
    math(EXPR length "${end} - ${first}")
    list(SUBLIST cpp ${first} ${length} files)
    set(first ${end})
    if(length EQUAL 1)
      list(APPEND result ${files})
      continue()
    endif()
    set(content "// ${name}'s files, batch ${batch} of ${batches}, compiled as one file: generated by\n")
    string(APPEND content "// tinytorch_batch_sources (cmake/TinyTorchModules.cmake).\n")
    foreach(file IN LISTS files)
      file(RELATIVE_PATH relative "${TINYTORCH_SOURCE_ROOT}" "${file}")
      string(APPEND content "#include \"${relative}\"\n")
    endforeach()
    set(batch_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_batch${batch}.cpp")
    file(CONFIGURE OUTPUT "${batch_file}" CONTENT "${content}")
    # The repository root: the batch names each file from there.
    set_source_files_properties("${batch_file}" PROPERTIES
      INCLUDE_DIRECTORIES "${TINYTORCH_SOURCE_ROOT}")
    list(APPEND result "${batch_file}")
  endforeach()
  set(${out_var} ${result} PARENT_SCOPE)
endfunction()

# Internal: what compiling a module's test sources needs (libraries, include folders,
# definitions, options), for a test program or the grader's object library.
function(_tinytorch_test_target_setup target distributed)
  target_link_libraries(${target} PRIVATE tinytorch tinytorch_test_support tinytorch_warnings
    nlohmann_json::nlohmann_json)
  if(distributed)
    target_link_libraries(${target} PRIVATE tinytorch_distributed GTest::gtest)
  endif()
  target_include_directories(${target} PRIVATE "${TINYTORCH_SOURCE_ROOT}/tests")
  target_compile_definitions(${target} PRIVATE
    TT_TEST_DATA_DIR="${TINYTORCH_TEST_DATA_DIR}")
  _tinytorch_test_compile_options(${target})
endfunction()

# Internal: the precompiled header (TINYTORCH_PCH) of a test program compiled by
# _tinytorch_test_target_setup: tinytorch_test_support's, compiled with the same flags; module 21's
# programs add MPI's include folders, so they compile their own.
function(_tinytorch_test_pch target distributed)
  if(NOT TINYTORCH_PCH)
    return()
  endif()
  if(distributed)
    target_precompile_headers(${target} PRIVATE ${_TINYTORCH_TEST_PCH_HEADERS})
  else()
    target_precompile_headers(${target} REUSE_FROM tinytorch_test_support)
  endif()
endfunction()

# A suite's test program (tests/<suite>/) that reads reference data through tests/support:
# compiled like a module's test program (the same libraries, definitions and options), so that it
# reuses their precompiled header instead of parsing gtest and the framework once per file.
function(tinytorch_compile_like_module_tests target)
  _tinytorch_test_target_setup(${target} FALSE)
  _tinytorch_test_pch(${target} FALSE)
endfunction()

# The tests of a framework test program, one ctest test per gtest test suite, listed at ctest
# time like gtest_discover_tests' PRE_TEST mode (the program runs under ctest, not at build
# time). One process per suite instead of one per test: in the sanitized build, the kernels' 986
# tests each paid 0.07-0.11 s to start and recomputed the references their suite shares.
function(tinytorch_add_suite_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "PREFIX" "LABELS")
  if(ARG_UNPARSED_ARGUMENTS OR NOT ARG_PREFIX OR NOT ARG_LABELS)
    message(FATAL_ERROR "tinytorch_add_suite_tests(${target} PREFIX <prefix> LABELS <label>...): "
                        "got ${ARGN}")
  endif()
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${target}_suites")
  file(GENERATE OUTPUT "${base}_include.cmake" CONTENT "\
if(NOT EXISTS \"$<TARGET_FILE:${target}>\")
  add_test(${target}_NOT_BUILT ${target}_NOT_BUILT)
else()
  if(NOT EXISTS \"${base}.cmake\" OR
     NOT \"${base}.cmake\" IS_NEWER_THAN \"$<TARGET_FILE:${target}>\" OR
     NOT \"${base}.cmake\" IS_NEWER_THAN \"\${CMAKE_CURRENT_LIST_FILE}\")
    include(\"${TINYTORCH_SOURCE_ROOT}/cmake/TinyTorchSuiteTests.cmake\")
    tinytorch_write_suite_tests(EXECUTABLE \"$<TARGET_FILE:${target}>\" OUTPUT \"${base}.cmake\"
      PREFIX \"${ARG_PREFIX}\" LABELS \"${ARG_LABELS}\" TIMEOUT ${TINYTORCH_TEST_TIMEOUT})
  endif()
  include(\"${base}.cmake\")
endif()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${base}_include.cmake")
endfunction()

# Internal: one gtest executable + test discovery at ctest time. LABELS is a CMake list.
# DISTRIBUTED: TRUE for a module whose tests run on several MPI ranks.
function(_tinytorch_gtest_executable target prefix labels distributed)
  tinytorch_batch_sources(sources ${target} ${ARGN})
  add_executable(${target} ${sources})
  _tinytorch_test_target_setup(${target} "${distributed}")
  if(distributed)
    target_sources(${target} PRIVATE "${TINYTORCH_SOURCE_ROOT}/tests/support/mpi_gtest_main.cpp"
                                     "${TINYTORCH_SOURCE_ROOT}/tests/support/mpi_lsan_hooks.cpp")
  else()
    target_link_libraries(${target} PRIVATE GTest::gtest_main)
  endif()
  _tinytorch_test_pch(${target} "${distributed}")
  # A distributed test is 2 processes busy-waiting on each other: ctest -j2 running two at once
  # puts 4 ranks on 2 cores, each test then taking several times longer. One at a time
  # (RESOURCE_LOCK), and counted as 2 processors.
  set(mpi_properties "")
  if(distributed)
    set(mpi_properties PROCESSORS 2 RESOURCE_LOCK tinytorch_mpi_ranks)
  endif()
  gtest_discover_tests(${target}
    TEST_PREFIX "${prefix}"
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${TINYTORCH_TEST_TIMEOUT} ${mpi_properties})
  # Labels are applied by a small ctest script that runs after discovery (a list such as
  # "module01;hidden" does not survive gtest_discover_tests' PROPERTIES). ${target}_TESTS is
  # the list of discovered tests that gtest_discover_tests provides to ctest.
  set(labels_script "${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake")
  file(CONFIGURE OUTPUT "${labels_script}" @ONLY CONTENT [=[
if(DEFINED @target@_TESTS AND NOT "${@target@_TESTS}" STREQUAL "")
  set_tests_properties(${@target@_TESTS} PROPERTIES LABELS "@labels@")
endif()
]=])
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_script}")
endfunction()

function(tinytorch_add_module_tests)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "DISTRIBUTED" "ID" "SOURCES;HIDDEN_SOURCES")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "tinytorch_add_module_tests: unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  _tinytorch_check_id(tinytorch_add_module_tests "${ARG_ID}")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "tinytorch_add_module_tests(ID ${ARG_ID}): SOURCES is required")
  endif()

  set(mod "module${ARG_ID}")
  if(ARG_DISTRIBUTED AND NOT TINYTORCH_HAVE_MPI)
    # ctest reports it as skipped (not passed, not failed), with the reason in its output.
    add_test(NAME ${mod}.skipped_without_mpi COMMAND "${CMAKE_COMMAND}" -E echo
      "SKIPPED: module ${ARG_ID} needs MPI: sudo apt-get install -y openmpi-bin libopenmpi-dev, "
      "then configure again")
    set_tests_properties(${mod}.skipped_without_mpi PROPERTIES LABELS "${mod}"
      SKIP_REGULAR_EXPRESSION "SKIPPED:")
    return()
  endif()
  _tinytorch_gtest_executable(test_${mod} "${mod}." "${mod}" "${ARG_DISTRIBUTED}" ${ARG_SOURCES})

  # In the grader's sandbox: the hidden program from the answers objects the grader put there.
  if(TINYTORCH_HIDDEN_OBJECTS_DIR)
    file(GLOB objects CONFIGURE_DEPENDS "${TINYTORCH_HIDDEN_OBJECTS_DIR}/${mod}/*.o")
    if(objects)
      _tinytorch_gtest_executable(test_${mod}_hidden "${mod}.hidden." "${mod};hidden"
        "${ARG_DISTRIBUTED}" ${objects})
    endif()
    return()
  endif()

  # Hidden (grader) tests are optional: they may be absent from student checkouts, and a build
  # configured with TINYTORCH_HIDDEN_TESTS=OFF leaves them out (CI runs them in the release build
  # only: the sanitized build would compile them for nothing).
  if(ARG_HIDDEN_SOURCES AND TINYTORCH_HIDDEN_TESTS)
    set(missing "")
    foreach(src IN LISTS ARG_HIDDEN_SOURCES)
      cmake_path(ABSOLUTE_PATH src BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
        OUTPUT_VARIABLE src_abs)
      if(NOT EXISTS "${src_abs}")
        list(APPEND missing "${src}")
      endif()
    endforeach()
    if(missing)
      message(STATUS "TinyTorch: ${mod} hidden tests not present (${missing}), skipping")
    else()
      _tinytorch_gtest_executable(test_${mod}_hidden "${mod}.hidden." "${mod};hidden"
        "${ARG_DISTRIBUTED}" ${ARG_HIDDEN_SOURCES})
      # tito grade's answers build, in the same build folder (it builds the target by name):
      # the expected arguments of the checks are not compiled here, so whatever only they used
      # (a naive loop, a variable) is unused.
      add_library(test_${mod}_hidden_answers OBJECT EXCLUDE_FROM_ALL ${ARG_HIDDEN_SOURCES})
      _tinytorch_test_target_setup(test_${mod}_hidden_answers "${ARG_DISTRIBUTED}")
      target_compile_definitions(test_${mod}_hidden_answers PRIVATE TT_GRADE_ANSWERS)
      target_compile_options(test_${mod}_hidden_answers PRIVATE -Wno-unused
        -Wno-unused-parameter -Wno-unused-function -Wno-unused-variable
        -Wno-unused-but-set-variable -Wno-unused-lambda-capture)
      file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/hidden-answers/${mod}.objects"
        CONTENT "$<JOIN:$<TARGET_OBJECTS:test_${mod}_hidden_answers>,\n>\n")
    endif()
  endif()
endfunction()

function(tinytorch_add_lab)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "COUNT_HEAP;DISTRIBUTED" "ID;SOURCE" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tinytorch_add_lab: unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  _tinytorch_check_id(tinytorch_add_lab "${ARG_ID}")
  if(NOT ARG_SOURCE)
    message(FATAL_ERROR "tinytorch_add_lab(ID ${ARG_ID}): SOURCE is required")
  endif()
  if(ARG_DISTRIBUTED AND NOT TINYTORCH_HAVE_MPI)
    return()  # cmake/TinyTorchMPI.cmake said why
  endif()
  add_executable(lab${ARG_ID} "${ARG_SOURCE}")
  if(ARG_DISTRIBUTED)
    target_link_libraries(lab${ARG_ID} PRIVATE tinytorch_distributed)
  endif()
  target_link_libraries(lab${ARG_ID} PRIVATE tinytorch tinytorch_lab_support tinytorch_warnings
    nlohmann_json::nlohmann_json)
  if(ARG_COUNT_HEAP)
    target_link_libraries(lab${ARG_ID} PRIVATE tinytorch_lab_heap_counter)
  endif()
  tinytorch_program_pch(lab${ARG_ID})
  set_target_properties(lab${ARG_ID} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
  # Labs run from the release build (./tito lab); in the sanitized build they are built by name
  # only, so `./tito test --sanitize` does not compile programs it never runs.
  tinytorch_build_by_name_when_sanitized(lab${ARG_ID})
endfunction()
