// Policy events change the state exactly at their step and only in their targets, and are
// recorded; bad events are reported with file, line and key.
#include "core/error.hpp"
#include "helpers.hpp"
#include "kernel/summary.hpp"

#include <catch2/catch.hpp>

using namespace csei;
using Catch::Matchers::Contains;
using csei::test::scenario_from;

namespace {

// Nothing spreads on its own (thresholds above 1): any adoption comes from an event.
const std::string kQuiet = R"(seed = 3
[time]
steps = 12
[territories]
list = [{ code = "A" }, { code = "B", lat = 5.0 }, { code = "C", lat = 10.0 }]
[organisations]
per_territory = 1000
legal_forms = { association = 0.5, cooperative = 0.3, sme = 0.2 }
[policy]
support = 0.5
[[clusters]]
name = "alpha"
territory = "A"
members = { association = 40, cooperative = 20 }
capacity = 30.0
[[clusters]]
name = "beta"
territory = "B"
members = { association = 40 }
[[innovations]]
name = "x"
rule = "threshold"
threshold = { kind = "fixed", value = 2.0 }
[[innovations]]
name = "y"
rule = "threshold"
threshold = { kind = "fixed", value = 2.0 }
)";

std::string with_events(const std::string& events) {
  return kQuiet + events;
}

} // namespace

