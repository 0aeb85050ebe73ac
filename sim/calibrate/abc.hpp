// ABC-SMC (Toni et al. 2009; Beaumont et al. 2009) over a calibration's parameters, with the
// sweep runner evaluating the particles: generation 0 from the prior, then populations under
// shrinking tolerances (a quantile of the previous population's distances), proposals perturbed
// by a Gaussian kernel with twice the previous population's weighted covariance, importance
// weights prior / sum_j w_j K. Proposals are drawn in a fixed order from seeded streams and
// evaluated in batches; acceptance goes in proposal order, so the result depends on the
// calibration seed only, never on the thread count, the MPI ranks or the shards that made the
// runs.
#pragma once

#include "calibrate/spec.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace csei::calibrate {

struct Generation {
  double tolerance = 0;                 // +inf in generation 0
  std::int64_t proposals = 0;           // proposals used to fill the population (simulated)
  std::int64_t evaluations = 0;         // runs made (every proposal of every batch x replicates)
  double acceptance_rate = 0;           // particles / proposals
  std::vector<double> particles;        // [N][P] parameter values
  std::vector<double> weights;          // [N], sum 1
  std::vector<double> distances;        // [N] weighted sum over the targets
  std::vector<double> target_distances; // [N][K]
  std::vector<double> z;                // [N][P] the sampler's coordinates (kept for resuming)
  double seconds = 0;
};

/// A generation in progress: the proposals evaluated so far (whole batches from proposal 0)
/// and the particles they gave. Between the rounds of a sharded calibration it is kept in the
/// journal.
struct Pending {
  std::int64_t drawn = 0;       // proposals evaluated
  std::int64_t used = 0;        // proposals up to the last accepted one
  std::int64_t evaluations = 0; // runs made for the generation so far
  double seconds = 0;
  std::vector<double> z, particles, distances, target_distances; // the accepted, in order
};

struct Result {
  std::vector<Generation> generations; // complete ones only
  Pending pending;                     // the generation in progress (none once stopped)
  std::string stop_reason;             // set once the generations are over
  bool complete = false;               // the predictive runs are made too
  std::int64_t evaluations = 0;        // runs in all, predictive ones included
  std::int64_t failed = 0;             // runs that failed (their particles never accepted)
  std::string first_failure;
  double seconds = 0, run_seconds = 0;
  // Posterior summaries of the last generation, per parameter (weighted quantiles).
  std::vector<double> q05, q50, q95, mean;
  // Posterior predictive: M draws from the last generation, one run each.
  std::vector<double> predictive_particles; // [M][P]
  std::vector<double> predictive_series;    // [M][sum of target years], in real entities
  std::vector<double> predictive_q05, predictive_q50, predictive_q95; // [sum of target years]
};

struct Progress {
  std::int64_t generation = 0, accepted = 0, proposals = 0, evaluations = 0;
  double tolerance = 0;
  bool predictive = false;
};

/// One batch of runs: n particles (x, [n][P]; z the sampler's coordinates) run `replicates`
/// times each, run r = particle * replicates + replicate, seeds derived from (tag, first).
struct Batch {
  std::vector<double> z, x;
  std::size_t n = 0;
  std::int64_t replicates = 1;
  std::uint64_t tag = 0, first = 0;
  [[nodiscard]] std::size_t runs() const { return n * static_cast<std::size_t>(replicates); }
};

/// The ABC-SMC sampler as a sequence of batches: next() says which batches come next (all
/// determined by the calibration seed and the state), take() consumes one batch's run records
/// in order. A whole calibration, an MPI job and the rounds of a sharded calibration all go
/// through it, so they give the same result.
class Sampler {
public:
  /// Starts from `state` (empty: generation 0; else the generations, counters and pending
  /// generation of a journal).
  Sampler(const CalibrationSpec& spec, Result state = {});
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  /// The generations and the predictive runs are done.
  [[nodiscard]] bool complete() const { return res_.complete; }
  /// The generations are over; the predictive runs come next.
  [[nodiscard]] bool predictive() const { return !res_.stop_reason.empty() && !res_.complete; }
  /// The generation in progress (the number of complete ones).
  [[nodiscard]] std::int64_t generation() const {
    return static_cast<std::int64_t>(res_.generations.size());
  }
  /// Up to `count` batches from the next one: the generation's next proposals (none beyond
  /// method.max_proposals), or the one batch of predictive runs; none once complete.
  [[nodiscard]] std::vector<Batch> next(std::size_t count) const;
  /// Batches for one round of a sharded calibration: enough to fill the generation at its
  /// estimated acceptance rate (1 for the predictive runs).
  [[nodiscard]] std::size_t round_batches() const;
  /// Consumes the records (in run order) of the first batch next() gives; `run_seconds` is the
  /// time its runs took. Returns true when it completed a generation. Throws
  /// std::runtime_error if generation 0 cannot fill.
  bool take(const Batch& batch, const std::vector<sweep::RunRecord>& records, double run_seconds);
  [[nodiscard]] const Result& result() const { return res_; }
  [[nodiscard]] Progress progress() const;

private:
  void start_generation();
  void finish();
  [[nodiscard]] std::string stop_after(const Generation& last) const;

  const CalibrationSpec& spec_;
  Result res_;
  double tolerance_ = 0;
  struct Kernel;
  std::unique_ptr<Kernel> kernel_;
  std::vector<double> cum_; // cumulative weights of the previous population
};

/// Runs batches' runs through the sweep runner. Runs are numbered across the batches (batch
/// after batch, each in its run order); `items` says which to make.
class BatchRunner {
public:
  explicit BatchRunner(const CalibrationSpec& spec);
  /// Makes runs `items` of `batches` on `threads` threads, calling done(item, record) from the
  /// worker threads (done must be thread-safe). Returns false if should_stop() stopped it.
  bool run(const std::vector<Batch>& batches, const std::vector<std::int64_t>& items, int threads,
           const std::function<void(std::int64_t, sweep::RunRecord&&)>& done,
           const std::function<bool()>& should_stop = {}) const;

private:
  const CalibrationSpec& c_;
  Probe probe_;
  sweep::SweepSpec s_;
};

/// How the runs of a batch are shared among the processes of an MPI job: this process makes
/// runs r with r % size == rank, and all_gather (a collective call) returns every rank's bytes,
/// concatenated in rank order, on every rank; any_true is a collective "or".
struct Ranks {
  int rank = 0, size = 1;
  std::function<std::string(const std::string&)> all_gather;
  std::function<bool(bool)> any_true;
};

/// Runs the calibration on `threads` threads (per process). Throws Interrupted if should_stop()
/// stopped it, std::runtime_error if every run of generation 0 failed. With `resume` (the state
/// an interrupted calibration left in its journal) it continues from there, to the same result
/// as an uninterrupted run; `generation_done` is called after each complete generation. With
/// `ranks` the runs are shared among MPI processes, which all compute the same result.
[[nodiscard]] Result run_abc_smc(const CalibrationSpec& spec, int threads,
                                 const std::function<void(const Progress&)>& progress = {},
                                 const std::function<bool()>& should_stop = {},
                                 const Result* resume = nullptr,
                                 const std::function<void(const Result&)>& generation_done = {},
                                 const Ranks* ranks = nullptr);

/// The distance of one target from its model series (values per year of the run, in real
/// entities).
[[nodiscard]] double target_distance(const Target& t, const double* model_years);

/// Weighted quantile: the smallest x with cumulative weight >= q (x sorted with its weights).
[[nodiscard]] double weighted_quantile(std::vector<std::pair<double, double>> xw, double q);

} // namespace csei::calibrate
