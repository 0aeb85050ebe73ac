// Workshop mode: one run in-process (no subprocess, no shell) with a deadline, its series for
// the page, and a small pool of workers that runs requests within the machine's cores.
#pragma once

#include "kernel/summary.hpp"
#include "workshop/request.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace csei::workshop {

using Clock = std::chrono::steady_clock;

/// What the page needs of a run.
struct RunSeries {
  std::string scenario;
  std::uint64_t seed = 0;
  std::int64_t steps = 0;
  double steps_per_year = 12;
  std::int64_t organisations = 0;
  std::vector<std::string> territory_codes, territory_names;
  std::vector<std::string> territory_parents; // parent code per territory ("" where none)
  std::vector<std::int64_t> territory_organisations;
  std::vector<std::int64_t> members; // cluster members per step (all territories)

  struct Innovation {
    std::string name;
    std::string rule;
    std::vector<double> share;           // adopters / organisations, per step
    std::vector<double> aware;           // aware or beyond / organisations, per step
    std::vector<double> member_share;    // among cluster members, per step (NaN: none)
    std::vector<double> nonmember_share; // among non-members, per step (NaN: none)
    std::vector<double> territory_share; // per territory, at the last step
    std::vector<std::vector<double>>
        territory_share_by_step; // [step][territory] (the map's slider)
    InnovationSummary summary;
  };
  std::vector<Innovation> innovations;
  double policy_spending = 0.0; // real euros over the run (the [policy_costs] cost model)
  double seconds = 0.0;         // building and running
};

/// Loads the scenario with the overrides, checks the run size against the limits and runs it,
/// stopping with RequestError(503) once `deadline` passes or `cancelled()` says so. With
/// `h5_path`, also writes the run there (HDF5, output/SCHEMA.md). Scenario problems are
/// RequestError(422).
[[nodiscard]] RunSeries run_series(const std::filesystem::path& scenario_file,
                                   const std::vector<std::string>& overrides, const Limits& limits,
                                   Clock::time_point deadline,
                                   const std::function<bool()>& cancelled = {},
                                   const std::filesystem::path* h5_path = nullptr);

/// A fixed number of worker threads taking jobs from a bounded queue, each job run on one thread
/// (its own single-slot oneTBB arena, so runs do not compete for the same cores).
class JobPool {
public:
  JobPool(std::size_t workers, std::size_t max_queued);
  ~JobPool();
  JobPool(const JobPool&) = delete;
  JobPool& operator=(const JobPool&) = delete;

  /// Queues a job; false (and nothing queued) when the queue is full or the pool is stopping.
  [[nodiscard]] bool submit(std::function<void()> job);
  /// Runs the queued jobs, then stops the workers. Idempotent.
  void shutdown();

  [[nodiscard]] std::size_t workers() const { return threads_.size(); }
  [[nodiscard]] std::size_t queued() const;
  [[nodiscard]] std::size_t running() const;

private:
  void work();

  std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace csei::workshop
