// The synchronous step: events, cluster dynamics, then per innovation a decide pass over the
// previous state and an apply phase. See simulation.hpp for the schedule.
#include "kernel/simulation.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "rules/adoption.hpp"

#include <algorithm>
#include <atomic>
#include <boost/random/uniform_int_distribution.hpp>
#include <map>
#include <unordered_set>

namespace csei {
namespace {

constexpr std::int64_t kGrain = 8192;

std::vector<OrgId> sample(std::vector<OrgId> pool, std::int64_t count, Stream& rng) {
  // Floyd's algorithm over pool indices, then sorted: count draws whatever the pool size.
  if (count >= static_cast<std::int64_t>(pool.size())) return pool;
  const auto m = static_cast<std::int64_t>(pool.size());
  std::unordered_set<std::int64_t> picked;
  std::vector<OrgId> out;
  for (std::int64_t j = m - count; j < m; ++j) {
    const auto t = boost::random::uniform_int_distribution<std::int64_t>(0, j)(rng);
    const std::int64_t pick = picked.insert(t).second ? t : j;
    if (pick == j) picked.insert(j);
    out.push_back(pool[static_cast<std::size_t>(pick)]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool social_economy(LegalForm f) {
  return has_form(kSocialEconomyForms, f);
}

} // namespace

std::size_t cluster_slots(const Scenario& s, const World& w) {
  std::size_t slots = w.clusters.size();
  if (s.rules.emergence) slots += static_cast<std::size_t>(s.rules.max_new_clusters);
  for (const auto& e : s.events)
    if (e.action == EventSpec::Action::found_cluster)
      slots += static_cast<std::size_t>(e.to - e.from + 1);
  return slots;
}

std::vector<OrgId> choose_pioneers(const Scenario& s, const World& w, std::size_t k) {
  const InnovationSpec& inn = s.innovations[k];
  if (inn.pioneers == 0) return {};
  std::int64_t lo = 0, hi = w.organisation_count();
  if (inn.pioneer_territory >= 0) {
    lo = w.territory_begin[static_cast<std::size_t>(inn.pioneer_territory)];
    hi = w.territory_begin[static_cast<std::size_t>(inn.pioneer_territory) + 1];
  }
  const auto& orgs = w.organisations;
  std::vector<OrgId> pool;
  for (std::int64_t i = lo; i < hi; ++i) {
    const auto u = static_cast<std::size_t>(i);
    if (!has_form(inn.suits, orgs.form[u]) || !has_form(inn.pioneer_forms, orgs.form[u])) continue;
    if (inn.pioneer_cluster >= 0 && orgs.cluster[u] != inn.pioneer_cluster) continue;
    pool.push_back(static_cast<OrgId>(i));
  }
  Stream rng = StreamKey(s.seed, Purpose::pioneers, 0).stream(k);
  return sample(std::move(pool), inn.pioneers, rng);
}

Simulation::Simulation(const Scenario& scenario, const World& world)
    : scenario_(scenario), world_(world), T_(world.territory_count()),
      I_(scenario.innovations.size()), cluster_(world.organisations.cluster),
      state_(scenario.innovations.size()), clusters_(world.clusters) {
  const auto n = static_cast<std::size_t>(world.organisation_count());
  const Network& net = world.network;
  const auto& orgs = world.organisations;

  std::size_t slots = clusters_.size();
  if (scenario.rules.emergence) slots += static_cast<std::size_t>(scenario.rules.max_new_clusters);
  for (const auto& e : scenario.events)
    if (e.action == EventSpec::Action::found_cluster)
      slots += static_cast<std::size_t>(e.to - e.from + 1);
  cluster_slots_ = slots;
  cluster_size_.assign(clusters_.size(), 0);
  members_.assign(T_, 0);
  for (std::size_t i = 0; i < n; ++i)
    if (cluster_[i] != kNoCluster) {
      ++cluster_size_[static_cast<std::size_t>(cluster_[i])];
      ++members_[static_cast<std::size_t>(orgs.territory[i])];
    }
  cluster_members_.assign(cluster_slots_, 0);
  std::copy(cluster_size_.begin(), cluster_size_.end(), cluster_members_.begin());

  if (!net.complete) {
    class_degree_.assign(n, ClassCounts{});
    par::for_ranges<std::size_t>(0, n, kGrain, [&](std::size_t lo, std::size_t hi) {
      for (std::size_t i = lo; i < hi; ++i) {
        const auto row = net.neighbours(static_cast<OrgId>(i));
        if (cluster_[i] == kNoCluster) {
          // Rows are sorted and territories own contiguous ids: two binary searches suffice.
          const auto t = static_cast<std::size_t>(orgs.territory[i]);
          const auto b = std::lower_bound(row.begin(), row.end(), world.territory_begin[t]);
          const auto e = std::lower_bound(b, row.end(), world.territory_begin[t + 1]);
          class_degree_[i][static_cast<std::size_t>(LinkClass::local)] =
              static_cast<std::uint16_t>(e - b);
          class_degree_[i][static_cast<std::size_t>(LinkClass::distant)] =
              static_cast<std::uint16_t>(row.size() - static_cast<std::size_t>(e - b));
          continue;
        }
        for (const OrgId j : row) {
          const auto u = static_cast<std::size_t>(j);
          ++class_degree_[i][static_cast<std::size_t>(
              link_class(cluster_[i], cluster_[u], orgs.territory[i], orgs.territory[u]))];
        }
      }
    });
  }
  for (std::size_t k = 0; k < I_; ++k) {
    AdoptionState& st = state_[k];
    if (scenario.awareness.enabled) st.aware_at.assign(n, AdoptionState::kNever);
    st.adopted_at.assign(n, AdoptionState::kNever);
    if (scenario.abandonment.enabled) st.abandoned_at.assign(n, AdoptionState::kNever);
    if (!net.complete) st.adopted_neighbours.assign(n, ClassCounts{});
    if (scenario.innovations[k].rule == InnovationSpec::Rule::cascade) st.seen.assign(n, 0);
  }
  support_.resize(T_);
  for (std::size_t t = 0; t < T_; ++t)
    support_[t] = scenario.territory_support(t);
  subsidy_.assign(I_ * T_ * F_, 0.0);
  appeal_bonus_.assign(I_ * T_ * F_, 0.0);

  for (auto* v : {&adopters_, &new_adopters_, &aware_, &abandoned_, &member_adopters_, &transfers_})
    v->assign(I_ * T_, 0);
  by_form_.assign(I_ * F_, 0);
  cluster_adopters_.assign(I_ * cluster_slots_, 0);
  jobs_.assign(I_ * T_, 0.0);
  impact_.assign(I_ * T_, 0.0);
  adopter_jobs_.assign(I_ * T_, 0.0);
}

StepCounts Simulation::counts() const {
  StepCounts c;
  c.step = step_;
  c.innovations = I_;
  c.territories = T_;
  c.clusters = cluster_slots_;
  c.adopters = adopters_;
  c.new_adopters = new_adopters_;
  c.aware = aware_;
  c.abandoned = abandoned_;
  c.member_adopters = member_adopters_;
  c.members = members_;
  c.adopters_by_form = by_form_;
  c.jobs = jobs_;
  c.impact = impact_;
  c.transfers = transfers_;
  c.cluster_members = cluster_members_;
  c.cluster_adopters = cluster_adopters_;
  return c;
}

std::array<double, kLinkClasses> Simulation::weights(std::size_t i) const {
  std::array<double, kLinkClasses> w{1.0, 1.0, 1.0, 1.0};
  const std::int32_t c = cluster_[i];
  if (c == kNoCluster) return w;
  const ClusterInfo& info = clusters_[static_cast<std::size_t>(c)];
  w[static_cast<std::size_t>(LinkClass::cluster)] = info.weight;
  const ClusterRules& r = scenario_.rules;
  if (r.bridging)
    w[static_cast<std::size_t>(LinkClass::bridge)] =
        r.bridge_weight * info.openness * (1.0 - r.diversity_penalty * info.sector_diversity);
  return w;
}

double Simulation::effective_cost(std::size_t k, std::size_t i) const {
  const auto& orgs = world_.organisations;
  const auto t = static_cast<std::size_t>(orgs.territory[i]);
  const auto f = static_cast<std::size_t>(orgs.form[i]);
  double cost = scenario_.innovations[k].cost * (1.0 - subsidy_[(k * T_ + t) * F_ + f]);
  if (cluster_[i] != kNoCluster)
    cost *= 1.0 - clusters_[static_cast<std::size_t>(cluster_[i])].pooling;
  return cost;
}

void Simulation::initialise() {
  step_ = 0;
  begin_step();
  apply_events();
  launch_pioneers();
  update_outcomes();
}

void Simulation::step() {
  ++step_;
  begin_step();
  apply_events();
  launch_pioneers();
  recruitment();
  emergence();
  for (std::size_t k = 0; k < I_; ++k)
    step_innovation(k);
  update_outcomes();
}

void Simulation::update_outcomes() {
  for (std::size_t x = 0; x < I_ * T_; ++x) {
    const InnovationSpec& inn = scenario_.innovations[x / T_];
    jobs_[x] = static_cast<double>(adopters_[x]) * inn.jobs_per_adopter;
    impact_[x] = adopter_jobs_[x] * inn.impact_per_job;
  }
}

void Simulation::begin_step() {
  std::fill(new_adopters_.begin(), new_adopters_.end(), 0);
  std::fill(transfers_.begin(), transfers_.end(), 0);
}

void Simulation::launch_pioneers() {
  for (std::size_t k = 0; k < I_; ++k)
    if (scenario_.innovations[k].launch_step == step_)
      force_adopt(k, choose_pioneers(scenario_, world_, k));
}

void Simulation::force_adopt(std::size_t k, std::vector<OrgId> orgs) {
  AdoptionState& st = state_[k];
  const auto s = static_cast<std::int32_t>(step_);
  std::vector<OrgId> fresh;
  for (const OrgId i : orgs) {
    const auto u = static_cast<std::size_t>(i);
    if (st.adopted_at[u] != AdoptionState::kNever) continue; // adopters and abandoners stay so
    st.adopted_at[u] = s;
    fresh.push_back(i);
  }
  std::sort(fresh.begin(), fresh.end());
  apply(k, fresh, +1, {});
}

void Simulation::apply(std::size_t k, std::span<const OrgId> list, int sign,
                       std::span<const std::uint8_t> transfer) {
  AdoptionState& st = state_[k];
  const auto& orgs = world_.organisations;
  const auto s = static_cast<std::int32_t>(step_);
  // Outcomes, sequentially in id order (floating-point sums in a fixed order).
  for (std::size_t a = 0; a < list.size(); ++a) {
    const auto i = static_cast<std::size_t>(list[a]);
    const auto t = static_cast<std::size_t>(orgs.territory[i]);
    const std::size_t x = k * T_ + t;
    adopters_[x] += sign;
    by_form_[k * F_ + static_cast<std::size_t>(orgs.form[i])] += sign;
    adopter_jobs_[x] += sign * static_cast<double>(orgs.jobs[i]);
    if (cluster_[i] != kNoCluster) {
      member_adopters_[x] += sign;
      cluster_adopters_[k * cluster_slots_ + static_cast<std::size_t>(cluster_[i])] += sign;
    }
    if (sign > 0) {
      ++new_adopters_[x];
      if (!transfer.empty() && transfer[a]) ++transfers_[x];
      if (st.aware_at.empty()) { // adoption implies awareness; nobody adopts twice
        ++aware_[x];
      } else if (st.aware_at[i] == AdoptionState::kNever) {
        st.aware_at[i] = s;
        ++aware_[x];
      }
    } else {
      ++abandoned_[x];
    }
  }
  st.adopters += sign * static_cast<std::int64_t>(list.size());
  if (world_.network.complete) return; // influence comes from the total alone
  const Network& net = world_.network;
  par::for_ranges<std::size_t>(0, list.size(), 256, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t a = lo; a < hi; ++a) {
      const auto i = static_cast<std::size_t>(list[a]);
      const std::int32_t ci = cluster_[i];
      const auto ti = static_cast<std::size_t>(orgs.territory[i]);
      const std::int64_t tlo = world_.territory_begin[ti], thi = world_.territory_begin[ti + 1];
      for (const OrgId j : net.neighbours(list[a])) {
        const auto u = static_cast<std::size_t>(j);
        // Territories own contiguous id ranges: the class of a non-member's link needs no lookup.
        const bool same_territory = j >= tlo && j < thi;
        LinkClass c = same_territory ? LinkClass::local : LinkClass::distant;
        if (ci != kNoCluster && cluster_[u] != kNoCluster)
          c = cluster_[u] == ci ? LinkClass::cluster : LinkClass::bridge;
        // 16-bit counts: adding 0xFFFF is subtracting one, modulo 2^16.
        std::atomic_ref<std::uint16_t>(st.adopted_neighbours[u][static_cast<std::size_t>(c)])
            .fetch_add(static_cast<std::uint16_t>(sign), std::memory_order_relaxed);
      }
    }
  });
}

void Simulation::join(std::size_t i, std::int32_t c) {
  const auto& orgs = world_.organisations;
  const std::int32_t old = cluster_[i];
  const auto ti = orgs.territory[i];
  if (!world_.network.complete) {
    for (const OrgId j : world_.network.neighbours(static_cast<OrgId>(i))) {
      const auto u = static_cast<std::size_t>(j);
      const auto from =
          static_cast<std::size_t>(link_class(old, cluster_[u], ti, orgs.territory[u]));
      const auto to = static_cast<std::size_t>(link_class(c, cluster_[u], ti, orgs.territory[u]));
      if (from == to) continue;
      --class_degree_[i][from];
      ++class_degree_[i][to];
      --class_degree_[u][from];
      ++class_degree_[u][to];
      for (AdoptionState& st : state_) {
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
  cluster_[i] = c;
  const auto uc = static_cast<std::size_t>(c);
  ++cluster_size_[uc];
  ++cluster_members_[uc];
  ++members_[static_cast<std::size_t>(ti)];
  for (std::size_t k = 0; k < I_; ++k)
    if (state_[k].adopted(i)) {
      ++member_adopters_[k * T_ + static_cast<std::size_t>(ti)];
      ++cluster_adopters_[k * cluster_slots_ + uc];
    }
}

std::int32_t Simulation::new_cluster(ClusterInfo info) {
  if (clusters_.size() >= cluster_slots_) return kNoCluster;
  info.founded = step_;
  clusters_.push_back(std::move(info));
  cluster_size_.push_back(0);
  return static_cast<std::int32_t>(clusters_.size() - 1);
}

void Simulation::recruitment() {
  // Clusters recruit: each member, at the recruitment rate, invites one of its neighbours,
  // drawn uniformly; a non-member invited joins (the lowest cluster id if several invite it in
  // the same step). The cost is proportional to the members, not to all organisations.
  const ClusterRules& r = scenario_.rules;
  if (!r.recruitment || world_.network.complete || clusters_.empty()) return;
  const double p = r.recruitment_rate * scenario_.step_years();
  const auto n = world_.organisation_count();
  const StreamKey key =
      StreamKey(scenario_.seed, Purpose::membership, static_cast<std::uint64_t>(step_));
  const auto blocks = static_cast<std::size_t>((n + kGrain - 1) / kGrain);
  std::vector<std::vector<std::pair<OrgId, std::int32_t>>> invites(blocks);
  par::for_each(blocks, [&](std::size_t b) {
    const std::int64_t lo = static_cast<std::int64_t>(b) * kGrain, hi = std::min(n, lo + kGrain);
    const std::int32_t* const cluster = cluster_.data();
    for (std::int64_t i = lo; i < hi; ++i) {
      const std::int32_t c = cluster[i];
      if (c == kNoCluster) continue;
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
    for (const AdoptionState& st : state_)
      if (st.aware_before(i, step_)) return true;
    return false;
  };
  const auto free_se = [&](std::size_t i) {
    return cluster_[i] == kNoCluster && social_economy(orgs.form[i]) && engaged(i);
  };
  const StreamKey key =
      StreamKey(scenario_.seed, Purpose::membership, static_cast<std::uint64_t>(step_)).sub(1);
  for (std::size_t t = 0; t < T_; ++t) {
    const auto lo = world_.territory_begin[t], hi = world_.territory_begin[t + 1];
    Stream rng = key.stream(t);
    if (hi <= lo || !chance(r.emergence_rate * scenario_.step_years() * support_[t], rng)) continue;
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
      info.name = scenario_.territories[t].code + "-new-" + std::to_string(clusters_.size());
      const std::int32_t c = new_cluster(std::move(info));
      if (c == kNoCluster) return; // no slots left
      std::sort(group.begin() + 1, group.end());
      for (const auto i : group)
        join(i, c);
      break;
    }
  }
}

void Simulation::step_innovation(std::size_t k) {
  const InnovationSpec& inn = scenario_.innovations[k];
  if (step_ <= inn.launch_step) return; // not yet launched, or launched (pioneers) this step
  AdoptionState& st = state_[k];
  const Organisations& orgs = world_.organisations;
  const Network& net = world_.network;
  const std::int64_t n = world_.organisation_count();
  const auto s = static_cast<std::int32_t>(step_);
  const double dt = scenario_.step_years();
  const BassRule bass(inn, dt);
  const UtilityRule utility(inn, dt);
  const AwarenessSpec& aw = scenario_.awareness;
  const bool abandonment = scenario_.abandonment.enabled && inn.cost > 0;
  const double abandon_p = scenario_.abandonment.rate * dt;
  const StreamKey adopt_key =
      StreamKey(scenario_.seed, Purpose::adoption, static_cast<std::uint64_t>(step_)).sub(k);
  const StreamKey aware_key =
      StreamKey(scenario_.seed, Purpose::awareness, static_cast<std::uint64_t>(step_)).sub(k);
  const StreamKey abandon_key =
      StreamKey(scenario_.seed, Purpose::abandonment, static_cast<std::uint64_t>(step_)).sub(k);
  // Well-mixed: every non-adopter sees the same share of adopters among the others.
  const double mixed = n > 1 ? static_cast<double>(st.adopters) / static_cast<double>(n - 1) : 0.0;
  // Nothing can happen: skip the scan (keeps the no-pioneer, p = 0 limit exact and cheap).
  if (inn.rule == InnovationSpec::Rule::bass && !aw.enabled && !abandonment &&
      (bass.probability(net.complete ? mixed : 1.0) <= 0.0 ||
       (bass.p_step <= 0.0 && st.adopters == 0)))
    return;

  // Awareness from media and policy support: one rate per territory for this step.
  std::vector<double> aware_rate(T_);
  for (std::size_t t = 0; t < T_; ++t)
    aware_rate[t] = aw.media + aw.support * support_[t];
  const auto blocks = static_cast<std::size_t>((n + kGrain - 1) / kGrain);
  for (auto* v : {&block_adopt_, &block_abandon_, &block_aware_})
    v->resize(blocks);
  block_transfer_.resize(blocks);
  par::for_each(blocks, [&](std::size_t b) {
    auto& adopt = block_adopt_[b];
    auto& abandon = block_abandon_[b];
    auto& aware = block_aware_[b];
    auto& transfer = block_transfer_[b];
    adopt.clear();
    abandon.clear();
    aware.clear();
    transfer.clear();
    const std::int64_t lo = static_cast<std::int64_t>(b) * kGrain, hi = std::min(n, lo + kGrain);
    // Locals, not captured references: the stores below would otherwise force the compiler to
    // reload every captured value on each iteration of this hot loop.
    const bool all_forms = inn.suits == kAllForms, complete = net.complete;
    const bool abandon_on = abandonment, aware_on = aw.enabled;
    const bool plain_bass = inn.rule == InnovationSpec::Rule::bass;
    const double shared = mixed;
    const BassRule bass_rule = bass;
    const StreamKey key = adopt_key;
    std::int32_t* const adopted_at = st.adopted_at.data();
    const ClassCounts* const counts = st.adopted_neighbours.data();
    const ClassCounts* const degree = class_degree_.data();
    const std::int32_t* const cluster = cluster_.data();
    std::int32_t* const aware_at = st.aware_at.data();
    const std::int32_t* const territory = orgs.territory.data();
    const double* const aware_base = aware_rate.data();
    const double word_of_mouth = aw.word_of_mouth;
    for (std::int64_t id = lo; id < hi; ++id) {
      const auto i = static_cast<std::size_t>(id);
      if (adopted_at[i] != AdoptionState::kNever) {
        // Discontinuance: an adopter from an earlier step whose effective cost now exceeds its
        // resources gives up at the abandonment rate.
        if (abandon_on && st.abandoned_at[i] == AdoptionState::kNever && adopted_at[i] < s &&
            effective_cost(k, i) > static_cast<double>(orgs.resources[i])) {
          Stream rng = abandon_key.stream(i);
          if (chance(abandon_p, rng)) {
            st.abandoned_at[i] = s;
            abandon.push_back(static_cast<OrgId>(id));
          }
        }
        continue;
      }
      if (!all_forms && !has_form(inn.suits, orgs.form[i])) continue;
      const std::int32_t c = cluster[i];
      double share = shared;
      if (!complete)
        share = c == kNoCluster ? plain_share(counts[i], degree[i])
                                : weighted_share(counts[i], degree[i], weights(i));
      if (plain_bass && !aware_on) { // the common case, kept short
        Stream rng = key.stream(i);
        if (!bass_rule.adopts(share, rng)) continue;
        adopted_at[i] = s;
        adopt.push_back(static_cast<OrgId>(id));
        bool via_elsewhere = false;
        if (!complete && total(counts[i]) > 0) {
          const LinkClass d = decisive_class(counts[i], weights(i));
          via_elsewhere = d == LinkClass::bridge || d == LinkClass::distant;
        }
        transfer.push_back(via_elsewhere);
        continue;
      }
      const ClusterInfo* cl = c == kNoCluster ? nullptr : &clusters_[static_cast<std::size_t>(c)];
      if (aware_on && !(aware_at[i] != AdoptionState::kNever && aware_at[i] < s)) {
        if (aware_at[i] != AdoptionState::kNever) continue; // became aware this step
        double rate = aware_base[static_cast<std::size_t>(territory[i])] + word_of_mouth * share;
        if (cl) // facilitation, diluted when the cluster outgrows its facilitator's capacity
          rate += cl->facilitation_rate *
                  std::min(1.0, cl->capacity / static_cast<double>(std::max<std::int64_t>(
                                                   1, cluster_size_[static_cast<std::size_t>(c)])));
        Stream rng = aware_key.stream(i);
        if (chance(rate * dt, rng)) {
          aware_at[i] = s;
          aware.push_back(static_cast<OrgId>(id));
        }
        continue;
      }
      bool adopts = false;
      Stream rng = adopt_key.stream(i);
      switch (inn.rule) {
      case InnovationSpec::Rule::bass:
        adopts = bass.adopts(share, rng);
        break;
      case InnovationSpec::Rule::threshold:
        adopts = ThresholdRule::adopts(share, orgs.threshold[k][i]);
        break;
      case InnovationSpec::Rule::utility: {
        const auto t = static_cast<std::size_t>(orgs.territory[i]);
        const auto f = static_cast<std::size_t>(orgs.form[i]);
        const double complexity = inn.complexity * (1.0 - (cl ? cl->sharing : 0.0));
        const double v =
            utility.utility(inn.appeal + appeal_bonus_[(k * T_ + t) * F_ + f], complexity,
                            effective_cost(k, i), orgs.resources[i], share, orgs.innovativeness[i]);
        adopts = chance(utility.probability(v), rng);
        break;
      }
      case InnovationSpec::Rule::cascade: {
        const std::int32_t total =
            net.complete ? static_cast<std::int32_t>(st.adopters) : st.adopted_neighbour_count(i);
        const std::int32_t fresh = total - st.seen[i];
        st.seen[i] = total;
        adopts = chance(CascadeRule::probability(inn.cascade_probability, fresh), rng);
        break;
      }
      }
      if (!adopts) continue;
      // Writing one's own state is safe here: the decide pass reads no other organisation's
      // state, only the neighbour counts that change in the apply phase.
      st.adopted_at[i] = s;
      adopt.push_back(static_cast<OrgId>(id));
      bool via_elsewhere = false; // decisive influence through a bridge or distant link
      if (!net.complete && st.adopted_neighbour_count(i) > 0) {
        const LinkClass d = decisive_class(st.adopted_neighbours[i], weights(i));
        via_elsewhere = d == LinkClass::bridge || d == LinkClass::distant;
      }
      transfer.push_back(via_elsewhere);
    }
  });

  const auto gather = [&](std::vector<std::vector<OrgId>>& blocks_list, std::vector<OrgId>& out) {
    out.clear();
    for (const auto& l : blocks_list)
      out.insert(out.end(), l.begin(), l.end());
  };
  std::vector<OrgId> list;
  gather(block_aware_, list);
  for (const OrgId i : list)
    ++aware_[k * T_ + static_cast<std::size_t>(orgs.territory[static_cast<std::size_t>(i)])];
  gather(block_abandon_, list);
  apply(k, list, -1, {});
  gather(block_adopt_, list);
  std::vector<std::uint8_t> flags;
  for (const auto& l : block_transfer_)
    flags.insert(flags.end(), l.begin(), l.end());
  apply(k, list, +1, flags);
}

void Simulation::apply_events() {
  const auto& orgs = world_.organisations;
  for (std::size_t e = 0; e < scenario_.events.size(); ++e) {
    const EventSpec& ev = scenario_.events[e];
    if (step_ < ev.from || step_ > ev.to) continue;
    using A = EventSpec::Action;
    const auto in_territories = [&](std::int32_t t) {
      return ev.territories.empty() ||
             std::find(ev.territories.begin(), ev.territories.end(), t) != ev.territories.end();
    };
    // Targeted clusters: named ones, else those at home in the territories, else all.
    std::vector<std::size_t> targets;
    for (std::size_t c = 0; c < clusters_.size(); ++c) {
      const auto& info = clusters_[c];
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
    Stream rng =
        StreamKey(scenario_.seed, Purpose::events, static_cast<std::uint64_t>(step_)).stream(e);
    const auto each_cell = [&](FormSet forms, const auto& f) {
      for (const auto k : innovations)
        for (const auto t : territories)
          for (std::size_t x = 0; x < F_; ++x)
            if (has_form(forms, static_cast<LegalForm>(x))) f((k * T_ + t) * F_ + x);
    };
    switch (ev.action) {
    case A::fund_facilitation:
      for (const auto c : targets)
        clusters_[c].capacity += ev.value;
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::cut_funding:
      for (const auto c : targets)
        clusters_[c].capacity *= 1.0 - ev.value;
      each_cell(ev.forms, [&](std::size_t x) { subsidy_[x] *= 1.0 - ev.value; });
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::open_bridges:
      for (const auto c : targets)
        clusters_[c].openness = std::clamp(clusters_[c].openness + ev.value, 0.0, 1.0);
      affected = static_cast<std::int64_t>(targets.size());
      break;
    case A::subsidise_cost:
      each_cell(ev.forms, [&](std::size_t x) { subsidy_[x] = ev.value; });
      affected = static_cast<std::int64_t>(territories.size());
      break;
    case A::public_procurement:
      each_cell(static_cast<FormSet>(ev.forms & kSocialEconomyForms),
                [&](std::size_t x) { appeal_bonus_[x] += ev.value; });
      affected = static_cast<std::int64_t>(territories.size());
      break;
    case A::raise_support:
      for (const auto t : territories)
        support_[t] = std::clamp(support_[t] + ev.value, 0.0, 1.0);
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
            if (state_[k].adopted_at[u] != AdoptionState::kNever) continue;
            if (!ev.clusters.empty() &&
                (cluster_[u] == kNoCluster ||
                 std::find(targets.begin(), targets.end(), static_cast<std::size_t>(cluster_[u])) ==
                     targets.end()))
              continue;
            pool.push_back(static_cast<OrgId>(i));
          }
        auto chosen = sample(std::move(pool), ev.count, rng);
        affected += static_cast<std::int64_t>(chosen.size());
        force_adopt(k, std::move(chosen));
      }
      break;
    case A::found_cluster: {
      const auto t = territories.front();
      const auto lo = world_.territory_begin[t], hi = world_.territory_begin[t + 1];
      const auto free_se = [&](std::size_t i) {
        return cluster_[i] == kNoCluster && social_economy(orgs.form[i]);
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
    events_.push_back({step_, action_name(ev.action), target.empty() ? "all" : target, affected});
  }
}

} // namespace csei
