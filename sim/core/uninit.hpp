// Vectors whose resize() leaves new elements default-initialised (for arithmetic types: not
// written at all), so a large array can be allocated without a serial zero-fill and first
// touched by the parallel loop that fills it: each page is then placed near the thread that
// uses it, and no time is spent writing values that are overwritten at once.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace csei {

template <class T, class Base = std::allocator<T>>
struct DefaultInitAllocator : Base {
  using Base::Base;
  template <class U>
  struct rebind {
    using other =
        DefaultInitAllocator<U, typename std::allocator_traits<Base>::template rebind_alloc<U>>;
  };
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U; // default-initialisation: no value for arithmetic types
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    std::allocator_traits<Base>::construct(static_cast<Base&>(*this), p,
                                           std::forward<Args>(args)...);
  }
};

/// A std::vector whose resize(n) does not initialise the new elements.
template <class T>
using uninit_vector = std::vector<T, DefaultInitAllocator<T>>;

} // namespace csei
