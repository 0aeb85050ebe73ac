// Grid, Latin hypercube, Morris trajectories and the Saltelli scheme.
#include "sweep/design.hpp"

#include "core/rng.hpp"

#include <boost/random/sobol.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <numeric>

namespace csei::sweep {
namespace {

/// An independent stream for one purpose of the design (kept apart from simulation streams).
Stream design_stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index) {
  return Stream(mix64(mix64(mix64(seed ^ 0xB7E151628AED2A6BULL) ^ purpose) + index));
}

std::size_t uniform_index(Stream& rng, std::size_t n) {
  return static_cast<std::size_t>(
      boost::random::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng));
}

} // namespace

std::vector<double> grid_design(const std::vector<int>& sizes) {
  const std::size_t k = sizes.size();
  std::size_t n = 1;
  for (const int s : sizes)
    n *= static_cast<std::size_t>(s);
  std::vector<double> out(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t rest = i;
    for (std::size_t j = k; j-- > 0;) {
      const auto m = static_cast<std::size_t>(sizes[j]);
      const std::size_t level = rest % m;
      rest /= m;
      out[i * k + j] = m == 1 ? 0.5 : static_cast<double>(level) / static_cast<double>(m - 1);
    }
  }
  return out;
}

std::vector<double> lhs_design(std::size_t n, std::size_t k, std::uint64_t seed) {
  std::vector<double> out(n * k);
  std::vector<std::size_t> perm(n);
  for (std::size_t j = 0; j < k; ++j) {
    Stream rng = design_stream(seed, 1, j);
    std::iota(perm.begin(), perm.end(), std::size_t{0});
    for (std::size_t i = n; i > 1; --i) // Fisher-Yates
      std::swap(perm[i - 1], perm[uniform_index(rng, i)]);
    for (std::size_t i = 0; i < n; ++i)
      out[i * k + j] = (static_cast<double>(perm[i]) + unit(rng())) / static_cast<double>(n);
  }
  return out;
}

std::vector<double> morris_design(std::size_t r, std::size_t k, int p, std::uint64_t seed) {
  // Work on integer level indices 0..p-1 so every coordinate is exactly level / (p - 1).
  const auto levels = static_cast<std::size_t>(p);
  const std::size_t jump = levels / 2; // delta = jump / (p - 1)
  std::vector<double> out(r * (k + 1) * k);
  std::vector<std::size_t> level(k), order(k);
  std::vector<int> dir(k);
  for (std::size_t t = 0; t < r; ++t) {
    Stream rng = design_stream(seed, 2, t);
    for (std::size_t j = 0; j < k; ++j) {
      const std::size_t base = uniform_index(rng, levels - jump); // base + jump <= p - 1
      dir[j] = uniform_index(rng, 2) == 0 ? 1 : -1;
      level[j] = dir[j] > 0 ? base : base + jump;
    }
    std::iota(order.begin(), order.end(), std::size_t{0});
    for (std::size_t i = k; i > 1; --i)
      std::swap(order[i - 1], order[uniform_index(rng, i)]);
    for (std::size_t s = 0; s <= k; ++s) {
      if (s > 0) {
        const std::size_t j = order[s - 1];
        level[j] = dir[j] > 0 ? level[j] + jump : level[j] - jump;
      }
      const std::size_t row = t * (k + 1) + s;
      for (std::size_t j = 0; j < k; ++j)
        out[row * k + j] = static_cast<double>(level[j]) / static_cast<double>(levels - 1);
    }
  }
  return out;
}

std::vector<double> saltelli_design(std::size_t n, std::size_t k, std::uint64_t seed) {
  const std::size_t d = 2 * k;
  boost::random::sobol gen(d);
  std::vector<std::uint64_t> shift(d, 0);
  if (seed != 0) {
    Stream rng = design_stream(seed, 3, 0);
    for (auto& s : shift)
      s = rng();
  }
  std::vector<double> u(d), out(n * (k + 2) * k);
  for (std::size_t j = 0; j < n; ++j) {
    for (std::size_t c = 0; c < d; ++c) {
      // Boost's engine starts at the sequence's second point; the first (the origin) is put
      // back, so the first 2^m points form a complete net (Owen 2022, "On dropping the first
      // Sobol' point").
      const std::uint64_t raw = j == 0 ? 0 : static_cast<std::uint64_t>(gen());
      const std::uint64_t v = raw ^ shift[c];
      u[c] = (static_cast<double>(v >> 11) + 0.5) * 0x1.0p-53; // centre of its 2^-53 cell
    }
    const std::size_t block = j * (k + 2);
    for (std::size_t i = 0; i < k; ++i) {
      out[block * k + i] = u[i];               // A
      out[(block + k + 1) * k + i] = u[k + i]; // B
      for (std::size_t m = 0; m < k; ++m)      // A_B^(m): A with column m from B
        out[(block + 1 + m) * k + i] = i == m ? u[k + i] : u[i];
    }
  }
  return out;
}

Design make_design(const SweepSpec& s) {
  const std::size_t k = s.parameters.size();
  Design d;
  d.parameters = k;
  switch (s.design) {
  case DesignKind::grid: {
    std::vector<int> sizes;
    for (const auto& p : s.parameters)
      sizes.push_back(p.grid_size());
    d.unit = grid_design(sizes);
    break;
  }
  case DesignKind::lhs:
    d.unit = lhs_design(static_cast<std::size_t>(s.samples), k, s.design_seed);
    break;
  case DesignKind::morris:
    d.unit = morris_design(static_cast<std::size_t>(s.trajectories), k, static_cast<int>(s.levels),
                           s.design_seed);
    d.morris_delta = morris_delta(static_cast<int>(s.levels));
    break;
  case DesignKind::sobol:
    d.unit = saltelli_design(static_cast<std::size_t>(s.samples), k, s.design_seed);
    break;
  }
  d.points = k ? d.unit.size() / k : 0;
  d.value.resize(d.unit.size());
  d.text.resize(d.unit.size());
  for (std::size_t i = 0; i < d.points; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      auto v = s.parameters[j].at(d.unit[i * k + j]);
      d.value[i * k + j] = v.number;
      d.text[i * k + j] = std::move(v.text);
    }
  return d;
}

} // namespace csei::sweep
