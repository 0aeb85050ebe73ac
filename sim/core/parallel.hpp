// The one place the simulator's parallel loops are launched.
//
// Production builds run them on oneTBB's work-stealing scheduler. ThreadSanitizer builds
// (CSEI_PARALLEL_THREADS) run the same loop bodies on plain std::threads instead: the Debian
// oneTBB library is not instrumented, so TSan cannot see its synchronisation and reports false
// races inside the scheduler, while with std::thread every happens-before edge is visible and any
// race it reports is in the project's own code.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <tbb/global_control.h>

#ifdef CSEI_PARALLEL_THREADS
#include <thread>
#include <vector>
#else
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#endif

namespace csei::par {

/// Threads a parallel loop may use (honours tbb::global_control, e.g. `csei run --threads`).
inline int max_concurrency() {
  return static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

/// Calls body(lo, hi) on disjoint sub-ranges of about `grain` elements covering [begin, end).
template <class Int, class Body>
void for_ranges(Int begin, Int end, Int grain, const Body& body) {
  if (end <= begin) return;
#ifdef CSEI_PARALLEL_THREADS
  const Int blocks = (end - begin + grain - 1) / grain;
  const int threads =
      static_cast<int>(std::min<Int>(static_cast<Int>(std::max(2, max_concurrency())), blocks));
  std::atomic<Int> next{0};
  const auto work = [&] {
    for (Int b; (b = next.fetch_add(1)) < blocks;)
      body(begin + b * grain, std::min(end, begin + (b + 1) * grain));
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (auto& t : pool)
    t.join();
#else
  tbb::parallel_for(tbb::blocked_range<Int>(begin, end, grain),
                    [&](const tbb::blocked_range<Int>& r) { body(r.begin(), r.end()); });
#endif
}

/// Calls body(i) for each i in [0, n), in parallel; for a few coarse items (territories, chunks).
template <class Body>
void for_each(std::size_t n, const Body& body) {
  for_ranges<std::size_t>(0, n, 1, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t i = lo; i < hi; ++i)
      body(i);
  });
}

} // namespace csei::par
