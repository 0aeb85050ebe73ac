// Writes one run to HDF5 (layout in output/SCHEMA.md). The file is written under a temporary
// name and renamed only by commit(): an interrupted or failed run never leaves a file that looks
// finished.
#pragma once

#include "kernel/summary.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace csei {

/// The newest run file schema: what `csei run --replicates R` (R > 1) writes, and the highest
/// version readers accept. Schema 5 is schema 4 with a replicate dimension.
inline constexpr std::int64_t kSchemaVersion = 5;
/// A single run's file keeps the layout of schema 4, and says so: readers of schema 4 read it.
inline constexpr std::int64_t kSingleRunSchemaVersion = 4;

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

/// The most replicates one file may hold (`csei run --replicates`).
inline constexpr std::int64_t kMaxReplicates = 1'000'000;

/// One replicate of a replicate file, held in memory until every replicate has run: its seed,
/// what differs between worlds, every series row (as the kernel reported it) and its result.
struct ReplicateRecord {
  ReplicateRecord(const Scenario& scenario, const World& world, std::uint64_t seed);
  /// Keeps one step's rows (call as RunWriter::record).
  void record(const StepCounts& counts);
  /// Bytes one replicate's record takes, about, for `cluster_slots` slots (memory planning).
  [[nodiscard]] static double planned_bytes(const Scenario& scenario, std::size_t cluster_slots);

  std::uint64_t seed = 0;
  std::int64_t links = 0;
  std::size_t clusters = 0;                    // the replicate's cluster slots
  std::vector<std::int64_t> per_form;          // [F] organisations by legal form
  std::vector<std::vector<std::int64_t>> ints; // per kSeries then kPolicySeries entry
  std::vector<std::vector<double>> reals;      // (the one of its type is filled)
  RunResult result;
};

/// Writes a replicate file (schema 5, output/SCHEMA.md "Replicate files"): `scenario` as run
/// with its base seed (info.seed), the replicates in order. Written under a temporary name and
/// renamed when complete, like a run file.
void write_replicate_file(const std::filesystem::path& path, const Scenario& scenario,
                          const RunInfo& info, const std::vector<ReplicateRecord>& replicates);

/// Current UTC time as ISO 8601 (e.g. 2026-11-26T10:38:11Z).
[[nodiscard]] std::string utc_now();

} // namespace csei
