// World building: organisations (legal form, size, thresholds) and the network, in parallel.
//
// The network is built in compressed sparse row form in two passes over a deterministic partner
// generator: a counting pass and a filling pass. Each organisation's partner draws come from its
// own keyed stream, so both passes see the same draws whatever the thread schedule; rows are then
// sorted and de-duplicated, which makes the final arrays independent of the fill order.
#include "world/world.hpp"

#include "core/rng.hpp"

#include <algorithm>
#include <atomic>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/geometric_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numbers>
#include <numeric>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_scan.h>

namespace csei {

double distance_km(const Territory& a, const Territory& b) {
  constexpr double r_earth = 6371.0088;
  constexpr double rad = std::numbers::pi / 180.0;
  const double dlat = (b.lat - a.lat) * rad;
  const double dlon = (b.lon - a.lon) * rad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat * rad) * std::cos(b.lat * rad) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * r_earth * std::asin(std::min(1.0, std::sqrt(h)));
}

namespace {

constexpr std::size_t kGrain = 4096;

/// Exclusive prefix sum of `counts` into offsets (size n+1), in parallel.
std::vector<std::int64_t> prefix_offsets(const std::vector<std::int32_t>& counts) {
  const std::size_t n = counts.size();
  std::vector<std::int64_t> offsets(n + 1, 0);
  tbb::parallel_scan(
      tbb::blocked_range<std::size_t>(0, n, kGrain), std::int64_t{0},
      [&](const tbb::blocked_range<std::size_t>& r, std::int64_t sum, bool final) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) {
          sum += counts[i];
          if (final) offsets[i + 1] = sum;
        }
        return sum;
      },
      std::plus<>());
  return offsets;
}

/// Builds the undirected CSR network from `gen(i, emit)`, which calls emit(j) for each link
/// (i, j) that organisation i draws. gen must be deterministic in i: it runs twice.
template <class Gen>
Network build_csr(std::int64_t n, const Gen& gen) {
  Network net;
  const auto N = static_cast<std::size_t>(n);
  std::vector<std::int32_t> degree(N, 0);
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n, kGrain), [&](const auto& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) {
      gen(static_cast<OrgId>(i), [&](OrgId j) {
        std::atomic_ref<std::int32_t>(degree[static_cast<std::size_t>(i)])
            .fetch_add(1, std::memory_order_relaxed);
        std::atomic_ref<std::int32_t>(degree[static_cast<std::size_t>(j)])
            .fetch_add(1, std::memory_order_relaxed);
      });
    }
  });
  std::vector<std::int64_t> cursor = prefix_offsets(degree);
  net.targets.resize(static_cast<std::size_t>(cursor[N]));
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, n, kGrain), [&](const auto& r) {
    for (std::int64_t i = r.begin(); i < r.end(); ++i) {
      gen(static_cast<OrgId>(i), [&](OrgId j) {
        const auto at_i = std::atomic_ref<std::int64_t>(cursor[static_cast<std::size_t>(i)])
                              .fetch_add(1, std::memory_order_relaxed);
        const auto at_j = std::atomic_ref<std::int64_t>(cursor[static_cast<std::size_t>(j)])
                              .fetch_add(1, std::memory_order_relaxed);
        net.targets[static_cast<std::size_t>(at_i)] = j;
        net.targets[static_cast<std::size_t>(at_j)] = static_cast<OrgId>(i);
      });
    }
  });
  // cursor[i] now equals the end of row i; recover the offsets from the degrees.
  net.offsets = prefix_offsets(degree);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, N, kGrain), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      auto* b = net.targets.data() + net.offsets[i];
      auto* e = net.targets.data() + net.offsets[i + 1];
      std::sort(b, e);
      degree[i] = static_cast<std::int32_t>(std::unique(b, e) - b);
    }
  });
  // Compact rows that lost duplicates (i drew j and j drew i). Rows only move left, so a
  // sequential in-place pass is safe; it is skipped when nothing changed.
  std::vector<std::int64_t> compact = prefix_offsets(degree);
  if (compact[N] != net.offsets[N]) {
    for (std::size_t i = 0; i < N; ++i)
      std::copy_n(net.targets.begin() + net.offsets[i], degree[i],
                  net.targets.begin() + compact[i]);
    net.targets.resize(static_cast<std::size_t>(compact[N]));
    net.targets.shrink_to_fit();
    net.offsets = std::move(compact);
  }
  return net;
}

