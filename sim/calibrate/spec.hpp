// A calibration: a base scenario, the parameters to infer with their priors, the observed
// targets a run is compared with, and the ABC-SMC method's settings, read from a TOML
// calibration file (docs/calibration-format.md) and validated once, with file, line, column and
// key in every error, before any run starts.
#pragma once

#include "core/error.hpp"
#include "core/names.hpp"
#include "scenario/scenario.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace csei {
struct StepCounts;
}

namespace csei::calibrate {

enum class Prior { uniform, log_uniform, normal, truncated_normal };
enum class Quantity { adopters, new_adopters, aware, members, clusters };
enum class DistanceKind { rmse_counts, rmse_shares, poisson_deviance };

/// The names of priors, outputs and distances in calibration files, result files and messages.
inline constexpr NameTable<Prior, 4> kPriorNames{
    {"uniform", "log_uniform", "normal", "truncated_normal"}};
inline constexpr NameTable<Quantity, 5> kQuantityNames{
    {"adopters", "new_adopters", "aware", "members", "clusters"}};
inline constexpr NameTable<DistanceKind, 3> kDistanceNames{
    {"rmse_counts", "rmse_shares", "poisson_deviance"}};
[[nodiscard]] inline const char* prior_name(Prior p) {
  return kPriorNames(p);
}
[[nodiscard]] inline const char* quantity_name(Quantity q) {
  return kQuantityNames(q);
}
[[nodiscard]] inline const char* distance_name(DistanceKind d) {
  return kDistanceNames(d);
}

/// One inferred scenario value, with its prior. The sampler works on z = log(x) for a
/// log-uniform prior and z = x otherwise.
struct Parameter {
  std::string key;  // scenario key path, as `--set` takes it
  std::string name; // label (default: the key)
  Prior prior = Prior::uniform;
  double low = 0.0, high = 1.0; // support (uniform, log_uniform, truncated_normal)
  double mean = 0.0, sd = 1.0;  // normal, truncated_normal
  SourceLocation where;         // its table in the calibration file

  /// Support in z (the sampler's coordinates); infinite for a normal prior.
  [[nodiscard]] double z_low() const;
  [[nodiscard]] double z_high() const;
  [[nodiscard]] double to_z(double x) const;
  [[nodiscard]] double from_z(double z) const;
  /// Prior density of z (0 outside the support).
  [[nodiscard]] double density_z(double z) const;
  /// The prior's quantile at u in (0, 1), as x.
  [[nodiscard]] double quantile(double u) const;
};

/// One observed point of a target.
struct Observation {
  int year = 0;
  double value = 0.0;
  std::string note; // the row's caveat (measure and note)
  int line = 0;     // its line in the observed file
};

/// One comparison of a run with an observed series.
struct Target {
  std::string name;
  std::string file;   // observed series file (resolved against the calibration file)
  std::string series; // rows of the file's `series` column
  std::string geo;    // and of its `geo` column
  std::vector<Observation> observed;
  Quantity quantity = Quantity::adopters;
  std::vector<std::string> innovation_names, territory_names; // as given (empty: all)
  std::vector<int> innovations, territories;                  // indices into the base scenario
  int start_year = 2000;                                      // calendar year of step 0
  int years = 0;                 // whole years the run covers (from start_year)
  double scale = 1.0;            // real entities per model organisation (fixed)
  int scale_parameter = -1;      // >= 0: the scale is this parameter's value
  bool scale_represents = false; // the scale is the run's organisations.represents
  DistanceKind distance = DistanceKind::rmse_counts;
  double weight = 1.0;
  SourceLocation where;
};

struct Method {
  std::int64_t particles = 200;
  std::int64_t generations = 10;
  double quantile = 0.5;       // tolerance: this quantile of the previous population's distances
  double min_acceptance = 0.0; // stop once a generation's acceptance rate falls below it
  std::int64_t replicates = 1; // runs per particle (their model series are averaged)
  std::uint64_t seed = 1;
  std::int64_t batch = 0;         // proposals evaluated at once (0: particles)
  std::int64_t max_proposals = 0; // per generation (0: particles / min_acceptance, or 50 x)
  std::int64_t predictive = 100;  // posterior predictive runs
  bool covariance = true;         // kernel: full weighted covariance (false: per parameter)
};

struct CalibrationSpec {
  std::string file; // calibration file as given
  std::string name; // default: file stem
  std::string description;
  std::string source;        // the calibration file's text
  std::string scenario_file; // base scenario (resolved against the calibration file)
  std::string scenario_text;
  std::vector<std::string> fixed; // `set`: overrides applied to every run, before the parameters
  std::vector<Parameter> parameters;
  std::vector<Target> targets;
  Method method;
  Scenario base; // with the fixed overrides applied

  /// The values each run's series holds: for each target, one value per year of the run.
  [[nodiscard]] std::size_t series_size() const;
  /// Offset of target k's years in a run's series.
  [[nodiscard]] std::size_t series_offset(std::size_t k) const;
};

/// Reads and validates a calibration file, its base scenario and its observed series. Throws
/// InputError listing every problem with file, line, column and key path.
[[nodiscard]] CalibrationSpec load_calibration(const std::filesystem::path& file);
[[nodiscard]] CalibrationSpec load_calibration_text(std::string_view text, const std::string& label,
                                                    const std::filesystem::path& base_dir);

/// Whether `file` looks like a calibration file (TOML with `targets` and `method`).
[[nodiscard]] bool is_calibration_file(const std::string& file);

/// Collects a run's series for the spec's targets from every step: per target, a value per
/// year (stocks at the year's last step, flows summed over its steps; step 0 belongs to the
/// first year).
class Probe {
public:
  explicit Probe(const CalibrationSpec& spec);
  void operator()(const StepCounts& c, std::vector<std::int64_t>& series) const;

private:
  struct Part {
    Quantity quantity;
    std::vector<char> innovation, territory; // masks
    std::vector<int> year_of_step;           // [steps + 1]
    std::vector<char> year_end;              // [steps + 1]: the step closes its year
    std::size_t offset;
  };
  std::vector<Part> parts_;
  std::size_t size_;
};

} // namespace csei::calibrate
