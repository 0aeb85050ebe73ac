// Sweep files: what a valid one gives, one message (file:line:col: key) per kind of bad input,
// values from unit coordinates, and the seeds of runs.
#include "helpers.hpp"
#include "sweep/design.hpp"
#include "sweep/spec.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace csei;
using namespace csei::sweep;
using Catch::Matchers::Contains;

namespace {

const std::string kSweep = R"(name = "t"
scenario = "small.toml"
set = ["time.steps=12"]
replicates = 2
[design]
kind = "grid"
[[parameters]]
key = "innovations[0].q"
range = [0.5, 2.0]
[[parameters]]
key = "network.partners"
range = [2, 10]
[[parameters]]
key = "network.kind"
levels = ["partners", "erdos_renyi"]
[outcomes]
metrics = ["*.final_share", "word_of_mouth.steps_to_50"]
)";

SweepSpec sweep_from(const std::string& text) {
  return load_sweep_text(text, "sweep.toml", test::source_dir() / "tests" / "data");
}

std::string error_of(const std::string& text) {
  return test::input_error_of([&] { return sweep_from(text); });
}

using test::replaced;

} // namespace

TEST_CASE("a valid sweep file gives the declared sweep", "[sweep][spec]") {
  const SweepSpec s = sweep_from(kSweep);
  CHECK(s.name == "t");
  CHECK(s.base.name == "small");
  CHECK(s.base.steps == 12); // the fixed `set` applies to the base
  CHECK(s.seed == 7);        // default: the base scenario's seed
  REQUIRE(s.parameters.size() == 3);
  CHECK(s.parameters[0].type == ValueType::real);
  CHECK(s.parameters[1].type == ValueType::integer); // the base has an integer there
  CHECK(s.parameters[2].type == ValueType::level);
  CHECK(s.parameters[2].levels == std::vector<std::string>{"\"partners\"", "\"erdos_renyi\""});
  CHECK(s.points() == 3 * 3 * 2);
  CHECK(s.runs() == 36);
  CHECK(s.outcomes == std::vector<std::string>{"word_of_mouth.final_share",
                                               "word_of_mouth.steps_to_50", "tipping.final_share"});
  const Design d = make_design(s);
  REQUIRE(d.points == 18);
  CHECK(d.texts(0) == std::vector<std::string>{"0.5", "2", "\"partners\""});
  CHECK(d.texts(17) == std::vector<std::string>{"2.0", "10", "\"erdos_renyi\""});
  CHECK(s.overrides(d.texts(1), 99) ==
        std::vector<std::string>{"time.steps=12", "innovations[0].q=0.5", "network.partners=2",
                                 "network.kind=\"erdos_renyi\"", "seed=99"});
}

