// Sweep files: provenance, parameters, design, runs, outcomes and optional series.
#include "sweep/writer.hpp"

#include "core/files.hpp"
#include "output/h5.hpp"

#include <cmath>
#include <limits>
#include <unistd.h>

namespace csei {

using sweep::RunRecord;

std::size_t SweepHeader::series_size() const {
  if (series == "none" || series_rows <= 0) return 0;
  const std::size_t cells = innovations.size() * (series == "total" ? 1 : territories.size());
  return static_cast<std::size_t>(series_rows) * cells;
}

SweepHeader make_sweep_header(const sweep::SweepSpec& s, const sweep::Design& d) {
  SweepHeader h;
  h.name = s.name;
  h.description = s.description;
  h.sweep_text = s.source;
  h.sweep_file = s.file;
  h.scenario_text = s.scenario_text;
  h.scenario_file = s.scenario_file;
  h.version = CSEI_VERSION;
  h.fingerprint = s.fingerprint();
  h.design = sweep::design_name(s.design);
  h.series = sweep::series_name(s.series);
  h.seed = static_cast<std::int64_t>(s.seed);
  h.design_seed = static_cast<std::int64_t>(s.design_seed);
  h.common_seeds = s.common_seeds ? 1 : 0;
  h.replicates = s.replicates;
  h.points = static_cast<std::int64_t>(d.points);
  h.runs = s.runs();
  h.samples = s.samples;
  h.trajectories = s.trajectories;
  h.levels = s.design == sweep::DesignKind::morris ? s.levels : 0;
  h.morris_delta = d.morris_delta;
  h.fixed = s.fixed;
  for (const auto& p : s.parameters) {
    h.keys.push_back(p.key);
    h.names.push_back(p.name);
    h.types.push_back(sweep::type_name(p.type));
    const bool level = p.type == sweep::ValueType::level;
    h.distributions.push_back(level ? "levels" : sweep::distribution_name(p.distribution));
    std::string levels;
    for (const auto& l : p.levels)
      levels += (levels.empty() ? "[" : ", ") + l;
    h.levels_text.push_back(level ? levels + "]" : "");
    h.low.push_back(level ? 0.0 : p.low);
    h.high.push_back(level ? static_cast<double>(p.levels.size() - 1) : p.high);
  }
  h.unit = d.unit;
  h.value = d.value;
  h.text = d.text;
  for (std::int64_t r = 0; r < h.runs; ++r) {
    const std::int64_t point = r / s.replicates, rep = r % s.replicates;
    h.point.push_back(point);
    h.replicate.push_back(rep);
    h.run_seed.push_back(static_cast<std::int64_t>(s.run_seed(point, rep)));
  }
  h.outcomes = s.outcomes;
  if (s.series != sweep::SeriesMode::none) {
    h.series_rows = s.base.steps + 1;
    for (const auto& i : s.base.innovations)
      h.innovations.push_back(i.name);
    for (const auto& t : s.base.territories)
      h.territories.push_back(t.code);
  }
  return h;
}

void write_sweep_file(const std::filesystem::path& path, const SweepHeader& h,
                      const std::vector<RunRecord>& records, const SweepWriteInfo& info) {
  if (records.size() != static_cast<std::size_t>(h.runs))
    throw std::logic_error("write_sweep_file: one record per run expected");
  const std::filesystem::path temp = files::begin_partial(path);
  const auto P = static_cast<hsize_t>(h.keys.size()), N = static_cast<hsize_t>(h.points),
             R = static_cast<hsize_t>(h.runs), M = static_cast<hsize_t>(h.outcomes.size());
  files::write_partial(temp, path, "sweep file", [&] {
    h5::File f(temp.string(), h5::File::Mode::create);
    std::int64_t ok = 0, failed = 0, pending = 0;
    for (const auto& r : records) {
      ok += r.status == RunRecord::Status::ok;
      failed += r.status == RunRecord::Status::failed;
      pending += r.status == RunRecord::Status::pending;
    }
    f.attribute("schema_version", kSweepSchemaVersion);
    f.attribute("kind", std::string("sweep"));
    f.attribute("name", h.name);
    f.attribute("description", h.description);
    f.attribute("sweep", h.sweep_text);
    f.attribute("sweep_file", h.sweep_file);
    f.attribute("scenario", h.scenario_text);
    f.attribute("scenario_file", h.scenario_file);
    f.attribute("version", h.version);
    f.attribute("fingerprint", h.fingerprint);
    f.attribute("design", h.design);
    f.attribute("series", h.series);
    f.attribute("seed", h.seed);
    f.attribute("design_seed", h.design_seed);
    f.attribute("common_seeds", h.common_seeds);
    f.attribute("replicates", h.replicates);
    f.attribute("points", h.points);
    f.attribute("runs", h.runs);
    f.attribute("samples", h.samples);
    f.attribute("trajectories", h.trajectories);
    f.attribute("levels", h.levels);
    f.attribute("morris_delta", h.morris_delta);
    f.attribute("ok", ok);
    f.attribute("failed", failed);
    f.attribute("pending", pending);
    f.attribute("created", info.created);
    f.attribute("threads", static_cast<std::int64_t>(info.threads));
    f.attribute("ranks", static_cast<std::int64_t>(info.ranks));
    f.attribute("shard", info.shard);
    f.attribute("seconds", info.seconds);

    {
      h5::Group g(f, "parameters", true);
      h5::write_strings(g, "key", h.keys, {P});
      h5::write_strings(g, "name", h.names, {P});
      h5::write_strings(g, "type", h.types, {P});
      h5::write_strings(g, "distribution", h.distributions, {P});
      h5::write_strings(g, "levels", h.levels_text, {P});
      h5::write_double(g, "low", h.low, {P});
      h5::write_double(g, "high", h.high, {P});
    }
    {
      h5::Group g(f, "design", true);
      h5::write_double(g, "unit", h.unit, {N, P});
      h5::write_double(g, "value", h.value, {N, P});
      h5::write_strings(g, "text", h.text, {N, P});
      h5::write_strings(g, "set", h.fixed, {h.fixed.size()});
    }
    {
      h5::Group g(f, "runs", true);
      h5::write_int64(g, "point", h.point);
      h5::write_int64(g, "replicate", h.replicate);
      h5::write_int64(g, "seed", h.run_seed);
      std::vector<std::int64_t> status, steps;
      std::vector<std::string> errors;
      for (const auto& r : records) {
        status.push_back(static_cast<std::int64_t>(r.status));
        steps.push_back(r.status == RunRecord::Status::ok ? r.steps : -1);
        errors.push_back(r.error);
      }
      h5::write_int64(g, "status", status);
      h5::write_int64(g, "steps", steps);
      h5::write_strings(g, "error", errors, {R});
    }
    {
      h5::Group g(f, "outcomes", true);
      h5::write_strings(g, "names", h.outcomes, {M});
      std::vector<double> values(R * M, std::numeric_limits<double>::quiet_NaN());
      for (std::size_t r = 0; r < records.size(); ++r)
        if (records[r].status == RunRecord::Status::ok && records[r].metrics.size() == M)
          std::copy(records[r].metrics.begin(), records[r].metrics.end(),
                    values.begin() + static_cast<std::ptrdiff_t>(r * M));
      h5::write_double(g, "values", values, {R, M});
    }
    if (h.series_size() > 0) {
      h5::Group g(f, "series", true);
      h5::write_strings(g, "innovations", h.innovations, {h.innovations.size()});
      h5::write_strings(g, "territories", h.territories, {h.territories.size()});
      std::vector<hsize_t> dims{R, static_cast<hsize_t>(h.series_rows), h.innovations.size()};
      if (h.series == "territories") dims.push_back(h.territories.size());
      std::vector<hsize_t> chunk = dims;
      chunk[0] = 1;
      h5::Handle space = h5::dataspace(dims);
      h5::Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dataset properties");
      h5::check(H5Pset_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data()),
                "chunking series");
      const std::int64_t fill = -1;
      h5::check(H5Pset_fill_value(plist.id(), H5T_NATIVE_INT64, &fill), "series fill value");
      if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        h5::check(H5Pset_shuffle(plist.id()), "shuffle filter");
        h5::check(H5Pset_deflate(plist.id(), 4), "deflate filter");
      }
      h5::Handle ds(H5Dcreate2(g.id(), "adopters", H5T_STD_I64LE, space.id(), H5P_DEFAULT,
                               plist.id(), H5P_DEFAULT),
                    H5Dclose, "creating dataset series/adopters");
      const std::size_t per_run = h.series_size();
      std::vector<hsize_t> start(dims.size(), 0);
      h5::Handle mem = h5::dataspace(chunk);
      for (std::size_t r = 0; r < records.size(); ++r) {
        if (records[r].status != RunRecord::Status::ok || records[r].series.size() != per_run)
          continue;
        start[0] = r;
        h5::Handle fs(H5Dget_space(ds.id()), H5Sclose, "dataspace");
        h5::check(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start.data(), nullptr, chunk.data(),
                                      nullptr),
                  "selecting a run's series");
        h5::check(H5Dwrite(ds.id(), H5T_NATIVE_INT64, mem.id(), fs.id(), H5P_DEFAULT,
                           records[r].series.data()),
                  "writing series/adopters");
      }
    }
    f.attribute("complete", std::int64_t{1});
    f.flush();
  });
}

