// Same seed, same scenario: bit-identical results for 1, 2, 3 and 4 threads, on a world of many
// parallel blocks with every rule, every cluster rule and every kind of policy event on.
#include "helpers.hpp"
#include "kernel/summary.hpp"

#include <catch2/catch.hpp>
#include <tbb/global_control.h>

using namespace csei;
using csei::test::scenario_from;

namespace {

// 4 territories of 12,500: 50,000 organisations, six decide blocks of 8,192 and more.
const std::string kEverything = R"(seed = 11
[time]
steps = 36
[territories]
list = [{ code = "A", lat = 50.0, lon = 0.0 }, { code = "B", lat = 50.0, lon = 8.0 },
        { code = "C", lat = 44.0, lon = 0.0 }, { code = "D", lat = 44.0, lon = 8.0 }]
[organisations]
per_territory = 12500
sectors = { s1 = 0.3, s2 = 0.3, s3 = 0.2, s4 = 0.2 }
resources = { kind = "uniform", min = 0.2, max = 2.0 }
[network]
partners = 6
local_share = 0.85
remote = "distance"
[awareness]
media = 0.3
support = 0.5
word_of_mouth = 2.0
[abandonment]
rate = 2.0
[cluster_generation]
density = 1.5
size = { kind = "uniform", min = 20.0, max = 80.0 }
sectors = 2
internal_links = 5
[cluster_rules]
peer_weight = { weight = 3.0 }
facilitation = { rate = 3.0 }
resource_pooling = { share = 0.4 }
knowledge_sharing = { share = 0.4 }
bridging = { links = 3 }
recruitment = { rate = 0.5 }
emergence = { rate = 3.0, min_founders = 3 }
[[clusters]]
name = "alpha"
territory = "A"
territories = ["B"]
members = { association = 60, cooperative = 40 }
[[innovations]]
name = "bass"
rule = "bass"
p = 0.02
q = 1.5
cost = 0.5
pioneers = 20
[[innovations]]
name = "threshold"
rule = "threshold"
threshold = { kind = "normal", mean = 0.2, sd = 0.1, lower = 0.0 }
pioneers = 400
[[innovations]]
name = "utility"
rule = "utility"
complexity = 1.0
cost = 1.0
rate = 3.0
pioneers = 20
pioneer_cluster = "alpha"
launch_step = 4
[[innovations]]
name = "cascade"
rule = "cascade"
cascade_probability = 0.15
cost = 1.5
pioneers = 30
[[events]]
step = 3
action = "seed_adopters"
innovations = ["bass", "cascade"]
count = 50
[[events]]
step = 5
action = "found_cluster"
territories = ["B"]
count = 40
name = "founded"
[[events]]
from = 6
to = 9
action = "subsidise_cost"
value = 0.5
[[events]]
step = 10
action = "cut_funding"
value = 0.5
[[events]]
step = 11
action = "open_bridges"
value = 0.3
[[events]]
step = 2
action = "fund_facilitation"
value = 20.0
[[events]]
from = 4
to = 8
action = "raise_support"
territories = ["C"]
value = 0.3
[[events]]
step = 7
action = "public_procurement"
value = 0.5
)";

/// Every series of every step, the final per-organisation states and the clusters at the end.
struct Record {
  std::vector<std::vector<std::int64_t>> ints;
  std::vector<std::vector<double>> reals;
  std::vector<AdoptionState> states;
  std::vector<std::int32_t> membership;
  std::vector<std::string> clusters;
  std::vector<std::int64_t> events;
};

Record record(const Scenario& s, int threads) {
  const tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                                static_cast<std::size_t>(threads));
  const World w = build_world(s);
  Simulation sim(s, w);
  Record r;
  sim.initialise();
  for (;;) {
    const StepCounts c = sim.counts();
    for (const auto& v :
         {c.adopters, c.new_adopters, c.aware, c.abandoned, c.member_adopters, c.members,
          c.adopters_by_form, c.transfers, c.cluster_members, c.cluster_adopters})
      r.ints.emplace_back(v.begin(), v.end());
    for (const auto& v : {c.jobs, c.impact})
      r.reals.emplace_back(v.begin(), v.end());
    if (c.step == s.steps) break;
    sim.step();
  }
  for (std::size_t k = 0; k < s.innovations.size(); ++k)
    r.states.push_back(sim.state(k));
  r.membership.assign(sim.state().cluster.begin(), sim.state().cluster.end());
  for (const auto& c : sim.clusters())
    r.clusters.push_back(c.name + " " + std::to_string(c.capacity) + " " +
                         std::to_string(c.openness));
  for (const auto& e : sim.applied_events())
    r.events.push_back(e.affected);
  return r;
}

} // namespace

TEST_CASE("every rule, cluster rule and event on, many blocks: bit-identical for 1-4 threads",
          "[kernel][determinism]") {
  const Scenario s = scenario_from(kEverything);
  REQUIRE(s.organisation_count() > 6 * 8192);
  const Record one = record(s, 1);
  for (int threads : {2, 3, 4}) {
    INFO(threads << " threads");
    const Record other = record(s, threads);
    CHECK(other.ints == one.ints);
    CHECK(other.reals == one.reals); // exact: sums are taken in a fixed order
    for (std::size_t k = 0; k < one.states.size(); ++k) {
      CHECK(other.states[k].adopted_at == one.states[k].adopted_at);
      CHECK(other.states[k].aware_at == one.states[k].aware_at);
      CHECK(other.states[k].abandoned_at == one.states[k].abandoned_at);
      CHECK(other.states[k].adopted_neighbours == one.states[k].adopted_neighbours);
    }
    CHECK(other.membership == one.membership);
    CHECK(other.clusters == one.clusters);
    CHECK(other.events == one.events);
  }
  // Everything did act: adoption by every rule, abandonment, awareness, new clusters, transfers.
  const std::size_t I = s.innovations.size(), T = s.territories.size();
  const auto& last_adopters = one.ints[one.ints.size() - 10];
  const auto& last_abandoned = one.ints[one.ints.size() - 7];
  for (std::size_t k = 0; k < I; ++k) {
    std::int64_t adopted = 0;
    for (std::size_t t = 0; t < T; ++t)
      adopted += last_adopters[k * T + t];
    INFO("innovation " << s.innovations[k].name);
    CHECK(adopted > 100);
  }
  std::int64_t abandoned = 0;
  for (auto v : last_abandoned)
    abandoned += v;
  CHECK(abandoned > 0);
  CHECK(one.clusters.size() > build_world(s).clusters.size() + 1); // emerged and founded
  CHECK(one.events.size() >= 8);
}
