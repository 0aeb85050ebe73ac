// The kernel: limit cases, pioneers, bookkeeping, and bit-identical results for any thread count.
#include "helpers.hpp"

#include <catch2/catch.hpp>

using namespace csei;
using csei::test::run;
using csei::test::scenario_from;

namespace {

const std::string kNet = R"(seed = 11
[time]
steps = 24
steps_per_year = 12
[territories]
list = [{ code = "A" }, { code = "B", lat = 10.0 }]
[organisations]
per_territory = 3000
[network]
partners = 6
local_share = 0.8
[[innovations]]
name = "b"
rule = "bass"
p = 0.05
q = 2.0
pioneers = 10
[[innovations]]
name = "t"
rule = "threshold"
threshold = { kind = "uniform", min = 0.0, max = 0.5 }
pioneers = 100
)";

} // namespace

TEST_CASE("no pioneers and p = 0: nobody ever adopts", "[kernel][limit]") {
  for (const char* kind : {"partners", "complete", "erdos_renyi"}) {
    const Scenario s = scenario_from(kNet, {"innovations[0].pioneers=0", "innovations[0].p=0",
                                            std::string("network.kind=") + kind});
    const auto series = run(s);
    for (std::size_t step = 0; step <= 24; ++step)
      REQUIRE(series.total(step, 0, 2) == 0);
  }
}

TEST_CASE("p = 1 per step: everyone adopts in the first step", "[kernel][limit]") {
  const Scenario s =
      scenario_from(kNet, {"time.steps_per_year=1", "innovations[0].p=1", "innovations[0].q=0",
                           "innovations[0].pioneers=0", "time.steps=3"});
  const auto series = run(s);
  CHECK(series.total(0, 0, 2) == 0);
  CHECK(series.total(1, 0, 2) == 6000);
  CHECK(series.new_adopters[2][0] + series.new_adopters[2][1] == 0);
}

TEST_CASE("pioneers adopt at step 0, where the scenario puts them", "[kernel]") {
  const Scenario s = scenario_from(kNet, {"innovations[0].pioneer_territory=\"B\""});
  const auto series = run(s);
  CHECK(series.adopters[0][0] == 0);  // innovation b, territory A
  CHECK(series.adopters[0][1] == 10); // innovation b, territory B
  CHECK(series.total(0, 1, 2) == 100);
  std::int64_t at_zero = 0;
  for (auto a : series.final_state[0].adopted_at)
    at_zero += a == 0;
  CHECK(at_zero == 10);
}

TEST_CASE("series and state agree, and neighbour counts are exact", "[kernel]") {
  const Scenario s = scenario_from(kNet);
  const World w = build_world(s);
  Simulation sim(s, w);
  sim.initialise();
  std::vector<std::int64_t> prev(sim.counts().adopters.begin(), sim.counts().adopters.end());
  for (int step = 1; step <= 24; ++step) {
    sim.step();
    const auto c = sim.counts();
    for (std::size_t x = 0; x < prev.size(); ++x)
      REQUIRE(c.adopters[x] == prev[x] + c.new_adopters[x]);
    prev.assign(c.adopters.begin(), c.adopters.end());
  }
  for (std::size_t k = 0; k < 2; ++k) {
    const AdoptionState& st = sim.state(k);
    std::int64_t adopters = 0;
    for (OrgId i = 0; i < w.organisation_count(); ++i) {
      const auto u = static_cast<std::size_t>(i);
      ClassCounts expected{};
      for (OrgId j : w.network.neighbours(i)) {
        const auto v = static_cast<std::size_t>(j);
        if (st.adopted(v))
          ++expected[static_cast<std::size_t>(link_class(sim.cluster_of(u), sim.cluster_of(v),
                                                         w.organisations.territory[u],
                                                         w.organisations.territory[v]))];
      }
      REQUIRE(st.adopted_neighbours[u] == expected);
      adopters += st.adopted(u);
    }
    CHECK(adopters == st.adopters);
    CHECK(adopters == prev[k * 2] + prev[k * 2 + 1]);
  }
}

TEST_CASE("same seed: bit-identical for 1, 2 and 4 threads, and another seed differs",
          "[kernel][determinism]") {
  for (const char* kind : {"partners", "complete"}) {
    const Scenario s = scenario_from(kNet, {std::string("network.kind=") + kind});
    const auto one = run(s, 1);
    const auto two = run(s, 2);
    const auto four = run(s, 4);
    CHECK(one.adopters == two.adopters);
    CHECK(one.adopters == four.adopters);
    CHECK(one.new_adopters == four.new_adopters);
    for (std::size_t k = 0; k < 2; ++k) {
      CHECK(one.final_state[k].adopted_at == two.final_state[k].adopted_at);
      CHECK(one.final_state[k].adopted_at == four.final_state[k].adopted_at);
    }
    const auto other =
        run(scenario_from(kNet, {std::string("network.kind=") + kind, "seed=12"}), 2);
    CHECK(one.adopters != other.adopters);
  }
}
