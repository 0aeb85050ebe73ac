// Summary metrics from per-step counts.
#include "kernel/summary.hpp"

namespace csei {

SummaryTracker::SummaryTracker(const Scenario& scenario, const World& world) : world_(world) {
  for (const auto& inn : scenario.innovations)
    out_.push_back({inn.name});
}

void SummaryTracker::observe(const StepCounts& c) {
  const auto n = static_cast<double>(world_.organisation_count());
  for (std::size_t k = 0; k < c.innovations; ++k) {
    InnovationSummary& s = out_[k];
    std::int64_t total = 0;
    s.leading_territory = -1;
    s.leading_share = 0.0;
    for (std::size_t t = 0; t < c.territories; ++t) {
      const std::int64_t a = c.adopters[k * c.territories + t];
      total += a;
      const auto size = world_.territory_begin[t + 1] - world_.territory_begin[t];
      const double share = size > 0 ? static_cast<double>(a) / static_cast<double>(size) : 0.0;
      if (size > 0 && (s.leading_territory < 0 || share > s.leading_share)) {
        s.leading_territory = static_cast<int>(t);
        s.leading_share = share;
      }
    }
    s.adopters = total;
    s.final_share = n > 0 ? static_cast<double>(total) / n : 0.0;
    if (s.step_50 < 0 && 2 * total >= world_.organisation_count()) s.step_50 = c.step;
  }
}

} // namespace csei
