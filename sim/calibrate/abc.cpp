// ABC-SMC on the sweep runner.
#include "calibrate/abc.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"
#include "sweep/design.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
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

/// The perturbation kernel of one generation: N(0, 2 Sigma) in z, Sigma the previous
/// population's weighted covariance (or its diagonal).
struct Kernel {
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

/// Evaluates particles through the sweep runner: one sweep spec for the whole calibration,
/// a design (the particles' `--set` texts) per batch.
class Evaluator {
public:
  Evaluator(const CalibrationSpec& spec, int threads) : c_(spec), probe_(spec), threads_(threads) {
    s_.file = spec.file;
    s_.name = spec.name;
    s_.scenario_file = spec.scenario_file;
    s_.scenario_text = spec.scenario_text;
    s_.fixed = spec.fixed;
    s_.replicates = spec.method.replicates;
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

  /// Runs every particle x (each [P], in x) `replicates` times with seeds from (tag, a); returns
  /// the model series averaged over the replicates [n][series size] in real entities (NaN for
  /// a particle whose runs failed).
  std::vector<double> evaluate(const std::vector<double>& x, std::size_t n, std::int64_t reps,
                               std::uint64_t tag, std::uint64_t a,
                               const std::function<bool()>& should_stop, Result& result) {
    const std::size_t P = c_.parameters.size(), S = c_.series_size();
    sweep::Design d;
    d.points = n;
    d.parameters = P;
    d.value.assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n * P));
    for (const double v : d.value)
      d.text.push_back(sweep::exact_text(v));
    s_.replicates = reps;
    s_.seed = stream_of(c_.method.seed, kRunSeed, tag, a)() >> 1;
    const sweep::Runner runner(s_, d);
    std::vector<sweep::RunRecord> records(n * static_cast<std::size_t>(reps));
    std::vector<std::int64_t> indices(records.size());
    std::iota(indices.begin(), indices.end(), 0);
    const auto t0 = std::chrono::steady_clock::now();
    const bool whole = runner.run_all(
        indices, threads_,
        [&](sweep::RunRecord&& r) { records[static_cast<std::size_t>(r.run)] = std::move(r); },
        should_stop);
    result.run_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!whole) throw Interrupted();
    result.evaluations += static_cast<std::int64_t>(records.size());
    std::vector<double> out(n * S, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      bool ok = true;
      for (std::int64_t r = 0; r < reps && ok; ++r) {
        const auto& rec = records[i * static_cast<std::size_t>(reps) + static_cast<std::size_t>(r)];
        if (rec.status != sweep::RunRecord::Status::ok || rec.series.size() != S) {
          ok = false;
          ++result.failed;
          if (result.first_failure.empty())
            result.first_failure = rec.error.empty() ? "the run reported no series" : rec.error;
          break;
        }
        for (std::size_t j = 0; j < S; ++j)
          out[i * S + j] += static_cast<double>(rec.series[j]);
      }
      for (std::size_t k = 0; k < c_.targets.size(); ++k) {
        const Target& g = c_.targets[k];
        const double scale = g.scale_parameter >= 0
                                 ? x[i * P + static_cast<std::size_t>(g.scale_parameter)]
                                 : g.scale;
        const std::size_t off = c_.series_offset(k);
        for (int y = 0; y < g.years; ++y) {
          double& v = out[i * S + off + static_cast<std::size_t>(y)];
          v = ok ? v / static_cast<double>(reps) * scale : std::numeric_limits<double>::quiet_NaN();
        }
      }
    }
    return out;
  }

private:
  const CalibrationSpec& c_;
  Probe probe_;
  int threads_;
  sweep::SweepSpec s_;
};

double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

} // namespace

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

