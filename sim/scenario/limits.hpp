// Limits the scenario layer enforces when it validates a scenario; the world builder and the
// kernel rely on them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace csei {

/// Most partners one organisation may draw in the `partners` network.
inline constexpr int kMaxPartners = 256;
/// Most territories for `remote = "distance"` (it keeps a territory x territory table).
inline constexpr std::size_t kMaxDistanceTerritories = 4096;
/// Most organisations in a scenario (organisation ids are 32-bit).
inline constexpr std::int64_t kMaxOrganisations = 2147483647;
/// Most links of one organisation: the kernel counts neighbours per link class in 16 bits.
inline constexpr std::int64_t kMaxDegree = 65535;

} // namespace csei
