// World building: organisations (legal form, size, thresholds) and the network, in parallel.
//
// The network is built in compressed sparse row form. Each organisation first draws its own
// partners from its own keyed stream (so the draws do not depend on the thread schedule) and
// sorts them; the links are then made undirected by a bucketed transpose whose reverse entries
// come out in increasing source order, so each row is one merge of two sorted lists (see
// symmetrise()), and the final arrays are independent of the thread count.
#include "core/bounded.hpp"
#include "core/error.hpp"
#include "core/pages.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/uninit.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <atomic>
#include <boost/random/geometric_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <boost/random/uniform_int_distribution.hpp>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <utility>

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

/// The caller's stop request, polled by every phase of world building (cheap: one relaxed
/// atomic read once a request is seen); a phase that sees it returns early and
/// build_world throws Interrupted.
class StopCheck {
public:
  explicit StopCheck(const std::function<bool()>& f) : f_(f) {}
  bool operator()() const {
    if (hit_.load(std::memory_order_relaxed)) return true;
    if (f_ && f_()) hit_.store(true, std::memory_order_relaxed);
    return hit_.load(std::memory_order_relaxed);
  }
  void throw_if() const {
    if ((*this)()) throw Interrupted();
  }

private:
  const std::function<bool()>& f_;
  mutable std::atomic<bool> hit_{false};
};

/// Exclusive prefix sum of counts[0 .. n) into offsets (size n+1): block sums in parallel, a
/// short sequential scan over the blocks, then each block fills its offsets in parallel (the
/// first touch of the uninitialised array).
template <class Count>
UninitVector<std::int64_t> prefix_offsets(const Count* counts, std::size_t n) {
  constexpr std::size_t kBlock = std::size_t{1} << 16;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::int64_t> base(blocks + 1, 0);
  par::for_each(blocks, [&](std::size_t b) {
    std::int64_t sum = 0;
    for (std::size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i)
      sum += counts[i];
    base[b + 1] = sum;
  });
  std::partial_sum(base.begin(), base.end(), base.begin());
  UninitVector<std::int64_t> offsets(n + 1);
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

/// The links each organisation drew itself ("forward" lists), each row sorted, without
/// duplicates or self-links: row i is row(i)[0 .. count[i]).
struct ForwardLists {
  std::size_t stride = 0;           // > 0: row i starts at i x stride, and `begin` is empty
  UninitVector<std::int64_t> begin; // otherwise: where row i starts (size n+1)
  UninitVector<std::int32_t> count;
  UninitVector<OrgId> targets;

  /// Where row i starts in `targets`, for i <= n.
  [[nodiscard]] std::size_t start(std::size_t i) const {
    return stride > 0 ? i * stride : static_cast<std::size_t>(begin[i]);
  }
  [[nodiscard]] const OrgId* row(std::size_t i) const { return targets.data() + start(i); }
};

/// Sorts up to 8 values with Batcher's 19-comparator network (Knuth, TAOCP 5.3.4), padded with
/// the largest OrgId: branch-free, where an insertion sort mispredicts about once per element.
void sort8(OrgId* row, std::int32_t count) {
  constexpr int kPairs[19][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6},
                                 {3, 7}, {0, 1}, {2, 3}, {4, 5}, {6, 7}, {2, 4}, {3, 5},
                                 {1, 4}, {3, 6}, {1, 2}, {3, 4}, {5, 6}};
  OrgId v[8];
  for (int a = 0; a < 8; ++a)
    v[a] = a < count ? row[a] : std::numeric_limits<OrgId>::max();
  for (const auto& [x, y] : kPairs) {
    const OrgId lo = std::min(v[x], v[y]), hi = std::max(v[x], v[y]);
    v[x] = lo;
    v[y] = hi;
  }
  std::copy_n(v, count, row);
}

/// Sorts one row of draws of organisation `self` and removes duplicates and self-links; returns
/// the new length. Rows that are already strictly increasing without `self` (partner draws
/// alone) are only read.
std::int32_t normalise_row(OrgId self, OrgId* row, std::int32_t count) {
  bool simple = count == 0 || row[0] != self;
  for (std::int32_t a = 1; a < count; ++a)
    simple &= (row[a - 1] < row[a]) & (row[a] != self);
  if (simple) return count;
  if (count <= 8) {
    sort8(row, count);
  } else if (count <= 24) { // insertion sort: rows of a few partners
    for (std::int32_t a = 1; a < count; ++a) {
      const OrgId x = row[a];
      std::int32_t b = a;
      for (; b > 0 && row[b - 1] > x; --b)
        row[b] = row[b - 1];
      row[b] = x;
    }
  } else if (!std::is_sorted(row, row + count)) {
    std::sort(row, row + count);
  }
  std::int32_t out = 0;
  for (std::int32_t a = 0; a < count; ++a) {
    row[out] = row[a];
    out += row[a] != self && (out == 0 || row[out - 1] != row[a]);
  }
  return out;
}

