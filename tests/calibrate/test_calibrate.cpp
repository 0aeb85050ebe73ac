// Calibration: priors (densities integrate to 1, quantiles invert them), distances against
// hand-computed values, weighted quantiles, the probe's yearly values and a calibration file
// read from the test data.
#include "calibrate/abc.hpp"
#include "calibrate/spec.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace csei;
using namespace csei::calibrate;
using Catch::Matchers::Contains;

namespace {

Parameter prior(Prior kind, double low, double high, double mean = 0, double sd = 1) {
  Parameter p;
  p.prior = kind;
  p.low = low;
  p.high = high;
  p.mean = mean;
  p.sd = sd;
  return p;
}

/// Integral of the prior density over z (midpoint rule).
double mass(const Parameter& p, double a, double b) {
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += p.density_z(a + (b - a) * (i + 0.5) / n);
  return sum * (b - a) / n;
}

} // namespace

TEST_CASE("calibrate: prior densities integrate to one and quantiles invert them") {
  const Parameter u = prior(Prior::uniform, 0.1, 0.5);
  CHECK(mass(u, 0, 1) == Approx(1.0).epsilon(1e-3));
  CHECK(u.quantile(0.25) == Approx(0.2));
  CHECK(u.density_z(0.6) == 0.0);
  const Parameter l = prior(Prior::log_uniform, 0.01, 1.0);
  CHECK(mass(l, std::log(0.005), std::log(2.0)) == Approx(1.0).epsilon(1e-3));
  CHECK(l.quantile(0.5) == Approx(0.1));
  CHECK(l.to_z(l.from_z(-1.5)) == Approx(-1.5));
  const Parameter n = prior(Prior::normal, 0, 0, 2.0, 0.5);
  CHECK(mass(n, -2, 6) == Approx(1.0).epsilon(1e-3));
  CHECK(n.quantile(0.5) == Approx(2.0));
  CHECK(n.quantile(0.975) == Approx(2.0 + 1.959964 * 0.5).epsilon(1e-5));
  const Parameter t = prior(Prior::truncated_normal, 0.0, 1.0, 0.0, 1.0);
  CHECK(mass(t, -1, 2) == Approx(1.0).epsilon(1e-3));
  CHECK(t.density_z(-0.01) == 0.0);
  CHECK(t.quantile(0.999) <= 1.0);
  CHECK(t.quantile(0.5) ==
        Approx(0.44177).epsilon(1e-3)); // median of N(0,1) on [0,1]: Phi^-1((0.5 + 0.8413) / 2)
}

TEST_CASE("calibrate: distances against hand-computed values") {
  Target g;
  g.start_year = 2000;
  g.years = 3;
  g.observed = {{2000, 10, "", 2}, {2002, 30, "", 3}};
  const double model[3] = {12, 99, 26};
  g.distance = DistanceKind::rmse_counts;
  CHECK(target_distance(g, model) == Approx(std::sqrt((4.0 + 16.0) / 2)));
  g.distance = DistanceKind::rmse_shares;
  CHECK(target_distance(g, model) == Approx(std::sqrt((4.0 + 16.0) / 2) / 30));
  g.distance = DistanceKind::poisson_deviance;
  CHECK(target_distance(g, model) ==
        Approx(2 * (10 * std::log(10.0 / 12) - (10 - 12.0) + 30 * std::log(30.0 / 26) - 4.0)));
  const double exact[3] = {10, 0, 30};
  CHECK(target_distance(g, exact) == Approx(0.0).margin(1e-12));
  const double failed[3] = {NAN, 0, 30};
  CHECK(std::isinf(target_distance(g, failed)));
}

TEST_CASE("calibrate: weighted quantiles") {
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.5) == 2);
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.2) == 1);
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.95) == 3);
}

