// Vectors whose elements are not zero-filled on resize.
//
// std::vector<T>::resize(n) value-initialises n elements: a serial pass that also takes every page
// fault on one thread. With DefaultInit, resize() leaves trivial elements uninitialised, so a
// parallel loop that writes every element afterwards is the first to touch the memory and the
// page faults are spread over the threads. Only for arrays that are filled completely before
// they are read.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace csei {

/// std::allocator, except that value-initialisation without arguments becomes
/// default-initialisation (no zero-fill for trivial types).
template <class T, class A = std::allocator<T>>
class DefaultInit : public A {
  using traits = std::allocator_traits<A>;

public:
  template <class U>
  struct rebind {
    using other = DefaultInit<U, typename traits::template rebind_alloc<U>>;
  };

  using A::A;
  DefaultInit() = default;
  template <class U, class B>
  DefaultInit(const DefaultInit<U, B>& other) noexcept : A(other) {} // NOLINT: converting

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    traits::construct(static_cast<A&>(*this), p, std::forward<Args>(args)...);
  }
};

/// A vector whose resize(n) leaves trivial elements uninitialised.
template <class T>
using UninitVector = std::vector<T, DefaultInit<T>>;

} // namespace csei