/// Partner draws: k per organisation, a share within the own territory, the rest elsewhere
/// (uniformly, or by territory with a distance decay). Draws never repeat a partner or self.
class PartnerGenerator {
public:
  PartnerGenerator(const Scenario& s, const std::vector<std::int64_t>& begin,
                   const std::vector<std::int32_t>& territory_of)
      : spec_(s.network), key_(s.seed, Purpose::network, 0), begin_(begin),
        territory_of_(territory_of), n_(begin.back()) {
    const std::size_t T = begin.size() - 1;
    if (spec_.remote == NetworkSpec::Remote::distance) {
      // Cumulative territory weights per source territory: size x exp(-distance / decay).
      cdf_.assign(T * T, 0.0);
      tbb::parallel_for(std::size_t{0}, T, [&](std::size_t t) {
        double acc = 0;
        for (std::size_t u = 0; u < T; ++u) {
          if (u != t) {
            const double size = static_cast<double>(begin[u + 1] - begin[u]);
            acc += size * std::exp(-distance_km(s.territories[t], s.territories[u]) /
                                   spec_.decay_km);
          }
          cdf_[t * T + u] = acc;
        }
      });
    }
  }

  template <class Emit>
  void operator()(OrgId i, const Emit& emit) const {
    constexpr int kAttempts = 64;
    Stream rng = key_.stream(static_cast<std::uint64_t>(i));
    const auto t = static_cast<std::size_t>(territory_of_[static_cast<std::size_t>(i)]);
    const std::int64_t lo = begin_[t], hi = begin_[t + 1];
    const bool can_local = hi - lo > 1;
    const bool can_remote = n_ - (hi - lo) > 0;
    boost::random::bernoulli_distribution<double> local(spec_.local_share);
    OrgId chosen[kMaxPartners];
    const int k = std::min(spec_.partners, kMaxPartners);
    int drawn = 0;
    for (int slot = 0; slot < k; ++slot) {
      for (int attempt = 0; attempt < kAttempts; ++attempt) {
        const bool want_local = local(rng);
        OrgId j;
        if ((want_local && can_local) || !can_remote) {
          // Uniform among the territory's other organisations.
          const auto r = boost::random::uniform_int_distribution<std::int64_t>(0, hi - lo - 2)(rng);
          j = static_cast<OrgId>(lo + r + (lo + r >= i ? 1 : 0));
        } else {
          j = remote(rng, t, lo, hi);
        }
        if (j == i || std::find(chosen, chosen + drawn, j) != chosen + drawn) continue;
        chosen[drawn++] = j;
        emit(j);
        break;
      }
    }
  }

private:
  OrgId remote(Stream& rng, std::size_t t, std::int64_t lo, std::int64_t hi) const {
    if (spec_.remote == NetworkSpec::Remote::uniform) {
      const auto r = boost::random::uniform_int_distribution<std::int64_t>(0, n_ - (hi - lo) - 1)(rng);
      return static_cast<OrgId>(r < lo ? r : r + (hi - lo));
    }
    const std::size_t T = begin_.size() - 1;
    const double* row = cdf_.data() + t * T;
    const double x = boost::random::uniform_01<double>()(rng) * row[T - 1];
    auto u = static_cast<std::size_t>(std::upper_bound(row, row + T, x) - row);
    u = std::min(u, T - 1);
    while (begin_[u + 1] == begin_[u] || u == t) u = (u + 1) % T; // guard against empty targets
    const auto r =
        boost::random::uniform_int_distribution<std::int64_t>(begin_[u], begin_[u + 1] - 1)(rng);
    return static_cast<OrgId>(r);
  }

