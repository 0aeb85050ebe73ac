// Run summary per innovation, tracked step by step from the kernel's counts.
#pragma once

#include "kernel/simulation.hpp"

#include <string>
#include <vector>

namespace csei {

struct InnovationSummary {
  std::string name;
  std::int64_t adopters = 0;
  double final_share = 0.0;
  std::int64_t step_50 = -1;  // first step with at least half the organisations adopted
  int leading_territory = -1; // highest final adoption share (first on ties)
  double leading_share = 0.0;
};

class SummaryTracker {
public:
  SummaryTracker(const Scenario& scenario, const World& world);
  void observe(const StepCounts& counts);
  [[nodiscard]] std::vector<InnovationSummary> summaries() const { return out_; }

private:
  const World& world_;
  std::vector<InnovationSummary> out_;
};

} // namespace csei
