# Milestone 2018 (TinyMLPerf), end to end on small settings:
#   1. fashion-mlp with no trained model: milestone_2018 trains it (milestone_1986's defaults, one
#      thread), then every submission must be valid on the real test set — int8 weights at least
#      3.5× smaller, the pruned model really smaller, the pruned ones in the open division and
#      the others in the closed one — exit status 0, a schema-valid report;
#   2. the same again: the checkpoint is reused (trained_now false), the same accuracies;
#   3. fortunes-gpt on a GPT trained for 20 steps, --no-train: the reference misses the 1.60
#      target, so the report says INVALID and the exit status is 1; the KV cache generated the
#      same characters as the recomputing reference;
#   4. fashion-cnn with no model and --no-train: skipped with the reason, exit status 0;
#   5. a corrupt checkpoint: exit status 1 and an error naming the file, no report.
# Every report is validated against milestones/2018_mlperf/report.schema.json (validate_json.py).
# cmake -DMLPERF=... -DGPT=... -DPYTHON=... -DSCHEMA=... -DVALIDATE=... -DWORK=dir -P this
cmake_minimum_required(VERSION 3.25)
foreach(_var MLPERF GPT PYTHON SCHEMA VALIDATE WORK)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "check_mlperf.cmake: -D${_var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/models")

