// The synchronous step: decide in parallel from the previous state, then apply the adoptions.
#include "kernel/simulation.hpp"

#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "rules/adoption.hpp"

#include <algorithm>
#include <atomic>
#include <boost/random/uniform_int_distribution.hpp>
#include <unordered_set>

namespace csei {
namespace {

constexpr std::int64_t kGrain = 8192;

} // namespace

std::vector<OrgId> choose_pioneers(const Scenario& s, const World& w, std::size_t k) {
  const auto& inn = s.innovations[k];
  std::int64_t lo = 0, hi = w.organisation_count();
  if (inn.pioneer_territory >= 0) {
    lo = w.territory_begin[static_cast<std::size_t>(inn.pioneer_territory)];
    hi = w.territory_begin[static_cast<std::size_t>(inn.pioneer_territory) + 1];
  }
  const std::int64_t m = hi - lo;
  // Floyd's algorithm: m choose `pioneers` without replacement, in O(pioneers) draws.
  Stream rng = StreamKey(s.seed, Purpose::pioneers, 0).stream(k);
  std::unordered_set<std::int64_t> picked;
  std::vector<OrgId> out;
  for (std::int64_t j = m - inn.pioneers; j < m; ++j) {
    const auto t = boost::random::uniform_int_distribution<std::int64_t>(0, j)(rng);
    const std::int64_t pick = picked.insert(t).second ? t : j;
    if (pick == j) picked.insert(j);
    out.push_back(static_cast<OrgId>(lo + pick));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Simulation::Simulation(const Scenario& scenario, const World& world)
    : scenario_(scenario), world_(world), state_(scenario.innovations.size()) {
  const auto n = static_cast<std::size_t>(world.organisation_count());
  for (auto& st : state_) {
    st.adopted_at.assign(n, AdoptionState::kNever);
    if (!world.network.complete) st.adopted_neighbours.assign(n, 0);
  }
  adopters_.assign(state_.size() * world.territory_count(), 0);
  new_adopters_.assign(adopters_.size(), 0);
}

StepCounts Simulation::counts() const {
  return {step_, state_.size(), world_.territory_count(), adopters_, new_adopters_};
}

void Simulation::initialise() {
  step_ = 0;
  std::fill(new_adopters_.begin(), new_adopters_.end(), 0);
  for (std::size_t k = 0; k < state_.size(); ++k) {
    const auto pioneers = choose_pioneers(scenario_, world_, k);
    for (const OrgId i : pioneers) {
      state_[k].adopted_at[static_cast<std::size_t>(i)] = 0;
      ++new_adopters_[k * world_.territory_count() +
                      static_cast<std::size_t>(
                          world_.organisations.territory[static_cast<std::size_t>(i)])];
    }
    adopt(k, pioneers);
  }
  for (std::size_t c = 0; c < adopters_.size(); ++c)
    adopters_[c] = new_adopters_[c];
}

void Simulation::adopt(std::size_t k, std::span<const OrgId> adopters) {
  AdoptionState& st = state_[k];
  st.adopters += static_cast<std::int64_t>(adopters.size());
  if (world_.network.complete) return; // influence comes from the total alone
  const Network& net = world_.network;
  par::for_ranges<std::size_t>(0, adopters.size(), 256, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t a = lo; a < hi; ++a) {
      for (const OrgId j : net.neighbours(adopters[a]))
        std::atomic_ref<std::int32_t>(st.adopted_neighbours[static_cast<std::size_t>(j)])
            .fetch_add(1, std::memory_order_relaxed);
    }
  });
}

void Simulation::step() {
  ++step_;
  std::fill(new_adopters_.begin(), new_adopters_.end(), 0);
  for (std::size_t k = 0; k < state_.size(); ++k)
    step_innovation(k);
  for (std::size_t c = 0; c < adopters_.size(); ++c)
    adopters_[c] += new_adopters_[c];
}

void Simulation::step_innovation(std::size_t k) {
  const InnovationSpec& inn = scenario_.innovations[k];
  AdoptionState& st = state_[k];
  const Organisations& orgs = world_.organisations;
  const Network& net = world_.network;
  const std::size_t T = world_.territory_count();
  const std::int64_t n = world_.organisation_count();
  const auto step = static_cast<std::int32_t>(step_);
  const BassRule bass(inn, scenario_.step_years());
  const bool is_bass = inn.rule == InnovationSpec::Rule::bass;
  const StreamKey key =
      StreamKey(scenario_.seed, Purpose::adoption, static_cast<std::uint64_t>(step_)).sub(k);
  // Well-mixed: every non-adopter sees the same share of adopters among the others.
  const double mixed_influence =
      n > 1 ? static_cast<double>(st.adopters) / static_cast<double>(n - 1) : 0.0;
  // Nothing can happen: skip the scan (also keeps the no-pioneer, p = 0 limit exact).
  if (is_bass && (bass.probability(net.complete ? mixed_influence : 1.0) <= 0.0 ||
                  (bass.p_step <= 0.0 && st.adopters == 0)))
    return;

  // Decide: fixed blocks of organisations, each writing its own list of new adopters; read in
  // block order the lists give the new adopters sorted by id, hence grouped by territory.
  const auto blocks = static_cast<std::size_t>((n + kGrain - 1) / kGrain);
  block_adopters_.resize(blocks);
  par::for_each(blocks, [&](std::size_t b) {
    std::vector<OrgId>& out = block_adopters_[b];
    out.clear();
    const std::int64_t lo = static_cast<std::int64_t>(b) * kGrain, hi = std::min(n, lo + kGrain);
    for (std::int64_t i = lo; i < hi; ++i) {
      const auto u = static_cast<std::size_t>(i);
      if (st.adopted_at[u] != AdoptionState::kNever) continue;
      double influence = mixed_influence;
      if (!net.complete) {
        const std::int64_t deg = net.degree(static_cast<OrgId>(i));
        influence = deg > 0
                        ? static_cast<double>(st.adopted_neighbours[u]) / static_cast<double>(deg)
                        : 0.0;
      }
      bool adopts;
      if (is_bass) {
        Stream rng = key.stream(u);
        adopts = bass.adopts(influence, rng);
      } else {
        adopts = ThresholdRule::adopts(influence, orgs.threshold[k][u]);
      }
      if (!adopts) continue;
      // Writing one's own adoption step is safe here: the decide phase reads no other
      // organisation's adopted_at, only counts that change in the apply phase.
      st.adopted_at[u] = step;
      out.push_back(static_cast<OrgId>(i));
    }
  });

  std::vector<OrgId>& adopters = step_adopters_;
  adopters.clear();
  for (const auto& out : block_adopters_)
    adopters.insert(adopters.end(), out.begin(), out.end());
  for (std::size_t t = 0; t < T; ++t) {
    const auto from = std::lower_bound(adopters.begin(), adopters.end(), world_.territory_begin[t]);
    const auto to = std::lower_bound(from, adopters.end(), world_.territory_begin[t + 1]);
    new_adopters_[k * T + t] = to - from;
  }
  adopt(k, adopters);
}

} // namespace csei
