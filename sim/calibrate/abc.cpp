// ABC-SMC on the sweep runner.
#include "calibrate/abc.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "sweep/design.hpp"
#include "sweep/journal.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <stdexcept>

namespace csei::calibrate {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Stream tags: every random choice of the sampler has its own key.
constexpr std::uint64_t kPropose = 0x5EED0001, kRunSeed = 0x5EED0002, kPredict = 0x5EED0003;

Stream stream_of(std::uint64_t seed, std::uint64_t tag, std::uint64_t a, std::uint64_t b) {
  return Stream(
      mix64(mix64(mix64(seed ^ 0x9E3779B97F4A7C15ULL) ^ tag) + a * 0xD1B54A32D192ED03ULL) ^
      (b + 0xA54FF53A5F1D36F1ULL));
}

/// A uniform in (0, 1).
double open_unit(Stream& s) {
  return (static_cast<double>(s() >> 11) + 0.5) * 0x1.0p-53;
}

/// A standard normal (Box-Muller; one of the pair).
double normal(Stream& s) {
  const double u = open_unit(s), v = open_unit(s);
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
}

/// Lower Cholesky factor of the P x P matrix `a` (row-major); false if not positive definite.
bool cholesky(std::vector<double> a, std::size_t P, std::vector<double>& L) {
  L.assign(P * P, 0.0);
  for (std::size_t i = 0; i < P; ++i)
    for (std::size_t j = 0; j <= i; ++j) {
      double sum = a[i * P + j];
      for (std::size_t k = 0; k < j; ++k)
        sum -= L[i * P + k] * L[j * P + k];
      if (i == j) {
        if (!(sum > 0)) return false;
        L[i * P + i] = std::sqrt(sum);
      } else {
        L[i * P + j] = sum / L[j * P + j];
      }
    }
  return true;
}

double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

/// Draws an index by weight from cumulative weights `cum`, with u in (0, 1).
std::size_t draw(const std::vector<double>& cum, double u) {
  const double x = u * cum.back();
  return std::min<std::size_t>(
      cum.size() - 1,
      static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin()));
}

} // namespace

/// The perturbation kernel of one generation: N(0, 2 Sigma) in z, Sigma the previous
/// population's weighted covariance (or its diagonal).
struct Sampler::Kernel {
  std::size_t P = 0;
  std::vector<double> L;    // Cholesky factor of 2 Sigma
  std::vector<double> Linv; // its inverse (lower triangular)

  Kernel(const std::vector<double>& z, const std::vector<double>& w, std::size_t N, std::size_t P_,
         bool full, const std::vector<Parameter>& params)
      : P(P_) {
    std::vector<double> mu(P, 0.0), cov(P * P, 0.0);
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t a = 0; a < P; ++a)
        mu[a] += w[i] * z[i * P + a];
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t a = 0; a < P; ++a)
        for (std::size_t b = 0; b < P; ++b)
          if (full || a == b)
            cov[a * P + b] += w[i] * (z[i * P + a] - mu[a]) * (z[i * P + b] - mu[b]);
    for (auto& c : cov)
      c *= 2.0;
    // A collapsed population (all particles equal along an axis) still needs a kernel: a floor
    // of 1e-6 of the prior's width (or of 1 for an unbounded prior) on each variance.
    for (std::size_t a = 0; a < P; ++a) {
      const double width = std::isfinite(params[a].z_high() - params[a].z_low())
                               ? params[a].z_high() - params[a].z_low()
                               : params[a].sd;
      cov[a * P + a] = std::max(cov[a * P + a], std::pow(1e-6 * width, 2));
    }
    if (!cholesky(cov, P, L)) {
      for (std::size_t a = 0; a < P; ++a)
        for (std::size_t b = 0; b < P; ++b)
          if (a != b) cov[a * P + b] = 0.0;
      (void)cholesky(cov, P, L);
    }
    Linv.assign(P * P, 0.0);
    for (std::size_t i = 0; i < P; ++i) {
      Linv[i * P + i] = 1.0 / L[i * P + i];
      for (std::size_t j = 0; j < i; ++j) {
        double sum = 0.0;
        for (std::size_t k = j; k < i; ++k)
          sum += L[i * P + k] * Linv[k * P + j];
        Linv[i * P + j] = -sum / L[i * P + i];
      }
    }
  }
  /// exp(-|L^-1 d|^2 / 2): the kernel's density up to its constant (which cancels in weights).
  [[nodiscard]] double density(const double* d) const {
    double q = 0.0;
    for (std::size_t i = 0; i < P; ++i) {
      double y = 0.0;
      for (std::size_t j = 0; j <= i; ++j)
        y += Linv[i * P + j] * d[j];
      q += y * y;
    }
    return std::exp(-0.5 * q);
  }
};