SweepFile read_sweep_file(const std::filesystem::path& path) {
  const std::string p = path.string();
  files::require_regular(path, {p, 0, 0, ""}, "sweep file");
  std::unique_ptr<h5::File> file;
  try {
    file = std::make_unique<h5::File>(p, h5::File::Mode::read);
  } catch (const OutputError&) {
    throw InputError({p, 0, 0, ""}, "cannot read: not an HDF5 file or unreadable");
  }
  h5::File& f = *file;
  h5::refuse_foreign_data(f, p);
  try {
    if (!f.has_attribute("kind") || f.string_attribute("kind") != "sweep")
      throw InputError({p, 0, 0, ""}, "not a csei sweep file");
    if (f.int_attribute("schema_version") != kSweepSchemaVersion)
      throw InputError({p, 0, 0, "schema_version"},
                       "unsupported sweep schema version " +
                           std::to_string(f.int_attribute("schema_version")));
  } catch (const OutputError& e) {
    throw InputError({p, 0, 0, ""}, std::string("damaged sweep file: ") + e.what());
  }
  if (!f.has_attribute("complete")) throw InputError({p, 0, 0, ""}, "the file is incomplete");
  SweepFile out;
  SweepHeader& h = out.header;
  try {
    h.name = f.string_attribute("name");
    h.description = f.string_attribute("description");
    h.sweep_text = f.string_attribute("sweep");
    h.sweep_file = f.string_attribute("sweep_file");
    h.scenario_text = f.string_attribute("scenario");
    h.scenario_file = f.string_attribute("scenario_file");
    h.version = f.string_attribute("version");
    h.fingerprint = f.string_attribute("fingerprint");
    h.design = f.string_attribute("design");
    h.series = f.string_attribute("series");
    h.seed = f.int_attribute("seed");
    h.design_seed = f.int_attribute("design_seed");
    h.common_seeds = f.int_attribute("common_seeds");
    h.replicates = f.int_attribute("replicates");
    h.points = f.int_attribute("points");
    h.runs = f.int_attribute("runs");
    h.samples = f.int_attribute("samples");
    h.trajectories = f.int_attribute("trajectories");
    h.levels = f.int_attribute("levels");
    h.morris_delta = f.double_attribute("morris_delta");
    out.shard = f.string_attribute("shard");

    const h5::Group par(f, "parameters", false), des(f, "design", false), runs(f, "runs", false),
        outc(f, "outcomes", false);
    h.keys = h5::read_strings(par, "key");
    h.names = h5::read_strings(par, "name");
    h.types = h5::read_strings(par, "type");
    h.distributions = h5::read_strings(par, "distribution");
    h.levels_text = h5::read_strings(par, "levels");
    h.low = h5::read_double(par, "low");
    h.high = h5::read_double(par, "high");
    h.unit = h5::read_double(des, "unit");
    h.value = h5::read_double(des, "value");
    h.text = h5::read_strings(des, "text");
    h.fixed = h5::read_strings(des, "set");
    h.point = h5::read_int64(runs, "point");
    h.replicate = h5::read_int64(runs, "replicate");
    h.run_seed = h5::read_int64(runs, "seed");
    h.outcomes = h5::read_strings(outc, "names");
    const auto status = h5::read_int64(runs, "status");
    const auto steps = h5::read_int64(runs, "steps");
    const auto errors = h5::read_strings(runs, "error");
    const auto values = h5::read_double(outc, "values");
    // Every table is checked against the counts it depends on before anything indexes it.
    if (h.runs < 0 || h.points < 0 || h.replicates < 0)
      throw InputError({p, 0, 0, "runs"}, "negative run, point or replicate count");
    const std::size_t P = h.keys.size();
    if (h.names.size() != P || h.types.size() != P || h.distributions.size() != P ||
        h.levels_text.size() != P || h.low.size() != P || h.high.size() != P)
      throw InputError({p, 0, 0, "parameters"},
                       "the parameter tables do not match the number of parameters");
    const std::size_t N = static_cast<std::size_t>(h.points);
    if (h.unit.size() != N * P || h.value.size() != N * P || h.text.size() != N * P)
      throw InputError({p, 0, 0, "design"}, "the design tables do not match points x parameters");
    const std::size_t R = static_cast<std::size_t>(h.runs), M = h.outcomes.size();
    if (h.replicate.size() != R || h.run_seed.size() != R)
      throw InputError({p, 0, 0, "runs"}, "the run tables do not match the number of runs");
    for (const auto pt : h.point)
      if (pt < 0 || static_cast<std::size_t>(pt) >= N)
        throw InputError({p, 0, 0, "runs/point"}, "a run names a point outside the design");
    if (status.size() != R || steps.size() != R || errors.size() != R || values.size() != R * M ||
        h.point.size() != R)
      throw InputError({p, 0, 0, "runs"}, "the run tables do not match the number of runs");
    std::vector<std::int64_t> series;
    std::size_t per_run = 0;
    if (h.series != "none") {
      const h5::Group ser(f, "series", false);
      h.innovations = h5::read_strings(ser, "innovations");
      h.territories = h5::read_strings(ser, "territories");
      std::vector<hsize_t> dims;
      series = h5::read_int64(ser, "adopters", &dims);
      h.series_rows = dims.size() > 1 ? static_cast<std::int64_t>(dims[1]) : 0;
      per_run = h.series_size();
      if (series.size() != R * per_run)
        throw InputError({p, 0, 0, "series/adopters"}, "unexpected shape");
    }
    out.records.resize(R);
    for (std::size_t r = 0; r < R; ++r) {
      RunRecord& rec = out.records[r];
      rec.run = static_cast<std::int64_t>(r);
      if (status[r] < 0 || status[r] > 2)
        throw InputError({p, 0, 0, "runs/status"}, "invalid status " + std::to_string(status[r]));
      rec.status = static_cast<RunRecord::Status>(status[r]);
      rec.error = errors[r];
      if (rec.status == RunRecord::Status::pending) continue;
      rec.steps = rec.status == RunRecord::Status::ok ? steps[r] : -1;
      rec.metrics.assign(M, std::numeric_limits<double>::quiet_NaN());
      if (rec.status == RunRecord::Status::ok) {
        std::copy(values.begin() + static_cast<std::ptrdiff_t>(r * M),
                  values.begin() + static_cast<std::ptrdiff_t>((r + 1) * M), rec.metrics.begin());
        if (per_run > 0)
          rec.series.assign(series.begin() + static_cast<std::ptrdiff_t>(r * per_run),
                            series.begin() + static_cast<std::ptrdiff_t>((r + 1) * per_run));
      }
    }
  } catch (const OutputError& e) {
    throw InputError({p, 0, 0, ""}, std::string("damaged sweep file: ") + e.what());
  }
  return out;
}

} // namespace csei
