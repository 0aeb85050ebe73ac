// The calibration file (output/SCHEMA.md, "Calibration files"): every generation's particles,
// weights, distances and tolerance, the observed data, the posterior predictive quantiles and
// the calibration's and base scenario's texts, in one HDF5 file written under a temporary name
// and renamed when complete.
#pragma once

#include "calibrate/abc.hpp"
#include "calibrate/spec.hpp"

#include <filesystem>
#include <string>

namespace csei::calibrate {

inline constexpr std::int64_t kCalibrationSchemaVersion = 1;

struct WriteInfo {
  std::string created; // ISO 8601, UTC
  int threads = 1;
  int ranks = 1;  // MPI processes (of the last session, or of the shards' jobs)
  int shards = 0; // the calibration ran as shards merged by round (their count; 0: not)
};

void write_calibration_file(const std::filesystem::path& path, const CalibrationSpec& spec,
                            const Result& result, const WriteInfo& info);

} // namespace csei::calibrate