double target_distance(const Target& t, const double* model) {
  double sum = 0.0, top = 0.0;
  for (const auto& o : t.observed) {
    const double m = model[o.year - t.start_year];
    if (!std::isfinite(m)) return kInf;
    top = std::max(top, o.value);
    switch (t.distance) {
    case DistanceKind::rmse_counts:
    case DistanceKind::rmse_shares:
      sum += (m - o.value) * (m - o.value);
      break;
    case DistanceKind::poisson_deviance: {
      const double mu = std::max(m, 1e-3);
      sum += 2.0 * ((o.value > 0 ? o.value * std::log(o.value / mu) : 0.0) - (o.value - mu));
      break;
    }
    }
  }
  const auto n = static_cast<double>(t.observed.size());
  switch (t.distance) {
  case DistanceKind::rmse_counts:
    return std::sqrt(sum / n);
  case DistanceKind::rmse_shares:
    return std::sqrt(sum / n) / (top > 0 ? top : 1.0);
  case DistanceKind::poisson_deviance:
    return sum;
  }
  return kInf;
}

double weighted_quantile(std::vector<std::pair<double, double>> xw, double q) {
  std::sort(xw.begin(), xw.end());
  double total = 0.0;
  for (const auto& [x, w] : xw)
    total += w;
  double cum = 0.0;
  for (const auto& [x, w] : xw) {
    cum += w;
    if (cum >= q * total) return x;
  }
  return xw.empty() ? std::numeric_limits<double>::quiet_NaN() : xw.back().first;
}

// --- BatchRunner -------------------------------------------------------------------------

BatchRunner::BatchRunner(const CalibrationSpec& spec) : c_(spec), probe_(spec) {
  s_.file = spec.file;
  s_.name = spec.name;
  s_.scenario_file = spec.scenario_file;
  s_.scenario_text = spec.scenario_text;
  s_.fixed = spec.fixed;
  for (const auto& p : spec.parameters) {
    sweep::Parameter q;
    q.key = p.key;
    q.name = p.name;
    s_.parameters.push_back(q);
  }
  s_.collect = [this](const StepCounts& counts, std::vector<std::int64_t>& series) {
    probe_(counts, series);
  };
}

bool BatchRunner::run(const std::vector<Batch>& batches, const std::vector<std::int64_t>& items,
                      int threads,
                      const std::function<void(std::int64_t, sweep::RunRecord&&)>& done,
                      const std::function<bool()>& should_stop) const {
  const std::size_t P = c_.parameters.size();
  // A sweep spec (its run seeds) and a design (the particles' `--set` texts) per batch.
  std::vector<sweep::SweepSpec> specs(batches.size(), s_);
  std::vector<sweep::Design> designs(batches.size());
  std::vector<std::int64_t> first(batches.size() + 1, 0);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const Batch& B = batches[b];
    sweep::Design& d = designs[b];
    d.points = B.n;
    d.parameters = P;
    d.value.assign(B.x.begin(), B.x.begin() + static_cast<std::ptrdiff_t>(B.n * P));
    for (const double v : d.value)
      d.text.push_back(sweep::exact_text(v));
    specs[b].replicates = B.replicates;
    specs[b].seed = stream_of(c_.method.seed, kRunSeed, B.tag, B.first)() >> 1;
    first[b + 1] = first[b] + static_cast<std::int64_t>(B.runs());
  }
  std::vector<sweep::Runner> runners;
  runners.reserve(batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b)
    runners.emplace_back(specs[b], designs[b]);
  return sweep::run_many(
      items.size(), threads,
      [&](std::size_t i, const std::function<bool()>& stop) {
        const std::int64_t q = items[i];
        const auto b = static_cast<std::size_t>(std::upper_bound(first.begin(), first.end(), q) -
                                                first.begin() - 1);
        sweep::RunRecord rec = runners[b].run(q - first[b], stop);
        done(q, std::move(rec));
      },
      should_stop);
}

