// Social influence through the network: link classes and the weighted share of adopted
// neighbours. Counts per class are integers (exact under parallel updates); weights are applied
// only when an organisation decides.
#pragma once

#include "core/names.hpp"
#include "world/world.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace csei {

/// The class of a link, from its two ends. Within one cluster: cluster; between members of two
/// clusters: bridge; otherwise local (same territory) or distant.
enum class LinkClass : std::uint8_t { local = 0, cluster = 1, bridge = 2, distant = 3 };
inline constexpr std::size_t kLinkClasses = 4;
inline constexpr NameTable<LinkClass, kLinkClasses> kLinkClassNames{
    {"local", "cluster", "bridge", "distant"}};
/// Per-class counts of one organisation. 16 bits: build_world guarantees at most kMaxDegree links.
using ClassCounts = std::array<std::uint16_t, kLinkClasses>;

constexpr LinkClass link_class(std::int32_t cluster_i, std::int32_t cluster_j, std::int32_t terr_i,
                               std::int32_t terr_j) {
  if (cluster_i != kNoCluster && cluster_i == cluster_j) return LinkClass::cluster;
  if (cluster_i != kNoCluster && cluster_j != kNoCluster) return LinkClass::bridge;
  return terr_i == terr_j ? LinkClass::local : LinkClass::distant;
}

/// The class with the largest weighted adopted count (ties: the lowest class).
inline LinkClass decisive_class(const ClassCounts& adopted,
                                const std::array<double, kLinkClasses>& w) {
  double best = 0;
  LinkClass out = LinkClass::local;
  for (std::size_t c = 0; c < kLinkClasses; ++c)
    if (w[c] * adopted[c] > best) {
      best = w[c] * adopted[c];
      out = static_cast<LinkClass>(c);
    }
  return out;
}

/// Sum of the four 16-bit counts, read as one 64-bit word: the multiplication adds the lanes
/// into the top lane (no carry out of it, as a total never exceeds kMaxDegree).
inline std::uint32_t total(const ClassCounts& c) {
  std::uint64_t x;
  std::memcpy(&x, c.data(), sizeof x);
  return static_cast<std::uint32_t>((x * 0x0001000100010001ULL) >> 48);
}

/// Unweighted share, for organisations outside clusters (every weight is 1).
inline double plain_share(const ClassCounts& adopted, const ClassCounts& degree) {
  const std::uint32_t d = total(degree);
  return d > 0 ? static_cast<double>(total(adopted)) / static_cast<double>(d) : 0.0;
}

/// I = sum_c w_c a_c / sum_c w_c d_c, with a the adopted neighbours and d the neighbours by class.
inline double weighted_share(const ClassCounts& adopted, const ClassCounts& degree,
                             const std::array<double, kLinkClasses>& w) {
  double num = 0, den = 0;
  for (std::size_t c = 0; c < kLinkClasses; ++c) {
    num += w[c] * adopted[c];
    den += w[c] * degree[c];
  }
  return den > 0 ? std::min(1.0, num / den) : 0.0;
}

} // namespace csei
