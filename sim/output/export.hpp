// Tidy exports of a run file (`csei export`, and csei.export in Python): the series as one long
// table, one row per value (step, year, innovation, territory, group, variable, value, units), and
// the summary as one row per innovation and metric, with real-world figures beside model ones.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace csei {

/// Writes `<out_dir>/<run stem>_series.csv` and `<out_dir>/<run stem>_summary.csv` from the run
/// file `run_file` (schema 3 or later: the series' named dimensions give the columns). Each file
/// appears only when complete. Returns the paths written. Throws InputError for a file that is
/// not a readable run file (naming the file and dataset), OutputError for a write failure.
std::vector<std::filesystem::path> export_csv(const std::filesystem::path& run_file,
                                              const std::filesystem::path& out_dir);

} // namespace csei
