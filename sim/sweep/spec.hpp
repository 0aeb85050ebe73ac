// A sweep: a base scenario, the parameters to vary, the design, replicates and outcomes, read
// from a TOML sweep file (docs/sweep-format.md) and validated once, with file, line, column and
// key in every error, before any run starts.
#pragma once

#include "core/error.hpp"
#include "scenario/scenario.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace csei {
struct StepCounts;
}

namespace csei::sweep {

enum class DesignKind { grid, lhs, morris, sobol };
enum class ValueType { real, integer, level };
enum class Distribution { uniform, loguniform, normal, triangular };
enum class SeriesMode { none, total, territories };

[[nodiscard]] const char* design_name(DesignKind k);
[[nodiscard]] const char* type_name(ValueType t);
[[nodiscard]] const char* distribution_name(Distribution d);
[[nodiscard]] const char* series_name(SeriesMode m);

/// One varied scenario value. A parameter either spans a range (real or integer values, drawn
/// through a distribution) or takes one of a list of levels (any TOML values).
struct Parameter {
  std::string key;  // scenario key path, as `--set` takes it
  std::string name; // label for tables and plots (default: the key)
  ValueType type = ValueType::real;
  Distribution distribution = Distribution::uniform;
  double low = 0.0, high = 1.0;     // range (real, integer)
  double mean = 0.0, sd = 1.0;      // normal (truncated to the range)
  double mode = 0.5;                // triangular
  int grid_points = 3;              // grid design: points along the range
  std::vector<std::string> levels;  // level: each level as TOML text
  std::vector<double> level_values; // level: the numeric value of each level (its index if none)
  SourceLocation where;             // the parameter's table in the sweep file
  SourceLocation values_where;      // its `range` or `levels`

  /// How many distinct grid values the parameter takes in a grid design.
  [[nodiscard]] int grid_size() const;
  /// Maps a coordinate u in [0, 1] of the unit hypercube to the parameter's value: its number
  /// (for a level: its numeric value or index) and its TOML text for `--set`.
  struct Value {
    double number;
    std::string text;
  };
  [[nodiscard]] Value at(double u) const;
};

struct SweepSpec {
  std::string file;               // sweep file as given
  std::string name;               // default: file stem
  std::string description;        // free text
  std::string source;             // the sweep file's text
  std::string scenario_file;      // base scenario path (resolved against the sweep file)
  std::string scenario_text;      // the base scenario file's text
  std::vector<std::string> fixed; // `set`: overrides applied to every run, before the parameters
  std::uint64_t seed = 1;         // simulation seed of the sweep (replicate seeds derive from it)
  bool common_seeds = false;      // replicate r uses the same seed at every point
  std::int64_t replicates = 1;

  DesignKind design = DesignKind::grid;
  std::uint64_t design_seed = 1; // LHS permutations, Morris trajectories, Sobol digital shift
  std::int64_t samples = 0;      // lhs: points; sobol: base samples N
  std::int64_t trajectories = 0; // morris: r
  std::int64_t levels = 4;       // morris: p

  std::vector<Parameter> parameters;
  std::vector<std::string> outcome_patterns; // as written
  std::vector<std::string> outcomes;         // metric names they select, in metric order
  SeriesMode series = SeriesMode::none;

  Scenario base; // the base scenario with the fixed overrides (and the sweep's seed) applied
  /// When set (a calibration), a run's series is what this collects from every step, on the
  /// run's thread, instead of the `series` mode's adopters.
  std::function<void(const StepCounts&, std::vector<std::int64_t>&)> collect;

  [[nodiscard]] std::int64_t points() const;
  [[nodiscard]] std::int64_t runs() const {
    std::int64_t r = 0; // saturating
    return __builtin_mul_overflow(points(), replicates, &r) ? INT64_MAX : r;
  }
  /// Simulation seed of replicate `rep` at `point` (never above 2^63 - 1).
  [[nodiscard]] std::uint64_t run_seed(std::int64_t point, std::int64_t rep) const;
  /// Hex digest of everything that determines the results (sweep text, base scenario text,
  /// version, outcomes); resuming and merging check it.
  [[nodiscard]] std::string fingerprint() const;
  /// The scenario overrides of one run: fixed ones, then one per parameter, then the seed.
  [[nodiscard]] std::vector<std::string> overrides(const std::vector<std::string>& values,
                                                   std::uint64_t seed) const;
};

/// The simulation seed of replicate `rep` at design point `point` of a sweep whose simulation
/// seed is `seed` (SplitMix64 hashes, never above 2^63 - 1); `point` -1: common seeds, the same
/// at every point. SweepSpec::run_seed and `csei run --replicates` (with point -1) both use it.
[[nodiscard]] std::uint64_t replicate_seed(std::uint64_t seed, std::int64_t point,
                                           std::int64_t rep);

/// Reads and validates a sweep file (and its base scenario). Throws InputError listing every
/// problem with file, line, column and key path.
[[nodiscard]] SweepSpec load_sweep(const std::filesystem::path& file);
/// As load_sweep, from text; the base scenario path is resolved against `base_dir`.
[[nodiscard]] SweepSpec load_sweep_text(std::string_view text, const std::string& label,
                                        const std::filesystem::path& base_dir);

/// The metric names a scenario's runs report ("<innovation>.<metric>", ...), in order.
[[nodiscard]] std::vector<std::string> metric_names_of(const Scenario& scenario);

/// Shortest text that reads back as exactly `v` (TOML float syntax).
[[nodiscard]] std::string exact_text(double v);

} // namespace csei::sweep
