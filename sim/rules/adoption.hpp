// Adoption rules: pure functions of an organisation's view of the previous step (its influence
// share, its own threshold) and its random stream, returning whether it adopts this step.
#pragma once

#include "core/rng.hpp"
#include "scenario/scenario.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>

namespace csei {

/// Bass (1969) in discrete time: a non-adopter adopts with probability (p + q * I) * dt, with
/// p and q per year, dt the step length in years and I the share of adopted neighbours. As dt
/// shrinks this approaches the continuous-time model.
struct BassRule {
  double p_step; // p * dt
  double q_step; // q * dt

  BassRule(const InnovationSpec& inn, double dt) : p_step(inn.p * dt), q_step(inn.q * dt) {}

  [[nodiscard]] double probability(double influence) const {
    return std::min(1.0, p_step + q_step * influence);
  }
  [[nodiscard]] bool adopts(double influence, Stream& rng) const {
    const double prob = probability(influence);
    if (prob <= 0.0) return false; // no draw needed: keeps limit cases exact and cheap
    return boost::random::bernoulli_distribution<double>(prob)(rng);
  }
};

/// Threshold (Granovetter 1978; Watts 2002): adopt once the share of adopted neighbours reaches
/// the organisation's own threshold. Deterministic given the thresholds.
struct ThresholdRule {
  [[nodiscard]] static bool adopts(double influence, float threshold) {
    return influence >= static_cast<double>(threshold);
  }
};

} // namespace csei
