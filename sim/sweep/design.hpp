// Experimental designs on the unit hypercube [0, 1]^k and their mapping to parameter values.
//
// Every generator returns a row-major matrix [points][k] of coordinates in [0, 1]; a sweep maps
// each coordinate through its parameter's distribution (Parameter::at). Random choices come from
// the design's own seed, never from the simulation seeds.
#pragma once

#include "sweep/spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace csei::sweep {

/// Full factorial grid: sizes[j] values along axis j (coordinates i / (sizes[j] - 1), or 0.5
/// for a single value); the last parameter varies fastest.
[[nodiscard]] std::vector<double> grid_design(const std::vector<int>& sizes);

/// Latin hypercube of n points in k dimensions: along each axis every stratum [i/n, (i+1)/n)
/// holds exactly one point, at a uniform position within it.
[[nodiscard]] std::vector<double> lhs_design(std::size_t n, std::size_t k, std::uint64_t seed);

/// Morris (1991) elementary-effects design: r trajectories of k + 1 points on the grid
/// {0, 1/(p-1), ..., 1}; consecutive points of a trajectory differ in one coordinate, by
/// +-delta with delta = p / (2 (p - 1)), and each coordinate changes once per trajectory.
[[nodiscard]] std::vector<double> morris_design(std::size_t r, std::size_t k, int p,
                                                std::uint64_t seed);
[[nodiscard]] inline double morris_delta(int p) {
  return static_cast<double>(p) / (2.0 * (p - 1));
}

/// Saltelli (2010) scheme from a 2k-dimensional Sobol sequence (Boost.Random's `sobol`, from
/// its first point, the origin; with a non-zero seed, randomised by a digital shift, which keeps
/// the sequence's net structure): for each base sample j = 0..n-1 a block of
/// k + 2 rows: A_j, then A_B^(1)_j .. A_B^(k)_j (A_j with coordinate i taken from B_j), then B_j.
[[nodiscard]] std::vector<double> saltelli_design(std::size_t n, std::size_t k, std::uint64_t seed);

/// A sweep's design: unit coordinates, the parameter values they map to, and their `--set`
/// texts, each [points][parameters].
struct Design {
  std::size_t points = 0, parameters = 0;
  std::vector<double> unit;
  std::vector<double> value;
  std::vector<std::string> text;
  double morris_delta = 0.0; // morris only

  [[nodiscard]] std::vector<std::string> texts(std::size_t point) const {
    return {text.begin() + static_cast<std::ptrdiff_t>(point * parameters),
            text.begin() + static_cast<std::ptrdiff_t>((point + 1) * parameters)};
  }
};

[[nodiscard]] Design make_design(const SweepSpec& spec);

} // namespace csei::sweep
