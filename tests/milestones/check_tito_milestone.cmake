# `tito milestone` argument handling, without building anything:
#   list (also the last milestone, 2018, with its aliases and the modules it needs); run with an
#   unknown id, no id, an option instead of an id; list with an extra argument; run --help; no
#   subcommand.
# cmake -DTITO=path/to/tito -DROOT=repository -P this
cmake_minimum_required(VERSION 3.25)
foreach(_var TITO ROOT)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "check_tito_milestone.cmake: -D${_var}=... is required")
  endif()
endforeach()
set(ENV{TITO_ROOT} "${ROOT}")
set(ENV{NO_COLOR} "1")
set(_failures "")

# expect(<exit: 0 or nonzero> <regex the output must match> args...)
function(expect exit regex)
  execute_process(COMMAND "${TITO}" ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _out)
  set(_what "tito ${ARGN}")
  if(exit STREQUAL "0" AND NOT _rc EQUAL 0)
    string(APPEND _failures "${_what}: exited with ${_rc}, expected 0\n${_out}\n")
  elseif(exit STREQUAL "nonzero" AND _rc EQUAL 0)
    string(APPEND _failures "${_what}: exited with 0, expected an error\n${_out}\n")
  elseif(NOT _out MATCHES "${regex}")
    string(APPEND _failures "${_what}: output does not match '${regex}':\n${_out}\n")
  else()
    message(STATUS "ok: ${_what}")
  endif()
  set(_failures "${_failures}" PARENT_SCOPE)
endfunction()

expect(0 "1957 +perceptron .*1969 +xor .*1986 +mlp" milestone list)
expect(0 "modules 01-03 " milestone list)
expect(nonzero "unknown milestone 'nosuch'; valid ids: 1957 \\(perceptron.*1969 \\(xor.*1986 \\(mlp"
       milestone run nosuch --epochs 3)
expect(nonzero "which milestone\\?.*1957 \\(perceptron" milestone run)
expect(nonzero "expected a milestone id before the program's options, got '--epochs'"
       milestone run --epochs 3)
expect(0 "2018 +mlperf +TinyMLPerf.*also: tinymlperf, benchmark.*modules 01-19 " milestone list)
expect(nonzero "takes no arguments \\(got 'extra'\\)" milestone list extra)
expect(0 "Usage: tito milestone run <id\\|name>" milestone run --help)
expect(nonzero "[Ss]ubcommand" milestone)

if(_failures)
  message(FATAL_ERROR "tito milestone:\n${_failures}")
endif()
