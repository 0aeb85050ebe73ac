// Phases 3-5, the decide pass of one innovation: awareness, adoption by the innovation's rule and
// abandonment, for every organisation that can still change, reading only the state at the end
// of the previous step. Each organisation writes only its own state; the adoptions and
// abandonments are collected per block and applied afterwards in id order (apply.cpp).
//
// The rule is chosen once per pass: decide() takes the innovation's rule from with_rule()
// (rules/adoption.hpp) into decide_with, instantiated for each rule type, so the loop over
// organisations has no switch in it.
#include "core/parallel.hpp"
#include "kernel/detail.hpp"
#include "kernel/simulation.hpp"
#include "rules/adoption.hpp"

#include <algorithm>
#include <bit>

namespace csei {

void Simulation::decide(std::size_t k) {
  const InnovationSpec& inn = scenario_.innovations[k];
  if (state_.step <= inn.launch_step) return; // not yet launched, or launched (pioneers) now
  with_rule(inn, k, scenario_.step_years(), world_.organisations,
            [&](const auto& rule) { decide_with(k, rule); });
}

template <class Rule>
void Simulation::decide_with(std::size_t k, const Rule& rule) {
  const InnovationSpec& inn = scenario_.innovations[k];
  AdoptionState& st = state_.innovations[k];
  const Organisations& orgs = world_.organisations;
  const Network& net = world_.network;
  const std::int64_t n = world_.organisation_count();
  const std::int64_t step = state_.step;
  const auto s = static_cast<std::int32_t>(step);
  const double dt = scenario_.step_years();
  const AwarenessSpec& aw = scenario_.awareness;
  const bool abandonment = scenario_.abandonment.enabled && inn.cost > 0;
  const double abandon_p = scenario_.abandonment.rate * dt;
  const StreamKey adopt_key =
      StreamKey(scenario_.seed, Purpose::adoption, static_cast<std::uint64_t>(step)).sub(k);
  const StreamKey aware_key =
      StreamKey(scenario_.seed, Purpose::awareness, static_cast<std::uint64_t>(step)).sub(k);
  const StreamKey abandon_key =
      StreamKey(scenario_.seed, Purpose::abandonment, static_cast<std::uint64_t>(step)).sub(k);
  // Well-mixed: every non-adopter sees the same share of adopters among the others.
  const double mixed = n > 1 ? static_cast<double>(st.adopters) / static_cast<double>(n - 1) : 0.0;
  constexpr bool cascade = std::is_same_v<Rule, CascadeRule>;
  if (!aw.enabled && !abandonment && rule.inert(st.adopters)) return; // nothing can happen

  // What organisations see of their clusters and the policy levers, resolved once per pass: link
  // weights per cluster, the cost after subsidies per territory and form, and the share of the
  // cost a cluster's members do not bear.
  const ClusterRules& cr = scenario_.rules;
  std::vector<std::array<double, kLinkClasses>> cluster_weights(state_.clusters.size());
  std::vector<double> cost_kept(state_.clusters.size());
  for (std::size_t c = 0; c < state_.clusters.size(); ++c) {
    const ClusterInfo& info = state_.clusters[c];
    auto& w = cluster_weights[c];
    w = {1.0, 1.0, 1.0, 1.0};
    w[static_cast<std::size_t>(LinkClass::cluster)] = info.weight;
    if (cr.bridging)
      w[static_cast<std::size_t>(LinkClass::bridge)] =
          cr.bridge_weight * info.openness * (1.0 - cr.diversity_penalty * info.sector_diversity);
    cost_kept[c] = 1.0 - info.pooling;
  }
  std::vector<double> cost_after_subsidy(T_ * F_);
  for (std::size_t x = 0; x < T_ * F_; ++x)
    cost_after_subsidy[x] = inn.cost * (1.0 - state_.subsidy[k * T_ * F_ + x]);
  const auto weights = [&](std::int32_t c) -> const std::array<double, kLinkClasses>& {
    return cluster_weights[static_cast<std::size_t>(c)];
  };
  const auto effective_cost = [&](std::size_t i, std::int32_t c) {
    double cost = cost_after_subsidy[static_cast<std::size_t>(orgs.territory[i]) * F_ +
                                     static_cast<std::size_t>(orgs.form[i])];
    if (c != kNoCluster) cost *= cost_kept[static_cast<std::size_t>(c)];
    return cost;
  };

  // Awareness from media and policy support: one rate per territory for this step.
  std::vector<double> aware_rate(T_);
  for (std::size_t t = 0; t < T_; ++t)
    aware_rate[t] = aw.media + aw.support * state_.support[t];
  const auto blocks = static_cast<std::size_t>((n + detail::kGrain - 1) / detail::kGrain);
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
    // Locals, not captured references: the stores below would otherwise force the compiler to
    // reload every captured value on each iteration of this hot loop.
    const Rule r = rule;
    const bool complete = net.complete, abandon_on = abandonment, aware_on = aw.enabled;
    const double shared = mixed;
    const StreamKey key = adopt_key;
    std::int32_t* const adopted_at = st.adopted_at.data();
    std::int32_t* const aware_at = st.aware_at.data();
    const ClassCounts* const counts = st.adopted_neighbours.data();
    const ClassCounts* const degree = state_.class_degree.data();
    const std::int32_t* const cluster = state_.cluster.data();
    const std::int32_t* const territory = orgs.territory.data();
    const double* const aware_base = aware_rate.data();
    std::uint64_t* const settled = st.settled.data();
    const double word_of_mouth = aw.word_of_mouth;

    const std::size_t w_lo = b * static_cast<std::size_t>(detail::kGrain) / 64;
    const std::size_t w_hi =
        std::min<std::size_t>((static_cast<std::size_t>(n) + 63) / 64,
                              (b + 1) * static_cast<std::size_t>(detail::kGrain) / 64);
    for (std::size_t w = w_lo; w < w_hi; ++w) {
      // Only the organisations that can still change: skip settled ones 64 at a time.
      for (std::uint64_t open = ~settled[w]; open != 0; open &= open - 1) {
        const std::size_t i = w * 64 + static_cast<std::size_t>(std::countr_zero(open));
        const auto id = static_cast<OrgId>(i);
        if (adopted_at[i] != AdoptionState::kNever) {
          // An adopter from an earlier step (not settled: it may abandon).
          if (abandon_on && st.abandoned_at[i] == AdoptionState::kNever && adopted_at[i] < s) {
            const double cost = effective_cost(i, cluster[i]);
            Stream rng = abandon_key.stream(i);
            if (abandons(cost, static_cast<double>(orgs.resources[i]), abandon_p, rng)) {
              st.abandoned_at[i] = s;
              settled[w] |= std::uint64_t{1} << (i & 63);
              abandon.push_back(id);
            }
          }
          continue;
        }
        const std::int32_t c = cluster[i];
        double share = shared;
        if (!complete)
          share = c == kNoCluster ? plain_share(counts[i], degree[i])
                                  : weighted_share(counts[i], degree[i], weights(c));
        const ClusterInfo* cl =
            c == kNoCluster ? nullptr : &state_.clusters[static_cast<std::size_t>(c)];
        if (aware_on && !(aware_at[i] != AdoptionState::kNever && aware_at[i] < s)) {
          if (aware_at[i] != AdoptionState::kNever) continue; // became aware this step
          double rate = aware_base[static_cast<std::size_t>(territory[i])] + word_of_mouth * share;
          if (cl) // facilitation, diluted when the cluster outgrows its facilitator's capacity
            rate += cl->facilitation_rate *
                    std::min(1.0, cl->capacity /
                                      static_cast<double>(std::max<std::int64_t>(
                                          1, state_.cluster_size[static_cast<std::size_t>(c)])));
          Stream rng = aware_key.stream(i);
          if (becomes_aware(rate, dt, rng)) {
            aware_at[i] = s;
            aware.push_back(id);
          }
          continue;
        }
        Candidate cand{i, share, 0, 0.0, 0.0, 0.0};
        if constexpr (cascade) {
          // Neighbours that adopted since the last decision, abandoners included: each gets
          // exactly one chance.
          const std::int64_t ever =
              complete ? st.ever_adopters : std::int64_t{st.ever_adopted_neighbours[i]};
          cand.fresh = ever - st.seen[i];
          st.seen[i] = ever;
        }
        if constexpr (Rule::uses_attributes) {
          const auto t = static_cast<std::size_t>(territory[i]);
          const auto f = static_cast<std::size_t>(orgs.form[i]);
          cand.cost = effective_cost(i, c);
          cand.complexity = inn.complexity * (1.0 - (cl ? cl->sharing : 0.0));
          cand.appeal_bonus = state_.appeal_bonus[(k * T_ + t) * F_ + f];
        }
        Stream rng = key.stream(i);
        if (!r.adopts(cand, rng)) continue;
        // Writing one's own state is safe here: the decide pass reads no other organisation's
        // state, only the neighbour counts that change in the apply phase.
        adopted_at[i] = s;
        if (!abandon_on) settled[w] |= std::uint64_t{1} << (i & 63);
        adopt.push_back(id);
        // The decisive influence: 0 within the territory or cluster, 1 through a bridge link,
        // 2 through a distant link (a transfer from elsewhere).
        std::uint8_t via = 0;
        if (!complete && total(counts[i]) > 0) {
          static constexpr std::array<double, kLinkClasses> kPlain{1.0, 1.0, 1.0, 1.0};
          const LinkClass d = decisive_class(counts[i], c == kNoCluster ? kPlain : weights(c));
          via = d == LinkClass::bridge ? 1 : d == LinkClass::distant ? 2 : 0;
        }
        transfer.push_back(via);
      }
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
    ++state_.counts
          .aware[k * T_ + static_cast<std::size_t>(orgs.territory[static_cast<std::size_t>(i)])];
  gather(block_abandon_, list);
  apply(k, list, -1, {});
  gather(block_adopt_, list);
  std::vector<std::uint8_t> flags;
  for (const auto& l : block_transfer_)
    flags.insert(flags.end(), l.begin(), l.end());
  apply(k, list, +1, flags);
}

} // namespace csei
