// One name table per enumeration: the names a scenario file, a validation message, an output
// file and the docs use for its values, in the enumeration's order. Parsing, messages ("expected
// one of ...") and writers all read the same table, so a value has one spelling everywhere.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace csei {

template <class Enum, std::size_t N>
struct NameTable {
  std::array<const char*, N> names;

  [[nodiscard]] static constexpr std::size_t size() { return N; }
  /// The name of a value.
  [[nodiscard]] constexpr const char* operator()(Enum e) const {
    return names[static_cast<std::size_t>(e)];
  }
  /// The value with this name, if any.
  [[nodiscard]] constexpr std::optional<Enum> parse(std::string_view name) const {
    for (std::size_t i = 0; i < N; ++i)
      if (name == names[i]) return static_cast<Enum>(i);
    return std::nullopt;
  }
  /// Every name, in order (for "one of ..." messages and readers that take a list of choices).
  [[nodiscard]] std::vector<std::string> list() const { return {names.begin(), names.end()}; }
};

} // namespace csei
