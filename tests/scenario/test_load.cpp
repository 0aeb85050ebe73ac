// Scenario loading: the shipped scenarios, overrides, and one message per kind of bad input.
#include "core/error.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <numeric>

using namespace csei;
using Catch::Matchers::Contains;
using csei::test::scenario_from;

namespace {

const std::string kValid = R"(name = "t"
seed = 5
[time]
steps = 10
steps_per_year = 12
[territories]
list = [{ code = "AA", name = "Alpha", population = 300 }, { code = "BB", population = 100 }]
[organisations]
per_territory = 50
[[innovations]]
name = "x"
p = 0.1
q = 0.5
pioneers = 3
)";

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return csei::test::input_error_of([&] { return scenario_from(text, overrides); });
}

using csei::test::replaced;

} // namespace

TEST_CASE("the shipped scenarios load", "[scenario]") {
  const auto dir = csei::test::source_dir() / "scenarios";
  const Scenario base = load_scenario(dir / "baseline_eu27.toml");
  CHECK(base.name == "baseline_eu27");
  CHECK(base.territories.size() == 27);
  CHECK(base.innovations.size() == 4);
  CHECK(base.clusters.size() == 3);
  CHECK(base.innovations[3].pioneer_cluster == 1);
  CHECK(base.innovations[3].launch_step == 24);
  CHECK(base.organisation_count() > 100000);
  CHECK(base.territories[4].code == "DE");
  // Organisations per territory follow social-economy employment: 1 per 100 jobs.
  CHECK(base.organisations_per_territory[4] == 26360);

  const Scenario bench = load_scenario(dir / "bench" / "eu_scale.toml");
  CHECK(bench.organisation_count() == 2800000);
  for (auto c : bench.organisations_per_territory)
    CHECK((c == 103703 || c == 103704));

  const Scenario bass = load_scenario(dir / "validation" / "bass_complete.toml");
  CHECK(bass.network.kind == NetworkSpec::Kind::complete);
  CHECK(bass.organisation_count() == 100000);
}

TEST_CASE("a valid scenario gives the declared values", "[scenario]") {
  const Scenario s = scenario_from(kValid);
  CHECK(s.name == "t");
  CHECK(s.seed == 5);
  CHECK(s.steps == 10);
  CHECK(s.step_years() == Approx(1.0 / 12));
  CHECK(s.territories[1].name == "BB"); // name defaults to the code
  CHECK(s.organisation_count() == 100);
  CHECK(s.innovations[0].q == 0.5);
  CHECK(s.innovations[0].pioneer_territories.empty());
  CHECK_THAT(s.source, Contains("pioneers = 3"));
}

TEST_CASE("out-of-range values name file, line, column and key path", "[scenario][errors]") {
  const auto msg = error_of(replaced(kValid, "q = 0.5", "q = 17.5"));
  CHECK(msg == "test.toml:13:5: innovations[0].q: must be in [0, 12], got 17.5");
}

TEST_CASE("unknown keys are errors with a suggestion", "[scenario][errors]") {
  CHECK(error_of(replaced(kValid, "pioneers = 3", "pioners = 3")) ==
        "test.toml:14:1: innovations[0].pioners: unknown key; did you mean 'pioneers'?");
  CHECK_THAT(error_of(replaced(kValid, "[time]", "[tme]")),
             Contains("tme: unknown key; did you mean 'time'?"));
}

TEST_CASE("wrong types, missing keys and bad choices are reported", "[scenario][errors]") {
  CHECK_THAT(error_of(replaced(kValid, "steps = 10", "steps = 1.5")),
             Contains("test.toml:4:9: time.steps: must be an integer, got a number"));
  CHECK_THAT(error_of(replaced(kValid, "steps = 10\n", "")),
             Contains("time.steps: missing required key"));
  CHECK_THAT(error_of(replaced(kValid, "p = 0.1", "rule = \"bas\"\np = 0.1")),
             Contains("innovations[0].rule: 'bas' is not one of 'bass' 'threshold' 'utility' "
                      "'cascade'; did you mean 'bass'?"));
  CHECK_THAT(error_of(replaced(kValid, "per_territory = 50", "per_territory = 50\ntotal = 10")),
             Contains("organisations.total: conflicts with 'per_territory'"));
  CHECK_THAT(error_of(replaced(kValid, "name = \"x\"", "name = \"x\"\nrule = \"threshold\"")),
             Contains("innovations[0].threshold: missing required key"));
}