// --- Sampler -------------------------------------------------------------------------------

Sampler::Sampler(const CalibrationSpec& spec, Result state) : spec_(spec), res_(std::move(state)) {
  if (res_.complete) return;
  if (res_.stop_reason.empty() && !res_.generations.empty())
    res_.stop_reason = stop_after(res_.generations.back());
  if (res_.stop_reason.empty())
    start_generation();
  else if (spec_.method.predictive == 0)
    finish();
}

Sampler::~Sampler() = default;

std::string Sampler::stop_after(const Generation& last) const {
  const Method& M = spec_.method;
  const auto g = static_cast<std::int64_t>(res_.generations.size()) - 1;
  if (g + 1 >= M.generations)
    return "method.generations (" + std::to_string(M.generations) + ") reached";
  if (g > 0 && last.acceptance_rate < M.min_acceptance)
    return "acceptance rate " + std::to_string(last.acceptance_rate) +
           " below method.min_acceptance";
  if (*std::max_element(last.distances.begin(), last.distances.end()) == 0.0)
    return "every particle fits exactly (distance 0)";
  return "";
}

void Sampler::start_generation() {
  kernel_.reset();
  cum_.clear();
  tolerance_ = kInf;
  if (res_.generations.empty()) return;
  const Generation& prev = res_.generations.back();
  std::vector<double> d = prev.distances;
  std::sort(d.begin(), d.end());
  tolerance_ = quantile_sorted(d, spec_.method.quantile);
  kernel_ =
      std::make_unique<Kernel>(prev.z, prev.weights, prev.weights.size(), spec_.parameters.size(),
                               spec_.method.covariance, spec_.parameters);
  cum_.resize(prev.weights.size());
  std::partial_sum(prev.weights.begin(), prev.weights.end(), cum_.begin());
}

std::vector<Batch> Sampler::next(std::size_t count) const {
  std::vector<Batch> out;
  if (res_.complete) return out;
  const Method& M = spec_.method;
  const auto& params = spec_.parameters;
  const std::size_t P = params.size();
  if (predictive()) {
    const Generation& post = res_.generations.back();
    std::vector<double> cum(post.weights.size());
    std::partial_sum(post.weights.begin(), post.weights.end(), cum.begin());
    Batch b;
    b.n = static_cast<std::size_t>(M.predictive);
    b.replicates = 1;
    b.tag = kPredict;
    b.first = 0;
    b.x.resize(b.n * P);
    for (std::size_t m = 0; m < b.n; ++m) {
      Stream s = stream_of(M.seed, kPredict, 0, m);
      const std::size_t j = draw(cum, open_unit(s));
      std::copy_n(&post.particles[j * P], P, &b.x[m * P]);
    }
    b.z = b.x;
    out.push_back(std::move(b));
    return out;
  }
  const auto g = static_cast<std::uint64_t>(generation());
  const std::vector<double>* prev_z = g > 0 ? &res_.generations.back().z : nullptr;
  std::int64_t from = res_.pending.drawn;
  for (std::size_t k = 0; k < count && from < M.max_proposals; ++k) {
    Batch b;
    b.n = static_cast<std::size_t>(std::min<std::int64_t>(M.batch, M.max_proposals - from));
    b.replicates = M.replicates;
    b.tag = g;
    b.first = static_cast<std::uint64_t>(from);
    b.z.resize(b.n * P);
    b.x.resize(b.n * P);
    // Each proposal from its own stream (generation, proposal index).
    for (std::size_t i = 0; i < b.n; ++i) {
      Stream s = stream_of(M.seed, kPropose, g, static_cast<std::uint64_t>(from) + i);
      double* zi = &b.z[i * P];
      if (g == 0) {
        for (std::size_t a = 0; a < P; ++a)
          zi[a] = params[a].to_z(params[a].quantile(open_unit(s)));
      } else {
        const std::size_t j = draw(cum_, open_unit(s));
        for (int attempt = 0;; ++attempt) {
          std::vector<double> e(P);
          for (auto& v : e)
            v = normal(s);
          bool inside = true;
          for (std::size_t a = 0; a < P; ++a) {
            double step = 0.0;
            for (std::size_t c = 0; c <= a; ++c)
              step += kernel_->L[a * P + c] * e[c];
            zi[a] = (*prev_z)[j * P + a] + step;
            inside = inside && params[a].density_z(zi[a]) > 0;
          }
          if (inside) break;
          if (attempt == 10'000) { // a kernel far wider than the prior: stay at the ancestor
            for (std::size_t a = 0; a < P; ++a)
              zi[a] = (*prev_z)[j * P + a];
            break;
          }
        }
      }
      for (std::size_t a = 0; a < P; ++a)
        b.x[i * P + a] = params[a].from_z(zi[a]);
    }
    from += static_cast<std::int64_t>(b.n);
    out.push_back(std::move(b));
  }
  return out;
}