Result run_abc_smc(const CalibrationSpec& spec, int threads,
                   const std::function<void(const Progress&)>& progress,
                   const std::function<bool()>& should_stop, const Result* resume,
                   const std::function<void(const Result&)>& generation_done) {
  const auto t0 = std::chrono::steady_clock::now();
  const Method& M = spec.method;
  const auto N = static_cast<std::size_t>(M.particles);
  const std::size_t P = spec.parameters.size(), K = spec.targets.size(), S = spec.series_size();
  const auto B = static_cast<std::size_t>(M.batch);
  const auto& params = spec.parameters;
  Evaluator eval(spec, threads);
  Result res;

  // Why to stop after generation g, or "" to go on.
  const auto stop_after = [&](std::int64_t g, const Generation& last) -> std::string {
    if (g + 1 >= M.generations)
      return "method.generations (" + std::to_string(M.generations) + ") reached";
    if (g > 0 && last.acceptance_rate < M.min_acceptance)
      return "acceptance rate " + std::to_string(last.acceptance_rate) +
             " below method.min_acceptance";
    if (*std::max_element(last.distances.begin(), last.distances.end()) == 0.0)
      return "every particle fits exactly (distance 0)";
    return "";
  };
  std::vector<double> prev_z; // previous population in z, [N][P]
  std::int64_t first = 0;
  if (resume && !resume->generations.empty()) {
    res = *resume;
    res.stop_reason.clear();
    first = static_cast<std::int64_t>(res.generations.size());
    prev_z = res.generations.back().z;
    res.stop_reason = stop_after(first - 1, res.generations.back());
  }
  for (std::int64_t g = first; g < M.generations && res.stop_reason.empty(); ++g) {
    const auto tg = std::chrono::steady_clock::now();
    Generation gen;
    gen.tolerance = kInf;
    if (g > 0) {
      std::vector<double> d = res.generations.back().distances;
      std::sort(d.begin(), d.end());
      gen.tolerance = quantile_sorted(d, M.quantile);
    }
    std::unique_ptr<Kernel> kernel;
    std::vector<double> cum; // cumulative weights of the previous population
    if (g > 0) {
      const auto& w = res.generations.back().weights;
      kernel = std::make_unique<Kernel>(prev_z, w, N, P, M.covariance, params);
      cum.resize(N);
      std::partial_sum(w.begin(), w.end(), cum.begin());
    }
    std::vector<double> z_acc, x_acc, d_acc, dk_acc;
    std::int64_t drawn = 0, used = 0;
    std::size_t accepted = 0;
    const std::int64_t evaluations0 = res.evaluations;
    while (accepted < N && drawn < M.max_proposals) {
      // Draw a batch of proposals, each from its own stream (generation, proposal index).
      const std::size_t n = static_cast<std::size_t>(
          std::min<std::int64_t>(static_cast<std::int64_t>(B), M.max_proposals - drawn));
      std::vector<double> z(n * P), x(n * P);
      for (std::size_t i = 0; i < n; ++i) {
        Stream s = stream_of(M.seed, kPropose, static_cast<std::uint64_t>(g),
                             static_cast<std::uint64_t>(drawn) + i);
        double* zi = &z[i * P];
        if (g == 0) {
          for (std::size_t a = 0; a < P; ++a)
            zi[a] = params[a].to_z(params[a].quantile(open_unit(s)));
        } else {
          const double u = open_unit(s) * cum.back();
          const auto j = std::min<std::size_t>(
              N - 1,
              static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin()));
          for (int attempt = 0;; ++attempt) {
            std::vector<double> e(P);
            for (auto& v : e)
              v = normal(s);
            bool inside = true;
            for (std::size_t a = 0; a < P; ++a) {
              double step = 0.0;
              for (std::size_t b = 0; b <= a; ++b)
                step += kernel->L[a * P + b] * e[b];
              zi[a] = prev_z[j * P + a] + step;
              inside = inside && params[a].density_z(zi[a]) > 0;
            }
            if (inside) break;
            if (attempt == 10'000) { // a kernel far wider than the prior: stay at the ancestor
              for (std::size_t a = 0; a < P; ++a)
                zi[a] = prev_z[j * P + a];
              break;
            }
          }
        }
        for (std::size_t a = 0; a < P; ++a)
          x[i * P + a] = params[a].from_z(zi[a]);
      }
      const auto model = eval.evaluate(x, n, M.replicates, static_cast<std::uint64_t>(g),
                                       static_cast<std::uint64_t>(drawn), should_stop, res);
      // Accept in proposal order.
      for (std::size_t i = 0; i < n && accepted < N; ++i) {
        std::vector<double> dk(K);
        double d = 0.0;
        for (std::size_t k = 0; k < K; ++k) {
          dk[k] = target_distance(spec.targets[k], &model[i * S + spec.series_offset(k)]);
          d += spec.targets[k].weight * dk[k];
        }
        if (!std::isfinite(d) || std::isnan(d) || d > gen.tolerance) continue;
        ++accepted;
        used = drawn + static_cast<std::int64_t>(i) + 1;
        z_acc.insert(z_acc.end(), &z[i * P], &z[i * P] + P);
        x_acc.insert(x_acc.end(), &x[i * P], &x[i * P] + P);
        d_acc.push_back(d);
        dk_acc.insert(dk_acc.end(), dk.begin(), dk.end());
      }
      drawn += static_cast<std::int64_t>(n);
      if (progress)
        progress(
            {g, static_cast<std::int64_t>(accepted), drawn, res.evaluations, gen.tolerance, false});
    }
    if (accepted < N) {
      if (g == 0)
        throw std::runtime_error(
            "generation 0 found only " + std::to_string(accepted) + " of " + std::to_string(N) +
            " particles with a computable distance in " + std::to_string(drawn) + " proposals" +
            (res.first_failure.empty() ? "" : "; a failed run: " + res.first_failure));
      res.stop_reason = "generation " + std::to_string(g) + " did not fill its " +
                        std::to_string(N) + " particles within method.max_proposals (" +
                        std::to_string(M.max_proposals) + ") proposals; kept generation " +
                        std::to_string(g - 1);
      break;
    }
    // Importance weights.
    gen.weights.assign(N, 1.0);
    if (g > 0) {
      const auto& w = res.generations.back().weights;
      std::vector<double> diff(P);
      for (std::size_t i = 0; i < N; ++i) {
        double prior = 1.0;
        for (std::size_t a = 0; a < P; ++a)
          prior *= params[a].density_z(z_acc[i * P + a]);
        double denom = 0.0;
        for (std::size_t j = 0; j < N; ++j) {
          for (std::size_t a = 0; a < P; ++a)
            diff[a] = z_acc[i * P + a] - prev_z[j * P + a];
          denom += w[j] * kernel->density(diff.data());
        }
        gen.weights[i] = denom > 0 ? prior / denom : 0.0;
      }
    }
    const double total = std::accumulate(gen.weights.begin(), gen.weights.end(), 0.0);
    for (auto& w : gen.weights)
      w = total > 0 ? w / total : 1.0 / static_cast<double>(N);
    gen.particles = std::move(x_acc);
    gen.distances = std::move(d_acc);
    gen.target_distances = std::move(dk_acc);
    gen.proposals = used;
    gen.evaluations = res.evaluations - evaluations0;
    gen.acceptance_rate = static_cast<double>(N) / static_cast<double>(used);
    gen.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tg).count();
    gen.z = z_acc;
    prev_z = std::move(z_acc);
    res.generations.push_back(std::move(gen));
    res.stop_reason = stop_after(g, res.generations.back());
    if (generation_done) generation_done(res);
  }

  // Posterior summaries.
  const Generation& post = res.generations.back();
  for (std::size_t a = 0; a < P; ++a) {
    std::vector<std::pair<double, double>> xw(N);
    double mean = 0.0;
    for (std::size_t i = 0; i < N; ++i) {
      xw[i] = {post.particles[i * P + a], post.weights[i]};
      mean += post.weights[i] * post.particles[i * P + a];
    }
    res.q05.push_back(weighted_quantile(xw, 0.05));
    res.q50.push_back(weighted_quantile(xw, 0.50));
    res.q95.push_back(weighted_quantile(xw, 0.95));
    res.mean.push_back(mean);
  }

  // Posterior predictive: draws from the last population, one run each.
  const auto Mp = static_cast<std::size_t>(M.predictive);
  if (Mp > 0) {
    std::vector<double> cum(N);
    std::partial_sum(post.weights.begin(), post.weights.end(), cum.begin());
    std::vector<double> x(Mp * P);
    for (std::size_t m = 0; m < Mp; ++m) {
      Stream s = stream_of(M.seed, kPredict, 0, m);
      const double u = open_unit(s) * cum.back();
      const auto j = std::min<std::size_t>(
          N - 1,
          static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin()));
      std::copy_n(&post.particles[j * P], P, &x[m * P]);
    }
    if (progress) progress({static_cast<std::int64_t>(res.generations.size()), 0, 0, 0, 0, true});
    res.predictive_particles = x;
    res.predictive_series = eval.evaluate(x, Mp, 1, kPredict, 0, should_stop, res);
    res.predictive_q05.resize(S);
    res.predictive_q50.resize(S);
    res.predictive_q95.resize(S);
    for (std::size_t j = 0; j < S; ++j) {
      std::vector<double> v;
      for (std::size_t m = 0; m < Mp; ++m)
        if (std::isfinite(res.predictive_series[m * S + j]))
          v.push_back(res.predictive_series[m * S + j]);
      std::sort(v.begin(), v.end());
      res.predictive_q05[j] = quantile_sorted(v, 0.05);
      res.predictive_q50[j] = quantile_sorted(v, 0.50);
      res.predictive_q95[j] = quantile_sorted(v, 0.95);
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

} // namespace csei::calibrate
