// Adoption rules: pure functions of an organisation's view of the previous step (a Candidate:
// its influence share, its fresh adopted neighbours, its own attributes) and its random stream,
// returning whether it adopts this step. The kernel chooses the rule once per decide pass
// (kernel/decide.cpp instantiates the pass for each rule type), never per organisation.
//
// Adding a rule: a struct here with `adopts(const Candidate&, Stream&) const` and its line in
// with_rule() below; its name in the rule table and its parameters (scenario/scenario.hpp and the
// scenario loader); and its test.
#pragma once

#include "core/rng.hpp"
#include "scenario/scenario.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <boost/random/bernoulli_distribution.hpp>
#include <cmath>
#include <cstdint>
#include <span>

namespace csei {

/// Draws true with probability p (no draw at all for p <= 0, so limit cases stay exact).
inline bool chance(double p, Stream& rng) {
  if (p <= 0.0) return false;
  if (p >= 1.0) return true;
  return boost::random::bernoulli_distribution<double>(p)(rng);
}

/// What an undecided organisation sees of the previous step when it decides.
struct Candidate {
  std::size_t id;      // the organisation
  double share;        // I: (weighted) share of adopted neighbours, in [0, 1]
  std::int64_t fresh;  // neighbours that adopted since its last decision (cascade rule)
  double cost;         // effective cost (after subsidies and resource pooling)
  double complexity;   // effective complexity (after knowledge sharing)
  double appeal_bonus; // public procurement
};

/// Bass (1969) in discrete time: a non-adopter adopts with probability (p + q * I) * dt, with
/// p and q per year, dt the step length in years and I the share of adopted neighbours. As dt
/// shrinks this approaches the continuous-time model.
struct BassRule {
  static constexpr bool uses_attributes = false;
  /// Nothing can happen in a pass (no external influence and no adopter, or no influence at
  /// all): the kernel may skip it, which keeps the p = 0, no-pioneer limit exact and cheap.
  [[nodiscard]] bool inert(std::int64_t adopters) const {
    return probability(1.0) <= 0.0 || (p_step <= 0.0 && adopters == 0);
  }
  double p_step; // p * dt
  double q_step; // q * dt

  BassRule(const InnovationSpec& inn, double dt) : p_step(inn.p * dt), q_step(inn.q * dt) {}

  [[nodiscard]] double probability(double influence) const {
    return std::min(1.0, p_step + q_step * influence);
  }
  [[nodiscard]] bool adopts(const Candidate& c, Stream& rng) const {
    return chance(probability(c.share), rng);
  }
};

/// Threshold (Granovetter 1978; Watts 2002): adopt once the share of adopted neighbours reaches
/// the organisation's own threshold, I >= theta. Deterministic given the thresholds, which are
/// kept in double precision: I = a / d is the correctly rounded quotient, so an exact fraction
/// such as 1/5 compares equal to theta = 0.2.
struct ThresholdRule {
  static constexpr bool uses_attributes = false;
  [[nodiscard]] static bool inert(std::int64_t) { return false; }
  std::span<const double> theta;

  [[nodiscard]] bool adopts(const Candidate& c, Stream&) const { return c.share >= theta[c.id]; }
};

/// Utility (after Delre, Jager and Janssen 2007): a logistic choice. The utility
///   V = appeal - complexity_weight * complexity_eff - cost_weight * cost_eff / resources
///       + social_weight * I + innovativeness_weight * innovativeness
/// gives the per-step adoption probability rate * dt * logistic(V).
struct UtilityRule {
  static constexpr bool uses_attributes = true;
  [[nodiscard]] static bool inert(std::int64_t) { return false; }
  const InnovationSpec& inn;
  double rate_step;
  std::span<const float> resources;
  std::span<const float> innovativeness;

  UtilityRule(const InnovationSpec& innovation, double dt, std::span<const float> resources_of,
              std::span<const float> innovativeness_of)
      : inn(innovation), rate_step(innovation.rate * dt), resources(resources_of),
        innovativeness(innovativeness_of) {}

  [[nodiscard]] double utility(double appeal, double complexity, double cost, double resource,
                               double influence, double innovative) const {
    const double burden = cost > 0 ? cost / std::max(resource, 1e-9) : 0.0;
    return appeal - inn.complexity_weight * complexity - inn.cost_weight * burden +
           inn.social_weight * influence + inn.innovativeness_weight * innovative;
  }
  [[nodiscard]] double probability(double v) const {
    return std::min(1.0, rate_step / (1.0 + std::exp(-v)));
  }
  [[nodiscard]] bool adopts(const Candidate& c, Stream& rng) const {
    const double v = utility(inn.appeal + c.appeal_bonus, c.complexity, c.cost, resources[c.id],
                             c.share, innovativeness[c.id]);
    return chance(probability(v), rng);
  }
};

/// Independent cascade (Kempe, Kleinberg and Tardos 2003): each neighbour that adopted since
/// the organisation last decided gets exactly one chance, with probability p, to convince it;
/// a neighbour that has abandoned since still had its chance.
struct CascadeRule {
  static constexpr bool uses_attributes = false;
  [[nodiscard]] static bool inert(std::int64_t) { return false; }
  double p;

  [[nodiscard]] static double probability(double p, std::int64_t fresh_neighbours) {
    return fresh_neighbours > 0 ? 1.0 - std::pow(1.0 - p, static_cast<double>(fresh_neighbours))
                                : 0.0;
  }
  [[nodiscard]] bool adopts(const Candidate& c, Stream& rng) const {
    return chance(probability(p, c.fresh), rng);
  }
};

/// Calls f(rule) with innovation k's rule, constructed once: the one place a rule is chosen.
template <class F>
void with_rule(const InnovationSpec& inn, std::size_t k, double dt, const Organisations& orgs,
               const F& f) {
  switch (inn.rule) {
  case InnovationSpec::Rule::bass:
    return f(BassRule(inn, dt));
  case InnovationSpec::Rule::threshold:
    return f(ThresholdRule{orgs.threshold[k]});
  case InnovationSpec::Rule::utility:
    return f(UtilityRule(inn, dt, orgs.resources, orgs.innovativeness));
  case InnovationSpec::Rule::cascade:
    return f(CascadeRule{inn.cascade_probability});
  }
}

/// Awareness (unaware -> aware) at a per-year rate: media and policy support of the territory,
/// word of mouth times the share of adopted neighbours, and a cluster's facilitation.
[[nodiscard]] inline bool becomes_aware(double rate_per_year, double dt, Stream& rng) {
  return chance(rate_per_year * dt, rng);
}

/// Discontinuance: an adopter whose effective cost exceeds its resources gives up at the
/// abandonment rate.
[[nodiscard]] inline bool abandons(double effective_cost, double resources, double p_step,
                                   Stream& rng) {
  return effective_cost > resources && chance(p_step, rng);
}

} // namespace csei
