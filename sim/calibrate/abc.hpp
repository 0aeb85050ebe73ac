// ABC-SMC (Toni et al. 2009; Beaumont et al. 2009) over a calibration's parameters, with the
// sweep runner evaluating the particles: generation 0 from the prior, then populations under
// shrinking tolerances (a quantile of the previous population's distances), proposals perturbed
// by a Gaussian kernel with twice the previous population's weighted covariance, importance
// weights prior / sum_j w_j K. Proposals are drawn in a fixed order from seeded streams and
// evaluated in batches; acceptance goes in proposal order, so the result depends on the
// calibration seed only, never on the thread count.
#pragma once

#include "calibrate/spec.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace csei::calibrate {

struct Generation {
  double tolerance = 0;                 // +inf in generation 0
  std::int64_t proposals = 0;           // proposals used to fill the population (simulated)
  std::int64_t evaluations = 0;         // runs made (every proposal of every batch x replicates)
  double acceptance_rate = 0;           // particles / proposals
  std::vector<double> particles;        // [N][P] parameter values
  std::vector<double> weights;          // [N], sum 1
  std::vector<double> distances;        // [N] weighted sum over the targets
  std::vector<double> target_distances; // [N][K]
  std::vector<double> z;                // [N][P] the sampler's coordinates (kept for resuming)
  double seconds = 0;
};

struct Result {
  std::vector<Generation> generations; // complete ones only
  std::string stop_reason;
  std::int64_t evaluations = 0; // runs in all, predictive ones included
  std::int64_t failed = 0;      // runs that failed (their particles never accepted)
  std::string first_failure;
  double seconds = 0, run_seconds = 0;
  // Posterior summaries of the last generation, per parameter (weighted quantiles).
  std::vector<double> q05, q50, q95, mean;
  // Posterior predictive: M draws from the last generation, one run each.
  std::vector<double> predictive_particles; // [M][P]
  std::vector<double> predictive_series;    // [M][sum of target years], in real entities
  std::vector<double> predictive_q05, predictive_q50, predictive_q95; // [sum of target years]
};

struct Progress {
  std::int64_t generation = 0, accepted = 0, proposals = 0, evaluations = 0;
  double tolerance = 0;
  bool predictive = false;
};

/// Runs the calibration on `threads` threads. Throws Interrupted if should_stop() stopped it,
/// std::runtime_error if every run of generation 0 failed. With `resume` (the generations and
/// counters of an interrupted calibration) it continues after its last generation, to the same
/// result as an uninterrupted run; `generation_done` is called after each complete generation.
[[nodiscard]] Result run_abc_smc(const CalibrationSpec& spec, int threads,
                                 const std::function<void(const Progress&)>& progress = {},
                                 const std::function<bool()>& should_stop = {},
                                 const Result* resume = nullptr,
                                 const std::function<void(const Result&)>& generation_done = {});

/// The distance of one target from its model series (values per year of the run, in real
/// entities).
[[nodiscard]] double target_distance(const Target& t, const double* model_years);

/// Weighted quantile: the smallest x with cumulative weight >= q (x sorted with its weights).
[[nodiscard]] double weighted_quantile(std::vector<std::pair<double, double>> xw, double q);

} // namespace csei::calibrate
