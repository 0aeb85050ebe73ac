// Phase 1, policy events: each event active at this step changes the policy levers, clusters or
// adoptions of its targets, and is recorded as applied.
#include "kernel/detail.hpp"
#include "kernel/simulation.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <unordered_set>

namespace csei {

void Simulation::apply_events() {
  const auto& orgs = world_.organisations;
  for (std::size_t e = 0; e < scenario_.events.size(); ++e) {
    const EventSpec& ev = scenario_.events[e];
    if (state_.step < ev.from || state_.step > ev.to) continue;
    using A = EventSpec::Action;
    const auto in_territories = [&](std::int32_t t) {
      return ev.territories.empty() ||
             std::find(ev.territories.begin(), ev.territories.end(), t) != ev.territories.end();
    };
    // Targeted clusters: named ones, else those at home in the territories, else all.
    std::vector<std::size_t> targets;
    for (std::size_t c = 0; c < state_.clusters.size(); ++c) {
      const auto& info = state_.clusters[c];
      const bool named =
          std::find(ev.clusters.begin(), ev.clusters.end(), info.declared) != ev.clusters.end();
      if (ev.clusters.empty() ? in_territories(info.territory) : (info.declared >= 0 && named))
        targets.push_back(c);
    }
    std::vector<std::size_t> innovations;
    for (std::size_t k = 0; k < I_; ++k)
      if (ev.innovations.empty() || std::find(ev.innovations.begin(), ev.innovations.end(),
                                              static_cast<int>(k)) != ev.innovations.end())
        innovations.push_back(k);
    std::vector<std::size_t> territories;
    for (std::size_t t = 0; t < T_; ++t)
      if (in_territories(static_cast<std::int32_t>(t))) territories.push_back(t);
    std::int64_t affected = 0;
    Stream rng = StreamKey(scenario_.seed, Purpose::events, static_cast<std::uint64_t>(state_.step))
                     .stream(e);
    const PolicyCosts& pc = scenario_.costs;
    const double place_year = pc.facilitator_year / pc.members_per_facilitator;
    const auto commit = [&](std::size_t t, double euros_per_year) {
      if (euros_per_year != 0.0) state_.commitments.push_back({e, t, euros_per_year});
    };
    const auto home = [&](std::size_t c) {
      return static_cast<std::size_t>(state_.clusters[c].territory);
    };
    const auto each_cell = [&](FormSet forms, const auto& f) {
      for (const auto k : innovations)
        for (const auto t : territories)
          for (std::size_t x = 0; x < F_; ++x)
            if (has_form(forms, static_cast<LegalForm>(x))) f((k * T_ + t) * F_ + x);
    };
    switch (ev.action) {
    case A::fund_facilitation:
      for (const auto c : targets) {
        state_.clusters[c].capacity += ev.value;
        commit(home(c), ev.value * place_year);
      }
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::cut_funding:
      for (const auto c : targets) {
        commit(home(c), -ev.value * state_.clusters[c].capacity * place_year);
        state_.clusters[c].capacity *= 1.0 - ev.value;
      }
      each_cell(ev.forms, [&](std::size_t x) { state_.subsidy[x] *= 1.0 - ev.value; });
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::open_bridges:
      for (const auto c : targets) {
        const double before = state_.clusters[c].openness;
        state_.clusters[c].openness = std::clamp(before + ev.value, 0.0, 1.0);
        // A programme per cluster pair: each cluster and each of its bridging partners.
        const double pairs = scenario_.rules.bridging ? scenario_.rules.bridge_partners : 0.0;
        commit(home(c), (state_.clusters[c].openness - before) * pairs * pc.bridging_pair_year);
      }
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::subsidise_cost:
      each_cell(ev.forms, [&](std::size_t x) {
        state_.subsidy[x] = ev.value;
        state_.subsidy_event[x] = static_cast<std::int32_t>(e);
      });
      affected = static_cast<std::int64_t>(territories.size());
      break;
    case A::public_procurement:
      each_cell(static_cast<FormSet>(ev.forms & kSocialEconomyForms), [&](std::size_t x) {
        state_.appeal_bonus[x] += ev.value;
        state_.bonus_event[x] = static_cast<std::int32_t>(e);
      });
      affected = static_cast<std::int64_t>(territories.size());
      break;
    case A::raise_support:
      for (const auto t : territories) {
        const double before = state_.support[t];
        state_.support[t] = std::clamp(before + ev.value, 0.0, 1.0);
        const auto orgs_t =
            static_cast<double>(world_.territory_begin[t + 1] - world_.territory_begin[t]);
        commit(t, (state_.support[t] - before) * orgs_t * pc.support_year);
      }
      affected = static_cast<std::int64_t>(territories.size());
      break;
    case A::seed_adopters:
      for (const auto k : innovations) {
        const InnovationSpec& inn = scenario_.innovations[k];
        std::vector<OrgId> pool;
        for (const auto t : territories)
          for (auto i = world_.territory_begin[t]; i < world_.territory_begin[t + 1]; ++i) {
            const auto u = static_cast<std::size_t>(i);
            if (!has_form(ev.forms, orgs.form[u]) || !has_form(inn.suits, orgs.form[u])) continue;
            if (state_.innovations[k].adopted_at[u] != AdoptionState::kNever) continue;
            if (!ev.clusters.empty() &&
                (state_.cluster[u] == kNoCluster ||
                 std::find(targets.begin(), targets.end(),
                           static_cast<std::size_t>(state_.cluster[u])) == targets.end()))
              continue;
            pool.push_back(static_cast<OrgId>(i));
          }
        auto chosen = detail::sample(std::move(pool), ev.count, rng);
        affected += static_cast<std::int64_t>(chosen.size());
        for (const OrgId i : chosen)
          spend(e, static_cast<std::size_t>(orgs.territory[static_cast<std::size_t>(i)]),
                pc.seeded_adopter);
        force_adopt(k, std::move(chosen));
      }
      break;
    case A::found_cluster: {
      const auto t = territories.front();
      const auto lo = world_.territory_begin[t], hi = world_.territory_begin[t + 1];
      const auto free_se = [&](std::size_t i) {
        return state_.cluster[i] == kNoCluster && detail::social_economy(orgs.form[i]);
      };
      if (hi <= lo || world_.network.complete) break;
      boost::random::uniform_int_distribution<std::int64_t> any(lo, hi - 1);
      for (int probe = 0; probe < 64 && affected == 0; ++probe) {
        const auto seed_org = static_cast<std::size_t>(any(rng));
        if (!free_se(seed_org)) continue;
        // Breadth-first over linked free social-economy organisations of the territory.
        std::vector<std::size_t> group{seed_org};
        std::unordered_set<std::size_t> in{seed_org};
        for (std::size_t head = 0;
             head < group.size() && static_cast<std::int64_t>(group.size()) < ev.count; ++head)
          for (const OrgId j : world_.network.neighbours(static_cast<OrgId>(group[head]))) {
            const auto u = static_cast<std::size_t>(j);
            if (static_cast<std::int64_t>(group.size()) >= ev.count) break;
            if (orgs.territory[u] == static_cast<std::int32_t>(t) && free_se(u) &&
                in.insert(u).second)
              group.push_back(u);
          }
        if (group.size() < 2) continue;
        ClusterInfo info = resolve_cluster(scenario_, nullptr);
        info.name = ev.name;
        info.territory = static_cast<std::int32_t>(t);
        if (ev.value > 0) info.capacity = ev.value;
        const std::int32_t c = new_cluster(std::move(info));
        if (c == kNoCluster) break;
        std::sort(group.begin(), group.end());
        for (const auto i : group)
          join(i, c);
        affected = static_cast<std::int64_t>(group.size());
        spend(e, t, pc.founded_cluster);
      }
      break;
    }
    }
    std::string target;
    const auto list = [&](const char* what, const std::vector<std::string>& names) {
      if (names.empty()) return;
      if (!target.empty()) target.push_back(' ');
      target.append(what).push_back('=');
      for (std::size_t x = 0; x < names.size(); ++x) {
        if (x) target.push_back(',');
        target.append(names[x]);
      }
    };
    std::vector<std::string> names;
    for (int t : ev.territories)
      names.push_back(scenario_.territories[static_cast<std::size_t>(t)].code);
    list("territories", names);
    names.clear();
    for (int c : ev.clusters)
      names.push_back(scenario_.clusters[static_cast<std::size_t>(c)].name);
    list("clusters", names);
    names.clear();
    for (std::size_t f = 0; f < F_; ++f)
      if (ev.forms != kAllForms && has_form(ev.forms, static_cast<LegalForm>(f)))
        names.push_back(kLegalFormNames[f]);
    list("forms", names);
    names.clear();
    for (int k : ev.innovations)
      names.push_back(scenario_.innovations[static_cast<std::size_t>(k)].name);
    list("innovations", names);
    state_.events.push_back(
        {state_.step, action_name(ev.action), target.empty() ? "all" : target, affected});
  }
}

void Simulation::spend(std::size_t e, std::size_t t, double euros) {
  // Model quantities stand for `represents` real ones each: real euros.
  state_.counts.spending[e * T_ + t] += euros * scenario_.organisations.represents;
}

void Simulation::charge_commitments() {
  const double dt = scenario_.step_years();
  for (const Commitment& c : state_.commitments)
    spend(c.event, c.territory, c.euros_per_year * dt);
}

} // namespace csei
