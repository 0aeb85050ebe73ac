// Quoting text for machine-readable output: one escaping that is both a JSON string and a TOML
// basic string (quotes, backslashes, newlines, tabs, other control characters as \uXXXX).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace csei {

[[nodiscard]] inline std::string quote_text(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x",
                      static_cast<unsigned>(static_cast<unsigned char>(c)));
        out += buf;
      } else {
        out += c;
      }
    }
  }
  return out + '"';
}

} // namespace csei
