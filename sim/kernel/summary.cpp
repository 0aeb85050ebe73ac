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

template <auto Field>
double step_field(const InnovationSummary& s) {
  return static_cast<double>(s.*Field);
}

// clang-format off
constexpr std::array kMetrics = {
    // name, units, description, value, a step (-1 never), stands for real entities
    MetricDef{"adopters", "organisations", "current adopters at the end", field<&InnovationSummary::adopters>, false, true},
    MetricDef{"suited", "organisations", "organisations of the legal forms the innovation suits", field<&InnovationSummary::suited>, false, true},
    MetricDef{"final_share", "share", "adopters at the end / all organisations", field<&InnovationSummary::final_share>},
    MetricDef{"suited_share", "share", "adopters at the end / the organisations the innovation suits; NaN when it suits none", field<&InnovationSummary::suited_share>},
    MetricDef{"steps_to_10", "step", "first step with at least 10 % of all organisations adopted; -1 = never", step_field<&InnovationSummary::steps_to_10>, true},
    MetricDef{"steps_to_50", "step", "first step with at least 50 % of all organisations adopted; -1 = never", step_field<&InnovationSummary::steps_to_50>, true},
    MetricDef{"steps_to_90", "step", "first step with at least 90 % of all organisations adopted; -1 = never", step_field<&InnovationSummary::steps_to_90>, true},
    MetricDef{"peak_step", "step", "step with the most new adopters (first on ties); -1 = none after step 0", step_field<&InnovationSummary::peak_step>, true},
    MetricDef{"territories_reached", "territories", "territories whose adopters at the end are at least [outcomes] reached_share (default 0.1) of the organisations there that the innovation suits", field<&InnovationSummary::territories_reached>},
    MetricDef{"first_step_10", "step", "first step at which some territory with at least [outcomes] min_organisations (default 100) suited organisations has 10 % of them adopted (the territory: /summary/first_territory_10); -1 = never", step_field<&InnovationSummary::first_step_10>, true},
    MetricDef{"first_step_50", "step", "likewise for 50 % (the territory: /summary/first_territory_50); -1 = never", step_field<&InnovationSummary::first_step_50>, true},
    MetricDef{"aware_share", "share", "organisations aware or beyond at the end / all organisations", field<&InnovationSummary::aware_share>},
    MetricDef{"member_share", "share", "adopters among the cluster members the innovation suits, at the end; NaN when there are none", field<&InnovationSummary::member_share>},
    MetricDef{"nonmember_share", "share", "adopters among the non-members the innovation suits, at the end; NaN when there are none", field<&InnovationSummary::nonmember_share>},
    MetricDef{"cluster_advantage", "share", "member_share - nonmember_share; NaN when there are no members or no non-members", field<&InnovationSummary::cluster_advantage>},
    MetricDef{"member_steps_to_50", "step", "first step with at least half the suited cluster members (as they are then) adopted; -1 = never", step_field<&InnovationSummary::member_steps_to_50>, true},
    MetricDef{"nonmember_steps_to_50", "step", "first step with at least half the suited non-members adopted; -1 = never", step_field<&InnovationSummary::nonmember_steps_to_50>, true},
    MetricDef{"transfers", "organisations", "adoptions via bridge or distant links, whole run (bridge_transfers + distant_transfers)", field<&InnovationSummary::transfers>, false, true},
    MetricDef{"bridge_transfers", "organisations", "adoptions whose decisive influence came through a bridge link, whole run", field<&InnovationSummary::bridge_transfers>, false, true},
    MetricDef{"distant_transfers", "organisations", "adoptions whose decisive influence came through a distant link, whole run", field<&InnovationSummary::distant_transfers>, false, true},
    MetricDef{"abandoned", "organisations", "abandonments, whole run", field<&InnovationSummary::abandoned>, false, true},
    MetricDef{"jobs", "jobs", "jobs created by adoption at the end (sum of /series/jobs over territories)", field<&InnovationSummary::jobs>, false, true},
    MetricDef{"impact", "impact unit", "ecological impact of adopters at the end (sum of /series/impact over territories)", field<&InnovationSummary::impact>, false, true},
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

SummaryTracker::SummaryTracker(const Scenario& scenario, const World& world)
    : scenario_(scenario), world_(world) {
  const std::size_t T = scenario.territories.size();
  suited_.assign(scenario.innovations.size() * T, 0);
  for (std::size_t k = 0; k < scenario.innovations.size(); ++k) {
    InnovationSummary s;
    s.name = scenario.innovations[k].name;
    s.territory_steps_to_10.assign(T, -1);
    s.territory_steps_to_50.assign(T, -1);
    for (std::size_t t = 0; t < T; ++t) {
      std::int64_t n = 0;
      for (auto i = world.territory_begin[t]; i < world.territory_begin[t + 1]; ++i)
        n += has_form(scenario.innovations[k].suits,
                      world.organisations.form[static_cast<std::size_t>(i)]);
      suited_[k * T + t] = n;
      s.suited += n;
    }
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
  for (const double x : c.spending)
    spending_ += x;
  const double reached = scenario_.outcomes.reached_share;
  const std::int64_t min_orgs = scenario_.outcomes.min_organisations;
  for (std::size_t k = 0; k < c.innovations; ++k) {
    InnovationSummary& s = out_[k];
    std::int64_t total = 0, fresh = 0, n_reached = 0, aware = 0, member_adopters = 0;
    std::int64_t abandoned = 0, suited_members = 0;
    double jobs = 0, impact = 0;
    // The first territory to pass 10 % / 50 % this step, if none did before.
    int best10 = -1, best50 = -1;
    double share10 = -1, share50 = -1;
    for (std::size_t t = 0; t < c.territories; ++t) {
      const std::size_t x = k * c.territories + t;
      const std::int64_t a = c.adopters[x], suited = suited_[x];
      total += a;
      fresh += c.new_adopters[x];
      aware += c.aware[x];
      member_adopters += c.member_adopters[x];
      suited_members += c.suited_members[x];
      abandoned += c.abandoned[x];
      jobs += c.jobs[x];
      impact += c.impact[x];
      s.transfers += c.transfers[x];
      s.bridge_transfers += c.bridge_transfers[x];
      s.distant_transfers += c.distant_transfers[x];
      if (suited <= 0) continue;
      const double share = static_cast<double>(a) / static_cast<double>(suited);
      n_reached += static_cast<double>(a) >= reached * static_cast<double>(suited) && a > 0;
      const bool eligible = suited >= min_orgs;
      if (10 * a >= suited) {
        if (s.territory_steps_to_10[t] < 0) s.territory_steps_to_10[t] = c.step;
        if (eligible && s.first_territory_10 < 0 && share > share10) {
          best10 = static_cast<int>(t);
          share10 = share;
        }
      }
      if (2 * a >= suited) {
        if (s.territory_steps_to_50[t] < 0) s.territory_steps_to_50[t] = c.step;
        if (eligible && s.first_territory_50 < 0 && share > share50) {
          best50 = static_cast<int>(t);
          share50 = share;
        }
      }
    }
    if (best10 >= 0) {
      s.first_territory_10 = best10;
      s.first_step_10 = c.step;
    }
    if (best50 >= 0) {
      s.first_territory_50 = best50;
      s.first_step_50 = c.step;
    }
    s.adopters = total;
    s.abandoned = abandoned;
    s.jobs = jobs;
    s.impact = impact;
    s.territories_reached = n_reached;
    s.final_share = n > 0 ? static_cast<double>(total) / static_cast<double>(n) : 0.0;
    s.suited_share = ratio(total, s.suited);
    s.aware_share = n > 0 ? static_cast<double>(aware) / static_cast<double>(n) : 0.0;
    // Every adopter is of a form the innovation suits, so member adopters <= suited members.
    s.member_share = ratio(member_adopters, suited_members);
    s.nonmember_share = ratio(total - member_adopters, s.suited - suited_members);
    s.cluster_advantage = s.member_share - s.nonmember_share;
    if (s.member_steps_to_50 < 0 && suited_members > 0 && 2 * member_adopters >= suited_members)
      s.member_steps_to_50 = c.step;
    const std::int64_t suited_non = s.suited - suited_members;
    if (s.nonmember_steps_to_50 < 0 && suited_non > 0 &&
        2 * (total - member_adopters) >= suited_non)
      s.nonmember_steps_to_50 = c.step;
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
  return {summary.summaries(), sim.clusters(), sim.applied_events(), summary.metrics(),
          summary.policy_spending()};
}

} // namespace csei
