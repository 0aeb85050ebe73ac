// World building: organisation numbering, attribute mixes, and network invariants.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace csei;
using csei::test::input_error_of;
using csei::test::replaced;
using csei::test::scenario_from;

namespace {

const std::string kWorld = R"(seed = 3
[time]
steps = 1
[territories]
list = [{ code = "A", lat = 50.0, lon = 0.0 }, { code = "B", lat = 50.0, lon = 3.0 },
        { code = "C", lat = 50.0, lon = 40.0 }]
[organisations]
per_territory = 4000
legal_forms = { association = 0.5, cooperative = 0.3, sme = 0.2 }
[network]
kind = "partners"
partners = 8
local_share = 0.75
remote = "distance"
decay_km = 300.0
[[innovations]]
name = "x"
)";

void check_invariants(const World& w) {
  const Network& net = w.network;
  const auto n = w.organisation_count();
  REQUIRE(net.offsets.size() == static_cast<std::size_t>(n + 1));
  REQUIRE(net.offsets.back() == static_cast<std::int64_t>(net.targets.size()));
  std::int64_t asym = 0;
  for (OrgId i = 0; i < n; ++i) {
    const auto nb = net.neighbours(i);
    for (std::size_t a = 0; a < nb.size(); ++a) {
      REQUIRE(nb[a] != i); // no self-links
      REQUIRE(nb[a] >= 0);
      REQUIRE(nb[a] < n);
      if (a > 0) REQUIRE(nb[a - 1] < nb[a]); // sorted, no duplicates
      const auto back = net.neighbours(nb[a]);
      if (!std::binary_search(back.begin(), back.end(), i)) ++asym;
    }
  }
  CHECK(asym == 0); // undirected
}

} // namespace

TEST_CASE("organisations are numbered territory by territory", "[world]") {
  const Scenario s = scenario_from(kWorld);
  const World w = build_world(s);
  REQUIRE(w.territory_begin == std::vector<std::int64_t>{0, 4000, 8000, 12000});
  for (std::size_t t = 0; t < 3; ++t)
    for (auto i = w.territory_begin[t]; i < w.territory_begin[t + 1]; ++i)
      REQUIRE(w.organisations.territory[static_cast<std::size_t>(i)] == static_cast<int>(t));
  // Legal-form shares within 4 standard errors (n = 12,000).
  std::map<LegalForm, int> forms;
  for (auto f : w.organisations.form)
    ++forms[f];
  CHECK(forms[LegalForm::association] / 12000.0 == Approx(0.5).margin(0.02));
  CHECK(forms[LegalForm::cooperative] / 12000.0 == Approx(0.3).margin(0.02));
  CHECK(forms[LegalForm::sme] / 12000.0 == Approx(0.2).margin(0.02));
  CHECK(forms.count(LegalForm::mutual) == 0);
}

namespace {
struct LinkCounts {
  std::int64_t local = 0, ab = 0, ac = 0;
};
LinkCounts count_links(const World& w) {
  LinkCounts c;
  for (OrgId i = 0; i < w.organisation_count(); ++i) {
    const int ti = w.organisations.territory[static_cast<std::size_t>(i)];
    for (OrgId j : w.network.neighbours(i)) {
      const int tj = w.organisations.territory[static_cast<std::size_t>(j)];
      c.local += ti == tj;
      c.ab += (ti == 0 && tj == 1);
      c.ac += (ti == 0 && tj == 2);
    }
  }
  return c;
}
} // namespace

TEST_CASE("partner networks: undirected, simple, local share and distance decay",
          "[world][network]") {
  const Scenario s = scenario_from(kWorld);
  const World w = build_world(s);
  check_invariants(w);
  const Network& net = w.network;
  for (OrgId i = 0; i < w.organisation_count(); ++i)
    REQUIRE(net.degree(i) >= 8); // own 8 draws
  const LinkCounts c = count_links(w);
  // Each link drawn from either end; 75 % of draws stay local (duplicates are rare).
  CHECK(static_cast<double>(c.local) / static_cast<double>(net.targets.size()) ==
        Approx(0.75).margin(0.01));
  // A-B are 214 km apart, A-C 2,770 km: with a 300 km decay A's foreign draws nearly all go to B,
  // and only C's draws (a third of which land in A, the other two thirds in B) link A and C.
  // Expected: A-B about 16,000 link ends, A-C about 2,700.
  CHECK(c.ab > 4 * c.ac);
  // Without the decay, A's foreign partners split evenly between B and C (within 10 %).
  const LinkCounts u = count_links(build_world(scenario_from(kWorld, {"network.remote=uniform"})));
  CHECK(static_cast<double>(u.ab) == Approx(static_cast<double>(u.ac)).epsilon(0.1));
}