/// Forward lists from a generator with at most `max_per_row` draws per organisation: one pass,
/// each row written only by its own organisation into fixed slots.
template <class Gen>
ForwardLists draw_fixed(std::int64_t n, const Gen& gen, int max_per_row, const StopCheck& stop) {
  const auto N = static_cast<std::size_t>(n);
  const auto k = static_cast<std::size_t>(std::max(max_per_row, 1));
  ForwardLists f;
  f.stride = k;
  f.count.resize(N);
  f.targets.resize(N * k);
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    if (stop()) return;
    for (std::size_t i = lo; i < hi; ++i) {
      OrgId* row = f.targets.data() + i * k;
      std::int32_t c = 0;
      gen(static_cast<OrgId>(i), [&](OrgId j) { row[c++] = j; });
      f.count[i] = normalise_row(static_cast<OrgId>(i), row, c);
    }
  });
  return f;
}

/// Forward lists from a generator with no bound per row: a counting pass, then the generator
/// runs again (it is deterministic in i) to fill the rows.
template <class Gen>
ForwardLists draw_counted(std::int64_t n, const Gen& gen, const StopCheck& stop) {
  const auto N = static_cast<std::size_t>(n);
  ForwardLists f;
  f.count.resize(N);
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i) {
      std::int32_t c = 0;
      if (!stop()) gen(static_cast<OrgId>(i), [&](OrgId) { ++c; });
      f.count[i] = c;
    }
  });
  stop.throw_if();
  f.begin = prefix_offsets(f.count.data(), N);
  f.targets.resize(static_cast<std::size_t>(f.begin[N]));
  par::for_ranges<std::size_t>(0, N, kGrain, [&](std::size_t lo, std::size_t hi) {
    if (stop()) return;
    for (std::size_t i = lo; i < hi; ++i) {
      OrgId* row = f.targets.data() + f.begin[i];
      std::int32_t c = 0;
      gen(static_cast<OrgId>(i), [&](OrgId j) { row[c++] = j; });
      f.count[i] = normalise_row(static_cast<OrgId>(i), row, c);
    }
  });
  return f;
}

/// Union of two sorted rows, each without duplicates, written through `put` (which may only
/// count): branch-free steps, since which row holds the next smaller id is a coin toss.
template <class Put>
void merge_rows(const OrgId* a, const OrgId* a_end, const OrgId* b, const OrgId* b_end,
                const Put& put) {
  while (a != a_end && b != b_end) {
    const OrgId x = *a, y = *b;
    put(std::min(x, y));
    a += x <= y;
    b += y <= x;
  }
  for (; a != a_end; ++a)
    put(*a);
  for (; b != b_end; ++b)
    put(*b);
}

