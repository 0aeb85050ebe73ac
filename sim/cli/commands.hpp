// The csei subcommands (run, validate, info, schema, workshop) as functions of parsed options, so
// that the program and the tests share one implementation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace csei {

struct RunOptions {
  std::string scenario;
  std::string from;                       // a run file whose stored scenario and inputs to rerun
  std::string output;                     // empty: output/<scenario name>.h5
  std::optional<std::uint64_t> seed;      // overrides the scenario's seed
  std::optional<std::int64_t> replicates; // runs of derived seeds in one file (default 1; with
                                          // --from, the file's)
  int threads = 0;                        // 0: every core
  std::vector<std::string> overrides;     // key.path=value
  std::string format = "auto";            // auto | table | json
  bool progress = true;
};

struct WorkshopOptions {
  int port = 8765;          // 0: any free port
  std::string web_dir;      // empty: web/ in the source tree
  std::string scenario_dir; // empty: scenarios/teaching/ in the source tree
  std::size_t workers = 0;  // 0: every core
  std::size_t max_queued = 32;
  double run_seconds = 5.0;
  bool open = false; // open the page in the desktop's browser
};

/// Each returns the process exit code; errors are reported on stderr.
int command_run(const RunOptions& options);
/// Serves workshop mode on 127.0.0.1 until SIGINT/SIGTERM (sim/cli/workshop_command.cpp).
int command_workshop(const WorkshopOptions& options);
int command_validate(const std::string& scenario, const std::vector<std::string>& overrides);
int command_info(const std::string& file);
/// Writes the run file's series and summary as tidy CSV tables into `out_dir` (empty: the run
/// file's folder), output/export.hpp.
int command_export(const std::string& file, const std::string& out_dir);
/// Prints the generated tables of output/SCHEMA.md ("series", "summary" or "all"), with their
/// markers, as the file holds them.
int command_schema(const std::string& table);

/// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // output or internal failure
inline constexpr int kExitBadInput = 2; // scenario, data file or command-line value
inline constexpr int kExitInterrupted = 130;

/// Set by SIGINT/SIGTERM; the run stops at the next step and leaves no output file.
void install_stop_handlers();
[[nodiscard]] bool stop_requested();

} // namespace csei