std::size_t Sampler::round_batches() const {
  if (res_.complete) return 0;
  if (predictive()) return 1;
  const Method& M = spec_.method;
  const Pending& p = res_.pending;
  // The acceptance rate, estimated from this generation's proposals so far, else from the
  // previous generation's (lower, as the tolerance shrinks), else 1 (generation 0); then the
  // proposals that fill the generation unless the rate is much worse: the mean of the negative
  // binomial plus three standard deviations.
  const auto N = static_cast<double>(M.particles);
  const auto accepted = static_cast<double>(p.distances.size());
  const double drawn = static_cast<double>(p.drawn);
  double rate = 1.0;
  if (p.drawn > 0)
    rate = (accepted + 1.0) / (drawn + 2.0);
  else if (!res_.generations.empty())
    rate = 0.7 * res_.generations.back().acceptance_rate;
  rate = std::clamp(rate, 1e-6, 1.0);
  const double need = N - accepted;
  double want = need / rate + 3.0 * std::sqrt(need * (1.0 - rate)) / rate;
  want = std::min(want, static_cast<double>(M.max_proposals - p.drawn));
  const double batches = std::ceil(want / static_cast<double>(M.batch));
  return static_cast<std::size_t>(std::max(1.0, batches));
}

Progress Sampler::progress() const {
  if (predictive() || res_.complete) return {generation(), 0, 0, res_.evaluations, 0, true};
  return {generation(),       static_cast<std::int64_t>(res_.pending.distances.size()),
          res_.pending.drawn, res_.evaluations,
          tolerance_,         false};
}

