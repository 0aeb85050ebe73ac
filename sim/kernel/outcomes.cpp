// Phase 7, outcomes: jobs created and ecological impact of the current adopters, and the counts
// of the step as the kernel hands them to writers and summaries.
#include "kernel/simulation.hpp"

#include <algorithm>

namespace csei {

void Simulation::update_outcomes() {
  StepOutcomes& o = state_.counts;
  for (std::size_t x = 0; x < I_ * T_; ++x) {
    const InnovationSpec& inn = scenario_.innovations[x / T_];
    o.jobs[x] = static_cast<double>(o.adopters[x]) * inn.jobs_per_adopter;
    o.impact[x] = o.adopter_jobs[x] * inn.impact_per_job;
  }
}

void Simulation::begin_step() {
  std::fill(state_.counts.new_adopters.begin(), state_.counts.new_adopters.end(), 0);
  std::fill(state_.counts.transfers.begin(), state_.counts.transfers.end(), 0);
  std::fill(state_.counts.bridge_transfers.begin(), state_.counts.bridge_transfers.end(), 0);
  std::fill(state_.counts.distant_transfers.begin(), state_.counts.distant_transfers.end(), 0);
  std::fill(state_.counts.spending.begin(), state_.counts.spending.end(), 0.0);
}

StepCounts Simulation::counts() const {
  const StepOutcomes& o = state_.counts;
  StepCounts c;
  c.step = state_.step;
  c.innovations = I_;
  c.territories = T_;
  c.clusters = state_.cluster_slots;
  c.adopters = o.adopters;
  c.new_adopters = o.new_adopters;
  c.aware = o.aware;
  c.abandoned = o.abandoned;
  c.member_adopters = o.member_adopters;
  c.members = o.members;
  c.adopters_by_form = o.by_form;
  c.jobs = o.jobs;
  c.impact = o.impact;
  c.transfers = o.transfers;
  c.bridge_transfers = o.bridge_transfers;
  c.distant_transfers = o.distant_transfers;
  c.suited_members = o.suited_members;
  c.spending = o.spending;
  c.cluster_members = o.cluster_members;
  c.cluster_adopters = o.cluster_adopters;
  return c;
}

} // namespace csei