  NetworkSpec spec_;
  StreamKey key_;
  const std::vector<std::int64_t>& begin_;
  const std::vector<std::int32_t>& territory_of_;
  std::int64_t n_;
  std::vector<double> cdf_;
};

/// G(n, p) with p = z / (n - 1): organisation i links to each j > i independently, found by
/// geometric skips (Batagelj and Brandes 2005), so the cost is proportional to the links.
class ErdosRenyiGenerator {
public:
  ErdosRenyiGenerator(const Scenario& s, std::int64_t n)
      : key_(s.seed, Purpose::network, 0), n_(n),
        p_(n > 1 ? s.network.mean_degree / static_cast<double>(n - 1) : 0.0) {}

  template <class Emit>
  void operator()(OrgId i, const Emit& emit) const {
    if (p_ <= 0) return;
    if (p_ >= 1) {
      for (std::int64_t j = i + 1; j < n_; ++j) emit(static_cast<OrgId>(j));
      return;
    }
    Stream rng = key_.stream(static_cast<std::uint64_t>(i));
    boost::random::geometric_distribution<std::int64_t, double> skip(p_);
    for (std::int64_t j = i + 1 + skip(rng); j < n_; j += 1 + skip(rng)) emit(static_cast<OrgId>(j));
  }

private:
  StreamKey key_;
  std::int64_t n_;
  double p_;
};

void draw_attributes(const Scenario& s, World& w) {
  auto& orgs = w.organisations;
  const auto n = static_cast<std::size_t>(w.organisation_count());
  orgs.form.resize(n);
  orgs.jobs.resize(n);
  orgs.threshold.resize(s.innovations.size());
  std::array<double, kLegalFormCount> cum{};
  std::partial_sum(s.organisations.form_mix.begin(), s.organisations.form_mix.end(), cum.begin());
  std::size_t last_form = 0;
  for (std::size_t f = 0; f < kLegalFormCount; ++f)
    if (s.organisations.form_mix[f] > 0) last_form = f;
  for (std::size_t k = 0; k < s.innovations.size(); ++k)
    if (s.innovations[k].rule == InnovationSpec::Rule::threshold) orgs.threshold[k].resize(n);

  const StreamKey key(s.seed, Purpose::organisations, 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kGrain), [&](const auto& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      Stream rng = key.stream(i);
      const double u = boost::random::uniform_01<double>()(rng);
      const auto f = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
      orgs.form[i] = static_cast<LegalForm>(std::min(f, last_form));
      orgs.jobs[i] = static_cast<float>(std::max(0.0, s.organisations.jobs.sample(rng, i)));
      for (std::size_t k = 0; k < s.innovations.size(); ++k) {
        if (orgs.threshold[k].empty()) continue;
        Stream trng = key.sub(k + 1).stream(i);
        orgs.threshold[k][i] = static_cast<float>(s.innovations[k].threshold.sample(trng, i));
      }
    }
  });
}

} // namespace

World build_world(const Scenario& s) {
  World w;
  const std::size_t T = s.territories.size();
  w.territory_begin.assign(T + 1, 0);
  for (std::size_t t = 0; t < T; ++t)
    w.territory_begin[t + 1] = w.territory_begin[t] + s.organisations_per_territory[t];
  const std::int64_t n = w.territory_begin[T];

  auto& terr = w.organisations.territory;
  terr.resize(static_cast<std::size_t>(n));
  tbb::parallel_for(std::size_t{0}, T, [&](std::size_t t) {
    std::fill(terr.begin() + w.territory_begin[t], terr.begin() + w.territory_begin[t + 1],
              static_cast<std::int32_t>(t));
  });
  draw_attributes(s, w);

  switch (s.network.kind) {
  case NetworkSpec::Kind::complete:
    w.network.complete = true;
    break;
  case NetworkSpec::Kind::erdos_renyi:
    w.network = build_csr(n, ErdosRenyiGenerator(s, n));
    break;
  case NetworkSpec::Kind::partners:
    w.network = build_csr(n, PartnerGenerator(s, w.territory_begin, terr));
    break;
  }
  return w;
}

} // namespace csei
