// Fuzzes tito's solution-marker parser (tools/tito/src/markers.cpp, compiled into this harness):
// parse any text; when it is well-formed, the stubbed file `tito release` would write must parse
// again to the same regions, each of which must count as an untouched stub (what `tito module
// status` relies on). A violation aborts, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "markers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace markers = tito::markers;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const markers::Parsed parsed = markers::parse(text);
  for (const auto& line : parsed.lines) (void)markers::split_parameters(line);
  if (!parsed.errors.empty() || parsed.regions.empty()) return 0;

  const markers::StubContext context{.module_id = "01",
                                     .module_name = "tensor",
                                     .file = "tinytorch/src/core/tensor.cpp",
                                     .chapter = "modules/01_tensor/README.md"};
  const std::string stubbed = markers::stubbed_text(parsed, context);
  const markers::Parsed again = markers::parse(stubbed);
  if (!again.errors.empty() || again.regions.size() != parsed.regions.size()) std::abort();
  for (const auto& region : again.regions) {
    if (!markers::region_is_stub(again, region, context)) std::abort();
  }
  return 0;
}
