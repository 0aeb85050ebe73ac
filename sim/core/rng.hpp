// Counter-based random streams keyed by (seed, purpose, step, id).
//
// Every random draw in the simulator comes from a stream made from such a key, so a draw does not
// depend on which thread or process computes it, nor on the order in which organisations are
// processed: results are bit-identical for any thread count. Streams feed Boost.Random
// distributions through the UniformRandomBitGenerator interface.
#pragma once

#include <cstdint>
#include <limits>

namespace csei {

/// What a stream is used for; part of the key so that different uses never share draws.
enum class Purpose : std::uint64_t {
  organisations = 1, // legal form, size, thresholds
  network = 2,       // partner draws
  pioneers = 3,      // seed adopters
  adoption = 4,      // per-step adoption decisions
  clusters = 5,      // cluster membership, bridge partners
  awareness = 6,     // per-step awareness
  abandonment = 7,   // per-step discontinuance
  membership = 8,    // recruitment and emergence
  events = 9,        // policy events (seed_adopters, found_cluster)
};

/// SplitMix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mixer with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A SplitMix64 generator; cheap to create, so one is made per (key, organisation) where needed.
class Stream {
public:
  using result_type = std::uint64_t;

  constexpr explicit Stream(std::uint64_t state) noexcept : state_(state) {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  constexpr result_type operator()() noexcept {
    state_ += 0x9E3779B97F4A7C15ULL;
    return mix64(state_);
  }

private:
  std::uint64_t state_;
};

/// The part of a key shared by all organisations in one (seed, purpose, step): hoisted out of
/// loops.
class StreamKey {
public:
  constexpr StreamKey(std::uint64_t seed, Purpose purpose, std::uint64_t step) noexcept
      : base_(
            mix64(mix64(mix64(seed ^ 0x6A09E667F3BCC909ULL) ^ static_cast<std::uint64_t>(purpose)) ^
                  (step + 0x3C6EF372FE94F82BULL))) {}

  /// The stream for one organisation (or any other id) under this key.
  [[nodiscard]] constexpr Stream stream(std::uint64_t id) const noexcept {
    return Stream(mix64(base_ ^ (id * 0xD1B54A32D192ED03ULL + 0xA54FF53A5F1D36F1ULL)));
  }

  /// A sub-key, e.g. for one innovation within the same purpose and step.
  [[nodiscard]] constexpr StreamKey sub(std::uint64_t index) const noexcept {
    return StreamKey(mix64(base_ ^ (index + 0x510E527FADE682D1ULL)));
  }

private:
  constexpr explicit StreamKey(std::uint64_t base) noexcept : base_(base) {}
  std::uint64_t base_;
};

/// Uniform double in [0, 1) from the top 53 bits.
constexpr double unit(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

} // namespace csei
