// Sampling of scenario distributions with Boost.Random.
#include "core/distribution.hpp"

#include <algorithm>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

namespace csei {

double Distribution::sample(Stream& stream, std::size_t index) const {
  double x = 0.0;
  switch (kind) {
  case Kind::fixed:
    x = value;
    break;
  case Kind::uniform:
    x = (min == max) ? min : boost::random::uniform_real_distribution<double>(min, max)(stream);
    break;
  case Kind::normal:
    x = sd == 0.0 ? mean : boost::random::normal_distribution<double>(mean, sd)(stream);
    break;
  case Kind::lognormal: {
    // Scenario gives mean and sd of the variable itself; convert to the log-space parameters.
    if (sd == 0.0) {
      x = mean;
      break;
    }
    const double s2 = std::log1p((sd * sd) / (mean * mean));
    const double mu = std::log(mean) - 0.5 * s2;
    x = boost::random::lognormal_distribution<double>(mu, std::sqrt(s2))(stream);
    break;
  }
  case Kind::values:
    x = values[index];
    break;
  }
  return std::clamp(x, lower, upper);
}

const char* Distribution::kind_name(Kind k) {
  return kDistributionKinds(k);
}

} // namespace csei