# run(<expected exit status> <report name> <program> <args>...): runs the program, checks its
# exit status and validates the report it wrote to ${WORK}/<report name>.json; sets _json.
function(run want name program)
  set(_report "${WORK}/${name}.json")
  execute_process(COMMAND "${program}" ${ARGN} --json "${_report}" --out "${WORK}/out_${name}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  message(STATUS "${name}: exit ${_rc}\n${_out}${_err}")
  if(NOT _rc EQUAL want)
    message(FATAL_ERROR "${name}: ${program} ${ARGN} exited with ${_rc}, expected ${want}\n"
                        "--- stdout:\n${_out}\n--- stderr:\n${_err}")
  endif()
  foreach(_file "${_report}" "${WORK}/out_${name}/report.json" "${WORK}/out_${name}/report.txt")
    if(NOT EXISTS "${_file}")
      message(FATAL_ERROR "${name}: ${_file} was not written")
    endif()
  endforeach()
  execute_process(COMMAND "${PYTHON}" "${VALIDATE}" "${SCHEMA}" "${_report}"
    RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${name}: the report does not follow the schema:\n${_out}${_err}")
  endif()
  file(READ "${_report}" _json)
  set(_json "${_json}" PARENT_SCOPE)
endfunction()

# expect(<dotted.path> <OP> <value>): OP one of == != >= <= > < (numbers) or STREQUAL.
function(expect path op want)
  string(REPLACE "." ";" _keys "${path}")
  string(JSON _got ERROR_VARIABLE _error GET "${_json}" ${_keys})
  if(_error)
    message(FATAL_ERROR "report: no '${path}' (${_error})\n${_json}")
  endif()
  set(_ok FALSE)
  if(op STREQUAL "STREQUAL" AND _got STREQUAL want)
    set(_ok TRUE)
  elseif(op STREQUAL "==" AND _got EQUAL want)
    set(_ok TRUE)
  elseif(op STREQUAL ">" AND _got GREATER want)
    set(_ok TRUE)
  elseif(op STREQUAL ">=" AND _got GREATER_EQUAL want)
    set(_ok TRUE)
  elseif(op STREQUAL "<" AND _got LESS want)
    set(_ok TRUE)
  endif()
  if(NOT _ok)
    message(FATAL_ERROR "report: expected ${path} ${op} ${want}, got ${_got}\n${_json}")
  endif()
  message(STATUS "ok: ${path} = ${_got} (${op} ${want})")
endfunction()

set(_small --threads 1 --queries 50 --repetitions 5 --seed 7)

# 1. The MLP task, training its model first.
run(0 mlp_first "${MLPERF}" --models "${WORK}/models" --tasks mlp ${_small})
expect(all_valid STREQUAL ON)
expect(settings.tasks.0 STREQUAL mlp)
expect(tasks.0.task STREQUAL fashion-mlp)
expect(tasks.0.status STREQUAL ran)
expect(tasks.0.model_source.trained_now STREQUAL ON)
expect(tasks.0.model_source.train_seconds > 0)
expect(tasks.0.reference_target == 0.88)
foreach(_i 0 1 2 3)
  expect(tasks.0.submissions.${_i}.valid STREQUAL ON)
  expect(tasks.0.submissions.${_i}.single_stream.queries == 50)
  expect(tasks.0.submissions.${_i}.offline.samples_per_pass == 10000)
endforeach()
expect(tasks.0.submissions.0.name STREQUAL reference)
expect(tasks.0.submissions.0.division STREQUAL closed)
expect(tasks.0.submissions.0.parameters == 235146)
expect(tasks.0.submissions.0.quality >= 0.88)
expect(tasks.0.submissions.1.name STREQUAL int8-dynamic)
expect(tasks.0.submissions.1.vs_reference.size_ratio > 3.5)
expect(tasks.0.submissions.1.division STREQUAL closed)  # quantization only: MLPerf's Closed
expect(tasks.0.submissions.2.name STREQUAL pruned)
expect(tasks.0.submissions.2.parameters == 133605)  # 40% removed: 784-154-77-10
expect(tasks.0.submissions.2.division STREQUAL open)  # new weights: MLPerf's Open
expect(tasks.0.submissions.3.division STREQUAL open)
expect(tasks.0.submissions.3.name STREQUAL pruned-int8)
expect(tasks.0.submissions.3.vs_reference.size_ratio > 6)  # 1.76x from pruning x ~3.9x from int8
string(JSON _first_quality GET "${_json}" tasks 0 submissions 0 quality)
string(JSON _first_pruned GET "${_json}" tasks 0 submissions 2 quality)

# 2. Again: the checkpoint is found, and the same weights give the same accuracies.
run(0 mlp_again "${MLPERF}" --models "${WORK}/models" --tasks mlp ${_small})
expect(tasks.0.model_source.trained_now STREQUAL OFF)
expect(tasks.0.submissions.0.quality == ${_first_quality})
expect(tasks.0.submissions.2.quality == ${_first_pruned})

# 3. A GPT trained for 20 steps: far from the target, so INVALID and exit status 1.
execute_process(COMMAND "${GPT}" --steps 20 --warmup 5 --eval-every 20 --batch-size 8
    --eval-batches 1 --sample-chars 10 --threads 1 --quiet --out "${WORK}/models/2017"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "training the small GPT failed (${_rc}):\n${_out}${_err}")
endif()
run(1 gpt "${MLPERF}" --models "${WORK}/models" --tasks gpt --no-train --gpt-queries 5
    --gpt-new-tokens 8 ${_small})
expect(all_valid STREQUAL OFF)
expect(tasks.0.task STREQUAL fortunes-gpt)
expect(tasks.0.model_source.trained_now STREQUAL OFF)
expect(tasks.0.submissions.0.name STREQUAL reference)
expect(tasks.0.submissions.0.valid STREQUAL OFF)
expect(tasks.0.submissions.0.quality > 1.6)
expect(tasks.0.submissions.1.name STREQUAL kv-cache)
expect(tasks.0.submissions.1.division STREQUAL closed)
expect(tasks.0.submissions.1.outputs_identical_to_reference STREQUAL ON)
string(JSON _gpt_reference GET "${_json}" tasks 0 submissions 0 quality)
expect(tasks.0.submissions.1.quality == ${_gpt_reference})
expect(tasks.0.submissions.1.vs_reference.single_stream_median_speedup > 0)

# 4. No LeNet-5 and --no-train: skipped, with the reason and the command that would train it.
run(0 cnn_skipped "${MLPERF}" --models "${WORK}/models" --tasks cnn --no-train ${_small})
expect(tasks.0.task STREQUAL fashion-cnn)
expect(tasks.0.status STREQUAL skipped)
string(JSON _reason GET "${_json}" tasks 0 skip_reason)
if(NOT _reason MATCHES "checkpoint.ttc is missing .run ./tito milestone run 1998 first")
  message(FATAL_ERROR "unexpected skip reason: ${_reason}")
endif()
message(STATUS "ok: skipped: ${_reason}")

# 5. A checkpoint that is not one: an error naming the file; no report is written.
file(WRITE "${WORK}/bad/1986/checkpoint.ttc" "not a checkpoint\n")
execute_process(COMMAND "${MLPERF}" --models "${WORK}/bad" --tasks mlp ${_small}
    --json "${WORK}/bad.json" --out "${WORK}/out_bad"
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
if(NOT _rc EQUAL 1 OR NOT _err MATCHES "milestone_2018: error: .*bad/1986/checkpoint.ttc"
   OR EXISTS "${WORK}/bad.json")
  message(FATAL_ERROR "corrupt checkpoint: expected exit 1, an error naming the file and no "
                      "report; got exit ${_rc}\n${_out}${_err}")
endif()
message(STATUS "ok: corrupt checkpoint refused: ${_err}")
