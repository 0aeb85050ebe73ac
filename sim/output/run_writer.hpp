// Writes one run to HDF5 (layout in output/SCHEMA.md). The file is written under a temporary
// name and renamed only by commit(): an interrupted or failed run never leaves a file that looks
// finished.
#pragma once

#include "kernel/summary.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace csei {

inline constexpr std::int64_t kSchemaVersion = 4;

/// The most bytes in one chunk of a series: rows per chunk are chosen per dataset to stay
/// within it (and a single row bigger than this is split along its inner axes).
inline constexpr std::size_t kChunkBudgetBytes = 256 * 1024;
/// The chunk cache of each series dataset while the run is written: several chunks, so each
/// chunk is compressed once, when it is complete. (HDF5's default, for readers, is 1 MiB.)
inline constexpr std::size_t kChunkCacheBytes = 1024 * 1024;
static_assert(kChunkBudgetBytes <= kChunkCacheBytes / 2);

struct RunInfo {
  std::uint64_t seed = 0;
  int threads = 1;
  std::string version;
  std::string created; // ISO 8601, UTC
};

class RunWriter {
public:
  RunWriter(std::filesystem::path path, const Scenario& scenario, const World& world,
            const RunInfo& info);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  void record(const StepCounts& counts);
  /// Writes what is known only at the end (clusters, events, summary), closes the file and
  /// moves it to its final name.
  void commit(const RunResult& result);

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  void record_step(const StepCounts& counts);
  void write_end(const RunResult& result);
  struct Impl;
  std::filesystem::path path_;
  std::filesystem::path temp_;
  std::unique_ptr<Impl> impl_;
};

/// Current UTC time as ISO 8601 (e.g. 2026-11-26T10:38:11Z).
[[nodiscard]] std::string utc_now();

} // namespace csei
