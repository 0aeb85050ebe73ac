// Phase 6, apply: the adoptions and abandonments decided in a step (or forced by pioneers and
// events) update the outcome counts and their neighbours' adopted-neighbour counts per link
// class. Counts are integers, so the parallel updates are exact and their order does not matter.
#include "core/parallel.hpp"
#include "kernel/detail.hpp"
#include "kernel/simulation.hpp"

#include <algorithm>
#include <atomic>

namespace csei {

void Simulation::force_adopt(std::size_t k, std::vector<OrgId> orgs) {
  AdoptionState& st = state_.innovations[k];
  const auto s = static_cast<std::int32_t>(state_.step);
  const bool can_abandon = !st.abandoned_at.empty() && scenario_.innovations[k].cost > 0;
  std::vector<OrgId> fresh;
  for (const OrgId i : orgs) {
    const auto u = static_cast<std::size_t>(i);
    if (st.adopted_at[u] != AdoptionState::kNever) continue; // adopters and abandoners stay so
    st.adopted_at[u] = s;
    if (!can_abandon) st.settle(u);
    fresh.push_back(i);
  }
  std::sort(fresh.begin(), fresh.end());
  apply(k, fresh, +1, {});
}

void Simulation::apply(std::size_t k, std::span<const OrgId> list, int sign,
                       std::span<const std::uint8_t> transfer) {
  AdoptionState& st = state_.innovations[k];
  StepOutcomes& o = state_.counts;
  const auto& orgs = world_.organisations;
  const auto& cluster = state_.cluster;
  const auto s = static_cast<std::int32_t>(state_.step);
  const std::size_t slots = state_.cluster_slots;
  // Outcomes, sequentially in id order (floating-point sums in a fixed order).
  for (std::size_t a = 0; a < list.size(); ++a) {
    const auto i = static_cast<std::size_t>(list[a]);
    const auto t = static_cast<std::size_t>(orgs.territory[i]);
    const std::size_t x = k * T_ + t;
    o.adopters[x] += sign;
    o.by_form[k * F_ + static_cast<std::size_t>(orgs.form[i])] += sign;
    o.adopter_jobs[x] += sign * static_cast<double>(orgs.jobs[i]);
    if (cluster[i] != kNoCluster) {
      o.member_adopters[x] += sign;
      o.cluster_adopters[k * slots + static_cast<std::size_t>(cluster[i])] += sign;
    }
    if (sign > 0) {
      ++o.new_adopters[x];
      if (!transfer.empty() && transfer[a]) ++o.transfers[x];
      if (st.aware_at.empty()) { // adoption implies awareness; nobody adopts twice
        ++o.aware[x];
      } else if (st.aware_at[i] == AdoptionState::kNever) {
        st.aware_at[i] = s;
        ++o.aware[x];
      }
    } else {
      ++o.abandoned[x];
    }
  }
  st.adopters += sign * static_cast<std::int64_t>(list.size());
  if (sign > 0) st.ever_adopters += static_cast<std::int64_t>(list.size());
  if (world_.network.complete) return; // influence comes from the totals alone
  const Network& net = world_.network;
  const bool ever = sign > 0 && !st.ever_adopted_neighbours.empty();
  par::for_ranges<std::size_t>(0, list.size(), 256, [&](std::size_t lo, std::size_t hi) {
    ClassCounts* const counts = st.adopted_neighbours.data();
    const std::int32_t* const member = cluster.data();
    for (std::size_t a = lo; a < hi; ++a) {
      const auto i = static_cast<std::size_t>(list[a]);
      const std::int32_t ci = member[i];
      const auto ti = static_cast<std::size_t>(orgs.territory[i]);
      const std::int64_t tlo = world_.territory_begin[ti], thi = world_.territory_begin[ti + 1];
      for (const OrgId j : net.neighbours(list[a])) {
        const auto u = static_cast<std::size_t>(j);
        // Territories own contiguous id ranges: the class of a non-member's link needs no lookup.
        const bool same_territory = j >= tlo && j < thi;
        LinkClass c = same_territory ? LinkClass::local : LinkClass::distant;
        if (ci != kNoCluster && member[u] != kNoCluster)
          c = member[u] == ci ? LinkClass::cluster : LinkClass::bridge;
        // 16-bit counts: adding 0xFFFF is subtracting one, modulo 2^16.
        std::atomic_ref<std::uint16_t>(counts[u][static_cast<std::size_t>(c)])
            .fetch_add(static_cast<std::uint16_t>(sign), std::memory_order_relaxed);
        if (ever)
          std::atomic_ref<std::uint16_t>(st.ever_adopted_neighbours[u])
              .fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
}

} // namespace csei
