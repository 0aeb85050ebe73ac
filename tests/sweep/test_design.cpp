// Designs: factorial counts and order, Latin hypercube strata, Morris trajectory structure,
// the Saltelli matrix layout, and determinism by the design seed.
#include "sweep/design.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

using namespace csei::sweep;

namespace {

double at(const std::vector<double>& m, std::size_t k, std::size_t row, std::size_t col) {
  return m[row * k + col];
}

} // namespace

TEST_CASE("a full factorial grid has every combination once, the last parameter fastest",
          "[sweep][design]") {
  const auto g = grid_design({3, 2, 4});
  REQUIRE(g.size() == 3 * 2 * 4 * 3);
  std::set<std::vector<double>> rows;
  for (std::size_t i = 0; i < 24; ++i)
    rows.insert({at(g, 3, i, 0), at(g, 3, i, 1), at(g, 3, i, 2)});
  CHECK(rows.size() == 24);
  // first rows: (0, 0, 0), (0, 0, 1/3), (0, 0, 2/3), (0, 0, 1), (0, 1, 0), ...
  CHECK(at(g, 3, 0, 2) == 0.0);
  CHECK(at(g, 3, 1, 2) == Approx(1.0 / 3));
  CHECK(at(g, 3, 3, 2) == 1.0);
  CHECK(at(g, 3, 4, 1) == 1.0);
  CHECK(at(g, 3, 8, 0) == 0.5);
  CHECK(at(g, 3, 23, 0) == 1.0);
  // One level sits at the centre.
  const auto one = grid_design({1, 2});
  REQUIRE(one.size() == 4);
  CHECK(one[0] == 0.5);
  CHECK(one[2] == 0.5);
}

TEST_CASE("a Latin hypercube puts exactly one point in each stratum of each axis",
          "[sweep][design]") {
  const std::size_t n = 37, k = 5;
  const auto d = lhs_design(n, k, 42);
  REQUIRE(d.size() == n * k);
  for (std::size_t j = 0; j < k; ++j) {
    std::vector<int> count(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const double u = at(d, k, i, j);
      REQUIRE(u >= 0.0);
      REQUIRE(u < 1.0);
      ++count[static_cast<std::size_t>(u * n)];
    }
    CHECK(std::all_of(count.begin(), count.end(), [](int c) { return c == 1; }));
  }
  CHECK(lhs_design(n, k, 42) == d);
  CHECK(lhs_design(n, k, 43) != d);
  // The axes are permuted independently.
  std::vector<double> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = std::floor(at(d, k, i, 0) * n);
    b[i] = std::floor(at(d, k, i, 1) * n);
  }
  CHECK(a != b);
}

TEST_CASE("Morris trajectories move one factor at a time by delta on the level grid",
          "[sweep][design]") {
  const std::size_t r = 20, k = 6;
  const int p = 4;
  const double delta = morris_delta(p);
  CHECK(delta == Approx(2.0 / 3));
  const auto d = morris_design(r, k, p, 7);
  REQUIRE(d.size() == r * (k + 1) * k);
  std::set<double> used;
  for (std::size_t t = 0; t < r; ++t) {
    std::vector<int> moved(k, 0);
    for (std::size_t s = 0; s <= k; ++s)
      for (std::size_t j = 0; j < k; ++j) {
        const double u = at(d, k, t * (k + 1) + s, j);
        REQUIRE(u >= 0.0);
        REQUIRE(u <= 1.0);
        const double level = u * (p - 1);
        CHECK(level == Approx(std::round(level)).margin(1e-12)); // on the grid
        used.insert(u);
      }
    for (std::size_t s = 1; s <= k; ++s) {
      int changed = 0;
      for (std::size_t j = 0; j < k; ++j) {
        const double diff = at(d, k, t * (k + 1) + s, j) - at(d, k, t * (k + 1) + s - 1, j);
        if (diff != 0.0) {
          ++changed;
          ++moved[j];
          CHECK(std::abs(diff) == Approx(delta));
        }
      }
      CHECK(changed == 1);
    }
    CHECK(std::all_of(moved.begin(), moved.end(), [](int m) { return m == 1; }));
  }
  CHECK(used.size() == static_cast<std::size_t>(p)); // every level appears
  CHECK(morris_design(r, k, p, 7) == d);
  CHECK(morris_design(r, k, p, 8) != d);
  // Both directions occur.
  bool up = false, down = false;
  for (std::size_t t = 0; t < r; ++t)
    for (std::size_t j = 0; j < k; ++j) {
      const double diff = at(d, k, t * (k + 1) + k, j) - at(d, k, t * (k + 1), j);
      up = up || diff > 0;
      down = down || diff < 0;
    }
  CHECK(up);
  CHECK(down);
}

TEST_CASE("the Saltelli scheme lays out A, the A_B^(i) and B in blocks of k + 2",
          "[sweep][design]") {
  const std::size_t n = 64, k = 3;
  for (const std::uint64_t seed : {0ULL, 5ULL}) {
    const auto d = saltelli_design(n, k, seed);
    REQUIRE(d.size() == n * (k + 2) * k);
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t a = j * (k + 2), b = a + k + 1;
      for (std::size_t i = 0; i < k; ++i) {
        const std::size_t ab = a + 1 + i;
        for (std::size_t c = 0; c < k; ++c)
          CHECK(at(d, k, ab, c) == (c == i ? at(d, k, b, c) : at(d, k, a, c)));
      }
      for (std::size_t c = 0; c < k; ++c) {
        CHECK(at(d, k, a, c) > 0.0);
        CHECK(at(d, k, a, c) < 1.0);
      }
    }
    // A quasi-random sequence fills the square evenly: every one of 8 x 8 cells of the first
    // two coordinates of A holds exactly one of the first 64 points (a (0, m, 2)-net).
    std::vector<int> cells(64, 0);
    for (std::size_t j = 0; j < n; ++j) {
      const auto x = static_cast<std::size_t>(at(d, k, j * (k + 2), 0) * 8);
      const auto y = static_cast<std::size_t>(at(d, k, j * (k + 2), 1) * 8);
      ++cells[x * 8 + y];
    }
    CHECK(std::all_of(cells.begin(), cells.end(), [](int c) { return c == 1; }));
  }
  // Unshifted, the sequence starts at the origin, then the centre.
  const auto plain = saltelli_design(4, 2, 0);
  CHECK(plain[0] == Approx(0.0).margin(1e-15));
  CHECK(plain[(2 + 2) * 2] == Approx(0.5));
  CHECK(saltelli_design(n, k, 5) == saltelli_design(n, k, 5));
  CHECK(saltelli_design(n, k, 5) != saltelli_design(n, k, 6));
}
