// Phase 6, apply: the adoptions and abandonments decided in a step (or forced by pioneers and
// events) update the outcome counts and their neighbours' adopted-neighbour counts per link
// class. Counts are integers, so the parallel updates are exact and their order does not matter.
#include "core/parallel.hpp"
#include "kernel/detail.hpp"
#include "kernel/simulation.hpp"

#include <algorithm>

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
      if (!transfer.empty() && transfer[a]) {
        ++o.transfers[x];
        ++(transfer[a] == 1 ? o.bridge_transfers : o.distant_transfers)[x];
      }
      // Adoptions that policy pays for: the subsidised share of the cost, a procurement
      // contract for a social-economy adopter where procurement favours it.
      const std::size_t cell = x * F_ + static_cast<std::size_t>(orgs.form[i]);
      const InnovationSpec& inn = scenario_.innovations[k];
      const PolicyCosts& pc = scenario_.costs;
      if (state_.subsidy_event[cell] >= 0 && state_.subsidy[cell] > 0)
        spend(static_cast<std::size_t>(state_.subsidy_event[cell]), t,
              state_.subsidy[cell] * inn.cost * pc.cost_unit);
      if (state_.bonus_event[cell] >= 0 && state_.appeal_bonus[cell] > 0 &&
          has_form(kSocialEconomyForms, orgs.form[i]))
        spend(static_cast<std::size_t>(state_.bonus_event[cell]), t,
              state_.appeal_bonus[cell] * pc.procurement_contract);
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
  update_neighbours(k, list, sign);
}

void Simulation::update_neighbours(std::size_t k, std::span<const OrgId> list, int sign) {
  // Every neighbour j of an organisation in the list gets +-1 in the count of its link's class.
  // Counts are integers, so any order gives the same result; no atomics are needed, as no two
  // threads ever write one count. The id space is cut into units (territories, in pieces of at
  // most 2^17 organisations). Phase A, units in parallel: the list's organisations of a unit
  // update their neighbours in the same unit directly (most links stay in the territory, and a
  // unit's counts fit in a core's cache) and put the other updates in buckets by target block
  // (2^16 ids). Phase B, blocks in parallel: each block applies its buckets' updates.
  AdoptionState& st = state_.innovations[k];
  const auto& orgs = world_.organisations;
  const Network& net = world_.network;
  const std::int32_t* const member = state_.cluster.data();
  const bool ever = sign > 0 && !st.ever_adopted_neighbours.empty();
  const auto delta = static_cast<std::uint16_t>(sign); // adding 0xFFFF subtracts one mod 2^16
  // The class of the link from list[a] to each of its neighbours, passed to emit(j, class).
  const auto for_links = [&](std::size_t a, const auto& emit) {
    const auto i = static_cast<std::size_t>(list[a]);
    const std::int32_t ci = member[i];
    const auto ti = static_cast<std::size_t>(orgs.territory[i]);
    const std::int64_t tlo = world_.territory_begin[ti], thi = world_.territory_begin[ti + 1];
    for (const OrgId j : net.neighbours(list[a])) {
      // Territories own contiguous id ranges: the class of a non-member's link needs no lookup.
      LinkClass c = j >= tlo && j < thi ? LinkClass::local : LinkClass::distant;
      if (ci != kNoCluster) {
        const std::int32_t cj = member[static_cast<std::size_t>(j)];
        if (cj != kNoCluster) c = cj == ci ? LinkClass::cluster : LinkClass::bridge;
      }
      emit(j, c);
    }
  };
  ClassCounts* const counts = st.adopted_neighbours.data();
  std::uint16_t* const ever_counts = st.ever_adopted_neighbours.data();
  const auto bump = [&](std::size_t j, LinkClass c) {
    counts[j][static_cast<std::size_t>(c)] += delta;
    if (ever) ++ever_counts[j];
  };
  if (list.size() < 4096) { // few updates: sequentially
    for (std::size_t a = 0; a < list.size(); ++a)
      for_links(a, [&](OrgId j, LinkClass c) { bump(static_cast<std::size_t>(j), c); });
    return;
  }
  constexpr unsigned kBlockBits = 16;
  const auto n = static_cast<std::size_t>(world_.organisation_count());
  const std::size_t blocks = (n >> kBlockBits) + 1;
  const std::vector<std::int64_t>& unit = unit_begin_;
  const std::size_t units = unit.size() - 1;
  auto& buckets = update_buckets_; // [unit * blocks + block]: (offset in block) | class << 16
  if (buckets.size() < units * blocks) buckets.resize(units * blocks);
  par::for_each(units, [&](std::size_t u) {
    std::vector<std::uint32_t>* const mine = buckets.data() + u * blocks;
    for (std::size_t b = 0; b < blocks; ++b)
      mine[b].clear();
    const OrgId lo = static_cast<OrgId>(unit[u]), hi = static_cast<OrgId>(unit[u + 1]);
    const auto first =
        static_cast<std::size_t>(std::lower_bound(list.begin(), list.end(), lo) - list.begin());
    const auto last =
        static_cast<std::size_t>(std::lower_bound(list.begin(), list.end(), hi) - list.begin());
    for (std::size_t a = first; a < last; ++a)
      for_links(a, [&](OrgId j, LinkClass cls) {
        if (j >= lo && j < hi) {
          bump(static_cast<std::size_t>(j), cls);
          return;
        }
        const auto v = static_cast<std::uint32_t>(j);
        mine[v >> kBlockBits].push_back((v & 0xFFFFU) | (static_cast<std::uint32_t>(cls) << 16));
      });
  });
  par::for_each(blocks, [&](std::size_t b) {
    const std::size_t base = b << kBlockBits;
    for (std::size_t u = 0; u < units; ++u)
      for (const std::uint32_t e : buckets[u * blocks + b])
        bump(base + (e & 0xFFFFU), static_cast<LinkClass>(e >> 16));
  });
}

} // namespace csei
