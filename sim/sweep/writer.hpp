// Sweep result files (HDF5; layout in output/SCHEMA.md, "Sweep files"): writing them from run
// records, and reading them back (for sweep-merge and resume checks).
#pragma once

#include "sweep/design.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace csei {

inline constexpr std::int64_t kSweepSchemaVersion = 1;

/// Everything in a sweep file except the per-run results and the circumstances of writing:
/// made from a sweep's spec and design, or read back from a sweep file.
struct SweepHeader {
  // provenance and design settings (root attributes)
  std::string name, description, sweep_text, sweep_file, scenario_text, scenario_file, version,
      fingerprint, design, series;
  std::int64_t seed = 0, design_seed = 0, common_seeds = 0, replicates = 1, points = 0, runs = 0,
               samples = 0, trajectories = 0, levels = 0;
  double morris_delta = 0.0;
  std::vector<std::string> fixed; // the sweep's `set`
  // /parameters, one entry per parameter
  std::vector<std::string> keys, names, types, distributions, levels_text;
  std::vector<double> low, high;
  // /design, [points][parameters]
  std::vector<double> unit, value;
  std::vector<std::string> text;
  // /runs: which point, replicate and seed each run is
  std::vector<std::int64_t> point, replicate, run_seed;
  // /outcomes
  std::vector<std::string> outcomes;
  // /series shape: rows (steps + 1), innovations, territories (0 when series = none)
  std::int64_t series_rows = 0;
  std::vector<std::string> innovations, territories;

  [[nodiscard]] std::size_t series_size() const;
};

[[nodiscard]] SweepHeader make_sweep_header(const sweep::SweepSpec& spec,
                                            const sweep::Design& design);

/// How this file came to be (root attributes only; never part of the datasets).
struct SweepWriteInfo {
  std::string created; // ISO 8601 UTC
  int threads = 1;
  int ranks = 1;
  std::string shard; // "k/N" for one slice of a sweep, "" for a whole sweep
  double seconds = 0.0;
};

/// Writes a sweep file: `records` has one entry per run (pending ones for runs not in this
/// file). Written under a temporary name and renamed when complete.
void write_sweep_file(const std::filesystem::path& path, const SweepHeader& header,
                      const std::vector<sweep::RunRecord>& records, const SweepWriteInfo& info);

struct SweepFile {
  SweepHeader header;
  std::vector<sweep::RunRecord> records; // one per run
  std::string shard;
};

/// Reads a sweep file back; throws InputError if it is not one.
[[nodiscard]] SweepFile read_sweep_file(const std::filesystem::path& path);

} // namespace csei
