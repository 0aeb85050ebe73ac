// Fast exact draws from a Stream: bounded integers and Bernoulli trials.
//
// Boost.Random's uniform_int_distribution spends divisions on every draw and its
// bernoulli_distribution a conversion to double; in the network build these dominated the cost of
// drawing partners. Both functions here are exact and deterministic: they consume the stream in a
// fixed way that depends only on the stream and the arguments.
#pragma once

#include "core/rng.hpp"

#include <cmath>
#include <cstdint>

namespace csei {

/// Uniform integer in [0, s) for s >= 1, by Lemire's nearly divisionless method (ACM TOMACS
/// 2019): the high word of a 64 x 64-bit product, with rejection of the few low words that would
/// bias it; a division happens only on the rare draws that need the rejection test.
inline std::uint64_t bounded(Stream& rng, std::uint64_t s) noexcept {
  __extension__ using u128 = unsigned __int128;
  u128 m = static_cast<u128>(rng()) * s;
  auto low = static_cast<std::uint64_t>(m);
  if (low < s) {
    const std::uint64_t reject = (0 - s) % s; // 2^64 mod s
    while (low < reject) {
      m = static_cast<u128>(rng()) * s;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

/// A Bernoulli trial with P(true) = p, as one comparison of a raw 64-bit draw against
/// floor(p x 2^64) (exact to 2^-64); p <= 0 is never and p >= 1 always true. Each trial consumes
/// one draw.
class Chance {
public:
  explicit Chance(double p) noexcept
      : always_(p >= 1.0),
        threshold_(p > 0.0 && p < 1.0 ? static_cast<std::uint64_t>(std::ldexp(p, 64)) : 0) {}

  bool operator()(Stream& rng) const noexcept {
    const std::uint64_t x = rng();
    return always_ || x < threshold_;
  }

private:
  bool always_;
  std::uint64_t threshold_;
};

} // namespace csei
