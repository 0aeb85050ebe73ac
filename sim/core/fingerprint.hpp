// A 128-bit fingerprint of texts (two independent 64-bit FNV-1a-then-mix hashes): what a journal
// records of the inputs that determine its results, so that --resume refuses a changed input.
// Not cryptographic; the same texts in the same order give the same fingerprint everywhere.
#pragma once

#include "core/rng.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace csei {

class Fingerprint {
public:
  /// Adds one text (its length too, so that "ab","c" and "a","bc" differ).
  void feed(std::string_view s) {
    for (const char c : s) {
      h1_ = (h1_ ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
      h2_ = (h2_ ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL + 0x9E37;
    }
    h1_ = mix64(h1_ ^ s.size());
    h2_ = mix64(h2_ + s.size());
  }
  /// 32 hexadecimal digits.
  [[nodiscard]] std::string hex() const {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h1_),
                  static_cast<unsigned long long>(h2_));
    return buf;
  }

private:
  std::uint64_t h1_ = 0xCBF29CE484222325ULL, h2_ = 0x84222325CBF29CE4ULL;
};

} // namespace csei
