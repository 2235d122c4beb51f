# Read by ctest, not by the configure step: registers one test per GoogleTest test suite of a
# test program (tinytorch_add_suite_tests in TinyTorchModules.cmake includes this file from the
# directory's TEST_INCLUDE_FILES, as gtest_discover_tests' PRE_TEST mode does for its tests).
#
# NOTE: a suite runs in one process, `PROGRAM --gtest_filter=Suite.* --gtest_brief=1`. Its tests
# share what the program keeps between tests (the kernel tests' memoised double-precision
# references), and the program starts once per suite instead of once per test: under ASan +
# UBSan a start costs 0.07–0.11 s, more than most kernel tests. A failure prints gtest's
# lines for the failing test only (--gtest_brief), which name it.

# tinytorch_write_suite_tests(EXECUTABLE path OUTPUT file PREFIX p LABELS l TIMEOUT s)
# Lists the program's tests (--gtest_list_tests) and writes OUTPUT: an add_test and a
# set_tests_properties per suite. COST, ctest's estimate of a test's run time until it has
# measured one, is the suite's number of tests, so that ctest -j starts the long suites first.
function(tinytorch_write_suite_tests)
  cmake_parse_arguments(ARG "" "EXECUTABLE;OUTPUT;PREFIX;LABELS;TIMEOUT" "" ${ARGN})
  execute_process(
    COMMAND "${ARG_EXECUTABLE}" --gtest_list_tests
    TIMEOUT 60
    OUTPUT_VARIABLE listing
    ERROR_VARIABLE listing
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "listing the tests of ${ARG_EXECUTABLE} failed (${result}):\n${listing}")
  endif()

  # --gtest_list_tests prints "Suite." (or "Suite/0.  # TypeParam = T") on its own line, then
  # each of its tests indented by two spaces.
  string(REPLACE ";" "\\;" listing "${listing}")
  string(REPLACE "\n" ";" lines "${listing}")
  set(suites "")
  set(suite "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^([A-Za-z0-9_/]+)\\.( .*)?$")
      set(suite "${CMAKE_MATCH_1}")
      if(NOT suite MATCHES "(^|/)DISABLED_")
        list(APPEND suites "${suite}")
        set(count_${suite} 0)
      endif()
    elseif(line MATCHES "^  ([A-Za-z0-9_/]+)" AND DEFINED count_${suite})
      if(NOT CMAKE_MATCH_1 MATCHES "^DISABLED_")
        math(EXPR count_${suite} "${count_${suite}} + 1")
      endif()
    endif()
  endforeach()
  if(NOT suites)
    message(FATAL_ERROR "${ARG_EXECUTABLE} lists no test suite:\n${listing}")
  endif()

  set(script "")
  foreach(suite IN LISTS suites)
    if(count_${suite} EQUAL 0)
      continue()  # every test of the suite is disabled
    endif()
    set(name "${ARG_PREFIX}${suite}")
    string(APPEND script
      "add_test([==[${name}]==] [==[${ARG_EXECUTABLE}]==] [==[--gtest_filter=${suite}.*]==] "
      "--gtest_brief=1)\n"
      "set_tests_properties([==[${name}]==] PROPERTIES LABELS [==[${ARG_LABELS}]==] "
      "TIMEOUT ${ARG_TIMEOUT} COST ${count_${suite}})\n")
  endforeach()
  file(WRITE "${ARG_OUTPUT}" "${script}")
endfunction()
