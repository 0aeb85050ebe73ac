// --shard K/N, as csei sweep and csei calibrate take it.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace csei {

struct Shard {
  std::int64_t k = 1, n = 1; // 1-based
  [[nodiscard]] bool whole() const { return n == 1; }
  [[nodiscard]] bool holds(std::int64_t run) const { return run % n == k - 1; }
  [[nodiscard]] std::string text() const {
    return whole() ? "" : std::to_string(k) + "/" + std::to_string(n);
  }
};

inline Shard parse_shard(const std::string& s) {
  Shard out;
  if (s.empty()) return out;
  const SourceLocation where{"command line (--shard " + s + ")", 0, 0, "shard"};
  const auto slash = s.find('/');
  try {
    std::size_t a = 0, b = 0;
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    out.k = std::stoll(s.substr(0, slash), &a);
    out.n = std::stoll(s.substr(slash + 1), &b);
    if (a != slash || b != s.size() - slash - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw InputError(where, "expected K/N, e.g. 2/3 for the second of three shards");
  }
  if (out.n < 1 || out.k < 1 || out.k > out.n)
    throw InputError(where, "K/N needs 1 <= K <= N, got " + s);
  return out;
}

} // namespace csei
