// Summary metrics from per-step counts, and the run driver.
#include "kernel/summary.hpp"

#include "core/error.hpp"

#include <cmath>
#include <limits>

namespace csei {

namespace {

template <auto Field>
double field(const InnovationSummary& s) {
  return static_cast<double>(s.*Field);
}

template <std::size_t Category>
double rogers(const InnovationSummary& s) {
  return s.rogers[Category];
}

// clang-format off
constexpr std::array kMetrics = {
    // name, units, description, value
    MetricDef{"adopters", "organisations", "current adopters at the end", field<&InnovationSummary::adopters>},
    MetricDef{"final_share", "share", "adopters at the end / all organisations", field<&InnovationSummary::final_share>},
    MetricDef{"steps_to_10", "step", "first step with at least 10 % of all organisations adopted; -1 = never", field<&InnovationSummary::steps_to_10>},
    MetricDef{"steps_to_50", "step", "first step with at least 50 % of all organisations adopted; -1 = never", field<&InnovationSummary::steps_to_50>},
    MetricDef{"steps_to_90", "step", "first step with at least 90 % of all organisations adopted; -1 = never", field<&InnovationSummary::steps_to_90>},
    MetricDef{"peak_step", "step", "step with the most new adopters (first on ties); -1 = none after step 0", field<&InnovationSummary::peak_step>},
    MetricDef{"territories_reached", "territories", "territories with at least one adopter at the end", field<&InnovationSummary::territories_reached>},
    MetricDef{"leading_share", "share", "highest adoption share of a territory at the end", field<&InnovationSummary::leading_share>},
    MetricDef{"aware_share", "share", "organisations aware or beyond at the end / all organisations", field<&InnovationSummary::aware_share>},
    MetricDef{"member_share", "share", "adoption share among cluster members at the end; NaN when there are none", field<&InnovationSummary::member_share>},
    MetricDef{"nonmember_share", "share", "adoption share among non-members at the end; NaN when there are none", field<&InnovationSummary::nonmember_share>},
    MetricDef{"cluster_advantage", "share", "member_share - nonmember_share; NaN when there are no members or no non-members", field<&InnovationSummary::cluster_advantage>},
    MetricDef{"transfers", "organisations", "adoptions via bridge or distant links, whole run", field<&InnovationSummary::transfers>},
    MetricDef{"abandoned", "organisations", "abandonments, whole run", field<&InnovationSummary::abandoned>},
    MetricDef{"rogers_innovators", "share of adoptions", "adoptions before m - 2s (m, s: mean and standard deviation of the adoption steps; NaN if s = 0)", rogers<0>},
    MetricDef{"rogers_early_adopters", "share of adoptions", "adoptions in [m - 2s, m - s)", rogers<1>},
    MetricDef{"rogers_early_majority", "share of adoptions", "adoptions in [m - s, m)", rogers<2>},
    MetricDef{"rogers_late_majority", "share of adoptions", "adoptions in [m, m + s)", rogers<3>},
    MetricDef{"rogers_laggards", "share of adoptions", "adoptions at or after m + s", rogers<4>},
};
// clang-format on
static_assert(kRogersCategories.size() == 5, "one rogers_* metric per category");

} // namespace

std::span<const MetricDef> summary_metrics() {
  return kMetrics;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& m : kMetrics)
      v.emplace_back(m.name);
    return v;
  }();
  return names;
}

std::vector<double> metric_values(const InnovationSummary& s) {
  std::vector<double> v;
  v.reserve(kMetrics.size());
  for (const auto& m : kMetrics)
    v.push_back(m.value(s));
  return v;
}

SummaryTracker::SummaryTracker(const Scenario& scenario, const World& world) : world_(world) {
  for (const auto& inn : scenario.innovations) {
    InnovationSummary s;
    s.name = inn.name;
    out_.push_back(std::move(s));
  }
  peak_new_.assign(out_.size(), 0);
  adoptions_by_step_.resize(out_.size());
}