/// The undirected CSR network from the forward lists: row j is the union of j's own draws and
/// the organisations that drew j (its "reverse" entries). Both parts come out sorted, so a row
/// is one merge, and the arrays do not depend on the thread count or schedule:
///
/// 1. Bucketing: targets are grouped in blocks of 2^15 consecutive ids (territories own
///    contiguous ranges, so most links stay within a few blocks). The sources are cut into
///    contiguous chunks; each chunk counts its draws per target block, a scan gives every
///    (block, chunk) pair its segment, and each chunk appends (source, target within the block)
///    to its segments in increasing source order. The stores go to one stream per block instead
///    of anywhere in the network, and each block's entries end up in increasing source order.
/// 2. Per block (in parallel): a counting sort of its entries by target, stable, into a scratch
///    buffer that stays in cache and is copied back over the block's segment; then the size of
///    each row's merge with its own draws (the degree; a link drawn from both ends counts once).
/// 3. Offsets are a prefix sum of the degrees; per block again, each row is written once by
///    merging its own draws with its reverse entries, straight into the final array.
///
/// Every large array is allocated uninitialised (on huge pages) and first touched by a parallel
/// loop, and each huge page of the inputs goes back whole as soon as the blocks have consumed
/// all of it (core/pages.hpp), so the network's arrays grow while the forward lists and reverse
/// entries shrink. (Releasing each block's part of a page instead splits the huge pages, which
/// made the build at 28 million organisations more than twice as slow.)
Network symmetrise(std::int64_t n, ForwardLists&& f, const StopCheck& stop) {
  stop.throw_if();
  const auto N = static_cast<std::size_t>(n);
  constexpr unsigned kShift = 15;
  constexpr std::size_t kBlockRows = std::size_t{1} << kShift;
  const std::size_t B = (N + kBlockRows - 1) >> kShift;
  const auto block_end = [&](std::size_t b) { return std::min(N, (b + 1) << kShift); };
  // Source chunks: a few per thread for balance; their number does not change the result.
  const std::size_t C =
      std::clamp<std::size_t>(static_cast<std::size_t>(par::max_concurrency()) * 4, 1,
                              std::max<std::size_t>(1, N / kGrain));
  const auto chunk_begin = [&](std::size_t c) { return N * c / C; };

  // 1. Counts per (chunk, block), their segments, and the bucketed reverse entries.
  std::vector<std::vector<std::int64_t>> at(C);
  par::for_each(C, [&](std::size_t c) {
    at[c].assign(B, 0);
    for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
      const OrgId* row = f.row(i);
      for (std::int32_t s = 0; s < f.count[i]; ++s)
        ++at[c][static_cast<std::size_t>(row[s]) >> kShift];
    }
  });
  std::vector<std::int64_t> segment(B + 1, 0); // block b's entries: [segment[b], segment[b+1])
  std::int64_t total = 0;
  for (std::size_t b = 0; b < B; ++b) {
    segment[b] = total;
    for (std::size_t c = 0; c < C; ++c)
      total += std::exchange(at[c][b], total);
  }
  segment[B] = total;
  UninitVector<OrgId> source(static_cast<std::size_t>(total));
  UninitVector<std::uint16_t> local(static_cast<std::size_t>(total));
  par::for_each(C, [&](std::size_t c) {
    std::int64_t* cur = at[c].data();
    for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
      const OrgId* row = f.row(i);
      for (std::int32_t s = 0; s < f.count[i]; ++s) {
        const auto j = static_cast<std::size_t>(row[s]);
        const auto q = static_cast<std::size_t>(cur[j >> kShift]++);
        source[q] = static_cast<OrgId>(i);
        local[q] = static_cast<std::uint16_t>(j & (kBlockRows - 1));
      }
    }
  });
  at = {};

  stop.throw_if();
  // 2. Per block: reverse entries sorted by target (stable), reverse counts and degrees.
  UninitVector<std::int32_t> reverse(N);
  UninitVector<std::int32_t> degree(N);
  PageReleaser<std::uint16_t> local_pages(local);
  par::for_ranges<std::size_t>(0, B, 1, [&](std::size_t b_lo, std::size_t b_hi) {
    UninitVector<OrgId> scratch;
    std::vector<std::int32_t> cur(kBlockRows);
    for (std::size_t b = b_lo; b < b_hi && !stop(); ++b) {
      const std::size_t r0 = b << kShift, rows = block_end(b) - r0;
      const auto s0 = static_cast<std::size_t>(segment[b]);
      const auto s1 = static_cast<std::size_t>(segment[b + 1]);
      std::int32_t* count = reverse.data() + r0;
      std::fill_n(count, rows, 0);
      for (std::size_t q = s0; q < s1; ++q)
        ++count[local[q]];
      std::int32_t sum = 0;
      for (std::size_t x = 0; x < rows; ++x) {
        cur[x] = sum;
        sum += count[x];
      }
      scratch.resize(s1 - s0);
      for (std::size_t q = s0; q < s1; ++q)
        scratch[static_cast<std::size_t>(cur[local[q]]++)] = source[q];
      std::copy(scratch.begin(), scratch.end(), source.begin() + static_cast<std::ptrdiff_t>(s0));
      const OrgId* rev = source.data() + s0;
      for (std::size_t j = r0; j < r0 + rows; ++j) {
        const OrgId* own = f.row(j);
        std::int32_t d = 0;
        merge_rows(own, own + f.count[j], rev, rev + count[j - r0], [&](OrgId) { ++d; });
        degree[j] = d;
        rev += count[j - r0];
      }
      local_pages.consumed(s0, s1);
    }
  });
  local = {};

  stop.throw_if();
  // 3. Offsets, then every row merged into place.
  Network net;
  net.offsets = prefix_offsets(degree.data(), N);
  degree = {};
  net.targets.resize(static_cast<std::size_t>(net.offsets[N]));
  PageReleaser<OrgId> forward_pages(f.targets), source_pages(source);
  par::for_ranges<std::size_t>(0, B, 1, [&](std::size_t b_lo, std::size_t b_hi) {
    for (std::size_t b = b_lo; b < b_hi && !stop(); ++b) {
      const OrgId* rev = source.data() + segment[b];
      for (std::size_t j = b << kShift; j < block_end(b); ++j) {
        const OrgId* own = f.row(j);
        OrgId* out = net.targets.data() + net.offsets[j];
        merge_rows(own, own + f.count[j], rev, rev + reverse[j], [&](OrgId x) { *out++ = x; });
        rev += reverse[j];
      }
      // This block's inputs are spent: their pages go back as the output's pages come in.
      forward_pages.consumed(f.start(b << kShift), f.start(block_end(b)));
      source_pages.consumed(static_cast<std::size_t>(segment[b]),
                            static_cast<std::size_t>(segment[b + 1]));
    }
  });
  return net;
}