TEST_CASE("calibrate: the recovery file reads, and its probe gives yearly values") {
  const auto spec =
      load_calibration(test::source_dir() / "tests/calibrate/data/bass_recovery.toml");
  REQUIRE(spec.parameters.size() == 2);
  CHECK(spec.parameters[1].key == "innovations[0].q");
  REQUIRE(spec.targets.size() == 1);
  const Target& g = spec.targets[0];
  CHECK(g.years == 12);
  CHECK(g.observed.size() == 12);
  CHECK(g.observed.front().value == 77);
  CHECK(spec.series_size() == 12);
  // Stocks at the year's last step: feed steps 0..120 with adopters = step.
  Probe probe(spec);
  std::vector<std::int64_t> series, adopters(1), zeros(1);
  for (std::int64_t s = 0; s <= 120; ++s) {
    adopters[0] = s;
    StepCounts c;
    c.step = s;
    c.innovations = c.territories = 1;
    c.adopters = adopters;
    c.new_adopters = c.aware = zeros;
    probe(c, series);
  }
  REQUIRE(series.size() == 12);
  CHECK(series[0] == 10);
  CHECK(series[11] == 120);
}

TEST_CASE("calibrate: an unknown innovation is an input error at its line") {
  const auto dir = test::source_dir() / "tests/calibrate/data";
  std::string text = R"(scenario = "bass_small.toml"
[[parameters]]
key = "innovations[0].p"
prior = "uniform"
low = 0.0
high = 0.2
[[targets]]
file = "bass_observed.csv"
series = "bass_adopters"
output = "new_adopters"
innovations = ["bas"]
start_year = 2000
[method]
particles = 10
)";
  const std::string msg =
      test::input_error_of([&] { (void)load_calibration_text(text, "c.toml", dir); });
  CHECK_THAT(msg, Contains("c.toml:11:16: targets[0].innovations[0]: unknown innovation 'bas'"));
  CHECK_THAT(msg, Contains("did you mean 'bass'"));
}

TEST_CASE("calibrate: the probe sums flows over a year's steps and masks territories") {
  CalibrationSpec spec;
  spec.base.steps = 8;
  spec.base.steps_per_year = 4;
  spec.base.innovations.resize(2);
  spec.base.territories.resize(3);
  const auto target = [](Quantity q, std::vector<int> inn, std::vector<int> ter) {
    Target g;
    g.quantity = q;
    g.innovations = std::move(inn);
    g.territories = std::move(ter);
    g.years = 2;
    return g;
  };
  spec.targets = {target(Quantity::new_adopters, {1}, {0, 2}), target(Quantity::aware, {}, {1}),
                  target(Quantity::members, {}, {2}), target(Quantity::clusters, {}, {})};
  Probe probe(spec);
  std::vector<std::int64_t> series;
  for (std::int64_t s = 0; s <= 8; ++s) {
    // [I*T]: innovation k, territory t holds 100 k + 10 t + s.
    std::vector<std::int64_t> it(6), members{1, 2, 3 * s}, cm{s, 0, s > 4 ? 1 : 0};
    for (int k = 0; k < 2; ++k)
      for (int t = 0; t < 3; ++t)
        it[static_cast<std::size_t>(k * 3 + t)] = 100 * k + 10 * t + s;
    StepCounts c;
    c.step = s;
    c.innovations = 2;
    c.territories = 3;
    c.clusters = 3;
    c.adopters = c.new_adopters = c.aware = it;
    c.members = members;
    c.cluster_members = cm;
    probe(c, series);
  }
  REQUIRE(series.size() == 8);
  // new_adopters of innovation 1 in territories 0 and 2: (100 + s) + (120 + s) per step; year 0
  // is steps 0-4, year 1 steps 5-8.
  CHECK(series[0] == 5 * 220 + 2 * (0 + 1 + 2 + 3 + 4));
  CHECK(series[1] == 4 * 220 + 2 * (5 + 6 + 7 + 8));
  // aware in territory 1 of both innovations, at steps 4 and 8.
  CHECK(series[2] == (10 + 4) + (110 + 4));
  CHECK(series[3] == (10 + 8) + (110 + 8));
  CHECK(series[4] == 12); // members of territory 2 at step 4
  CHECK(series[5] == 24);
  CHECK(series[6] == 1); // clusters with members at step 4: slot 0 only
  CHECK(series[7] == 2); // at step 8: slots 0 and 2
}
