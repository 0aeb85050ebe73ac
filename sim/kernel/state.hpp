// All mutable state of a run, in one owner. The world (organisations' fixed attributes and the
// network) is built once and frozen; everything that changes during a run lives here: cluster
// membership and link classes, the clusters and their resolved rule values, policy levers
// (support, subsidies, appeal bonuses), each innovation's per-organisation states, and the counts
// of the current step. Phases of the step (kernel/*.cpp) read and write this state and nothing
// else, so no part of the kernel can read a stale copy.
#pragma once

#include "core/uninit.hpp"
#include "rules/influence.hpp"
#include "world/world.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace csei {

/// Per-innovation state, one entry per organisation.
struct AdoptionState {
  static constexpr std::int32_t kNever = -1;
  UninitVector<std::int32_t> aware_at;          // step the organisation became aware, or kNever
  UninitVector<std::int32_t> adopted_at;        // step of adoption, or kNever
  UninitVector<std::int32_t> abandoned_at;      // step of abandonment, or kNever
  UninitVector<ClassCounts> adopted_neighbours; // current adopters among neighbours, per class
  /// Cascade rule: neighbours that ever adopted (abandonment does not take a chance back) and
  /// that count when the organisation last decided.
  UninitVector<std::uint16_t> ever_adopted_neighbours;
  UninitVector<std::int64_t> seen;
  /// Bit i set: organisation i can no longer change for this innovation (it does not suit the
  /// innovation, or it adopted and cannot abandon, or it abandoned). The decide pass skips it.
  UninitVector<std::uint64_t> settled;
  std::int64_t adopters = 0;      // current adopters
  std::int64_t ever_adopters = 0; // adoptions so far (abandoners included)

  [[nodiscard]] bool adopted(std::size_t i) const {
    return adopted_at[i] != kNever && (abandoned_at.empty() || abandoned_at[i] == kNever);
  }
  /// Aware before step s (without an awareness stage, adoption is awareness).
  [[nodiscard]] bool aware_before(std::size_t i, std::int64_t s) const {
    const std::int32_t at = aware_at.empty() ? adopted_at[i] : aware_at[i];
    return at != kNever && at < s;
  }
  void settle(std::size_t i) { settled[i >> 6] |= std::uint64_t{1} << (i & 63); }
};

/// A policy event as applied, for the record.
struct AppliedEvent {
  std::int64_t step;
  std::string action;
  std::string target;
  std::int64_t affected;
};

/// A lever an event changed that costs money for as long as it holds (a funded facilitator
/// place, raised support, a bridging programme): charged every step from the next one on.
struct Commitment {
  std::size_t event = 0;
  std::size_t territory = 0;
  double euros_per_year = 0; // negative for a cut (a saving)
};

/// Counts of the current step, [k * T + t] for innovation k and territory t, and so on.
struct StepOutcomes {
  std::vector<std::int64_t> adopters, new_adopters, aware, abandoned, member_adopters, transfers;
  std::vector<std::int64_t> bridge_transfers, distant_transfers; // [I*T] transfers split
  std::vector<std::int64_t> suited_members;   // [I*T] members of forms the innovation suits
  std::vector<double> spending;               // [E*T] policy spending during the step, EUR
  std::vector<std::int64_t> members;          // [T]
  std::vector<std::int64_t> by_form;          // [I*F]
  std::vector<std::int64_t> cluster_members;  // [C] per cluster slot
  std::vector<std::int64_t> cluster_adopters; // [I*C]
  std::vector<double> jobs, impact;           // [I*T]
  std::vector<double> adopter_jobs;           // [I*T] jobs of the adopting organisations
};

struct RunState {
  std::int64_t step = -1;

  // Membership: the live cluster of each organisation, its neighbours per link class, the
  // clusters existing now (with their rule values as events changed them) and their sizes.
  UninitVector<std::int32_t> cluster;
  UninitVector<ClassCounts> class_degree;
  std::vector<ClusterInfo> clusters;
  std::vector<std::int64_t> cluster_size;
  std::vector<OrgId> members;    // every cluster member (members never leave), in joining order
  std::size_t cluster_slots = 0; // the most clusters the run can have

  // Policy levers.
  std::vector<double> support;      // [T]
  std::vector<double> subsidy;      // [I*T*F] share of the cost subsidised
  std::vector<double> appeal_bonus; // [I*T*F] public procurement
  // Which event set a cell's subsidy or last added to its procurement bonus (-1: none), for
  // charging adoptions to it; and the standing commitments of events.
  std::vector<std::int32_t> subsidy_event, bonus_event; // [I*T*F]
  std::vector<Commitment> commitments;

  std::vector<AdoptionState> innovations;
  std::vector<AppliedEvent> events;
  StepOutcomes counts;
};

} // namespace csei
