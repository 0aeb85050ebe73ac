// A probability distribution as declared in a scenario (thresholds, organisation sizes), and its
// sampling through Boost.Random.
#pragma once

#include "core/names.hpp"
#include "core/rng.hpp"

#include <array>
#include <limits>
#include <string>
#include <vector>

namespace csei {

struct Distribution {
  enum class Kind { fixed, uniform, normal, lognormal, values };

  Kind kind = Kind::fixed;
  double value = 0.0;          // fixed
  double min = 0.0, max = 1.0; // uniform bounds
  double mean = 0.0, sd = 0.0; // normal; lognormal (of the variable itself)
  double lower = -std::numeric_limits<double>::infinity(); // clamp applied after drawing
  double upper = std::numeric_limits<double>::infinity();
  std::vector<double> values; // values: the i-th organisation gets values[i]

  [[nodiscard]] static Distribution constant(double v) {
    Distribution d;
    d.value = v;
    return d;
  }

  /// Draw for the organisation with global index `index` (only `values` uses the index).
  [[nodiscard]] double sample(Stream& stream, std::size_t index) const;

  [[nodiscard]] static const char* kind_name(Kind k);
};

inline constexpr NameTable<Distribution::Kind, 5> kDistributionKinds{
    {"fixed", "uniform", "normal", "lognormal", "values"}};

/// The distribution keys each kind reads (bit k = Kind k); `kind`, `lower` and `upper` are read by
/// every kind. A distribution that sets a key its kind does not read is refused.
struct DistributionParameter {
  const char* key;
  unsigned kinds;
};
inline constexpr std::array<DistributionParameter, 6> kDistributionParameters{{
    {"value", 1U << 0},
    {"min", 1U << 1},
    {"max", 1U << 1},
    {"mean", (1U << 2) | (1U << 3)},
    {"sd", (1U << 2) | (1U << 3)},
    {"values", 1U << 4},
}};

} // namespace csei
