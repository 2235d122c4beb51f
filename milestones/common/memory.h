// milestones/common/memory.h — the process's peak resident memory, as every milestone reports it.
//
//   out << "peak RSS " << mib(peak_rss_bytes()) << "\n";    // "peak RSS 412.3 MiB"
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>

namespace tinytorch::milestones {

// Peak resident memory of this process so far (the kernel's high-water mark), in bytes.
inline int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// "412.3 MiB".
inline std::string mib(int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0)
     << " MiB";
  return os.str();
}

}  // namespace tinytorch::milestones