TEST_CASE("every kind of bad sweep file is reported with file, line, column and key",
          "[sweep][spec]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(error_of(replaced(kSweep, "replicates", "replicats")),
             Contains("sweep.toml:4:1: replicats: unknown key; did you mean 'replicates'?"));
  CHECK_THAT(error_of(replaced(kSweep, "kind = \"grid\"", "kind = \"gird\"")),
             Contains("sweep.toml:6:8: design.kind: 'gird' is not one of 'grid' 'lhs' 'morris' "
                      "'sobol'; did you mean 'grid'?"));
  CHECK_THAT(error_of(replaced(kSweep, "small.toml", "nowhere.toml")),
             Contains("sweep.toml:2:12: scenario: cannot open the base scenario"));
  CHECK_THAT(error_of(replaced(kSweep, "time.steps=12", "time.stepz=12")),
             Contains("sweep.toml:3:8: set[0]: time.stepz: unknown key; did you mean 'steps'?"));
  CHECK_THAT(error_of(replaced(kSweep, "[0.5, 2.0]", "[2.0, 0.5]")),
             Contains("sweep.toml:9:9: parameters[0].range: low must be below high"));
  CHECK_THAT(error_of(replaced(kSweep, "[0.5, 2.0]", "[0.5]")),
             Contains("parameters[0].range: must be [low, high], two finite numbers"));
  CHECK_THAT(error_of(replaced(kSweep, "range = [0.5, 2.0]", "")),
             Contains("sweep.toml:7:1: parameters[0]: needs one of 'range' or 'levels'"));
  CHECK_THAT(error_of(replaced(kSweep, "innovations[0].q\"", "innovations[0].qq\"")),
             Contains("sweep.toml:9:9: parameters[0].range: the base scenario rejects "
                      "innovations[0].qq = 0.5: innovations[0].qq: unknown key; did you mean "
                      "'q'?"));
  CHECK_THAT(error_of(replaced(kSweep, "[0.5, 2.0]", "[0.5, 20.0]")),
             Contains("rejects innovations[0].q = 20.0: innovations[0].q: must be in [0, 12]"));
  CHECK_THAT(error_of(replaced(kSweep, "range = [2, 10]", "range = [2, 10]\ntype = \"real\"")),
             Contains("sweep.toml:12:9: parameters[1].range: the base scenario rejects "
                      "network.partners = 2.0: network.partners: must be an integer, got a number "
                      "(add type = \"integer\" to the parameter)"));
  CHECK_THAT(error_of(replaced(kSweep, "\"erdos_renyi\"]", "\"erdos\"]")),
             Contains("parameters[2].levels: the base scenario rejects network.kind = \"erdos\""));
  CHECK_THAT(error_of(replaced(kSweep, "*.final_share\"", "*.final_shares\"")),
             Contains("sweep.toml:17:12: outcomes.metrics[0]: '*.final_shares' matches no "
                      "metric; the runs report word_of_mouth.adopters"));
  CHECK_THAT(error_of(replaced(kSweep, "key = \"network.kind\"", "key = \"network.partners\"")),
             Contains("parameters[2]: parameter 'network.partners' is varied twice"));
  CHECK_THAT(error_of(replaced(kSweep, "key = \"network.kind\"", "key = \"seed\"")),
             Contains("the seed cannot be a parameter"));
  CHECK_THAT(error_of(replaced(kSweep, "kind = \"grid\"", "kind = \"morris\"")),
             Contains("sweep.toml:5:1: design.trajectories: missing required key"));
  CHECK_THAT(error_of(replaced(kSweep, "kind = \"grid\"",
                               "kind = \"morris\"\ntrajectories = 4\n"
                               "levels = 5")),
             Contains("sweep.toml:8:10: design.levels: must be even"));
  CHECK_THAT(error_of(replaced(kSweep, "kind = \"grid\"", "kind = \"sobol\"")),
             Contains("design.samples: missing required key"));
  CHECK_THAT(error_of(replaced(kSweep, "range = [0.5, 2.0]",
                               "range = [0.5, 2.0]\ndistribution = \"normal\"")),
             Contains("parameters[0].mean: missing required key"));
  CHECK_THAT(error_of(replaced(kSweep, "range = [0.5, 2.0]",
                               "range = [0.0, 2.0]\ndistribution = \"loguniform\"")),
             Contains("parameters[0].range: a loguniform range must be above 0"));
  CHECK_THAT(error_of(replaced(kSweep, "replicates = 2", "replicates = 0")),
             Contains("sweep.toml:4:14: replicates: must be in [1, 1000000], got 0"));
  CHECK_THAT(error_of(replaced(kSweep, "[outcomes]", "[outcomes]\nseries = \"all\"")),
             Contains("outcomes.series: 'all' is not one of 'none' 'total' 'territories'"));
  CHECK_THAT(error_of(replaced(kSweep, "[outcomes]", "[outcomes]\nseries = \"total\"") +
                      "[[parameters]]\nkey = \"time.steps\"\nlevels = [5, 6]\n"),
             Contains("with outcomes.series every run must have the same shape"));
  CHECK_THAT(error_of("scenario = \"small.toml\"\n[design\n"), Contains("sweep.toml:2:"));
  // Several problems at once, each on its own line.
  const std::string many = error_of(
      replaced(replaced(kSweep, "replicates", "replicats"), "kind = \"grid\"", "kind = \"gird\""));
  CHECK(std::count(many.begin(), many.end(), '\n') == 1);
}

