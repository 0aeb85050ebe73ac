// How much memory a scenario or sweep may plan to use: checked before anything is allocated, so
// a scenario that cannot fit gets an input error naming the key instead of "out of memory".
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace csei {

/// The memory a run or sweep may plan for: the machine's physical memory, or the environment
/// variable CSEI_MEMORY_LIMIT (bytes; suffixes K, M, G, T) if it is set and smaller.
[[nodiscard]] inline std::uint64_t memory_limit_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t limit = pages > 0 && page > 0
                            ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                            : (std::uint64_t{1} << 40);
  if (const char* env = std::getenv("CSEI_MEMORY_LIMIT"); env && *env) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    double scale = 1;
    switch (end && *end ? *end : ' ') {
    case 'K':
    case 'k':
      scale = 1024.0;
      break;
    case 'M':
    case 'm':
      scale = 1024.0 * 1024;
      break;
    case 'G':
    case 'g':
      scale = 1024.0 * 1024 * 1024;
      break;
    case 'T':
    case 't':
      scale = 1024.0 * 1024 * 1024 * 1024;
      break;
    default:
      break;
    }
    if (v > 0 && v * scale < static_cast<double>(limit))
      limit = static_cast<std::uint64_t>(v * scale);
  }
  return limit;
}

/// "12.3 GiB" (or MiB for less than a GiB).
[[nodiscard]] inline std::string format_bytes(double bytes) {
  char buf[48];
  if (bytes >= 1024.0 * 1024 * 1024 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.3g PiB", bytes / (1024.0 * 1024 * 1024 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / (1024.0 * 1024 * 1024));
  else
    std::snprintf(buf, sizeof buf, "%.3g MiB", bytes / (1024.0 * 1024));
  return buf;
}

} // namespace csei
