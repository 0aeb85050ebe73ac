// Vectors whose elements are not zero-filled on resize, with large arrays on huge pages.
//
// std::vector<T>::resize(n) value-initialises n elements: a serial pass that also takes every page
// fault on one thread. With DefaultInit, resize() leaves trivial elements uninitialised, so a
// parallel loop that writes every element afterwards is the first to touch the memory and the
// page faults are spread over the threads. Only for arrays that are filled completely before
// they are read.
//
// Allocations of 4 MiB and more are mapped directly, aligned to 2 MiB and advised as
// transparent huge pages (Linux MADV_HUGEPAGE; a hint, ignored where THP is off): one page fault
// per 2 MiB instead of per 4 KiB, which matters most in virtual machines, and fewer TLB misses
// when the arrays are read at random later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <sys/mman.h>
#include <type_traits>
#include <utility>
#include <vector>

namespace csei {

namespace detail {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;
inline constexpr std::size_t kMapAtLeast = std::size_t{4} << 20;

inline std::size_t mapped_length(std::size_t bytes) {
  return (bytes + kHugePage - 1) & ~(kHugePage - 1);
}

/// Anonymous memory of mapped_length(bytes), aligned to a huge page; zero until written.
inline void* map_large(std::size_t bytes) {
  const std::size_t len = mapped_length(bytes);
  void* raw =
      ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = (begin + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
  if (aligned > begin) ::munmap(raw, aligned - begin);
  if (const auto tail = begin + len + kHugePage - (aligned + len); tail > 0)
    ::munmap(reinterpret_cast<void*>(aligned + len), tail);
#ifdef MADV_HUGEPAGE
  ::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
#endif
  return reinterpret_cast<void*>(aligned);
}

inline void unmap_large(void* p, std::size_t bytes) noexcept {
  ::munmap(p, mapped_length(bytes));
}

} // namespace detail

/// An allocator like std::allocator, except that value-initialisation without arguments becomes
/// default-initialisation (no zero-fill for trivial types) and large blocks are mapped on huge
/// pages.
template <class T>
class DefaultInit {
public:
  using value_type = T;

  DefaultInit() = default;
  template <class U>
  DefaultInit(const DefaultInit<U>& /*other*/) noexcept {} // NOLINT: converting, like std's

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    if (n * sizeof(T) >= detail::kMapAtLeast)
      return static_cast<T*>(detail::map_large(n * sizeof(T)));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) >= detail::kMapAtLeast)
      detail::unmap_large(p, n * sizeof(T));
    else
      std::allocator<T>().deallocate(p, n);
  }

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  friend bool operator==(const DefaultInit&, const DefaultInit&) noexcept { return true; }
};

/// A vector whose resize(n) leaves trivial elements uninitialised.
template <class T>
using UninitVector = std::vector<T, DefaultInit<T>>;

} // namespace csei
