// Scenario distributions: moments within stated tolerances, clamping, explicit values.
#include "core/distribution.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace csei;

namespace {
std::pair<double, double> moments(const Distribution& d, int n = 100000) {
  double sum = 0, sum2 = 0;
  const StreamKey key(11, Purpose::organisations, 0);
  for (int i = 0; i < n; ++i) {
    Stream s = key.stream(static_cast<std::uint64_t>(i));
    const double x = d.sample(s, static_cast<std::size_t>(i));
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n;
  return {mean, std::sqrt(sum2 / n - mean * mean)};
}
} // namespace

TEST_CASE("uniform, normal and lognormal draws have the declared moments", "[core][distribution]") {
  Distribution u;
  u.kind = Distribution::Kind::uniform;
  u.min = 2;
  u.max = 4;
  auto [mu, su] = moments(u);
  CHECK(mu == Approx(3.0).margin(0.01)); // standard error 0.0018
  CHECK(su == Approx(2 / std::sqrt(12.0)).margin(0.01));

  Distribution n;
  n.kind = Distribution::Kind::normal;
  n.mean = 0.3;
  n.sd = 0.1;
  auto [mn, sn] = moments(n);
  CHECK(mn == Approx(0.3).margin(0.002)); // standard error 0.0003
  CHECK(sn == Approx(0.1).margin(0.002));

  Distribution l;
  l.kind = Distribution::Kind::lognormal;
  l.mean = 10;
  l.sd = 5;
  auto [ml, sl] = moments(l, 200000);
  CHECK(ml == Approx(10.0).margin(0.1)); // standard error 0.011
  CHECK(sl == Approx(5.0).margin(0.25));
}

TEST_CASE("clamping and explicit values", "[core][distribution]") {
  Distribution n;
  n.kind = Distribution::Kind::normal;
  n.mean = 0;
  n.sd = 1;
  n.lower = -0.5;
  n.upper = 0.5;
  Stream s(1);
  for (int i = 0; i < 1000; ++i) {
    const double x = n.sample(s, 0);
    REQUIRE(x >= -0.5);
    REQUIRE(x <= 0.5);
  }
  Distribution v;
  v.kind = Distribution::Kind::values;
  v.values = {0.1, 0.2, 0.3};
  CHECK(v.sample(s, 2) == 0.3);
  CHECK(Distribution::constant(0.7).sample(s, 0) == 0.7);
}
