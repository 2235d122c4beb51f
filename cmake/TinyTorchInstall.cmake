# `cmake --install`: the headers, the library and a CMake package, so that another project can
#
#   find_package(TinyTorch 0.1 REQUIRED)        # CMAKE_PREFIX_PATH=<prefix> if not in /usr/local
#   target_link_libraries(app PRIVATE TinyTorch::tinytorch)
#
# What lands under <prefix>:
#   include/tinytorch/...                      the public headers (tinytorch/include)
#   lib/libtinytorch.a                         the library (static unless BUILD_SHARED_LIBS)
#   lib/cmake/TinyTorch/TinyTorchConfig.cmake  finds Threads, zlib and (if used) OpenMP, then
#   lib/cmake/TinyTorch/TinyTorchTargets.cmake   imports TinyTorch::tinytorch with its usage
#   lib/cmake/TinyTorch/TinyTorchConfigVersion.cmake  requirements (include dir, C++20, threads,
#                                                     OpenMP, zlib); 0.x: same minor version
# Only the library is installed: tests, labs, benchmarks and tito are for the course.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(NOT TARGET tinytorch)
  return()
endif()

set(TINYTORCH_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/TinyTorch" CACHE STRING
  "Where the CMake package files of TinyTorch are installed (relative to the prefix)")
mark_as_advanced(TINYTORCH_INSTALL_CMAKEDIR)

# tinytorch_openmp travels with the library: it carries TINYTORCH_HAVE_OPENMP, which the inline
# code of core/parallel.h reads in the user's own translation units.
install(TARGETS tinytorch tinytorch_openmp
  EXPORT TinyTorchTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/tinytorch/include/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h")
install(EXPORT TinyTorchTargets
  NAMESPACE TinyTorch::
  DESTINATION "${TINYTORCH_INSTALL_CMAKEDIR}")

# The config file re-finds what the imported target names (OpenMP only when this build used it).
set(TINYTORCH_PACKAGE_OPENMP ${TINYTORCH_HAVE_OPENMP})
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/TinyTorchConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/TinyTorchConfig.cmake"
  INSTALL_DESTINATION "${TINYTORCH_INSTALL_CMAKEDIR}")
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file("${CMAKE_BINARY_DIR}/TinyTorchConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/TinyTorchConfig.cmake"
  "${CMAKE_BINARY_DIR}/TinyTorchConfigVersion.cmake"
  DESTINATION "${TINYTORCH_INSTALL_CMAKEDIR}")
