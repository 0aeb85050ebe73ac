// The run's initial state and the model's schedule (see simulation.hpp); the pioneers of
// innovations.
#include "kernel/simulation.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "kernel/detail.hpp"

#include <algorithm>

namespace csei {

std::size_t cluster_slots(const Scenario& s, const World& w) {
  std::size_t slots = w.clusters.size();
  if (s.rules.emergence) slots += static_cast<std::size_t>(s.rules.max_new_clusters);
  for (const auto& e : s.events)
    if (e.action == EventSpec::Action::found_cluster)
      slots += static_cast<std::size_t>(e.to - e.from + 1);
  return slots;
}

std::vector<OrgId> choose_pioneers(const Scenario& s, const World& w,
                                   std::span<const std::int32_t> membership, std::size_t k) {
  const InnovationSpec& inn = s.innovations[k];
  if (inn.pioneers == 0) return {};
  // Organisation ranges to draw from: every territory, or the named ones (ascending).
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  if (inn.pioneer_territories.empty()) ranges.emplace_back(0, w.organisation_count());
  for (const int t : inn.pioneer_territories)
    ranges.emplace_back(w.territory_begin[static_cast<std::size_t>(t)],
                        w.territory_begin[static_cast<std::size_t>(t) + 1]);
  const auto& orgs = w.organisations;
  std::vector<OrgId> pool;
  for (const auto& [lo, hi] : ranges) {
    for (std::int64_t i = lo; i < hi; ++i) {
      const auto u = static_cast<std::size_t>(i);
      if (!has_form(inn.suits, orgs.form[u]) || !has_form(inn.pioneer_forms, orgs.form[u]))
        continue;
      if (inn.pioneer_cluster >= 0 && membership[u] != inn.pioneer_cluster) continue;
      pool.push_back(static_cast<OrgId>(i));
    }
  }
  Stream rng = StreamKey(s.seed, Purpose::pioneers, 0).stream(k);
  return detail::sample(std::move(pool), inn.pioneers, rng);
}

Simulation::Simulation(const Scenario& scenario, const World& world)
    : scenario_(scenario), world_(world), T_(world.territory_count()),
      I_(scenario.innovations.size()) {
  const auto n = static_cast<std::size_t>(world.organisation_count());
  const Network& net = world.network;
  const auto& orgs = world.organisations;
  RunState& st = state_;

  // Membership and link classes. Large per-organisation arrays are filled in parallel, so each
  // page is first touched by the thread that uses it.
  st.cluster.resize(n);
  par::for_ranges<std::size_t>(0, n, detail::kGrain, [&](std::size_t lo, std::size_t hi) {
    std::copy(orgs.initial_cluster.begin() + static_cast<std::ptrdiff_t>(lo),
              orgs.initial_cluster.begin() + static_cast<std::ptrdiff_t>(hi),
              st.cluster.begin() + static_cast<std::ptrdiff_t>(lo));
  });
  st.clusters = world.clusters;
  st.cluster_slots = csei::cluster_slots(scenario, world);
  st.cluster_size.assign(st.clusters.size(), 0);
  StepOutcomes& o = st.counts;
  o.members.assign(T_, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (st.cluster[i] != kNoCluster) {
      st.members.push_back(static_cast<OrgId>(i));
      ++st.cluster_size[static_cast<std::size_t>(st.cluster[i])];
      ++o.members[static_cast<std::size_t>(orgs.territory[i])];
    }
  o.cluster_members.assign(st.cluster_slots, 0);
  std::copy(st.cluster_size.begin(), st.cluster_size.end(), o.cluster_members.begin());

  if (!net.complete) {
    st.class_degree.resize(n);
    par::for_ranges<std::size_t>(0, n, detail::kGrain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) {
        ClassCounts d{};
        const auto row = net.neighbours(static_cast<OrgId>(i));
        if (st.cluster[i] == kNoCluster) {
          // Rows are sorted and territories own contiguous ids: two binary searches suffice.
          const auto t = static_cast<std::size_t>(orgs.territory[i]);
          const auto b = std::lower_bound(row.begin(), row.end(), world.territory_begin[t]);
          const auto e = std::lower_bound(b, row.end(), world.territory_begin[t + 1]);
          d[static_cast<std::size_t>(LinkClass::local)] = static_cast<std::uint16_t>(e - b);
          d[static_cast<std::size_t>(LinkClass::distant)] =
              static_cast<std::uint16_t>(row.size() - static_cast<std::size_t>(e - b));
        } else {
          for (const OrgId j : row) {
            const auto u = static_cast<std::size_t>(j);
            ++d[static_cast<std::size_t>(
                link_class(st.cluster[i], st.cluster[u], orgs.territory[i], orgs.territory[u]))];
          }
        }
        st.class_degree[i] = d;
      }
    });
  }

