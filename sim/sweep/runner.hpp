// Running a sweep's runs: one run is (point, replicate) -> scenario -> world -> simulation ->
// outcome metrics (and optional series). Many runs go at once on oneTBB, each nesting the
// kernel's own parallel loops in the same arena.
#pragma once

#include "sweep/design.hpp"
#include "sweep/spec.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace csei::sweep {

/// What a run left: its outcomes, or the error that stopped it.
struct RunRecord {
  enum class Status : std::int8_t { pending = 0, ok = 1, failed = 2 };
  std::int64_t run = -1;
  Status status = Status::pending;
  std::int64_t steps = -1;          // the run's steps (-1 if it failed)
  std::vector<double> metrics;      // one per outcome; NaN where the run did not report it
  std::vector<std::int64_t> series; // [S+1][I] or [S+1][I][T]; empty without series
  std::string error;                // failed: what went wrong

  /// Equal in every field; metrics compare bit for bit (so NaN equals NaN).
  friend bool operator==(const RunRecord& a, const RunRecord& b);
};

/// Calls body(i, stop) for every i in [0, count), at most `at_once` (0: `threads`) at once, in
/// order of i as calls free up, in one task arena of `threads` threads: each call is isolated
/// (while it waits on its own parallel loops its thread helps only with those, never starts another
/// call, which would hold a second world on the same thread), and its own parallel loops nest in
/// the same threads. `stop` becomes true once should_stop() has been or a call has thrown
/// Interrupted; no new call starts then. Returns false if it stopped early; the calls that returned
/// normally ran whole. The sweep's runs and `csei run --replicates` both go through it.
bool run_many(std::size_t count, int threads,
              const std::function<void(std::size_t, const std::function<bool()>&)>& body,
              const std::function<bool()>& should_stop = {}, std::size_t at_once = 0);

class Runner {
public:
  /// Keeps references: spec and design must outlive the runner.
  Runner(const SweepSpec& spec, const Design& design);

  /// Runs one run (index = point * replicates + replicate). A failure (e.g. a parameter value
  /// the scenario rejects) is returned as a failed record; throws Interrupted if should_stop().
  [[nodiscard]] RunRecord run(std::int64_t index,
                              const std::function<bool()>& should_stop = {}) const;

  /// Runs `indices` with at most `threads` runs (and threads) at once, calling done() from the
  /// worker threads as each run ends (done must be thread-safe). Returns false if should_stop()
  /// stopped it early; the runs reported until then are whole.
  bool run_all(const std::vector<std::int64_t>& indices, int threads,
               const std::function<void(RunRecord&&)>& done,
               const std::function<bool()>& should_stop = {}) const;

  /// Values in one run's series, or 0 without series.
  [[nodiscard]] std::size_t series_size() const;

private:
  const SweepSpec& spec_;
  const Design& design_;
  std::unordered_map<std::string, std::size_t> column_; // outcome name -> column
};

} // namespace csei::sweep
