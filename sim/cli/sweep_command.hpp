// csei sweep / sweep-merge: sensitivity sweeps over scenario parameters, on one machine (oneTBB),
// under MPI (mpirun) or in shards run by a batch scheduler and merged afterwards.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace csei {

struct SweepOptions {
  std::string file;
  std::string output; // empty: output/<sweep name>.h5 (a shard: ...-shard-K-of-N.h5)
  int threads = 0;    // 0: every core (shared among the MPI ranks on one machine)
  bool resume = false;
  std::string shard; // "K/N": only runs r with r % N == K - 1
  bool dry_run = false;
  std::string format = "auto"; // auto | table | json
  bool progress = true;
};

int command_sweep(const SweepOptions& options);
int command_sweep_merge(const std::vector<std::string>& inputs, const std::string& output,
                        const std::string& format);

/// Adds the `sweep` and `sweep-merge` subcommands to the program; the returned function runs
/// the one selected after parsing and returns its exit code, or -1 if neither was selected.
[[nodiscard]] std::function<int()> add_sweep_commands(CLI::App& app);

/// Whether `file` is a sweep file (TOML with a base `scenario` and `parameters` or `design`).
[[nodiscard]] bool is_sweep_file(const std::string& file);
/// `csei validate` on a sweep file: checks it, its base scenario and every parameter path.
int command_validate_sweep(const std::string& file);
/// `csei info` on a sweep file (design, parameters, completed runs of its default output) or on
/// a sweep's output file.
int command_info_sweep(const std::string& file);

/// Exit code of a sweep that finished and wrote its file, but in which some runs failed.
inline constexpr int kExitRunsFailed = 3;

} // namespace csei