TEST_CASE("Erdos-Renyi networks have the declared mean degree", "[world][network]") {
  const Scenario s = scenario_from(kWorld, {"network.kind=erdos_renyi", "network.mean_degree=5.0"});
  const World w = build_world(s);
  check_invariants(w);
  const double mean = static_cast<double>(w.network.targets.size()) / 12000.0;
  CHECK(mean == Approx(5.0).margin(0.1)); // standard error of the mean degree ~0.03
}

TEST_CASE("a complete network stores no links", "[world][network]") {
  const World w = build_world(scenario_from(kWorld, {"network.kind=complete"}));
  CHECK(w.network.complete);
  CHECK(w.network.targets.empty());
}

TEST_CASE("the world does not depend on the thread count", "[world][determinism]") {
  const Scenario s = scenario_from(kWorld, {"organisations.per_territory=20000"});
  World w1, w2;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    w1 = build_world(s);
  }
  {
    tbb::global_control four(tbb::global_control::max_allowed_parallelism, 4);
    w2 = build_world(s);
  }
  CHECK(w1.network.offsets == w2.network.offsets);
  CHECK(w1.network.targets == w2.network.targets);
  CHECK(w1.organisations.form == w2.organisations.form);
  CHECK(w1.organisations.jobs == w2.organisations.jobs);
  const World w3 =
      build_world(scenario_from(kWorld, {"organisations.per_territory=20000", "seed=4"}));
  CHECK(w1.network.targets != w3.network.targets);
}

namespace {

World build_with_threads(const Scenario& s, int threads) {
  tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                          static_cast<std::size_t>(threads));
  return build_world(s);
}

} // namespace

TEST_CASE("networks larger than many parallel blocks are simple, symmetric and independent of "
          "the thread count",
          "[world][network][determinism]") {
  // 200,001 organisations: several target blocks of the transpose (2^15 ids each) and many
  // source chunks, with a partial last block.
  const std::vector<std::vector<std::string>> variants = {
      {"organisations.per_territory=66667"},
      {"organisations.per_territory=66667", "network.kind=erdos_renyi", "network.mean_degree=6.0"},
  };
  for (const auto& overrides : variants) {
    const Scenario s = scenario_from(kWorld, overrides);
    const World w1 = build_with_threads(s, 1);
    REQUIRE(w1.organisation_count() == 200001);
    check_invariants(w1);
    CHECK(w1.network.link_count() > 500000);
    for (int threads : {2, 3, 4}) {
      const World w = build_with_threads(s, threads);
      CHECK(w.network.offsets == w1.network.offsets);
      CHECK(w.network.targets == w1.network.targets);
    }
  }
}

TEST_CASE("an organisation with more than 65,535 links is an input error", "[world][network]") {
  // One organisation alone in its territory: every other organisation's only partner is remote,
  // so all 70,000 of them draw it.
  const std::string text = R"(seed = 1
[time]
steps = 1
[territories]
list = [{ code = "A", lat = 50.0, lon = 0.0, population = 1.0 },
        { code = "B", lat = 50.0, lon = 3.0, population = 70000.0 }]
[organisations]
total = 70001
split = "population"
[network]
kind = "partners"
partners = 1
local_share = 0.0
remote = "uniform"
[[innovations]]
name = "x"
)";
  const Scenario s = scenario_from(text);
  const std::string message = input_error_of([&] { return build_world(s); });
  CHECK_THAT(message, Catch::Matchers::Contains("organisation 0 has 70000 links") &&
                          Catch::Matchers::Contains("at most 65,535"));
  // Below the limit the same shape builds.
  const World w = build_world(scenario_from(
      replaced(replaced(text, "total = 70001", "total = 60001"), "70000.0", "60000.0")));
  CHECK(w.network.degree(0) == 60000);
}

TEST_CASE("the baseline's organisation sizes add up to the employment its scale implies",
          "[world][scale]") {
  // One model organisation stands for `represents` real entities of a real entity's size, so
  // the model's jobs x represents must be the social-economy employment of the table.
  const Scenario s =
      load_scenario(csei::test::source_dir() / "scenarios" / "baseline_eu27.toml", {});
  const World w = build_world(s);
  double jobs = 0, employment = 0;
  for (const auto j : w.organisations.jobs)
    jobs += static_cast<double>(j);
  for (const auto& t : s.territories)
    employment += t.se_employment;
  INFO("model jobs " << jobs << " x represents " << s.organisations.represents << " vs "
                     << employment << " social-economy jobs");
  CHECK(s.organisations.represents > 1.0);
  CHECK(jobs * s.organisations.represents == Approx(employment).epsilon(0.05));
}