  // Per-innovation states: organisations of forms an innovation does not suit are settled.
  st.innovations.resize(I_);
  const std::size_t words = (n + 63) / 64;
  for (std::size_t k = 0; k < I_; ++k) {
    const InnovationSpec& inn = scenario.innovations[k];
    AdoptionState& a = st.innovations[k];
    const bool aware = scenario.awareness.enabled;
    const bool abandon = scenario.abandonment.enabled;
    const bool cascade = inn.rule == InnovationSpec::Rule::cascade;
    if (aware) a.aware_at.resize(n);
    a.adopted_at.resize(n);
    if (abandon) a.abandoned_at.resize(n);
    if (!net.complete) a.adopted_neighbours.resize(n);
    if (cascade) {
      a.seen.resize(n);
      if (!net.complete) a.ever_adopted_neighbours.resize(n);
    }
    a.settled.resize(words);
    par::for_ranges<std::size_t>(
        0, words, detail::kGrain / 64, [&](std::size_t wlo, std::size_t whi) {
          const std::size_t lo = wlo * 64, hi = std::min(n, whi * 64);
          const auto never = [&](auto& v) {
            if (!v.empty()) std::fill(v.begin() + lo, v.begin() + hi, AdoptionState::kNever);
          };
          never(a.aware_at);
          never(a.adopted_at);
          never(a.abandoned_at);
          if (!a.adopted_neighbours.empty())
            std::fill(a.adopted_neighbours.begin() + lo, a.adopted_neighbours.begin() + hi,
                      ClassCounts{});
          if (!a.seen.empty()) std::fill(a.seen.begin() + lo, a.seen.begin() + hi, 0);
          if (!a.ever_adopted_neighbours.empty())
            std::fill(a.ever_adopted_neighbours.begin() + lo,
                      a.ever_adopted_neighbours.begin() + hi, std::uint16_t{0});
          for (std::size_t w = wlo; w < whi; ++w) {
            std::uint64_t bits = 0;
            for (std::size_t b = 0; b < 64; ++b) {
              const std::size_t i = w * 64 + b;
              if (i >= n || !has_form(inn.suits, orgs.form[i])) bits |= std::uint64_t{1} << b;
            }
            a.settled[w] = bits;
          }
        });
  }

  // Units of the apply phase: each territory in pieces of at most 2^17 organisations.
  constexpr std::int64_t kUnit = std::int64_t{1} << 17;
  unit_begin_.push_back(0);
  for (std::size_t t = 0; t < T_; ++t) {
    const std::int64_t lo = world.territory_begin[t], len = world.territory_begin[t + 1] - lo;
    const std::int64_t pieces = (len + kUnit - 1) / kUnit;
    for (std::int64_t p = 1; p <= pieces; ++p)
      unit_begin_.push_back(lo + len * p / pieces);
  }

  st.support.resize(T_);
  for (std::size_t t = 0; t < T_; ++t)
    st.support[t] = scenario.territory_support(t);
  st.subsidy.assign(I_ * T_ * F_, 0.0);
  st.appeal_bonus.assign(I_ * T_ * F_, 0.0);

  st.subsidy_event.assign(I_ * T_ * F_, -1);
  st.bonus_event.assign(I_ * T_ * F_, -1);

  for (auto* v : {&o.adopters, &o.new_adopters, &o.aware, &o.abandoned, &o.member_adopters,
                  &o.transfers, &o.bridge_transfers, &o.distant_transfers, &o.suited_members})
    v->assign(I_ * T_, 0);
  o.spending.assign(scenario.events.size() * T_, 0.0);
  for (const OrgId m : st.members) {
    const auto i = static_cast<std::size_t>(m);
    for (std::size_t k = 0; k < I_; ++k)
      if (has_form(scenario.innovations[k].suits, orgs.form[i]))
        ++o.suited_members[k * T_ + static_cast<std::size_t>(orgs.territory[i])];
  }
  o.by_form.assign(I_ * F_, 0);
  o.cluster_adopters.assign(I_ * st.cluster_slots, 0);
  o.jobs.assign(I_ * T_, 0.0);
  o.impact.assign(I_ * T_, 0.0);
  o.adopter_jobs.assign(I_ * T_, 0.0);
}

void Simulation::initialise() {
  state_.step = 0;
  begin_step();
  apply_events();
  launch_pioneers();
  update_outcomes();
}

void Simulation::step() {
  ++state_.step;
  begin_step();
  charge_commitments();
  apply_events();
  launch_pioneers();
  recruitment();
  emergence();
  for (std::size_t k = 0; k < I_; ++k)
    decide(k);
  update_outcomes();
}

void Simulation::launch_pioneers() {
  // From the live membership: an innovation launched later starts in the clusters as they are.
  for (std::size_t k = 0; k < I_; ++k)
    if (scenario_.innovations[k].launch_step == state_.step)
      force_adopt(k, choose_pioneers(scenario_, world_, state_.cluster, k));
}

} // namespace csei
