// Writing a calibration's result file.
#include "calibrate/writer.hpp"

#include "core/files.hpp"
#include "output/h5.hpp"

namespace csei::calibrate {

void write_calibration_file(const std::filesystem::path& path, const CalibrationSpec& spec,
                            const Result& res, const WriteInfo& info) {
  const std::filesystem::path temp = files::begin_partial(path);
  const auto P = static_cast<hsize_t>(spec.parameters.size());
  const auto K = static_cast<hsize_t>(spec.targets.size());
  const auto G = static_cast<hsize_t>(res.generations.size());
  const auto N = static_cast<hsize_t>(spec.method.particles);
  files::write_partial(temp, path, "calibration file", [&] {
    h5::File f(temp.string(), h5::File::Mode::create);
    f.attribute("schema_version", kCalibrationSchemaVersion);
    f.attribute("kind", std::string("calibration"));
    f.attribute("name", spec.name);
    f.attribute("description", spec.description);
    f.attribute("calibration", spec.source);
    f.attribute("calibration_file", spec.file);
    f.attribute("scenario", spec.scenario_text);
    f.attribute("scenario_file", spec.scenario_file);
    {
      std::error_code ec;
      const auto abs = std::filesystem::absolute(spec.scenario_file, ec);
      f.attribute("scenario_path", ec ? spec.scenario_file : abs.lexically_normal().string());
    }
    f.attribute("version", std::string(CSEI_VERSION));
    f.attribute("method", std::string("abc_smc"));
    f.attribute("seed", static_cast<std::int64_t>(spec.method.seed));
    f.attribute("particles", spec.method.particles);
    f.attribute("replicates", spec.method.replicates);
    f.attribute("quantile", spec.method.quantile);
    f.attribute("min_acceptance", spec.method.min_acceptance);
    f.attribute("kernel", std::string(spec.method.covariance ? "covariance" : "diagonal"));
    f.attribute("generations", static_cast<std::int64_t>(G));
    f.attribute("stop_reason", res.stop_reason);
    f.attribute("evaluations", res.evaluations);
    f.attribute("failed", res.failed);
    f.attribute("created", info.created);
    f.attribute("threads", static_cast<std::int64_t>(info.threads));
    f.attribute("ranks", static_cast<std::int64_t>(info.ranks));
    f.attribute("shards", static_cast<std::int64_t>(info.shards));
    f.attribute("seconds", res.seconds);
    f.attribute("run_seconds", res.run_seconds);
    std::string fixed;
    for (const auto& s : spec.fixed)
      fixed += (fixed.empty() ? "" : "\n") + s;
    f.attribute("set", fixed);
    {
      h5::Group g(f, "parameters", true);
      std::vector<std::string> key, name, prior;
      std::vector<double> low, high, mean, sd;
      for (const auto& p : spec.parameters) {
        key.push_back(p.key);
        name.push_back(p.name);
        prior.push_back(prior_name(p.prior));
        const bool bounded = p.prior != Prior::normal;
        const bool gauss = p.prior == Prior::normal || p.prior == Prior::truncated_normal;
        constexpr double nan = std::numeric_limits<double>::quiet_NaN();
        low.push_back(bounded ? p.low : nan);
        high.push_back(bounded ? p.high : nan);
        mean.push_back(gauss ? p.mean : nan);
        sd.push_back(gauss ? p.sd : nan);
      }
      h5::write_strings(g, "key", key, {P});
      h5::write_strings(g, "name", name, {P});
      h5::write_strings(g, "prior", prior, {P});
      h5::write_double(g, "low", low, {P});
      h5::write_double(g, "high", high, {P});
      h5::write_double(g, "mean", mean, {P});
      h5::write_double(g, "sd", sd, {P});
    }
    {
      h5::Group g(f, "generations", true);
      std::vector<double> tol, rate, secs, parts, weights, dist, tdist;
      std::vector<std::int64_t> proposals, evals;
      for (const auto& gen : res.generations) {
        tol.push_back(gen.tolerance);
        rate.push_back(gen.acceptance_rate);
        secs.push_back(gen.seconds);
        proposals.push_back(gen.proposals);
        evals.push_back(gen.evaluations);
        parts.insert(parts.end(), gen.particles.begin(), gen.particles.end());
        weights.insert(weights.end(), gen.weights.begin(), gen.weights.end());
        dist.insert(dist.end(), gen.distances.begin(), gen.distances.end());
        tdist.insert(tdist.end(), gen.target_distances.begin(), gen.target_distances.end());
      }
      h5::write_double(g, "tolerance", tol, {G});
      h5::write_double(g, "acceptance_rate", rate, {G});
      h5::write_int64(g, "proposals", proposals, {G});
      h5::write_int64(g, "evaluations", evals, {G});
      h5::write_double(g, "seconds", secs, {G});
      h5::write_double(g, "particles", parts, {G, N, P});
      h5::write_double(g, "weights", weights, {G, N});
      h5::write_double(g, "distances", dist, {G, N});
      h5::write_double(g, "target_distances", tdist, {G, N, K});
    }
    {
      h5::Group g(f, "posterior", true);
      h5::write_double(g, "q05", res.q05, {P});
      h5::write_double(g, "median", res.q50, {P});
      h5::write_double(g, "q95", res.q95, {P});
      h5::write_double(g, "mean", res.mean, {P});
      const auto M = static_cast<hsize_t>(spec.method.predictive);
      h5::write_double(g, "predictive_particles", res.predictive_particles, {M, P});
    }
    {
      h5::Group all(f, "targets", true);
      for (std::size_t k = 0; k < spec.targets.size(); ++k) {
        const Target& t = spec.targets[k];
        h5::Group g(all, std::to_string(k), true);
        g.attribute("name", t.name);
        g.attribute("file", t.file);
        g.attribute("series", t.series);
        g.attribute("geo", t.geo);
        g.attribute("output", std::string(quantity_name(t.quantity)));
        std::string inn, ter;
        for (const auto& s : t.innovation_names)
          inn += (inn.empty() ? "" : " ") + s;
        for (const auto& s : t.territory_names)
          ter += (ter.empty() ? "" : " ") + s;
        g.attribute("innovations", inn);
        g.attribute("territories", ter);
        g.attribute("start_year", static_cast<std::int64_t>(t.start_year));
        g.attribute("scale",
                    t.scale_parameter >= 0
                        ? std::string("parameter ") +
                              spec.parameters[static_cast<std::size_t>(t.scale_parameter)].key
                        : std::to_string(t.scale));
        g.attribute("distance", std::string(distance_name(t.distance)));
        g.attribute("weight", t.weight);
        std::vector<std::int64_t> oy, line;
        std::vector<double> ov;
        std::vector<std::string> notes;
        for (const auto& o : t.observed) {
          oy.push_back(o.year);
          ov.push_back(o.value);
          notes.push_back(o.note);
          line.push_back(o.line);
        }
        h5::write_int64(g, "observed_year", oy);
        h5::write_double(g, "observed_value", ov);
        h5::write_strings(g, "observed_note", notes, {notes.size()});
        h5::write_int64(g, "observed_line", line);
        const auto Y = static_cast<std::size_t>(t.years);
        const std::size_t off = spec.series_offset(k), S = spec.series_size();
        std::vector<std::int64_t> years(Y);
        for (std::size_t y = 0; y < Y; ++y)
          years[y] = t.start_year + static_cast<std::int64_t>(y);
        h5::write_int64(g, "year", years);
        const auto slice = [&](const std::vector<double>& v) {
          return v.empty() ? std::vector<double>{}
                           : std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(off),
                                                 v.begin() + static_cast<std::ptrdiff_t>(off + Y));
        };
        h5::write_double(g, "predictive_q05", slice(res.predictive_q05));
        h5::write_double(g, "predictive_median", slice(res.predictive_q50));
        h5::write_double(g, "predictive_q95", slice(res.predictive_q95));
        const std::size_t M = static_cast<std::size_t>(spec.method.predictive);
        std::vector<double> series;
        for (std::size_t m = 0; m < M && !res.predictive_series.empty(); ++m)
          series.insert(series.end(),
                        res.predictive_series.begin() + static_cast<std::ptrdiff_t>(m * S + off),
                        res.predictive_series.begin() +
                            static_cast<std::ptrdiff_t>(m * S + off + Y));
        h5::write_double(g, "predictive_series", series,
                         {static_cast<hsize_t>(M), static_cast<hsize_t>(Y)});
      }
    }
    f.attribute("complete", std::int64_t{1});
    f.close();
  });
}

} // namespace csei::calibrate
