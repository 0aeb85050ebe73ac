// Giving parts of a large array back to the system while the array lives on.
//
// A pass that consumes one large array while it fills another would otherwise hold both in full
// at its end. Releasing each consumed range as soon as it is done keeps the sum about constant.
#pragma once

#include "core/uninit.hpp"

#include <cstddef>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

namespace csei {

/// Releases the whole pages inside elements [lo, hi) of `v`, if `v` is large enough to be
/// mapped by its allocator (core/uninit.hpp); smaller vectors are left alone. The released
/// elements read as zero afterwards: only for ranges that will not be read again.
template <class T>
void release_pages(UninitVector<T>& v, std::size_t lo, std::size_t hi) noexcept {
  if (hi <= lo || v.capacity() * sizeof(T) < detail::kMapAtLeast) return;
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto b = (reinterpret_cast<std::uintptr_t>(v.data() + lo) + page - 1) & ~(page - 1);
  const auto e = reinterpret_cast<std::uintptr_t>(v.data() + hi) & ~(page - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_DONTNEED);
}

} // namespace csei
