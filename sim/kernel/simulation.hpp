// The simulation kernel: the synchronous step in the model's order (docs/MODEL.md, section 3).
// Each phase lives in its own file and acts on the run's one mutable state (kernel/state.hpp):
//   1. policy events (kernel/events.cpp), then pioneers of innovations launched at this step
//   2. cluster dynamics: recruitment, emergence (kernel/cluster_dynamics.cpp)
//   3-5. for each innovation, one decide pass over the organisations that can still change,
//        reading only the state at the end of the previous step: awareness, adoption by the
//        innovation's rule, abandonment (kernel/decide.cpp; the rules are rules/adoption.hpp);
//        each organisation writes only its own state
//   6. apply: new adopters and abandoners update their neighbours' adopted-neighbour counts
//      per link class (kernel/apply.cpp)
//   7. outcomes: jobs and impact (kernel/outcomes.cpp).
// The cost of a step is a scan of the organisations that can still change plus the links of the
// organisations whose state changed; the network is never re-scanned.
#pragma once

#include "kernel/state.hpp"
#include "rules/influence.hpp"
#include "scenario/scenario.hpp"
#include "world/world.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace csei {

/// Counts of one step. [k * T + t] for innovation k and territory t, and so on.
struct StepCounts {
  std::int64_t step = 0;
  std::size_t innovations = 0, territories = 0, clusters = 0; // clusters = cluster slots
  std::span<const std::int64_t> adopters;                     // [I*T] current adopters
  std::span<const std::int64_t> new_adopters;                 // [I*T] adoptions during the step
  std::span<const std::int64_t> aware;                        // [I*T] aware or beyond (cumulative)
  std::span<const std::int64_t> abandoned;                    // [I*T] cumulative abandonments
  std::span<const std::int64_t> member_adopters;   // [I*T] adopters that are cluster members
  std::span<const std::int64_t> members;           // [T] cluster members
  std::span<const std::int64_t> adopters_by_form;  // [I*F]
  std::span<const double> jobs;                    // [I*T] jobs created by adoption
  std::span<const double> impact;                  // [I*T] ecological impact of adopters
  std::span<const std::int64_t> transfers;         // [I*T] adoptions via bridge/distant links
  std::span<const std::int64_t> bridge_transfers;  // [I*T] of which via bridge links
  std::span<const std::int64_t> distant_transfers; // [I*T] of which via distant links
  std::span<const std::int64_t> suited_members;    // [I*T] members of forms the innovation suits
  std::span<const double> spending;                // [E*T] policy spending during the step, EUR
  std::span<const std::int64_t> cluster_members;   // [C]
  std::span<const std::int64_t> cluster_adopters;  // [I*C]
};

class Simulation {
public:
  /// Keeps references: scenario and world must outlive the simulation.
  Simulation(const Scenario& scenario, const World& world);

  /// Step 0: events at step 0 and the pioneers of innovations launched at 0. Call once first.
  void initialise();
  /// Advance one step: the model's schedule.
  void step();

  [[nodiscard]] std::int64_t current_step() const { return state_.step; }
  [[nodiscard]] StepCounts counts() const;
  [[nodiscard]] const RunState& state() const { return state_; }
  [[nodiscard]] const AdoptionState& state(std::size_t innovation) const {
    return state_.innovations[innovation];
  }
  [[nodiscard]] std::int32_t cluster_of(std::size_t i) const { return state_.cluster[i]; }
  /// Clusters existing now (founded ones included), in id order.
  [[nodiscard]] const std::vector<ClusterInfo>& clusters() const { return state_.clusters; }
  /// Cluster slots: the most clusters a run can have (the width of cluster series).
  [[nodiscard]] std::size_t cluster_slots() const { return state_.cluster_slots; }
  [[nodiscard]] double support(std::size_t t) const { return state_.support[t]; }
  [[nodiscard]] const std::vector<AppliedEvent>& applied_events() const { return state_.events; }

private:
  // The phases, each in its own file.
  void begin_step();
  void apply_events();        // events.cpp
  void launch_pioneers();     // simulation.cpp
  void recruitment();         // cluster_dynamics.cpp
  void emergence();           // cluster_dynamics.cpp
  void decide(std::size_t k); // decide.cpp: awareness, adoption, abandonment of innovation k
  template <class Rule>
  void decide_with(std::size_t k, const Rule& rule);
  void update_outcomes(); // outcomes.cpp
  /// Standing policy commitments (facilitation, support, bridges) charged for the step
  /// (events.cpp).
  void charge_commitments();
  /// Adds euros (real, before nothing else) to event e's spending in territory t this step.
  void spend(std::size_t e, std::size_t t, double euros);

  // Changes of membership (cluster_dynamics.cpp).
  void join(std::size_t i, std::int32_t cluster);
  std::int32_t new_cluster(ClusterInfo info);
  // Changes of adoption (apply.cpp).
  /// Organisations adopt innovation k now, outside the decide pass (pioneers, seeded adopters).
  void force_adopt(std::size_t k, std::vector<OrgId> orgs);
  /// Applies adoptions (+1) or abandonments (-1), given sorted by id, to counts and outcomes.
  void apply(std::size_t k, std::span<const OrgId> orgs, int sign,
             std::span<const std::uint8_t> transfer);
  /// The neighbours' adopted-neighbour counts for those adoptions or abandonments.
  void update_neighbours(std::size_t k, std::span<const OrgId> orgs, int sign);

  const Scenario& scenario_;
  const World& world_;
  std::size_t T_, F_ = kLegalFormCount, I_;
  RunState state_;

  // Scratch of the decide pass: one list per block of organisations, read in block order.
  std::vector<std::vector<OrgId>> block_adopt_, block_abandon_, block_aware_;
  std::vector<std::vector<std::uint8_t>> block_transfer_;
  // The apply phase's units of organisations (territories, in pieces of at most 2^17 ids):
  // unit u is [unit_begin_[u], unit_begin_[u+1]); and its scratch, the neighbour updates that
  // leave their unit, bucketed by unit and target block.
  std::vector<std::int64_t> unit_begin_;
  std::vector<std::vector<std::uint32_t>> update_buckets_;
};

/// The most clusters a run can have: those at the start, emergence slots, founded by events.
[[nodiscard]] std::size_t cluster_slots(const Scenario& scenario, const World& world);

/// Chooses the pioneers of innovation k: distinct eligible organisations (its origin
/// territory, cluster and forms, and the forms it suits), uniformly, from the (seed, pioneers,
/// k) stream; sorted. `membership` is the live cluster of each organisation at the launch step.
[[nodiscard]] std::vector<OrgId> choose_pioneers(const Scenario& scenario, const World& world,
                                                 std::span<const std::int32_t> membership,
                                                 std::size_t k);

} // namespace csei
