# The reference implementations of a learner release (issue 21: a learner stuck on a module can
# go on without its source).
#
# `tito release` ships, for every available module, the instructor's compiled objects of the
# module's files (reference/<preset>/<NN>/<file>.o) and reference/manifest.json (module id ->
# objects with their SHA-256, and the compiler that built them). `tito module use-reference NN`
# writes NN into .tito/reference.json; this file then takes the module's files out of the
# library's sources and puts the objects in instead (they become members of libtinytorch.a like
# any compiled file, so no link-order or whole-archive issue). The learner's files are untouched.
#
# The choice file is a configure dependency: a plain `cmake --build` re-runs CMake after it
# changes. Configuring fails with a clear message when the choice names a module whose objects
# are missing or altered, or when the compiler is not the one that built them.
include_guard(GLOBAL)

# tinytorch_use_reference_objects(TARGET): called by tinytorch/CMakeLists.txt after every source
# of TARGET was added.
function(tinytorch_use_reference_objects target)
  set(choice "${PROJECT_SOURCE_DIR}/.tito/reference.json")
  if(NOT EXISTS "${choice}")
    return()
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${choice}")
  file(READ "${choice}" choice_json)
  string(JSON count ERROR_VARIABLE error LENGTH "${choice_json}" modules)
  if(error)
    message(FATAL_ERROR "${choice}: ${error} (./tito module use-mine NN rewrites it; deleting it "
                        "builds every module from your files)")
  endif()
  if(count EQUAL 0)
    return()
  endif()
  set(ids "")
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON id GET "${choice_json}" modules ${i})
    list(APPEND ids "${id}")
  endforeach()
  list(JOIN ids ", " ids_text)
  list(JOIN ids " " ids_args)

  set(manifest_path "${PROJECT_SOURCE_DIR}/reference/manifest.json")
  if(NOT EXISTS "${manifest_path}")
    message(FATAL_ERROR
      "module(s) ${ids_text} are set to use the reference implementation (${choice}), but this "
      "tree ships none (reference/manifest.json): the reference objects exist only in a learner "
      "release made by `tito release`. Run ./tito module use-mine ${ids_args}")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${manifest_path}")
  file(READ "${manifest_path}" manifest)
  string(JSON built_id GET "${manifest}" compiler id)
  string(JSON built_version GET "${manifest}" compiler version)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL built_id OR
     NOT CMAKE_CXX_COMPILER_VERSION STREQUAL built_version)
    message(FATAL_ERROR
      "module(s) ${ids_text} are set to use the reference implementation, whose objects were "
      "built by ${built_id} ${built_version}; this build uses ${CMAKE_CXX_COMPILER_ID} "
      "${CMAKE_CXX_COMPILER_VERSION}. Objects of another compiler cannot be linked safely: build "
      "with the release preset (./tito build), or run ./tito module use-mine ${ids_args}")
  endif()
  if(TINYTORCH_SANITIZE)
    message(STATUS "TinyTorch: the reference objects of module(s) ${ids_text} are release "
                   "objects, not instrumented by the sanitizers")
  endif()

  # The target's sources as absolute paths (add_library keeps them relative).
  get_target_property(sources ${target} SOURCES)
  set(absolute_sources "")
  foreach(source IN LISTS sources)
    get_filename_component(path "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND absolute_sources "${path}")
  endforeach()
  set(objects "")
  foreach(id IN LISTS ids)
    string(JSON module_objects ERROR_VARIABLE error GET "${manifest}" modules "${id}" objects)
    if(error)
      message(FATAL_ERROR "reference/manifest.json has no reference of module ${id} (run "
                          "./tito module use-mine ${id})")
    endif()
    string(JSON n LENGTH "${module_objects}")
    math(EXPR n_last "${n} - 1")
    foreach(i RANGE ${n_last})
      string(JSON source GET "${module_objects}" ${i} source)
      string(JSON object GET "${module_objects}" ${i} object)
      string(JSON expected GET "${module_objects}" ${i} sha256)
      set(source "${PROJECT_SOURCE_DIR}/${source}")
      set(object "${PROJECT_SOURCE_DIR}/${object}")
      list(FIND absolute_sources "${source}" at)
      if(at EQUAL -1)
        message(FATAL_ERROR "module ${id}'s reference replaces ${source}, which the library does "
                            "not compile (a manifest of another release?)")
      endif()
      if(NOT EXISTS "${object}")
        message(FATAL_ERROR "module ${id}'s reference object ${object} is missing (restore "
                            "reference/ from your release, or ./tito module use-mine ${id})")
      endif()
      file(SHA256 "${object}" actual)
      if(NOT actual STREQUAL expected)
        message(FATAL_ERROR "module ${id}'s reference object ${object} differs from the one "
                            "the release shipped (SHA-256 ${actual}, manifest ${expected})")
      endif()
      list(REMOVE_AT absolute_sources ${at})
      list(APPEND objects "${object}")
    endforeach()
  endforeach()
  set_source_files_properties(${objects} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED FALSE)
  # The registry's "which code runs" report names the modules linked from reference objects
  # (src/kernels/which_code.cpp); only that file is rebuilt when the choice changes.
  set_property(SOURCE "${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/which_code.cpp" APPEND PROPERTY
    COMPILE_DEFINITIONS "TINYTORCH_REFERENCE_MODULES=\"${ids_args}\"")
  set_property(SOURCE "${CMAKE_CURRENT_SOURCE_DIR}/src/kernels/which_code.cpp" PROPERTY
    TINYTORCH_CONFIGURED_HERE TRUE)
  set_property(TARGET ${target} PROPERTY SOURCES ${absolute_sources} ${objects})
  message(STATUS "TinyTorch: module(s) ${ids_text} linked against the release's reference "
                 "implementation (tito module use-reference); your files of them are not compiled")
endfunction()

# tinytorch_use_library_objects(TARGET): tito grade's sandbox (tools/tito/src/cmd_grade.cpp),
# and the end-to-end test's learner release (tests/course/e2e_learner.sh). With
# TINYTORCH_LIBRARY_OBJECTS_DIR set, every source of TARGET with an object
# DIR/<its path in the tree>.o is linked from that object instead of being compiled: the grader
# puts there the instructor's objects of the files no learner writes, compiled once in the
# instructor's build/release by the same compiler, so the sandbox compiles the learner files
# only. NOTE: a source that this configuration compiles in its own way (TINYTORCH_CONFIGURED_HERE:
# which_code.cpp, given the modules on the reference by tinytorch_use_reference_objects above) is
# compiled here: the instructor's object was compiled without that.
function(tinytorch_use_library_objects target)
  if(NOT TINYTORCH_LIBRARY_OBJECTS_DIR)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  set(kept "")
  set(linked 0)
  foreach(source IN LISTS sources)
    get_filename_component(path "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    file(RELATIVE_PATH relative "${PROJECT_SOURCE_DIR}" "${path}")
    set(object "${TINYTORCH_LIBRARY_OBJECTS_DIR}/${relative}.o")
    get_source_file_property(configured_here "${path}" TINYTORCH_CONFIGURED_HERE)
    if(EXISTS "${object}" AND NOT configured_here)
      list(APPEND kept "${object}")
      set_source_files_properties("${object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED FALSE)
      math(EXPR linked "${linked} + 1")
    else()
      list(APPEND kept "${path}")
    endif()
  endforeach()
  set_property(TARGET ${target} PROPERTY SOURCES ${kept})
  message(STATUS "TinyTorch: ${linked} of the library's files linked from the objects in "
                 "${TINYTORCH_LIBRARY_OBJECTS_DIR}")
endfunction()
