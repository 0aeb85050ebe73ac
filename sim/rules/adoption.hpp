// Adoption rules: pure functions of an organisation's view of the previous step (its influence
// share, its own attributes) and its random stream, returning whether it adopts this step.
#pragma once

#include "core/rng.hpp"
#include "scenario/scenario.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <cmath>

namespace csei {

/// Draws true with probability p (no draw at all for p <= 0, so limit cases stay exact).
inline bool chance(double p, Stream& rng) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return boost::random::bernoulli_distribution<double>(p)(rng);
}

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
    return chance(probability(influence), rng);
  }
};

/// Threshold (Granovetter 1978; Watts 2002): adopt once the share of adopted neighbours reaches
/// the organisation's own threshold. Deterministic given the thresholds.
struct ThresholdRule {
  [[nodiscard]] static bool adopts(double influence, float threshold) {
    return influence >= static_cast<double>(threshold);
  }
};

/// Utility (after Delre, Jager and Janssen 2007): a logistic choice. The utility
///   V = appeal - complexity_weight * complexity_eff - cost_weight * cost_eff / resources
///       + social_weight * I + innovativeness_weight * innovativeness
/// gives the per-step adoption probability rate * dt * logistic(V).
struct UtilityRule {
  const InnovationSpec& inn;
  double rate_step;

  UtilityRule(const InnovationSpec& innovation, double dt)
      : inn(innovation), rate_step(innovation.rate * dt) {}

  [[nodiscard]] double utility(double appeal, double complexity, double cost, double resources,
                               double influence, double innovativeness) const {
    const double burden = cost > 0 ? cost / std::max(resources, 1e-9) : 0.0;
    return appeal - inn.complexity_weight * complexity - inn.cost_weight * burden +
           inn.social_weight * influence + inn.innovativeness_weight * innovativeness;
  }
  [[nodiscard]] double probability(double v) const {
    return std::min(1.0, rate_step / (1.0 + std::exp(-v)));
  }
};

/// Independent cascade (Kempe, Kleinberg and Tardos 2003): each neighbour that adopted since
/// the organisation last decided gets one chance, with probability p, to convince it.
struct CascadeRule {
  [[nodiscard]] static double probability(double p, std::int32_t fresh_neighbours) {
    return fresh_neighbours > 0 ? 1.0 - std::pow(1.0 - p, fresh_neighbours) : 0.0;
  }
};

} // namespace csei
