// Run summary per innovation, tracked step by step from the kernel's counts, and the run driver
// shared by `csei run`, the tests and sweeps.
#pragma once

#include "kernel/simulation.hpp"

#include <functional>
#include <string>
#include <vector>

namespace csei {

struct InnovationSummary {
  std::string name;
  std::int64_t adopters = 0;
  double final_share = 0.0;
  std::int64_t steps_to_10 = -1; // first step with at least 10 % of organisations adopted
  std::int64_t steps_to_50 = -1;
  std::int64_t steps_to_90 = -1;
  std::int64_t peak_step = -1;          // step with the most new adopters (first on ties; not 0)
  std::int64_t territories_reached = 0; // territories with at least one adopter at the end
  int leading_territory = -1;           // highest final adoption share (first on ties)
  double leading_share = 0.0;
};

/// One named scalar outcome of a run, e.g. "community_energy.final_share".
struct Metric {
  std::string name;
  double value;
};

/// The names of the per-innovation metrics, in the order metrics() lists them.
[[nodiscard]] const std::vector<std::string>& metric_names();

class SummaryTracker {
public:
  SummaryTracker(const Scenario& scenario, const World& world);
  void observe(const StepCounts& counts);
  [[nodiscard]] const std::vector<InnovationSummary>& summaries() const { return out_; }
  /// Every metric of every innovation, named "<innovation>.<metric>".
  [[nodiscard]] std::vector<Metric> metrics() const;

private:
  const World& world_;
  std::vector<InnovationSummary> out_;
  std::vector<std::int64_t> peak_new_;
};

/// Runs every step of the scenario on the world, calling on_step after step 0 and after every
/// step. Throws Interrupted if should_stop() returns true between steps.
std::vector<InnovationSummary> run_simulation(const Scenario& scenario, const World& world,
                                              const std::function<void(const StepCounts&)>& on_step,
                                              const std::function<bool()>& should_stop = {});

} // namespace csei
