// Science checks against known results: the Bass closed form and Granovetter's threshold riot.
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

using namespace csei;
using csei::test::run;
using csei::test::scenario_from;

TEST_CASE("Bass on a well-mixed population follows the closed form within 0.02",
          "[kernel][validation][bass]") {
  // scenarios/validation/bass_complete.toml: N = 100,000, p = 0.03, q = 0.38 per year, 10 steps
  // a year, 20 years. The discrete-time model's own bias is at most 0.0072 here and the sampling
  // noise has a standard deviation below 0.002, so 0.02 is a tolerance with a wide margin.
  const Scenario s =
      load_scenario(csei::test::source_dir() / "scenarios/validation/bass_complete.toml");
  const auto series = run(s);
  const double p = 0.03, q = 0.38, n = 100000.0;
  double worst = 0;
  for (std::size_t step = 0; step <= 200; ++step) {
    const double t = static_cast<double>(step) * s.step_years();
    const double e = std::exp(-(p + q) * t);
    const double closed = (1 - e) / (1 + (q / p) * e);
    const double simulated = static_cast<double>(series.total(step, 0, 1)) / n;
    worst = std::max(worst, std::abs(simulated - closed));
  }
  INFO("largest deviation from F(t): " << worst);
  CHECK(worst < 0.02);
  CHECK(series.total(200, 0, 1) > 99000); // nearly everyone after 20 years
}

namespace {
Scenario granovetter(double second_threshold) {
  // 100 organisations, well-mixed, thresholds 0, 1/100, ..., 99/100 (Granovetter 1978).
  std::ostringstream values;
  for (int i = 0; i < 100; ++i)
    values << (i ? ", " : "") << (i == 1 ? second_threshold : i / 100.0);
  return scenario_from("[time]\nsteps = 150\n[territories]\nlist = [{ code = \"G\" }]\n"
                       "[organisations]\nper_territory = 100\n[network]\nkind = \"complete\"\n"
                       "[[innovations]]\nname = \"riot\"\nrule = \"threshold\"\n"
                       "threshold = { kind = \"values\", values = [" +
                       values.str() + "] }\n");
}
} // namespace

TEST_CASE("Granovetter: uniform thresholds give a full cascade, moving one stops it",
          "[kernel][validation][threshold]") {
  const auto full = run(granovetter(0.01));
  CHECK(full.total(1, 0, 1) == 1);     // the instigator (threshold 0)
  CHECK(full.total(2, 0, 1) == 2);     // then one more each step
  CHECK(full.total(150, 0, 1) == 100); // everyone
  const auto stalled = run(granovetter(0.02));
  CHECK(stalled.total(150, 0, 1) == 1); // only the instigator
}

TEST_CASE("Watts: global cascades inside the cascade window, not outside",
          "[kernel][validation][threshold]") {
  // Watts (2002): with one seed on a random graph whose degrees are Poisson(z) and a common
  // threshold phi, global cascades are possible where the vulnerable nodes (degree k <= 1/phi)
  // percolate: sum_{k=2}^{K*} k (k - 1) p_k > z, K* = floor(1 / phi). For phi = 0.18 (K* = 5)
  // that holds for 1.03 < z < 5.76 (computed numerically). z = 3 is well inside (the sum is
  // 1.94 z); z = 10 is well outside (0.10 z). Global cascade: more than half the organisations.
  // 30 seeds each, N = 10,000: inside, at least 9 cascades (30 %); outside, at most 1.
  int inside = 0, outside = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    inside += csei::test::watts_run(3.0, "0.18", seed) > 0.5;
    outside += csei::test::watts_run(10.0, "0.18", seed) > 0.5;
  }
  INFO("global cascades in 30 runs: z = 3: " << inside << ", z = 10: " << outside);
  CHECK(inside >= 9);
  CHECK(outside <= 1);
}
