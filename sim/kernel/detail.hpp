// Helpers shared by the kernel's phase files; not part of the kernel's interface.
#pragma once

#include "core/rng.hpp"
#include "scenario/scenario.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <boost/random/uniform_int_distribution.hpp>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace csei::detail {

/// Organisations per block of the decide pass (a multiple of 64, so each word of a settled
/// bit set belongs to one block).
inline constexpr std::int64_t kGrain = 8192;
static_assert(kGrain % 64 == 0);

/// `count` distinct elements of `pool`, uniformly (Floyd's algorithm over pool indices: count
/// draws whatever the pool size), sorted.
inline std::vector<OrgId> sample(std::vector<OrgId> pool, std::int64_t count, Stream& rng) {
  if (count >= static_cast<std::int64_t>(pool.size())) return pool;
  const auto m = static_cast<std::int64_t>(pool.size());
  std::unordered_set<std::int64_t> picked;
  std::vector<OrgId> out;
  for (std::int64_t j = m - count; j < m; ++j) {
    const auto t = boost::random::uniform_int_distribution<std::int64_t>(0, j)(rng);
    const std::int64_t pick = picked.insert(t).second ? t : j;
    if (pick == j) picked.insert(j);
    out.push_back(pool[static_cast<std::size_t>(pick)]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline bool social_economy(LegalForm f) {
  return has_form(kSocialEconomyForms, f);
}

} // namespace csei::detail
