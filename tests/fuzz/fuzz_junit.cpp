// Fuzzes tito's readers of ctest's output (tools/tito/src/course.cpp, compiled into this harness):
// the JUnit XML (parse_junit), then each test's gtest output (failure_lines, not_implemented_hint),
// as `tito module test` and `tito grade` read a run. No input may throw or crash.
#include <cstdint>
#include <string>

#include "course.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string xml(reinterpret_cast<const char*>(data), size);
  for (const auto& test : tito::parse_junit(xml)) {
    (void)tito::failure_lines(test.output);
    (void)tito::not_implemented_hint(test.output);
  }
  return 0;
}
