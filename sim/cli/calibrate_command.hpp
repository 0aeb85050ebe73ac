// csei calibrate: ABC-SMC calibration of scenario parameters against observed series
// (docs/calibration-format.md), on one machine, under mpirun, or as rounds of shards (a job
// array per round) merged into the calibration's journal.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace csei {

struct CalibrateOptions {
  std::string file;
  std::string output; // empty: output/<calibration name>.h5
  int threads = 0;    // 0: every core
  bool dry_run = false;
  bool resume = false; // continue from <output>.journal
  std::string shard;   // "K/N": make shard K's runs of the next round only
  bool merge = false;  // merge the round's shard files into the journal (or the file)
  std::vector<std::string> shard_files; // with merge: the shard files (none: find them)
  std::string format = "auto";          // auto | table | json
  bool progress = true;
};

int command_calibrate(const CalibrateOptions& options);
/// `csei validate` / `csei info` on a calibration file: checks it and prints its plan.
int command_validate_calibration(const std::string& file);
/// `csei info` on a calibration's result file: its generations and posterior; -1 if `file` is
/// not one (an HDF5 file whose root attribute `kind` is "calibration").
int command_info_calibration(const std::string& file);
/// Whether `file` is a calibration file (TOML with `targets` and `method`).
[[nodiscard]] bool is_calibration_toml(const std::string& file);

/// Adds the `calibrate` subcommand; the returned function runs it if it was selected and
/// returns its exit code, or -1.
[[nodiscard]] std::function<int()> add_calibrate_command(CLI::App& app);

} // namespace csei