/// Partner draws: k per organisation, a share within the own territory, the rest elsewhere
/// (uniformly, or by territory with a distance decay). Draws never repeat a partner or self, and
/// are emitted in increasing order once all are drawn.
/// Each organisation's draws come from its own stream: a Bernoulli trial for local or remote,
/// then a bounded integer (core/bounded.hpp) for the partner (after a territory for `distance`).
class PartnerGenerator {
public:
  PartnerGenerator(const Scenario& s, const std::vector<std::int64_t>& begin,
                   const UninitVector<std::int32_t>& territory_of)
      : spec_(s.network), key_(s.seed, Purpose::network, 0), local_(s.network.local_share),
        begin_(begin), territory_of_(territory_of), n_(begin.back()) {
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
    OrgId chosen[kMaxPartners];
    const int k = std::min(spec_.partners, kMaxPartners);
    int drawn = 0;
    for (int slot = 0; slot < k; ++slot) {
      for (int attempt = 0; attempt < kAttempts; ++attempt) {
        const bool want_local = local_(rng);
        OrgId j;
        if ((want_local && can_local) || !can_remote) {
          // Uniform among the territory's other organisations.
          const auto r =
              static_cast<std::int64_t>(bounded(rng, static_cast<std::uint64_t>(hi - lo - 1)));
          j = static_cast<OrgId>(lo + r + (lo + r >= i ? 1 : 0));
        } else {
          j = remote(rng, t, lo, hi);
        }
        // `chosen` stays sorted: j's rank and whether it repeats, without branches.
        int rank = 0;
        bool repeat = j == i;
        for (int a = 0; a < drawn; ++a) {
          rank += chosen[a] < j;
          repeat |= chosen[a] == j;
        }
        if (repeat) continue;
        std::copy_backward(chosen + rank, chosen + drawn, chosen + drawn + 1);
        chosen[rank] = j;
        ++drawn;
        break;
      }
    }
    for (int a = 0; a < drawn; ++a) // in increasing order: the row needs no sort
      emit(chosen[a]);
  }

private:
  OrgId remote(Stream& rng, std::size_t t, std::int64_t lo, std::int64_t hi) const {
    if (spec_.remote == NetworkSpec::Remote::uniform) {
      const auto r =
          static_cast<std::int64_t>(bounded(rng, static_cast<std::uint64_t>(n_ - (hi - lo))));
      return static_cast<OrgId>(r < lo ? r : r + (hi - lo));
    }
    const std::size_t T = begin_.size() - 1;
    const double* row = cdf_.data() + t * T;
    const double x = unit(rng()) * row[T - 1];
    auto u = static_cast<std::size_t>(std::upper_bound(row, row + T, x) - row);
    u = std::min(u, T - 1);
    while (begin_[u + 1] == begin_[u] || u == t)
      u = (u + 1) % T; // guard against empty targets
    const auto r = bounded(rng, static_cast<std::uint64_t>(begin_[u + 1] - begin_[u]));
    return static_cast<OrgId>(begin_[u] + static_cast<std::int64_t>(r));
  }