TEST_CASE("seed_adopters: exactly at its step, only in its targets", "[kernel][events]") {
  const Scenario s = scenario_from(with_events(R"(
[[events]]
step = 5
action = "seed_adopters"
territories = ["B"]
forms = ["cooperative"]
innovations = ["y"]
count = 25
)"));
  const World w = build_world(s);
  Simulation sim(s, w);
  sim.initialise();
  for (int step = 1; step <= 12; ++step) {
    sim.step();
    const auto c = sim.counts();
    for (std::size_t x = 0; x < 6; ++x) {
      const std::int64_t expected = (step >= 5 && x == 1 * 3 + 1) ? 25 : 0; // innovation y, B
      REQUIRE(c.adopters[x] == expected);
    }
    REQUIRE(c.adopters_by_form[1 * kLegalFormCount + 1] == (step >= 5 ? 25 : 0)); // cooperatives
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(w.organisation_count()); ++i)
    if (sim.state(1).adopted(i)) {
      CHECK(w.organisations.territory[i] == 1);
      CHECK(w.organisations.form[i] == LegalForm::cooperative);
      CHECK(sim.state(1).adopted_at[i] == 5);
    }
  REQUIRE(sim.applied_events().size() == 1);
  CHECK(sim.applied_events()[0].step == 5);
  CHECK(sim.applied_events()[0].action == "seed_adopters");
  CHECK(sim.applied_events()[0].target == "territories=B forms=cooperative innovations=y");
  CHECK(sim.applied_events()[0].affected == 25);
}

TEST_CASE("support, facilitation, bridges and funding change at their steps, in their targets",
          "[kernel][events]") {
  const Scenario s = scenario_from(with_events(R"(
[[events]]
step = 3
action = "raise_support"
territories = ["A", "C"]
value = 0.3
[[events]]
from = 4
to = 6
action = "fund_facilitation"
clusters = ["alpha"]
value = 10.0
[[events]]
step = 7
action = "open_bridges"
territories = ["B"]
value = 0.25
[[events]]
step = 9
action = "cut_funding"
value = 0.5
)"));
  const World w = build_world(s);
  Simulation sim(s, w);
  sim.initialise();
  for (int step = 1; step <= 12; ++step) {
    sim.step();
    CHECK(sim.support(0) == Approx(step >= 3 ? 0.8 : 0.5));
    CHECK(sim.support(1) == Approx(0.5));
    CHECK(sim.support(2) == Approx(step >= 3 ? 0.8 : 0.5));
    const double alpha = 30.0 + 10.0 * std::clamp(step - 3, 0, 3);
    CHECK(sim.clusters()[0].capacity == Approx(step >= 9 ? alpha / 2 : alpha));
    CHECK(sim.clusters()[1].capacity == Approx(step >= 9 ? 25.0 : 50.0));
    CHECK(sim.clusters()[0].openness == Approx(0.5));
    CHECK(sim.clusters()[1].openness == Approx(step >= 7 ? 0.75 : 0.5));
  }
  CHECK(sim.applied_events().size() == 6); // 1 + 3 (steps 4, 5, 6) + 1 + 1
}

TEST_CASE("found_cluster founds a cluster of linked social-economy organisations at its step",
          "[kernel][events]") {
  const Scenario s = scenario_from(with_events(R"(
[[events]]
step = 4
action = "found_cluster"
territories = ["C"]
name = "gamma"
count = 30
value = 15.0
)"));
  const World w = build_world(s);
  Simulation sim(s, w);
  sim.initialise();
  for (int step = 1; step <= 6; ++step) {
    sim.step();
    REQUIRE(sim.clusters().size() == (step >= 4 ? 3u : 2u));
  }
  const ClusterInfo& gamma = sim.clusters()[2];
  CHECK(gamma.name == "gamma");
  CHECK(gamma.founded == 4);
  CHECK(gamma.capacity == 15.0);
  std::int64_t members = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(w.organisation_count()); ++i)
    if (sim.cluster_of(i) == 2) {
      ++members;
      CHECK(w.organisations.territory[i] == 2);
      CHECK(w.organisations.form[i] != LegalForm::sme);
    }
  CHECK(members == 30);
  CHECK(sim.counts().members[2] == 30);
}

TEST_CASE("subsidies and procurement move a utility innovation only where they apply",
          "[kernel][events]") {
  // A costly innovation: a full subsidy in B makes it adoptable there, not elsewhere.
  const std::string costly = R"(
[[events]]
step = 1
action = "subsidise_cost"
territories = ["B"]
innovations = ["z"]
value = 1.0
[[innovations]]
name = "z"
rule = "utility"
appeal = -1.0
cost = 20.0
rate = 6.0
social_weight = 0.0
)";
  const auto series = csei::test::run(scenario_from(with_events(costly)));
  const auto final_row = series.adopters.back();
  CHECK(final_row[2 * 3 + 1] > 300); // innovation z, territory B
  CHECK(final_row[2 * 3 + 0] < 10);
  CHECK(final_row[2 * 3 + 2] < 10);
}

TEST_CASE("bad events are reported with file, line and key", "[kernel][events][errors]") {
  const auto error_of = [](const std::string& events) {
    return csei::test::input_error_of([&] { return scenario_from(with_events(events)); });
  };
  CHECK_THAT(
      error_of(
          "[[events]]\nstep = 2\naction = \"raise_support\"\nterritories = [\"X\"]\nvalue = 0.1\n"),
      Contains("test.toml:31:16: events[0].territories[0]: unknown territory code 'X'"));
  CHECK_THAT(error_of("[[events]]\nstep = 2\naction = \"raise_suport\"\nvalue = 0.1\n"),
             Contains("events[0].action: 'raise_suport' is not one of"));
  CHECK_THAT(error_of("[[events]]\nstep = 99\naction = \"raise_support\"\nvalue = 0.1\n"),
             Contains("events[0].step: must be in [0, 12], got 99"));
  CHECK_THAT(error_of("[[events]]\nstep = 2\naction = \"fund_facilitation\"\nclusters = "
                      "[\"alfa\"]\nvalue = 1\n"),
             Contains("unknown cluster 'alfa'; did you mean 'alpha'?"));
  CHECK_THAT(error_of("[[events]]\nstep = 2\naction = \"seed_adopters\"\ncount = 3\n"),
             Contains("seed_adopters needs the innovations to seed"));
}

TEST_CASE("policy costs: standing levers are charged every step from the next one, cuts save",
          "[kernel][events][costs]") {
  // fund_facilitation +30 member places in alpha (home A) at step 2; raise_support +0.2 in B
  // at step 4; cut_funding -50 % at step 8 (of alpha's 60 places and beta's default capacity).
  const Scenario s = scenario_from(with_events(R"(
[policy_costs]
facilitator_year = 12000
members_per_facilitator = 10
support_year = 50
[[events]]
step = 2
action = "fund_facilitation"
clusters = ["alpha"]
value = 30.0
[[events]]
step = 4
action = "raise_support"
territories = ["B"]
value = 0.2
[[events]]
step = 8
action = "cut_funding"
clusters = ["alpha"]
value = 0.5
)"),
                                   {"organisations.represents=2"});
  const World w = build_world(s);
  Simulation sim(s, w);
  sim.initialise();
  const double dt = s.step_years();
  const double place_year = 12000.0 / 10.0; // euros per member place and year
  const double support_b = 0.2 * 1000 * 50; // per year, for B's 1,000 organisations
  double total = 0;
  for (std::int64_t step = 1; step <= s.steps; ++step) {
    sim.step();
    const StepCounts c = sim.counts();
    REQUIRE(c.spending.size() == 3 * 3); // [E*T]
    // Event 0, alpha's home A (territory 0): 30 places from step 3 on.
    const double fund = step > 2 ? 30 * place_year * dt * 2 : 0.0;
    CHECK(c.spending[0 * 3 + 0] == Approx(fund));
    CHECK(c.spending[1 * 3 + 1] == Approx(step > 4 ? support_b * dt * 2 : 0.0));
    // The cut halves alpha's 60 places: 30 fewer, a saving from step 9 on.
    CHECK(c.spending[2 * 3 + 0] == Approx(step > 8 ? -30 * place_year * dt * 2 : 0.0));
    for (const double x : c.spending)
      total += x;
  }
  CHECK(total == Approx(2 * dt * (30 * place_year * 10 + support_b * 8 - 30 * place_year * 4)));
}