TEST_CASE("every problem is reported at once", "[scenario][errors]") {
  std::string text = replaced(kValid, "q = 0.5", "q = -1");
  text = replaced(text, "seed = 5", "seed = \"five\"");
  try {
    (void)scenario_from(text);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.problems().size() == 2);
  }
}

TEST_CASE("cross-field checks", "[scenario][errors]") {
  CHECK_THAT(error_of(replaced(kValid, "pioneers = 3", "pioneers = 101")),
             Contains("innovations[0].pioneers: 101 pioneers but only 100 organisations"));
  CHECK_THAT(
      error_of(replaced(kValid, "pioneers = 3", "pioneers = 60\npioneer_territory = \"AA\"")),
      Contains("60 pioneers but only 50 organisations in the territory"));
  CHECK_THAT(error_of(replaced(kValid, "pioneers = 3", "pioneer_territory = \"AB\"")),
             Contains("test.toml:14:21: innovations[0].pioneer_territory: unknown territory code "
                      "'AB'; did you mean"));
  CHECK_THAT(
      error_of(replaced(kValid, "[[innovations]]", "[network]\npartners = 100\n[[innovations]]")),
      Contains("network.partners: each organisation cannot draw 100 distinct partners among 100"));
  CHECK_THAT(
      error_of(replaced(kValid, "per_territory = 50", "scale = 0.1\nof = \"se_employment\"")),
      Contains("territory 'AA' has no se_employment value"));
}

TEST_CASE("TOML syntax errors carry line and column", "[scenario][errors]") {
  CHECK_THAT(error_of(replaced(kValid, "seed = 5", "seed = = 5")), Contains("test.toml:2:"));
}

TEST_CASE("organisation totals are split exactly", "[scenario]") {
  const Scenario s =
      scenario_from(replaced(kValid, "per_territory = 50", "total = 1001\nsplit = \"population\""));
  REQUIRE(s.organisations_per_territory.size() == 2);
  CHECK(s.organisations_per_territory[0] == 751); // 750.75 -> largest remainder
  CHECK(s.organisations_per_territory[1] == 250);
  CHECK(s.organisation_count() == 1001);
}

TEST_CASE("command-line overrides change any value, with the same validation", "[scenario][set]") {
  const Scenario s =
      scenario_from(kValid, {"innovations[0].q=0.25", "time.steps=20", "network.kind=erdos_renyi",
                             "organisations.per_territory=60"});
  CHECK(s.innovations[0].q == 0.25);
  CHECK(s.steps == 20);
  CHECK(s.network.kind == NetworkSpec::Kind::erdos_renyi);
  CHECK(s.organisation_count() == 120);
  CHECK_THAT(s.source, Contains("q = 0.25"));
  CHECK_THAT(s.source, Contains("erdos_renyi"));

  CHECK(error_of(kValid, {"innovations[0].q=1.7e3"}) ==
        "command line (--set innovations[0].q=1.7e3): innovations[0].q: must be in [0, 12], got "
        "1700");
  CHECK_THAT(error_of(kValid, {"innovations[0].qq=1"}), Contains("unknown key; did you mean 'q'?"));
  CHECK_THAT(error_of(kValid, {"innovations[3].q=1"}),
             Contains("index out of range in 'innovations[3]'"));
  CHECK_THAT(error_of(kValid, {"time.steps"}), Contains("expected key.path=value"));
  CHECK_THAT(error_of(kValid, {"time..steps=3"}), Contains("malformed key path"));
}
