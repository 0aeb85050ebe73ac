// The world a run acts on: organisations as structure-of-arrays and their network in CSR form.
//
// Organisations are numbered territory by territory, so territory t owns the contiguous id range
// [territory_begin[t], territory_begin[t+1]). Built once by build_world() and then frozen: the
// kernel never changes it. Everything that changes during a run (cluster membership, link classes,
// adoption states, policy levers) lives in the kernel's RunState (kernel/state.hpp).
#pragma once

#include "core/uninit.hpp"
#include "scenario/limits.hpp"
#include "scenario/scenario.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace csei {

using OrgId = std::int32_t;

/// Undirected network in compressed sparse row form: neighbours of i are
/// targets[offsets[i] .. offsets[i+1]), sorted, without self-links or duplicates. The arrays are
/// allocated uninitialised (core/uninit.hpp) and filled by parallel loops.
struct Network {
  bool complete = false; // well-mixed: every organisation is linked to every other, no arrays
  UninitVector<std::int64_t> offsets;
  UninitVector<OrgId> targets;

  [[nodiscard]] std::span<const OrgId> neighbours(OrgId i) const {
    return {targets.data() + offsets[i], targets.data() + offsets[i + 1]};
  }
  [[nodiscard]] std::int64_t degree(OrgId i) const { return offsets[i + 1] - offsets[i]; }
  [[nodiscard]] std::int64_t link_count() const {
    return static_cast<std::int64_t>(targets.size()) / 2;
  }
};

/// No cluster.
inline constexpr std::int32_t kNoCluster = -1;

struct Organisations {
  // Arrays are filled by parallel loops right after allocation (core/uninit.hpp).
  UninitVector<std::int32_t> territory;
  UninitVector<LegalForm> form;
  UninitVector<std::uint8_t> sector; // index into scenario organisations.sectors
  UninitVector<float> jobs;
  UninitVector<float> innovativeness;
  UninitVector<float> resources;
  /// Cluster membership when the run starts (kNoCluster: none). The run's live membership is
  /// RunState::cluster; only world building and the kernel's initial state read this one.
  std::vector<std::int32_t> initial_cluster;
  /// Per innovation: each organisation's adoption threshold (empty unless the rule uses it).
  /// Double precision, as drawn: the threshold rule compares it with the exact share of adopted
  /// neighbours, so theta = 0.2 adopts at 1 of 5 (a float would round 0.2 up and never adopt).
  std::vector<UninitVector<double>> threshold;

  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(territory.size()); }
};

/// A cluster as the kernel uses it; rule parameters are resolved (neutral when a rule is off).
struct ClusterInfo {
  std::string name;
  std::int32_t territory = 0;
  std::int32_t declared = -1; // index into Scenario::clusters, or -1 (generated or founded)
  std::int64_t founded = 0;   // step
  double capacity = 50.0;     // members one facilitator serves
  double openness = 0.5;
  double sector_diversity = 0.0; // Gini-Simpson index of the members' sectors
  double weight = 1.0;           // peer weight of links within the cluster
  double facilitation_rate = 0.0;
  double pooling = 0.0;
  double sharing = 0.0;
};

/// Rule parameters for a cluster from the scenario's rules and, if declared, its overrides.
[[nodiscard]] ClusterInfo resolve_cluster(const Scenario& s, const ClusterSpec* declared);

struct World {
  std::vector<std::int64_t> territory_begin; // size T+1
  Organisations organisations;
  Network network;
  std::vector<ClusterInfo> clusters; // those present at the start

  [[nodiscard]] std::int64_t organisation_count() const { return organisations.size(); }
  [[nodiscard]] std::size_t territory_count() const { return territory_begin.size() - 1; }
};

/// Builds organisations and the network from the scenario, in parallel; deterministic for a seed.
/// Every phase polls `stop_requested` (if given) and throws Interrupted soon after it is true.
[[nodiscard]] World build_world(const Scenario& scenario,
                                const std::function<bool()>& stop_requested = {});

/// Great-circle distance in km between two territories' centroids.
[[nodiscard]] double distance_km(const Territory& a, const Territory& b);

} // namespace csei
