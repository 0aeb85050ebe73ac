// World building: organisations (legal form, size, thresholds) and the network, in parallel.
//
// The network is built in compressed sparse row form. Each organisation first draws its own
// partners from its own keyed stream (so the draws do not depend on the thread schedule); the
// links are then made undirected by adding each draw to both rows, and rows are sorted and
// de-duplicated, which makes the final arrays independent of the fill order.
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <atomic>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/geometric_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <numbers>
#include <numeric>

namespace csei {

double distance_km(const Territory& a, const Territory& b) {
  constexpr double r_earth = 6371.0088;
  constexpr double rad = std::numbers::pi / 180.0;
  const double dlat = (b.lat - a.lat) * rad;
  const double dlon = (b.lon - a.lon) * rad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * rad) * std::cos(b.lat * rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * r_earth * std::asin(std::min(1.0, std::sqrt(h)));
}

namespace {

constexpr std::size_t kGrain = 4096;

/// Exclusive prefix sum of `counts` into offsets (size n+1): block sums in parallel, a short
/// sequential scan over the blocks, then each block fills its offsets in parallel.
std::vector<std::int64_t> prefix_offsets(const std::vector<std::int32_t>& counts) {
  constexpr std::size_t kBlock = std::size_t{1} << 16;
  const std::size_t n = counts.size();
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::int64_t> base(blocks + 1, 0);
  par::for_each(blocks, [&](std::size_t b) {
    std::int64_t sum = 0;
    for (std::size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i)
      sum += counts[i];
    base[b + 1] = sum;
  });
  std::partial_sum(base.begin(), base.end(), base.begin());
  std::vector<std::int64_t> offsets(n + 1);
  par::for_each(blocks, [&](std::size_t b) {
    std::int64_t at = base[b];
    for (std::size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
      offsets[i] = at;
      at += counts[i];
    }
  });
  offsets[n] = base[blocks];
  return offsets;
}

/// The links each organisation drew itself ("forward" lists): row i is
/// targets[begin[i] .. begin[i] + count[i]).
struct ForwardLists {
  std::vector<std::int64_t> begin;
  std::vector<std::int32_t> count;
  std::vector<OrgId> targets;
};

/// Forward lists from a generator with at most `max_per_row` draws per organisation: one pass,
/// each row written only by its own organisation into fixed slots.
template <class Gen>
ForwardLists draw_fixed(std::int64_t n, const Gen& gen, int max_per_row) {
  const auto N = static_cast<std::size_t>(n);
  const auto k = static_cast<std::size_t>(max_per_row);
  ForwardLists f;
  f.begin.resize(N);
  f.count.assign(N, 0);
  f.targets.resize(N * k);
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      f.begin[i] = static_cast<std::int64_t>(i * k);
      gen(static_cast<OrgId>(i),
          [&](OrgId j) { f.targets[i * k + static_cast<std::size_t>(f.count[i]++)] = j; });
    }
  });
  return f;
}

/// Forward lists from a generator with no bound per row: a counting pass, then the generator
/// runs again (it is deterministic in i) to fill the rows.
template <class Gen>
ForwardLists draw_counted(std::int64_t n, const Gen& gen) {
  const auto N = static_cast<std::size_t>(n);
  ForwardLists f;
  f.count.assign(N, 0);
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i)
      gen(static_cast<OrgId>(i), [&](OrgId) { ++f.count[i]; });
  });
  f.begin = prefix_offsets(f.count);
  f.targets.resize(static_cast<std::size_t>(f.begin[N]));
  f.begin.pop_back();
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      auto at = static_cast<std::size_t>(f.begin[i]);
      gen(static_cast<OrgId>(i), [&](OrgId j) { f.targets[at++] = j; });
    }
  });
  return f;
}

