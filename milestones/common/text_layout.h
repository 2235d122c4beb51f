// milestones/common/text_layout.h — the small text helpers every milestone's report uses.
//
//   fixed(0.5, 2)                  -> "0.50"      (never "-0.00")
//   beside({"ab", "c"}, {"x"}, 2)  -> {"ab  x", "c"}
//
// Header-only; milestones include it as "common/text_layout.h".
#pragma once

#include <algorithm>
#include <cstddef>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace tinytorch::milestones {

// v with `digits` decimals; a negative zero prints as "0.00", not "-0.00".
inline std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << (v == 0.0 ? 0.0 : v);
  return os.str();
}

// Two blocks of text lines side by side: every left line padded to the widest one plus `gap`
// spaces, then the right line of the same row (either block may be the taller).
inline std::vector<std::string> beside(const std::vector<std::string>& left,
                                       const std::vector<std::string>& right, size_t gap) {
  size_t width = 0;
  for (const auto& line : left) width = std::max(width, line.size());
  std::vector<std::string> out;
  for (size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
    std::string line = i < left.size() ? left[i] : "";
    line.resize(width + gap, ' ');
    out.push_back(line + (i < right.size() ? right[i] : ""));
  }
  return out;
}

}  // namespace tinytorch::milestones