TEST_CASE("unit coordinates map through each parameter's distribution", "[sweep][spec]") {
  Parameter p;
  p.low = 2.0;
  p.high = 10.0;
  CHECK(p.at(0.0).number == 2.0);
  CHECK(p.at(1.0).number == 10.0);
  CHECK(p.at(0.25).number == Approx(4.0));
  CHECK(p.at(0.25).text == "4.0");

  p.distribution = sweep::Distribution::loguniform;
  p.low = 0.01;
  p.high = 1.0;
  CHECK(p.at(0.5).number == Approx(0.1));

  p.distribution = sweep::Distribution::normal; // truncated to the range
  p.low = -1.0;
  p.high = 1.0;
  p.mean = 0.0;
  p.sd = 1.0;
  CHECK(p.at(0.5).number == Approx(0.0).margin(1e-12));
  CHECK(p.at(0.0).number == -1.0);
  CHECK(p.at(1.0).number == 1.0);
  CHECK(p.at(0.75).number > 0.3);

  p.distribution = sweep::Distribution::triangular;
  p.low = 0.0;
  p.high = 1.0;
  p.mode = 0.0;
  CHECK(p.at(0.75).number == Approx(0.5));

  // Integers: every value in the range equally likely under `uniform`.
  p.distribution = sweep::Distribution::uniform;
  p.type = ValueType::integer;
  p.low = 4;
  p.high = 7;
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i)
    seen.insert(p.at((i + 0.5) / 8).text);
  CHECK(seen == std::set<std::string>{"4", "5", "6", "7"});
  CHECK(p.at(1.0).text == "7");

  Parameter lv;
  lv.type = ValueType::level;
  lv.levels = {"\"a\"", "\"b\"", "\"c\""};
  lv.level_values = {0, 1, 2};
  CHECK(lv.at(0.0).text == "\"a\"");
  CHECK(lv.at(0.5).text == "\"b\"");
  CHECK(lv.at(1.0).text == "\"c\"");
  CHECK(exact_text(0.1) == "0.1");
  CHECK(exact_text(3.0) == "3.0");
  CHECK(std::stod(exact_text(1.0 / 3)) == 1.0 / 3);
}

TEST_CASE("run seeds derive from the sweep seed, the point and the replicate", "[sweep][spec]") {
  SweepSpec s = sweep_from(kSweep);
  std::set<std::uint64_t> seeds;
  for (std::int64_t p = 0; p < 50; ++p)
    for (std::int64_t r = 0; r < 4; ++r) {
      const auto v = s.run_seed(p, r);
      CHECK(v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
      seeds.insert(v);
    }
  CHECK(seeds.size() == 200);
  const auto before = s.run_seed(3, 1);
  s.seed = 8;
  CHECK(s.run_seed(3, 1) != before);
  s.common_seeds = true; // common random numbers: the same seed for a replicate at every point
  CHECK(s.run_seed(3, 1) == s.run_seed(17, 1));
  CHECK(s.run_seed(3, 1) != s.run_seed(3, 0));
  // `csei run --replicates` uses the same derivation with common seeds (point -1).
  CHECK(s.run_seed(3, 1) == replicate_seed(8, -1, 1));
  s.common_seeds = false;
  CHECK(s.run_seed(3, 1) == replicate_seed(8, 3, 1));
  CHECK(replicate_seed(8, -1, 1) != replicate_seed(9, -1, 1));

  // The fingerprint follows what determines the results.
  const SweepSpec a = sweep_from(kSweep), b = sweep_from(replaced(kSweep, "2.0]", "2.5]"));
  CHECK(a.fingerprint() == sweep_from(kSweep).fingerprint());
  CHECK(a.fingerprint() != b.fingerprint());
}

TEST_CASE("the shipped sweep files validate", "[sweep][spec]") {
  const auto dir = test::source_dir() / "scenarios" / "sweeps";
  for (const char* f : {"cluster_morris.toml", "cluster_sobol.toml"}) {
    INFO(f);
    const SweepSpec s = load_sweep(dir / f);
    CHECK(s.runs() > 0);
    CHECK(!s.outcomes.empty());
  }
}