void SummaryTracker::observe(const StepCounts& c) {
  const std::int64_t n = world_.organisation_count();
  const auto ratio = [](std::int64_t a, std::int64_t b) {
    return b > 0 ? static_cast<double>(a) / static_cast<double>(b)
                 : std::numeric_limits<double>::quiet_NaN();
  };
  std::int64_t members = 0;
  for (std::size_t t = 0; t < c.territories; ++t)
    members += c.members[t];
  for (std::size_t k = 0; k < c.innovations; ++k) {
    InnovationSummary& s = out_[k];
    std::int64_t total = 0, fresh = 0, reached = 0, aware = 0, member_adopters = 0, abandoned = 0;
    s.leading_territory = -1;
    s.leading_share = 0.0;
    for (std::size_t t = 0; t < c.territories; ++t) {
      const std::size_t x = k * c.territories + t;
      const std::int64_t a = c.adopters[x];
      total += a;
      fresh += c.new_adopters[x];
      aware += c.aware[x];
      member_adopters += c.member_adopters[x];
      abandoned += c.abandoned[x];
      s.transfers += c.transfers[x];
      reached += a > 0;
      const auto size = world_.territory_begin[t + 1] - world_.territory_begin[t];
      const double share = size > 0 ? static_cast<double>(a) / static_cast<double>(size) : 0.0;
      if (size > 0 && (s.leading_territory < 0 || share > s.leading_share)) {
        s.leading_territory = static_cast<int>(t);
        s.leading_share = share;
      }
    }
    s.adopters = total;
    s.abandoned = abandoned;
    s.territories_reached = reached;
    s.final_share = n > 0 ? static_cast<double>(total) / static_cast<double>(n) : 0.0;
    s.aware_share = n > 0 ? static_cast<double>(aware) / static_cast<double>(n) : 0.0;
    s.member_share = ratio(member_adopters, members);
    s.nonmember_share = ratio(total - member_adopters, n - members);
    s.cluster_advantage = s.member_share - s.nonmember_share;
    // Integer comparisons: total >= n * x% exactly, whatever the floating-point rounding.
    if (s.steps_to_10 < 0 && 10 * total >= n) s.steps_to_10 = c.step;
    if (s.steps_to_50 < 0 && 2 * total >= n) s.steps_to_50 = c.step;
    if (s.steps_to_90 < 0 && 10 * total >= 9 * n) s.steps_to_90 = c.step;
    if (c.step > 0 && fresh > peak_new_[k]) {
      peak_new_[k] = fresh;
      s.peak_step = c.step;
    }
    adoptions_by_step_[k].push_back(fresh);
  }
}

std::array<double, 5> rogers_shares(std::span<const std::int64_t> h) {
  // With W adoptions, A = sum x and B = sum x^2 over them: m = A / W and s = sqrt(V) / W with
  // V = B W - A^2. For a step x, d = W x - A has the sign of x - m, and x >= m + j s exactly when
  // d >= j sqrt(V), which squares into integer comparisons (in 128 bits: W B can pass 2^63).
  __extension__ typedef __int128 wide;
  wide W = 0, A = 0, B = 0;
  for (std::size_t x = 0; x < h.size(); ++x) {
    const wide w = h[x], step = static_cast<wide>(x);
    W += w;
    A += w * step;
    B += w * step * step;
  }
  std::array<double, 5> out;
  const wide V = B * W - A * A;
  if (W <= 0 || V <= 0) {
    out.fill(std::numeric_limits<double>::quiet_NaN());
    return out;
  }
  out.fill(0.0);
  for (std::size_t x = 0; x < h.size(); ++x) {
    if (h[x] == 0) continue;
    const wide d = W * static_cast<wide>(x) - A;
    // Edges at m - 2s, m - s, m, m + s: the category is the number of edges at or below x.
    std::size_t category = 0;
    for (const wide j : {-2, -1, 0, 1}) {
      const bool at_or_above = j < 0    ? (d >= 0 || d * d <= j * j * V)
                               : j == 0 ? d >= 0
                                        : (d >= 0 && d * d >= j * j * V);
      category += at_or_above;
    }
    out[category] += static_cast<double>(h[x]);
  }
  const auto total = static_cast<double>(W);
  for (auto& v : out)
    v /= total;
  return out;
}

std::vector<InnovationSummary> SummaryTracker::summaries() const {
  std::vector<InnovationSummary> out = out_;
  for (std::size_t k = 0; k < out.size(); ++k)
    out[k].rogers = rogers_shares(adoptions_by_step_[k]);
  return out;
}

std::vector<Metric> SummaryTracker::metrics() const {
  std::vector<Metric> out;
  for (const auto& s : summaries()) {
    const auto values = metric_values(s);
    for (std::size_t m = 0; m < metric_names().size(); ++m)
      out.push_back({s.name + "." + metric_names()[m], values[m]});
  }
  return out;
}

RunResult run_simulation(const Scenario& scenario, const World& world,
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
  return {summary.summaries(), sim.clusters(), sim.applied_events(), summary.metrics()};
}

} // namespace csei
