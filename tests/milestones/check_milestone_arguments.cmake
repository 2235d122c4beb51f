# Runs a milestone (or lab) program with arguments it must refuse, before any work, and checks
#   - it exits with a non-zero status,
#   - its output (stdout and stderr together) matches MATCH (a regex),
#   - and does not match NO_MATCH (a regex; optional) — e.g. a 300-digit number, or advice that
#     does not apply.
# cmake -DPROGRAM=... -DARGS="a|b" -DMATCH=regex [-DNO_MATCH=regex] -DWORK=dir -P this
# (ARGS is '|'-separated: ctest would split ';'. "@EMPTY_DIR@" in ARGS is replaced by an empty
# folder made under WORK.)
cmake_minimum_required(VERSION 3.25)
foreach(_var PROGRAM ARGS MATCH WORK)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "check_milestone_arguments.cmake: -D${_var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/empty")
string(REPLACE "@EMPTY_DIR@" "${WORK}/empty" _args "${ARGS}")
string(REPLACE "|" ";" _args "${_args}")
string(REPLACE ";" " " _command_line "${PROGRAM};${_args}")

# In WORK: a program that wrongly went ahead would write its outputs (runs/...) there.
execute_process(COMMAND "${PROGRAM}" ${_args}
  WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out
  TIMEOUT 30)
if(_rc EQUAL 0)
  message(FATAL_ERROR "${_command_line}: exited with 0, expected an error\n${_out}")
endif()
if(NOT _out MATCHES "${MATCH}")
  message(FATAL_ERROR "${_command_line}: the message does not match '${MATCH}':\n${_out}")
endif()
if(DEFINED NO_MATCH AND NOT NO_MATCH STREQUAL "" AND _out MATCHES "${NO_MATCH}")
  message(FATAL_ERROR "${_command_line}: the message matches '${NO_MATCH}', which it must not:\n${_out}")
endif()
message(STATUS "ok: ${_command_line}\n${_out}")
