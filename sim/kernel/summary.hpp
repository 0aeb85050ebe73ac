// Run summary per innovation, tracked step by step from the kernel's counts, and the run driver
// shared by `csei run`, the tests and sweeps.
#pragma once

#include "kernel/simulation.hpp"

#include <array>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace csei {

/// Rogers' adopter categories by adoption step, with m and s the mean and standard deviation of
/// the adoption steps (one weight per adoption): innovators x < m - 2s, early adopters
/// m - 2s <= x < m - s, early majority m - s <= x < m, late majority m <= x < m + s, laggards
/// x >= m + s (a step on a boundary belongs to the later category). Undefined (NaN) when nobody
/// adopted or every adoption happened in one step (s = 0). The same definition, with the same
/// shared test cases (tests/data/rogers_cases.json), is analysis/csei_analysis/metrics.py's.
inline constexpr std::array<const char*, 5> kRogersCategories = {
    "innovators", "early_adopters", "early_majority", "late_majority", "laggards"};

/// Shares of all adoptions by Rogers' category, from the adoptions of each step (index = step).
/// The boundaries are decided in exact integer arithmetic, so no rounding moves a step across.
[[nodiscard]] std::array<double, 5> rogers_shares(std::span<const std::int64_t> adoptions_by_step);

struct InnovationSummary {
  std::string name;
  std::int64_t suited = 0; // organisations of the legal forms the innovation suits
  std::int64_t adopters = 0;
  double final_share = 0.0;      // adopters / all organisations
  double suited_share = 0.0;     // adopters / suited organisations (NaN: none suited)
  std::int64_t steps_to_10 = -1; // first step with at least 10 % of organisations adopted
  std::int64_t steps_to_50 = -1;
  std::int64_t steps_to_90 = -1;
  std::int64_t peak_step = -1; // step with the most new adopters (first on ties; not 0)
  /// Territories whose adopters reach the scenario's reached_share of their suited
  /// organisations at the end.
  std::int64_t territories_reached = 0;
  /// Per territory: first step at which its adopters reach 10 % / 50 % of its suited
  /// organisations (-1: never, or none suited).
  std::vector<std::int64_t> territory_steps_to_10, territory_steps_to_50;
  /// The first territory to reach 10 % / 50 % of its suited organisations among those with at
  /// least min_organisations suited (ties: the higher share at that step, then table order);
  /// -1 if none did. first_step_* is its step.
  int first_territory_10 = -1, first_territory_50 = -1;
  std::int64_t first_step_10 = -1, first_step_50 = -1;
  double aware_share = 0.0;                // aware or beyond, at the end
  double member_share = 0.0;               // adopters / suited cluster members (NaN: none)
  double nonmember_share = 0.0;            // adopters / suited non-members (NaN: none)
  double cluster_advantage = 0.0;          // member_share - nonmember_share (NaN if undefined)
  std::int64_t member_steps_to_50 = -1;    // first step with half the suited members adopted
  std::int64_t nonmember_steps_to_50 = -1; // likewise among suited non-members
  std::int64_t transfers = 0;              // adoptions via bridge or distant links, whole run
  std::int64_t bridge_transfers = 0;       // of which via bridge links
  std::int64_t distant_transfers = 0;      // of which via distant links
  std::int64_t abandoned = 0;              // abandonments, whole run
  double jobs = 0.0, impact = 0.0;         // at the end, model scale
  std::array<double, 5> rogers{};          // shares of all adoptions by category (NaN: undefined)
};

/// One named scalar outcome of a run, e.g. "community_energy.final_share".
struct Metric {
  std::string name;
  double value;
};

/// One per-innovation summary metric, declared once (summary.cpp): the run file's /summary
/// datasets, the metrics `csei run` prints, what sweeps keep and output/SCHEMA.md's table all
/// follow the declaration.
struct MetricDef {
  std::string_view name;
  std::string_view units;
  std::string_view description;
  double (*value)(const InnovationSummary&);
  /// A step, where -1 means "never": JSON writes null for it.
  bool step = false;
  /// Stands for real entities (organisations, jobs, impact): scaled by `represents`.
  bool real = false;
};

/// The per-innovation metrics, in the order metrics() lists them.
[[nodiscard]] std::span<const MetricDef> summary_metrics();
/// The names of the per-innovation metrics, in summary_metrics() order.
[[nodiscard]] const std::vector<std::string>& metric_names();
/// The values of one innovation's metrics, in summary_metrics() order.
[[nodiscard]] std::vector<double> metric_values(const InnovationSummary& s);

class SummaryTracker {
public:
  SummaryTracker(const Scenario& scenario, const World& world);
  void observe(const StepCounts& counts);
  /// The summaries, with Rogers' categories computed from the adoptions seen so far.
  [[nodiscard]] std::vector<InnovationSummary> summaries() const;
  /// Every metric of every innovation, named "<innovation>.<metric>".
  [[nodiscard]] std::vector<Metric> metrics() const;

  /// Policy spending of the run so far, real euros.
  [[nodiscard]] double policy_spending() const { return spending_; }

private:
  const Scenario& scenario_;
  const World& world_;
  std::vector<InnovationSummary> out_;
  std::vector<std::int64_t> suited_; // [I*T]
  double spending_ = 0.0;
  std::vector<std::int64_t> peak_new_;
  std::vector<std::vector<std::int64_t>> adoptions_by_step_; // per innovation
};

/// What a run leaves besides its series: summaries, the clusters at the end, applied events.
struct RunResult {
  std::vector<InnovationSummary> summaries;
  std::vector<ClusterInfo> clusters;
  std::vector<AppliedEvent> events;
  std::vector<Metric> metrics;
  double policy_spending = 0.0; // real euros, whole run
};

/// Runs every step of the scenario on the world, calling on_step after step 0 and after every
/// step. Throws Interrupted if should_stop() returns true between steps.
RunResult run_simulation(const Scenario& scenario, const World& world,
                         const std::function<void(const StepCounts&)>& on_step,
                         const std::function<bool()>& should_stop = {});

} // namespace csei