  NetworkSpec spec_;
  StreamKey key_;
  Chance local_;
  const std::vector<std::int64_t>& begin_;
  const UninitVector<std::int32_t>& territory_of_;
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

/// Index of the first cumulative share above u (clamped to the last positive share).
std::size_t pick(const std::vector<double>& cum, double u) {
  const auto f =
      static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
  std::size_t last = 0;
  for (std::size_t i = 0; i < cum.size(); ++i)
    if (i == 0 ? cum[0] > 0 : cum[i] > cum[i - 1]) last = i;
  return std::min(f, last);
}

std::vector<double> cumulative(const double* shares, std::size_t n) {
  std::vector<double> cum(n);
  std::partial_sum(shares, shares + n, cum.begin());
  return cum;
}

void draw_attributes(const Scenario& s, World& w, const StopCheck& stop) {
  auto& orgs = w.organisations;
  const auto n = static_cast<std::size_t>(w.organisation_count());
  const auto& spec = s.organisations;
  orgs.form.resize(n);
  orgs.sector.resize(n);
  orgs.jobs.resize(n);
  orgs.innovativeness.resize(n);
  orgs.resources.resize(n);
  orgs.initial_cluster.assign(n, kNoCluster);
  orgs.threshold.resize(s.innovations.size());
  // Legal-form mix per territory: the scenario's, or a territory's own where given.
  std::vector<std::vector<double>> form_cum(s.territories.size(),
                                            cumulative(spec.form_mix.data(), kLegalFormCount));
  for (const auto& [t, mix] : spec.territory_mix)
    form_cum[static_cast<std::size_t>(t)] = cumulative(mix.data(), kLegalFormCount);
  const auto sector_cum = cumulative(spec.sector_shares.data(), spec.sector_shares.size());
  for (std::size_t k = 0; k < s.innovations.size(); ++k)
    if (s.innovations[k].rule == InnovationSpec::Rule::threshold) orgs.threshold[k].resize(n);

  const StreamKey key(s.seed, Purpose::organisations, 0);
  par::for_ranges<std::size_t>(0, n, kGrain, [&](std::size_t lo, std::size_t hi) {
    if (stop()) return;
    for (std::size_t i = lo; i < hi; ++i) {
      Stream rng = key.stream(i);
      boost::random::uniform_01<double> u01;
      const auto t = static_cast<std::size_t>(orgs.territory[i]);
      const auto f = pick(form_cum[t], u01(rng));
      orgs.form[i] = static_cast<LegalForm>(f);
      orgs.sector[i] = static_cast<std::uint8_t>(pick(sector_cum, u01(rng)));
      orgs.jobs[i] = static_cast<float>(std::max(0.0, spec.jobs_by_form[f].sample(rng, i)));
      orgs.innovativeness[i] = static_cast<float>(spec.innovativeness.sample(rng, i));
      orgs.resources[i] = static_cast<float>(std::max(0.0, spec.resources.sample(rng, i)));
      for (std::size_t k = 0; k < s.innovations.size(); ++k) {
        if (orgs.threshold[k].empty()) continue;
        Stream trng = key.sub(k + 1).stream(i);
        orgs.threshold[k][i] = s.innovations[k].threshold.sample(trng, i);
      }
    }
  });
}

double gini_simpson(const std::vector<std::int64_t>& counts) {
  double total = 0, sum2 = 0;
  for (auto c : counts)
    total += static_cast<double>(c);
  if (total <= 0) return 0.0;
  for (auto c : counts)
    sum2 += (static_cast<double>(c) / total) * (static_cast<double>(c) / total);
  return 1.0 - sum2;
}

/// Picks up to `want` free organisations in [lo, hi) that satisfy `ok`, by random probing and,
/// when probing stalls (rare forms), a scan from a random start; marks them members of `c`.
template <class Ok>
std::int64_t recruit(Stream& rng, std::vector<std::int32_t>& cluster, std::int64_t lo,
                     std::int64_t hi, std::int64_t want, std::int32_t c, const Ok& ok) {
  if (hi <= lo || want <= 0) return 0;
  want = std::min(want, hi - lo); // no more than there are: the work is bounded by the range
  std::int64_t got = 0;
  boost::random::uniform_int_distribution<std::int64_t> any(lo, hi - 1);
  for (std::int64_t tries = 0; got < want && tries < 8 * want + 64; ++tries) {
    const auto i = static_cast<std::size_t>(any(rng));
    if (cluster[i] == kNoCluster && ok(i)) {
      cluster[i] = c;
      ++got;
    }
  }
  const std::int64_t start = any(rng);
  for (std::int64_t x = 0; got < want && x < hi - lo; ++x) {
    const auto i = static_cast<std::size_t>(lo + (start - lo + x) % (hi - lo));
    if (cluster[i] == kNoCluster && ok(i)) {
      cluster[i] = c;
      ++got;
    }
  }
  return got;
}

/// Declared clusters first (in scenario order), then generated ones territory by territory.
void assign_clusters(const Scenario& s, World& w, const StopCheck& stop) {
  auto& orgs = w.organisations;
  const StreamKey key(s.seed, Purpose::clusters, 0);
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    stop.throw_if();
    const ClusterSpec& spec = s.clusters[c];
    ClusterInfo info = resolve_cluster(s, &spec);
    info.declared = static_cast<std::int32_t>(c);
    const auto id = static_cast<std::int32_t>(w.clusters.size());
    Stream rng = key.stream(c);
    std::vector<int> terrs{spec.territory};
    terrs.insert(terrs.end(), spec.territories.begin(), spec.territories.end());
    for (std::size_t f = 0; f < kLegalFormCount; ++f) {
      std::int64_t want = spec.members[f];
      // Members of the cluster's sectors first, then of any sector if those run out.
      for (int pass = 0; pass < 2 && want > 0; ++pass)
        for (int t : terrs) {
          const auto lo = w.territory_begin[static_cast<std::size_t>(t)];
          const auto hi = w.territory_begin[static_cast<std::size_t>(t) + 1];
          const std::int64_t share = (want + static_cast<std::int64_t>(terrs.size()) - 1) /
                                     static_cast<std::int64_t>(terrs.size());
          want -= recruit(rng, orgs.initial_cluster, lo, hi, pass == 0 ? share : want, id,
                          [&](std::size_t i) {
                            if (static_cast<std::size_t>(orgs.form[i]) != f) return false;
                            return pass == 1 || spec.sectors.empty() ||
                                   std::find(spec.sectors.begin(), spec.sectors.end(),
                                             orgs.sector[i]) != spec.sectors.end();
                          });
          if (want <= 0) break;
        }
    }
    w.clusters.push_back(std::move(info));
  }
  const ClusterGeneration& g = s.generation;
  if (g.density > 0) {
    const std::size_t T = w.territory_count();
    const std::size_t S = s.organisations.sectors.size();
    for (std::size_t t = 0; t < T; ++t) {
      const auto lo = w.territory_begin[t], hi = w.territory_begin[t + 1];
      Stream rng = key.sub(1).stream(t);
      const double expected = g.density * static_cast<double>(hi - lo) / 1000.0;
      auto count = static_cast<std::int64_t>(expected);
      if (boost::random::uniform_01<double>()(rng) < expected - static_cast<double>(count)) ++count;
      for (std::int64_t k = 0; k < count; ++k) {
        stop.throw_if();
        const auto id = static_cast<std::int32_t>(w.clusters.size());
        ClusterInfo info = resolve_cluster(s, nullptr);
        info.territory = static_cast<std::int32_t>(t);
        info.name = s.territories[t].code + "-" + std::to_string(k + 1);
        // At most the territory's size (a huge or non-finite draw is clamped before rounding).
        const double drawn = g.size.sample(rng, 0);
        const auto size =
            std::max<std::int64_t>(2, std::llround(std::clamp(std::isfinite(drawn) ? drawn : 0.0,
                                                              0.0, static_cast<double>(hi - lo))));
        // `sectors` distinct sectors, uniformly (a partial Fisher-Yates shuffle).
        std::vector<std::uint8_t> all_sectors(S);
        std::iota(all_sectors.begin(), all_sectors.end(), std::uint8_t{0});
        const auto spans = std::min<std::size_t>(static_cast<std::size_t>(g.sectors), S);
        for (std::size_t x = 0; x < spans; ++x)
          std::swap(
              all_sectors[x],
              all_sectors[boost::random::uniform_int_distribution<std::size_t>(x, S - 1)(rng)]);
        const std::vector<std::uint8_t> sectors(
            all_sectors.begin(), all_sectors.begin() + static_cast<std::ptrdiff_t>(spans));
        std::int64_t got = 0;
        for (int pass = 0; pass < 2 && got < size; ++pass)
          got += recruit(rng, orgs.initial_cluster, lo, hi, size - got, id, [&](std::size_t i) {
            return has_form(g.forms, orgs.form[i]) &&
                   (pass == 1 ||
                    std::find(sectors.begin(), sectors.end(), orgs.sector[i]) != sectors.end());
          });
        if (got < 2) { // the territory has run out of free organisations
          for (auto i = lo; i < hi; ++i)
            if (orgs.initial_cluster[static_cast<std::size_t>(i)] == id)
              orgs.initial_cluster[static_cast<std::size_t>(i)] = kNoCluster;
          break;
        }
        w.clusters.push_back(std::move(info));
      }
    }
  }
  // Sector diversity from the members actually recruited.
  const std::size_t S = s.organisations.sectors.size();
  std::vector<std::vector<std::int64_t>> sector_count(w.clusters.size(),
                                                      std::vector<std::int64_t>(S, 0));
  for (std::size_t i = 0; i < orgs.initial_cluster.size(); ++i)
    if (orgs.initial_cluster[i] != kNoCluster)
      ++sector_count[static_cast<std::size_t>(orgs.initial_cluster[i])][orgs.sector[i]];
  for (std::size_t c = 0; c < w.clusters.size(); ++c)
    w.clusters[c].sector_diversity = gini_simpson(sector_count[c]);
}