/// The undirected CSR network from the forward lists: each row holds the organisation's own
/// draws followed by the draws that named it; rows are then sorted and de-duplicated, which
/// removes any dependence on the fill order.
///
/// The reverse entries are placed by a parallel counting sort over C contiguous chunks of
/// sources, each with a private histogram and private cursors. Plain stores instead of an atomic
/// cursor per entry: a locked instruction per random store serialises the cache misses, and made
/// this phase several times slower.
Network symmetrise(std::int64_t n, ForwardLists&& f) {
  const auto N = static_cast<std::size_t>(n);
  // One histogram of N counters per chunk: at most 8 chunks bounds the extra memory.
  const std::size_t C =
      std::clamp<std::size_t>(static_cast<std::size_t>(par::max_concurrency()), 1, 8);
  const auto chunk_begin = [&](std::size_t c) { return N * c / C; };
  std::vector<std::vector<std::int32_t>> cursor(C); // per chunk: count, then slot within row j
  par::for_each(C, [&](std::size_t c) {
    cursor[c].assign(N, 0);
    for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i)
      for (std::int32_t s = 0; s < f.count[i]; ++s)
        ++cursor[c][static_cast<std::size_t>(f.targets[static_cast<std::size_t>(f.begin[i] + s)])];
  });
  // Chunk c's entries in row j follow j's own draws and the earlier chunks' entries.
  std::vector<std::int32_t> degree(N, 0);
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t j = lo; j < hi; ++j) {
      std::int32_t at = f.count[j];
      for (std::size_t c = 0; c < C; ++c) {
        const std::int32_t here = cursor[c][j];
        cursor[c][j] = at;
        at += here;
      }
      degree[j] = at;
    }
  });
  Network net;
  net.offsets = prefix_offsets(degree);
  net.targets.resize(static_cast<std::size_t>(net.offsets[N]));
  par::for_each(C, [&](std::size_t c) {
    std::vector<std::int32_t>& cur = cursor[c];
    for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
      const OrgId* own = f.targets.data() + f.begin[i];
      std::copy_n(own, f.count[i], net.targets.begin() + net.offsets[i]);
      for (std::int32_t s = 0; s < f.count[i]; ++s) {
        const auto j = static_cast<std::size_t>(own[s]);
        net.targets[static_cast<std::size_t>(net.offsets[j] + cur[j]++)] = static_cast<OrgId>(i);
      }
    }
  });
  f = ForwardLists{};
  cursor = {};
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      auto* b = net.targets.data() + net.offsets[i];
      auto* e = net.targets.data() + net.offsets[i + 1];
      std::sort(b, e);
      degree[i] = static_cast<std::int32_t>(std::unique(b, e) - b);
    }
  });
  // Compact rows that lost duplicates (i drew j and j drew i). Rows only move left, so a
  // sequential in-place pass is safe; it is skipped when nothing changed. The array keeps its
  // capacity: shrinking would copy it and double the peak memory for a few bytes.
  std::vector<std::int64_t> compact = prefix_offsets(degree);
  if (compact[N] != net.offsets[N]) {
    for (std::size_t i = 0; i < N; ++i)
      std::copy_n(net.targets.begin() + net.offsets[i], degree[i],
                  net.targets.begin() + compact[i]);
    net.targets.resize(static_cast<std::size_t>(compact[N]));
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
      par::for_each(T, [&](std::size_t t) {
        double acc = 0;
        for (std::size_t u = 0; u < T; ++u) {
          if (u != t) {
            const double size = static_cast<double>(begin[u + 1] - begin[u]);
            acc +=
                size * std::exp(-distance_km(s.territories[t], s.territories[u]) / spec_.decay_km);
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
      const auto r =
          boost::random::uniform_int_distribution<std::int64_t>(0, n_ - (hi - lo) - 1)(rng);
      return static_cast<OrgId>(r < lo ? r : r + (hi - lo));
    }
    const std::size_t T = begin_.size() - 1;
    const double* row = cdf_.data() + t * T;
    const double x = boost::random::uniform_01<double>()(rng) * row[T - 1];
    auto u = static_cast<std::size_t>(std::upper_bound(row, row + T, x) - row);
    u = std::min(u, T - 1);
    while (begin_[u + 1] == begin_[u] || u == t)
      u = (u + 1) % T; // guard against empty targets
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
      for (std::int64_t j = i + 1; j < n_; ++j)
        emit(static_cast<OrgId>(j));
      return;
    }
    Stream rng = key_.stream(static_cast<std::uint64_t>(i));
    boost::random::geometric_distribution<std::int64_t, double> skip(p_);
    for (std::int64_t j = i + 1 + skip(rng); j < n_; j += 1 + skip(rng))
      emit(static_cast<OrgId>(j));
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
  par::for_ranges<std::size_t>(0, n, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      Stream rng = key.stream(i);
      const double u = boost::random::uniform_01<double>()(rng);
      const auto f =
          static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
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
  par::for_each(T, [&](std::size_t t) {
    std::fill(terr.begin() + w.territory_begin[t], terr.begin() + w.territory_begin[t + 1],
              static_cast<std::int32_t>(t));
  });
  draw_attributes(s, w);

  switch (s.network.kind) {
  case NetworkSpec::Kind::complete:
    w.network.complete = true;
    break;
  case NetworkSpec::Kind::erdos_renyi:
    w.network = symmetrise(n, draw_counted(n, ErdosRenyiGenerator(s, n)));
    break;
  case NetworkSpec::Kind::partners:
    w.network = symmetrise(n, draw_fixed(n, PartnerGenerator(s, w.territory_begin, terr),
                                         std::min(s.network.partners, kMaxPartners)));
    break;
  }
  return w;
}

} // namespace csei