bool Sampler::take(const Batch& batch, const std::vector<sweep::RunRecord>& records,
                   double run_seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  const Method& M = spec_.method;
  const std::size_t P = spec_.parameters.size(), K = spec_.targets.size(), S = spec_.series_size();
  const auto N = static_cast<std::size_t>(M.particles);
  const std::size_t n = batch.n;
  const auto reps = batch.replicates;
  res_.run_seconds += run_seconds;
  res_.evaluations += static_cast<std::int64_t>(records.size());
  // The model series averaged over the replicates, in real entities (NaN for a particle whose
  // runs failed).
  std::vector<double> model(n * S, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    bool ok = true;
    for (std::int64_t r = 0; r < reps && ok; ++r) {
      const auto& rec = records[i * static_cast<std::size_t>(reps) + static_cast<std::size_t>(r)];
      if (rec.status != sweep::RunRecord::Status::ok || rec.series.size() != S) {
        ok = false;
        ++res_.failed;
        if (res_.first_failure.empty())
          res_.first_failure = rec.error.empty() ? "the run reported no series" : rec.error;
        break;
      }
      for (std::size_t j = 0; j < S; ++j)
        model[i * S + j] += static_cast<double>(rec.series[j]);
    }
    for (std::size_t k = 0; k < K; ++k) {
      const Target& g = spec_.targets[k];
      const double scale = g.scale_parameter >= 0
                               ? batch.x[i * P + static_cast<std::size_t>(g.scale_parameter)]
                               : g.scale;
      const std::size_t off = spec_.series_offset(k);
      for (int y = 0; y < g.years; ++y) {
        double& v = model[i * S + off + static_cast<std::size_t>(y)];
        v = ok ? v / static_cast<double>(reps) * scale : std::numeric_limits<double>::quiet_NaN();
      }
    }
  }

  if (predictive()) {
    res_.predictive_particles = batch.x;
    res_.predictive_series = std::move(model);
    finish();
    return false;
  }

  // Accept in proposal order.
  Pending& pend = res_.pending;
  pend.evaluations += static_cast<std::int64_t>(records.size());
  for (std::size_t i = 0; i < n && pend.distances.size() < N; ++i) {
    std::vector<double> dk(K);
    double d = 0.0;
    for (std::size_t k = 0; k < K; ++k) {
      dk[k] = target_distance(spec_.targets[k], &model[i * S + spec_.series_offset(k)]);
      d += spec_.targets[k].weight * dk[k];
    }
    if (!std::isfinite(d) || std::isnan(d) || d > tolerance_) continue;
    pend.used = pend.drawn + static_cast<std::int64_t>(i) + 1;
    pend.z.insert(pend.z.end(), &batch.z[i * P], &batch.z[i * P] + P);
    pend.particles.insert(pend.particles.end(), &batch.x[i * P], &batch.x[i * P] + P);
    pend.distances.push_back(d);
    pend.target_distances.insert(pend.target_distances.end(), dk.begin(), dk.end());
  }
  pend.drawn += static_cast<std::int64_t>(n);
  const auto spent = [&] {
    return run_seconds +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const std::size_t accepted = pend.distances.size();
  const auto g = generation();
  if (accepted < N) {
    if (pend.drawn < M.max_proposals) {
      pend.seconds += spent();
      return false;
    }
    if (g == 0)
      throw std::runtime_error(
          "generation 0 found only " + std::to_string(accepted) + " of " + std::to_string(N) +
          " particles with a computable distance in " + std::to_string(pend.drawn) + " proposals" +
          (res_.first_failure.empty() ? "" : "; a failed run: " + res_.first_failure));
    res_.stop_reason = "generation " + std::to_string(g) + " did not fill its " +
                       std::to_string(N) + " particles within method.max_proposals (" +
                       std::to_string(M.max_proposals) + ") proposals; kept generation " +
                       std::to_string(g - 1);
    pend = Pending{};
    if (M.predictive == 0) finish();
    return false;
  }
  // The generation is full: importance weights.
  Generation gen;
  gen.tolerance = tolerance_;
  gen.weights.assign(N, 1.0);
  if (g > 0) {
    const Generation& prev = res_.generations.back();
    std::vector<double> diff(P);
    for (std::size_t i = 0; i < N; ++i) {
      double prior = 1.0;
      for (std::size_t a = 0; a < P; ++a)
        prior *= spec_.parameters[a].density_z(pend.z[i * P + a]);
      double denom = 0.0;
      for (std::size_t j = 0; j < N; ++j) {
        for (std::size_t a = 0; a < P; ++a)
          diff[a] = pend.z[i * P + a] - prev.z[j * P + a];
        denom += prev.weights[j] * kernel_->density(diff.data());
      }
      gen.weights[i] = denom > 0 ? prior / denom : 0.0;
    }
  }
  const double total = std::accumulate(gen.weights.begin(), gen.weights.end(), 0.0);
  for (auto& w : gen.weights)
    w = total > 0 ? w / total : 1.0 / static_cast<double>(N);
  gen.particles = std::move(pend.particles);
  gen.distances = std::move(pend.distances);
  gen.target_distances = std::move(pend.target_distances);
  gen.z = std::move(pend.z);
  gen.proposals = pend.used;
  gen.evaluations = pend.evaluations;
  gen.acceptance_rate = static_cast<double>(N) / static_cast<double>(pend.used);
  gen.seconds = pend.seconds + spent();
  pend = Pending{};
  res_.generations.push_back(std::move(gen));
  res_.stop_reason = stop_after(res_.generations.back());
  if (res_.stop_reason.empty())
    start_generation();
  else if (M.predictive == 0)
    finish();
  return true;
}

void Sampler::finish() {
  const std::size_t P = spec_.parameters.size(), S = spec_.series_size();
  const Generation& post = res_.generations.back();
  const std::size_t N = post.weights.size();
  res_.q05.clear();
  res_.q50.clear();
  res_.q95.clear();
  res_.mean.clear();
  for (std::size_t a = 0; a < P; ++a) {
    std::vector<std::pair<double, double>> xw(N);
    double mean = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      xw[i] = {post.particles[i * P + a], post.weights[i]};
      mean += post.weights[i] * post.particles[i * P + a];
    }
    res_.q05.push_back(weighted_quantile(xw, 0.05));
    res_.q50.push_back(weighted_quantile(xw, 0.50));
    res_.q95.push_back(weighted_quantile(xw, 0.95));
    res_.mean.push_back(mean);
  }
  const auto Mp = static_cast<std::size_t>(spec_.method.predictive);
  if (Mp > 0) {
    res_.predictive_q05.resize(S);
    res_.predictive_q50.resize(S);
    res_.predictive_q95.resize(S);
    for (std::size_t j = 0; j < S; ++j) {
      std::vector<double> v;
      for (std::size_t m = 0; m < Mp; ++m)
        if (std::isfinite(res_.predictive_series[m * S + j]))
          v.push_back(res_.predictive_series[m * S + j]);
      std::sort(v.begin(), v.end());
      res_.predictive_q05[j] = quantile_sorted(v, 0.05);
      res_.predictive_q50[j] = quantile_sorted(v, 0.50);
      res_.predictive_q95[j] = quantile_sorted(v, 0.95);
    }
  }
  res_.complete = true;
}

