// A probability distribution as declared in a scenario (thresholds, organisation sizes), and its
// sampling through Boost.Random.
#pragma once

#include "core/names.hpp"
#include "core/rng.hpp"

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

} // namespace csei
