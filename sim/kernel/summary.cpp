// Summary metrics from per-step counts, and the run driver.
#include "kernel/summary.hpp"

#include "core/error.hpp"

namespace csei {

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {
      "adopters",    "final_share", "steps_to_10",         "steps_to_50",
      "steps_to_90", "peak_step",   "territories_reached", "leading_share"};
  return names;
}

SummaryTracker::SummaryTracker(const Scenario& scenario, const World& world) : world_(world) {
  for (const auto& inn : scenario.innovations)
    out_.push_back({inn.name});
  peak_new_.assign(out_.size(), 0);
}

void SummaryTracker::observe(const StepCounts& c) {
  const std::int64_t n = world_.organisation_count();
  for (std::size_t k = 0; k < c.innovations; ++k) {
    InnovationSummary& s = out_[k];
    std::int64_t total = 0, fresh = 0, reached = 0;
    s.leading_territory = -1;
    s.leading_share = 0.0;
    for (std::size_t t = 0; t < c.territories; ++t) {
      const std::int64_t a = c.adopters[k * c.territories + t];
      total += a;
      fresh += c.new_adopters[k * c.territories + t];
      reached += a > 0;
      const auto size = world_.territory_begin[t + 1] - world_.territory_begin[t];
      const double share = size > 0 ? static_cast<double>(a) / static_cast<double>(size) : 0.0;
      if (size > 0 && (s.leading_territory < 0 || share > s.leading_share)) {
        s.leading_territory = static_cast<int>(t);
        s.leading_share = share;
      }
    }
    s.adopters = total;
    s.territories_reached = reached;
    s.final_share = n > 0 ? static_cast<double>(total) / static_cast<double>(n) : 0.0;
    // Integer comparisons: total >= n * x% exactly, whatever the floating-point rounding.
    if (s.steps_to_10 < 0 && 10 * total >= n) s.steps_to_10 = c.step;
    if (s.steps_to_50 < 0 && 2 * total >= n) s.steps_to_50 = c.step;
    if (s.steps_to_90 < 0 && 10 * total >= 9 * n) s.steps_to_90 = c.step;
    if (c.step > 0 && fresh > peak_new_[k]) {
      peak_new_[k] = fresh;
      s.peak_step = c.step;
    }
  }
}

std::vector<Metric> SummaryTracker::metrics() const {
  std::vector<Metric> out;
  for (const auto& s : out_) {
    const double values[] = {static_cast<double>(s.adopters),
                             s.final_share,
                             static_cast<double>(s.steps_to_10),
                             static_cast<double>(s.steps_to_50),
                             static_cast<double>(s.steps_to_90),
                             static_cast<double>(s.peak_step),
                             static_cast<double>(s.territories_reached),
                             s.leading_share};
    for (std::size_t m = 0; m < metric_names().size(); ++m)
      out.push_back({s.name + "." + metric_names()[m], values[m]});
  }
  return out;
}

std::vector<InnovationSummary> run_simulation(const Scenario& scenario, const World& world,
                                              const std::function<void(const StepCounts&)>& on_step,
                                              const std::function<bool()>& should_stop) {
  Simulation sim(scenario, world);
  SummaryTracker summary(scenario, world);
  sim.initialise();
  for (;;) {
    const StepCounts c = sim.counts();
    summary.observe(c);
    if (on_step) on_step(c);
    if (c.step == scenario.steps) break;
    if (should_stop && should_stop()) throw Interrupted();
    sim.step();
  }
  return summary.summaries();
}

} // namespace csei
