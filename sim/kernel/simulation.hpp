// The simulation kernel: organisation and cluster state as structure-of-arrays, and the
// synchronous step in the model's order (docs/MODEL.md, section 3):
//   1. policy events (and pioneers of innovations launched at this step)
//   2. cluster dynamics: recruitment, emergence
//   3-5. for each innovation, one decide pass over the organisations, reading only the state at
//        the end of the previous step: awareness, adoption by the innovation's rule,
//        abandonment; each organisation writes only its own state
//   6. apply: new adopters and abandoners update their neighbours' adopted-neighbour counts
//      (integer atomics, per link class), then outcomes are recorded.
// The cost of a step is a scan of the organisations plus the links of the organisations whose
// state changed; the network is never re-scanned.
#pragma once

#include "rules/influence.hpp"
#include "scenario/scenario.hpp"
#include "world/world.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace csei {

/// Per-innovation state, one entry per organisation.
struct AdoptionState {
  static constexpr std::int32_t kNever = -1;
  std::vector<std::int32_t> aware_at;          // step the organisation became aware, or kNever
  std::vector<std::int32_t> adopted_at;        // step of adoption, or kNever
  std::vector<std::int32_t> abandoned_at;      // step of abandonment, or kNever
  std::vector<ClassCounts> adopted_neighbours; // current adopters among neighbours, per class
  std::vector<std::int32_t> seen; // cascade rule: adopted neighbours at the last decision
  std::int64_t adopters = 0;      // current adopters

  [[nodiscard]] bool adopted(std::size_t i) const {
    return adopted_at[i] != kNever && (abandoned_at.empty() || abandoned_at[i] == kNever);
  }
  /// Aware before step s (without an awareness stage, adoption is awareness).
  [[nodiscard]] bool aware_before(std::size_t i, std::int64_t s) const {
    const std::int32_t at = aware_at.empty() ? adopted_at[i] : aware_at[i];
    return at != kNever && at < s;
  }
  [[nodiscard]] std::int32_t adopted_neighbour_count(std::size_t i) const {
    return static_cast<std::int32_t>(total(adopted_neighbours[i]));
  }
};

/// A policy event as applied, for the record.
struct AppliedEvent {
  std::int64_t step;
  std::string action;
  std::string target;
  std::int64_t affected;
};

/// Counts of one step. [k * T + t] for innovation k and territory t, and so on.
struct StepCounts {
  std::int64_t step = 0;
  std::size_t innovations = 0, territories = 0, clusters = 0; // clusters = cluster slots
  std::span<const std::int64_t> adopters;                     // [I*T] current adopters
  std::span<const std::int64_t> new_adopters;                 // [I*T] adoptions during the step
  std::span<const std::int64_t> aware;                        // [I*T] aware or beyond (cumulative)
  std::span<const std::int64_t> abandoned;                    // [I*T] cumulative abandonments
  std::span<const std::int64_t> member_adopters;  // [I*T] adopters that are cluster members
  std::span<const std::int64_t> members;          // [T] cluster members
  std::span<const std::int64_t> adopters_by_form; // [I*F]
  std::span<const double> jobs;                   // [I*T] jobs created by adoption
  std::span<const double> impact;                 // [I*T] ecological impact of adopters
  std::span<const std::int64_t> transfers;        // [I*T] adoptions via bridge/distant links
  std::span<const std::int64_t> cluster_members;  // [C]
  std::span<const std::int64_t> cluster_adopters; // [I*C]
};

class Simulation {
public:
  /// Keeps references: scenario and world must outlive the simulation.
  Simulation(const Scenario& scenario, const World& world);

  /// Step 0: events at step 0 and the pioneers of innovations launched at 0. Call once first.
  void initialise();
  /// Advance one step.
  void step();

  [[nodiscard]] std::int64_t current_step() const { return step_; }
  [[nodiscard]] StepCounts counts() const;
  [[nodiscard]] const AdoptionState& state(std::size_t innovation) const {
    return state_[innovation];
  }
  [[nodiscard]] std::int32_t cluster_of(std::size_t i) const { return cluster_[i]; }
  /// Clusters existing now (founded ones included), in id order.
  [[nodiscard]] const std::vector<ClusterInfo>& clusters() const { return clusters_; }
  /// Cluster slots: the most clusters a run can have (the width of cluster series).
  [[nodiscard]] std::size_t cluster_slots() const { return cluster_slots_; }
  [[nodiscard]] double support(std::size_t t) const { return support_[t]; }
  [[nodiscard]] const std::vector<AppliedEvent>& applied_events() const { return events_; }

private:
  struct Territorial; // outcome accumulators

  void begin_step();
  void apply_events();
  void launch_pioneers();
  void update_outcomes(); // jobs and impact from the adopters
  void recruitment();
  void emergence();
  void step_innovation(std::size_t k);
  void join(std::size_t i, std::int32_t cluster);
  std::int32_t new_cluster(ClusterInfo info);
  /// Org i adopts innovation k now, outside the decide pass (pioneers, seeded adopters).
  void force_adopt(std::size_t k, std::vector<OrgId> orgs);
  /// Applies adoptions (+1) or abandonments (-1), given sorted by id, to counts and outcomes.
  void apply(std::size_t k, std::span<const OrgId> orgs, int sign,
             std::span<const std::uint8_t> transfer);
  [[nodiscard]] std::array<double, kLinkClasses> weights(std::size_t i) const;
  [[nodiscard]] double effective_cost(std::size_t k, std::size_t i) const;

  const Scenario& scenario_;
  const World& world_;
  std::int64_t step_ = -1;
  std::size_t T_, F_ = kLegalFormCount, I_;
  std::size_t cluster_slots_;

  // Organisations (mutable parts).
  std::vector<std::int32_t> cluster_;
  std::vector<ClassCounts> class_degree_; // neighbours per link class
  std::vector<AdoptionState> state_;

  // Clusters and territories.
  std::vector<ClusterInfo> clusters_;
  std::vector<std::int64_t> cluster_size_;
  std::vector<double> support_;      // [T]
  std::vector<double> subsidy_;      // [I*T*F] share of the cost subsidised
  std::vector<double> appeal_bonus_; // [I*T*F] public procurement
  std::vector<AppliedEvent> events_;

  // Outcomes of the current step.
  std::vector<std::int64_t> adopters_, new_adopters_, aware_, abandoned_, member_adopters_,
      members_, by_form_, transfers_, cluster_members_, cluster_adopters_;
  std::vector<double> jobs_, impact_, adopter_jobs_;

  // Scratch of the decide pass: one list per block of organisations, read in block order.
  std::vector<std::vector<OrgId>> block_adopt_, block_abandon_, block_aware_;
  std::vector<std::vector<std::uint8_t>> block_transfer_;
};

/// The most clusters a run can have: those at the start, emergence slots, founded by events.
[[nodiscard]] std::size_t cluster_slots(const Scenario& scenario, const World& world);

/// Chooses the pioneers of innovation k: distinct eligible organisations (its origin
/// territory, cluster and forms, and the forms it suits), uniformly, from the (seed, pioneers,
/// k) stream; sorted.
[[nodiscard]] std::vector<OrgId> choose_pioneers(const Scenario& scenario, const World& world,
                                                 std::size_t k);

} // namespace csei