/// Links among the members of each cluster (each member draws `internal_links` fellow members)
/// and, with the bridging rule, between clusters: each cluster picks bridge partner clusters
/// (mostly in other territories) and each member draws about bridge_links x openness links to
/// their members.
class ClusterLinkGenerator {
public:
  ClusterLinkGenerator(const Scenario& s, const World& w)
      : key_(s.seed, Purpose::network, 1), cluster_of_(w.organisations.initial_cluster),
        internal_(s.generation.internal_links),
        bridge_links_(s.rules.bridging ? s.rules.bridge_links : 0) {
    const std::size_t C = w.clusters.size();
    begin_.assign(C + 1, 0);
    for (auto c : cluster_of_)
      if (c != kNoCluster) ++begin_[static_cast<std::size_t>(c) + 1];
    std::partial_sum(begin_.begin(), begin_.end(), begin_.begin());
    members_.resize(static_cast<std::size_t>(begin_[C]));
    std::vector<std::int64_t> at(begin_.begin(), begin_.end() - 1);
    for (std::size_t i = 0; i < cluster_of_.size(); ++i)
      if (cluster_of_[i] != kNoCluster)
        members_[static_cast<std::size_t>(at[static_cast<std::size_t>(cluster_of_[i])]++)] =
            static_cast<OrgId>(i);
    openness_.resize(C);
    for (std::size_t c = 0; c < C; ++c)
      openness_[c] = w.clusters[c].openness;
    if (bridge_links_ > 0 && C > 1) {
      partners_.resize(C);
      const StreamKey pk(s.seed, Purpose::clusters, 2);
      for (std::size_t c = 0; c < C; ++c) {
        Stream rng = pk.stream(c);
        std::vector<std::int32_t> same, other;
        for (std::size_t d = 0; d < C; ++d)
          if (d != c && begin_[d + 1] > begin_[d])
            (w.clusters[d].territory == w.clusters[c].territory ? same : other)
                .push_back(static_cast<std::int32_t>(d));
        for (int x = 0; x < s.rules.bridge_partners; ++x) {
          const bool cross = boost::random::uniform_01<double>()(rng) < s.rules.cross_territory;
          auto& pool = (cross && !other.empty()) || same.empty() ? other : same;
          if (pool.empty()) break;
          partners_[c].push_back(
              pool[boost::random::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]);
        }
      }
    }
  }

