// Summary metrics agree with the series they summarise.
#include "helpers.hpp"
#include "kernel/summary.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace csei;

TEST_CASE("summary metrics are read off the series", "[kernel][summary]") {
  const Scenario s = load_scenario(csei::test::source_dir() / "tests/data/small.toml");
  const World w = build_world(s);
  std::vector<std::vector<std::int64_t>> rows, fresh;
  const auto result = run_simulation(s, w, [&](const StepCounts& c) {
    rows.emplace_back(c.adopters.begin(), c.adopters.end());
    fresh.emplace_back(c.new_adopters.begin(), c.new_adopters.end());
  });
  const auto& summaries = result.summaries;
  REQUIRE(rows.size() == static_cast<std::size_t>(s.steps + 1));
  const std::int64_t n = w.organisation_count();
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& sum = summaries[k];
    const auto total = [&](std::size_t step) {
      return rows[step][k * 3] + rows[step][k * 3 + 1] + rows[step][k * 3 + 2];
    };
    const auto first_at = [&](double share) -> std::int64_t {
      for (std::size_t step = 0; step < rows.size(); ++step)
        if (static_cast<double>(total(step)) >= share * static_cast<double>(n))
          return static_cast<std::int64_t>(step);
      return -1;
    };
    CHECK(sum.adopters == total(rows.size() - 1));
    CHECK(sum.final_share == Approx(static_cast<double>(sum.adopters) / static_cast<double>(n)));
    CHECK(sum.steps_to_10 == first_at(0.1));
    CHECK(sum.steps_to_50 == first_at(0.5));
    CHECK(sum.steps_to_90 == first_at(0.9));
    std::int64_t best = 0, peak = -1;
    for (std::size_t step = 1; step < fresh.size(); ++step) {
      const auto f = fresh[step][k * 3] + fresh[step][k * 3 + 1] + fresh[step][k * 3 + 2];
      if (f > best) {
        best = f;
        peak = static_cast<std::int64_t>(step);
      }
    }
    CHECK(sum.peak_step == peak);
  }
  // The threshold innovation (150 pioneers, thresholds up to 0.4) takes off and reaches everyone.
  CHECK(summaries[1].final_share == 1.0);
  CHECK(summaries[1].territories_reached == 3);
}

TEST_CASE("Rogers' categories: the cases shared with the analysis package",
          "[kernel][summary][rogers]") {
  // tests/data/rogers_cases.json is read by tests/analysis/test_metrics.py too: one definition.
  std::ifstream in(csei::test::source_dir() / "tests/data/rogers_cases.json");
  REQUIRE(in);
  const auto cases = nlohmann::json::parse(in).at("cases");
  REQUIRE(cases.size() >= 5);
  for (const auto& c : cases) {
    INFO(c.at("what").get<std::string>());
    const auto h = c.at("adoptions").get<std::vector<std::int64_t>>();
    const auto got = rogers_shares(h);
    const auto& want = c.at("shares");
    for (std::size_t k = 0; k < 5; ++k) {
      if (want[k].is_null())
        CHECK(std::isnan(got[k]));
      else
        CHECK(got[k] == Approx(want[k].get<double>()).margin(1e-12));
    }
  }
}

TEST_CASE("Rogers' categories of a run follow the same definition", "[kernel][summary][rogers]") {
  // Adoptions 1, 2, 4, 2, 1 at steps 0..4 (mean 2 exactly): the step at the mean is late
  // majority, as in the analysis package (early majority 0.2, not 0.6).
  const std::vector<std::int64_t> h = {1, 2, 4, 2, 1};
  const auto r = rogers_shares(h);
  CHECK(r[2] == Approx(0.2));
  CHECK(r[3] == Approx(0.6));
}

TEST_CASE("per-territory times, first territory, territories reached and member groups",
          "[kernel][summary][territories]") {
  // small.toml's territories hold 1,714, 857 and 429 organisations; with min_organisations
  // 1,000 only AA may be first, whatever the smaller ones do; reached_share 1.0 counts only
  // territories where every suited organisation adopted.
  const Scenario s =
      load_scenario(csei::test::source_dir() / "tests/data/small.toml",
                    {"outcomes.min_organisations=1000", "outcomes.reached_share=1.0"});
  const World w = build_world(s);
  std::vector<std::vector<std::int64_t>> rows;
  const auto result = run_simulation(
      s, w, [&](const StepCounts& c) { rows.emplace_back(c.adopters.begin(), c.adopters.end()); });
  const std::size_t T = 3;
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& sum = result.summaries[k];
    std::int64_t reached = 0;
    for (std::size_t t = 0; t < T; ++t) {
      const auto size = w.territory_begin[t + 1] - w.territory_begin[t];
      std::int64_t at10 = -1, at50 = -1;
      for (std::size_t step = 0; step < rows.size(); ++step) {
        const auto a = rows[step][k * T + t];
        if (at10 < 0 && 10 * a >= size) at10 = static_cast<std::int64_t>(step);
        if (at50 < 0 && 2 * a >= size) at50 = static_cast<std::int64_t>(step);
      }
      CHECK(sum.territory_steps_to_10[t] == at10);
      CHECK(sum.territory_steps_to_50[t] == at50);
      reached += rows.back()[k * T + t] == size;
    }
    CHECK(sum.territories_reached == reached);
    CHECK(sum.suited == w.organisation_count());
    // Only AA is large enough to be first.
    CHECK(sum.first_territory_50 == (sum.territory_steps_to_50[0] >= 0 ? 0 : -1));
    CHECK(sum.first_step_50 == sum.territory_steps_to_50[0]);
    CHECK(sum.bridge_transfers + sum.distant_transfers == sum.transfers);
  }
  CHECK(result.summaries[1].first_territory_50 == 0);
}
