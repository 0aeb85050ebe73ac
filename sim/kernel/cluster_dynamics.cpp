// Phase 2, cluster dynamics: recruitment (members invite neighbours) and emergence (linked,
// engaged social-economy organisations found a cluster), and what changes when an organisation
// joins a cluster: its links change class, and with them every neighbour's counts.
#include "core/parallel.hpp"
#include "kernel/detail.hpp"
#include "kernel/simulation.hpp"
#include "rules/adoption.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>

namespace csei {

void Simulation::join(std::size_t i, std::int32_t c) {
  const auto& orgs = world_.organisations;
  const std::int32_t old = state_.cluster[i];
  const auto ti = orgs.territory[i];
  if (old == kNoCluster) state_.members.push_back(static_cast<OrgId>(i));
  if (!world_.network.complete) {
    for (const OrgId j : world_.network.neighbours(static_cast<OrgId>(i))) {
      const auto u = static_cast<std::size_t>(j);
      const auto from =
          static_cast<std::size_t>(link_class(old, state_.cluster[u], ti, orgs.territory[u]));
      const auto to =
          static_cast<std::size_t>(link_class(c, state_.cluster[u], ti, orgs.territory[u]));
      if (from == to) continue;
      --state_.class_degree[i][from];
      ++state_.class_degree[i][to];
      --state_.class_degree[u][from];
      ++state_.class_degree[u][to];
      for (AdoptionState& st : state_.innovations) {
        if (st.adopted(u)) {
          --st.adopted_neighbours[i][from];
          ++st.adopted_neighbours[i][to];
        }
        if (st.adopted(i)) {
          --st.adopted_neighbours[u][from];
          ++st.adopted_neighbours[u][to];
        }
      }
    }
  }
  state_.cluster[i] = c;
  const auto uc = static_cast<std::size_t>(c);
  ++state_.cluster_size[uc];
  ++state_.counts.cluster_members[uc];
  ++state_.counts.members[static_cast<std::size_t>(ti)];
  for (std::size_t k = 0; k < I_; ++k) {
    if (old == kNoCluster && has_form(scenario_.innovations[k].suits, orgs.form[i]))
      ++state_.counts.suited_members[k * T_ + static_cast<std::size_t>(ti)];
    if (state_.innovations[k].adopted(i)) {
      ++state_.counts.member_adopters[k * T_ + static_cast<std::size_t>(ti)];
      ++state_.counts.cluster_adopters[k * state_.cluster_slots + uc];
    }
  }
}

std::int32_t Simulation::new_cluster(ClusterInfo info) {
  if (state_.clusters.size() >= state_.cluster_slots) return kNoCluster;
  info.founded = state_.step;
  state_.clusters.push_back(std::move(info));
  state_.cluster_size.push_back(0);
  return static_cast<std::int32_t>(state_.clusters.size() - 1);
}

void Simulation::recruitment() {
  // Clusters recruit: each member, at the recruitment rate, invites one of its neighbours,
  // drawn uniformly; a non-member invited joins (the lowest cluster id if several invite it in
  // the same step). The cost is proportional to the members, not to all organisations.
  const ClusterRules& r = scenario_.rules;
  if (!r.recruitment || world_.network.complete || state_.clusters.empty()) return;
  const double p = r.recruitment_rate * scenario_.step_years();
  const StreamKey key =
      StreamKey(scenario_.seed, Purpose::membership, static_cast<std::uint64_t>(state_.step));
  // Over the member list (in joining order): each member's draws come from its own stream, and
  // the invitations are sorted before anyone joins, so the order of the scan does not matter.
  const std::vector<OrgId>& members = state_.members;
  const auto m = static_cast<std::int64_t>(members.size());
  const auto blocks = static_cast<std::size_t>((m + detail::kGrain - 1) / detail::kGrain);
  std::vector<std::vector<std::pair<OrgId, std::int32_t>>> invites(blocks);
  par::for_each(blocks, [&](std::size_t b) {
    const std::int64_t lo = static_cast<std::int64_t>(b) * detail::kGrain,
                       hi = std::min(m, lo + detail::kGrain);
    const std::int32_t* const cluster = state_.cluster.data();
    for (std::int64_t x = lo; x < hi; ++x) {
      const OrgId i = members[static_cast<std::size_t>(x)];
      const std::int32_t c = cluster[i];
      const auto row = world_.network.neighbours(static_cast<OrgId>(i));
      if (row.empty()) continue;
      Stream rng = key.stream(static_cast<std::uint64_t>(i));
      if (!chance(p, rng)) continue;
      const OrgId j =
          row[boost::random::uniform_int_distribution<std::size_t>(0, row.size() - 1)(rng)];
      if (cluster[j] == kNoCluster) invites[b].emplace_back(j, c);
    }
  });
  std::vector<std::pair<OrgId, std::int32_t>> all;
  for (const auto& list : invites)
    all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  for (std::size_t x = 0; x < all.size(); ++x)
    if (x == 0 || all[x].first != all[x - 1].first)
      join(static_cast<std::size_t>(all[x].first), all[x].second);
}

void Simulation::emergence() {
  const ClusterRules& r = scenario_.rules;
  if (!r.emergence || world_.network.complete) return;
  const auto& orgs = world_.organisations;
  const auto engaged = [&](std::size_t i) {
    for (const AdoptionState& st : state_.innovations)
      if (st.aware_before(i, state_.step)) return true;
    return false;
  };
  const auto free_se = [&](std::size_t i) {
    return state_.cluster[i] == kNoCluster && detail::social_economy(orgs.form[i]) && engaged(i);
  };
  const StreamKey key =
      StreamKey(scenario_.seed, Purpose::membership, static_cast<std::uint64_t>(state_.step))
          .sub(1);
  for (std::size_t t = 0; t < T_; ++t) {
    const auto lo = world_.territory_begin[t], hi = world_.territory_begin[t + 1];
    Stream rng = key.stream(t);
    if (hi <= lo || !chance(r.emergence_rate * scenario_.step_years() * state_.support[t], rng))
      continue;
    boost::random::uniform_int_distribution<std::int64_t> any(lo, hi - 1);
    for (int probe = 0; probe < 32; ++probe) {
      const auto founder = static_cast<std::size_t>(any(rng));
      if (!free_se(founder)) continue;
      std::vector<std::size_t> group{founder};
      for (const OrgId j : world_.network.neighbours(static_cast<OrgId>(founder)))
        if (orgs.territory[static_cast<std::size_t>(j)] == static_cast<std::int32_t>(t) &&
            free_se(static_cast<std::size_t>(j)))
          group.push_back(static_cast<std::size_t>(j));
      if (static_cast<int>(group.size()) < r.min_founders) continue;
      ClusterInfo info = resolve_cluster(scenario_, nullptr);
      info.territory = static_cast<std::int32_t>(t);
      info.name = scenario_.territories[t].code + "-new-" + std::to_string(state_.clusters.size());
      const std::int32_t c = new_cluster(std::move(info));
      if (c == kNoCluster) return; // no slots left
      std::sort(group.begin() + 1, group.end());
      for (const auto i : group)
        join(i, c);
      break;
    }
  }
}

} // namespace csei