// --- A whole calibration ---------------------------------------------------------------------

Result run_abc_smc(const CalibrationSpec& spec, int threads,
                   const std::function<void(const Progress&)>& progress,
                   const std::function<bool()>& should_stop, const Result* resume,
                   const std::function<void(const Result&)>& generation_done, const Ranks* ranks) {
  const auto t0 = std::chrono::steady_clock::now();
  Sampler sampler(spec, resume ? *resume : Result{});
  const BatchRunner runner(spec);
  const int rank = ranks ? ranks->rank : 0, size = ranks ? ranks->size : 1;
  while (!sampler.complete()) {
    if (progress && sampler.predictive()) progress(sampler.progress());
    const std::vector<Batch> batch = sampler.next(1);
    const std::size_t runs = batch.front().runs();
    std::vector<std::int64_t> mine;
    for (std::size_t q = static_cast<std::size_t>(rank); q < runs;
         q += static_cast<std::size_t>(size))
      mine.push_back(static_cast<std::int64_t>(q));
    std::vector<sweep::RunRecord> records(runs);
    std::mutex mutex;
    std::string bytes;
    const auto t1 = std::chrono::steady_clock::now();
    bool whole = runner.run(
        batch, mine, threads,
        [&](std::int64_t q, sweep::RunRecord&& r) {
          r.run = q;
          if (size > 1) {
            const std::lock_guard lock(mutex);
            sweep::append_frame(bytes, r);
          }
          records[static_cast<std::size_t>(q)] = std::move(r);
        },
        should_stop);
    if (size > 1) {
      if (ranks->any_true(!whole)) throw Interrupted();
      for (auto& r : sweep::decode_frames(ranks->all_gather(bytes)))
        if (r.run >= 0 && static_cast<std::size_t>(r.run) < runs)
          records[static_cast<std::size_t>(r.run)] = std::move(r);
      for (std::size_t q = 0; q < runs; ++q)
        if (records[q].run != static_cast<std::int64_t>(q))
          throw std::runtime_error("run " + std::to_string(q) +
                                   " of a batch is missing after "
                                   "the ranks exchanged their runs");
    } else if (!whole) {
      throw Interrupted();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const bool generation_complete = sampler.take(batch.front(), records, secs);
    if (progress && !sampler.complete() && !sampler.predictive()) progress(sampler.progress());
    if (generation_complete && generation_done) generation_done(sampler.result());
  }
  Result res = sampler.result();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

} // namespace csei::calibrate
