// Shard files of a calibration run as a job array (`csei calibrate CAL --shard K/N`): the runs
// of one round (the next batches of the generation in progress, or the predictive runs, as the
// journal's state determines them) are numbered across the round's batches; shard K of N makes
// runs q with q % N == K - 1 and writes them to <output>.shard-K-of-N, which
// `csei calibrate CAL --merge` reads back to complete the round.
//
// A shard file is text header lines, then the run records as sweep-journal frames
// (sim/sweep/journal.hpp), each with its run number q in the round:
//   csei calibration shard 1
//   fingerprint <the calibration's fingerprint>
//   shard <K> <N>
//   round <generation|predictive> <generation> <first proposal> <batches> <runs>
//   seconds <hex float: this shard's run time>
//   records <count>
#pragma once

#include "sweep/runner.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace csei::calibrate {

/// Which runs a round holds: the calibration's state when it was cut.
struct Round {
  bool predictive = false;
  std::int64_t generation = 0; // the generation in progress (the complete ones, when predictive)
  std::int64_t from = 0;       // its first proposal
  std::int64_t batches = 0, runs = 0;
  friend bool operator==(const Round&, const Round&) = default;
  /// "generation 2, proposals 600-1499 (3 batches, 900 runs)" or "the predictive runs (100)".
  [[nodiscard]] std::string describe(std::int64_t batch) const;
};

struct ShardFile {
  std::string fingerprint;
  std::int64_t k = 1, n = 1;
  Round round;
  double seconds = 0;
  std::vector<sweep::RunRecord> records; // run = q, the run's number in the round, ascending
};

/// <output>.shard-K-of-N
[[nodiscard]] std::filesystem::path shard_path(const std::filesystem::path& output, std::int64_t k,
                                               std::int64_t n);
/// The files named <output>.shard-*-of-* next to `output`, sorted.
[[nodiscard]] std::vector<std::filesystem::path>
find_shard_files(const std::filesystem::path& output);

/// Writes the file whole (under a temporary name, then renamed); throws OutputError.
void write_shard_file(const std::filesystem::path& path, const ShardFile& shard);
/// Reads a shard file; throws InputError naming the file if it is not one, is damaged or its
/// records are not the runs its shard should hold.
[[nodiscard]] ShardFile read_shard_file(const std::filesystem::path& path);

} // namespace csei::calibrate