  [[nodiscard]] int max_per_row() const { return members_.empty() ? 0 : internal_ + bridge_links_; }

  template <class Emit>
  void operator()(OrgId i, const Emit& emit) const {
    const std::int32_t c = cluster_of_[static_cast<std::size_t>(i)];
    if (c == kNoCluster || members_.empty()) return;
    const auto uc = static_cast<std::size_t>(c);
    Stream rng = key_.stream(static_cast<std::uint64_t>(i));
    const std::int64_t lo = begin_[uc], size = begin_[uc + 1] - lo;
    const int k = static_cast<int>(std::min<std::int64_t>(internal_, size - 1));
    for (int x = 0; x < k; ++x) {
      const auto j = members_[static_cast<std::size_t>(
          lo + boost::random::uniform_int_distribution<std::int64_t>(0, size - 1)(rng))];
      if (j != i) emit(j); // duplicates are removed when rows are de-duplicated
    }
    if (partners_.empty() || partners_[uc].empty()) return;
    const double expected = bridge_links_ * openness_[uc];
    auto b = static_cast<int>(expected);
    if (boost::random::uniform_01<double>()(rng) < expected - b) ++b;
    for (int x = 0; x < b; ++x) {
      const auto d = static_cast<std::size_t>(
          partners_[uc][boost::random::uniform_int_distribution<std::size_t>(
              0, partners_[uc].size() - 1)(rng)]);
      emit(members_[static_cast<std::size_t>(begin_[d] +
                                             boost::random::uniform_int_distribution<std::int64_t>(
                                                 0, begin_[d + 1] - begin_[d] - 1)(rng))]);
    }
  }

private:
  StreamKey key_;
  const std::vector<std::int32_t>& cluster_of_;
  int internal_, bridge_links_;
  std::vector<std::int64_t> begin_;
  std::vector<OrgId> members_;
  std::vector<double> openness_;
  std::vector<std::vector<std::int32_t>> partners_;
};

