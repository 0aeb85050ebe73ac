// Giving parts of a large array back to the system while the array lives on.
//
// A pass that consumes one large array while it fills another would otherwise hold both in full
// at its end. Releasing the consumed parts as it goes keeps the sum about constant.
#pragma once

#include "core/uninit.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <sys/mman.h>

namespace csei {

/// Releases the huge pages of a large UninitVector (core/uninit.hpp) as its element ranges are
/// consumed, in any order and from any thread: a page goes back, whole (a part would split the
/// huge page), once every element on it has been reported. Ranges reported must be disjoint;
/// released elements read as zero afterwards. A vector too small to be mapped is left alone.
template <class T>
class PageReleaser {
public:
  explicit PageReleaser(UninitVector<T>& v)
      : base_(reinterpret_cast<char*>(v.data())), bytes_(v.size() * sizeof(T)),
        pages_(v.capacity() * sizeof(T) >= detail::kMapAtLeast
                   ? (bytes_ + detail::kHugePage - 1) / detail::kHugePage
                   : 0),
        left_(std::make_unique<std::atomic<std::size_t>[]>(pages_)) {
    for (std::size_t p = 0; p < pages_; ++p)
      left_[p].store(std::min(detail::kHugePage, bytes_ - p * detail::kHugePage),
                     std::memory_order_relaxed);
  }

  /// Elements [lo, hi) will not be read again.
  void consumed(std::size_t lo, std::size_t hi) noexcept {
    const std::size_t b = lo * sizeof(T), e = hi * sizeof(T);
    for (std::size_t p = b / detail::kHugePage; p < pages_ && p * detail::kHugePage < e; ++p) {
      const std::size_t from = std::max(b, p * detail::kHugePage);
      const std::size_t to = std::min(e, (p + 1) * detail::kHugePage);
      if (left_[p].fetch_sub(to - from, std::memory_order_acq_rel) == to - from)
        ::madvise(base_ + p * detail::kHugePage, detail::kHugePage, MADV_DONTNEED);
    }
  }

private:
  char* base_;
  std::size_t bytes_, pages_;
  std::unique_ptr<std::atomic<std::size_t>[]> left_;
};

} // namespace csei