/// Two generators in sequence (partner or random links, then cluster links).
template <class A, class B>
struct Both {
  const A& a;
  const B& b;
  template <class Emit>
  void operator()(OrgId i, const Emit& emit) const {
    a(i, emit);
    b(i, emit);
  }
};

} // namespace

ClusterInfo resolve_cluster(const Scenario& s, const ClusterSpec* declared) {
  const ClusterRules& r = s.rules;
  ClusterInfo c;
  c.capacity = declared ? declared->capacity : s.generation.capacity;
  c.openness = declared ? declared->openness : s.generation.openness;
  if (declared) {
    c.name = declared->name;
    c.territory = declared->territory;
  }
  const auto pick_value = [&](double own, double scenario) {
    return declared && own >= 0 ? own : scenario;
  };
  c.weight = r.peer_weight ? pick_value(declared ? declared->weight : -1, r.weight) : 1.0;
  c.facilitation_rate =
      r.facilitation ? pick_value(declared ? declared->facilitation_rate : -1, r.facilitation_rate)
                     : 0.0;
  c.pooling = r.resource_pooling ? pick_value(declared ? declared->pooling : -1, r.pooling) : 0.0;
  c.sharing = r.knowledge_sharing ? pick_value(declared ? declared->sharing : -1, r.sharing) : 0.0;
  return c;
}

World build_world(const Scenario& s, const std::function<bool()>& stop_requested) {
  const StopCheck stop(stop_requested);
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
  draw_attributes(s, w, stop);
  stop.throw_if();
  assign_clusters(s, w, stop);
  stop.throw_if();

  const ClusterLinkGenerator cluster_links(s, w);
  switch (s.network.kind) {
  case NetworkSpec::Kind::complete:
    w.network.complete = true;
    break;
  case NetworkSpec::Kind::erdos_renyi: {
    const ErdosRenyiGenerator random(s, n);
    w.network = symmetrise(
        n,
        draw_counted(n, Both<ErdosRenyiGenerator, ClusterLinkGenerator>{random, cluster_links},
                     stop),
        stop);
    break;
  }
  case NetworkSpec::Kind::partners: {
    const PartnerGenerator partners(s, w.territory_begin, terr);
    w.network = symmetrise(
        n,
        draw_fixed(n, Both<PartnerGenerator, ClusterLinkGenerator>{partners, cluster_links},
                   std::min(s.network.partners, kMaxPartners) + cluster_links.max_per_row(), stop),
        stop);
    break;
  }
  }
  stop.throw_if();
  if (!w.network.complete) {
    // The first organisation with too many links, by a parallel min-reduction.
    std::atomic<std::int64_t> first{n};
    par::for_ranges<std::int64_t>(0, n, kGrain, [&](std::int64_t lo, std::int64_t hi) {
      for (std::int64_t i = lo; i < hi && i < first.load(std::memory_order_relaxed); ++i)
        if (w.network.degree(static_cast<OrgId>(i)) > 65535) {
          std::int64_t seen = first.load();
          while (i < seen && !first.compare_exchange_weak(seen, i)) {
          }
          break;
        }
    });
    if (const std::int64_t i = first.load(); i < n)
      throw InputError({s.file, 0, 0, "network"},
                       "organisation " + std::to_string(i) + " has " +
                           std::to_string(w.network.degree(static_cast<OrgId>(i))) +
                           " links; at most 65,535 are supported (lower network.mean_degree or "
                           "partners)");
  }
  return w;
}

} // namespace csei
