// Tidy CSV export of a run file (output/export.hpp).
#include "output/export.hpp"

#include "core/error.hpp"
#include "core/files.hpp"
#include "kernel/series.hpp"
#include "kernel/summary.hpp"
#include "output/h5.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace csei {

namespace {

/// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "" : (v > 0 ? "inf" : "-inf");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool exists(const h5::Location& at, const std::string& name) {
  return H5Lexists(at.id(), name.c_str(), H5P_DEFAULT) > 0;
}

/// A failure to write an export (kept apart from reading failures, which are input errors).
class WriteError : public OutputError {
public:
  using OutputError::OutputError;
};

/// Writes a file under a temporary name and moves it into place when complete.
class CsvFile {
public:
  explicit CsvFile(std::filesystem::path path)
      : path_(std::move(path)), temp_(files::partial_name(path_)), out_(temp_) {
    if (!out_) throw WriteError(temp_.string() + ": cannot write: " + files::reason(errno));
  }
  ~CsvFile() {
    if (!done_) {
      out_.close();
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
    }
  }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  std::ofstream& out() { return out_; }
  void commit() {
    out_.close();
    if (!out_) throw WriteError(temp_.string() + ": cannot write: " + files::reason(errno));
    done_ = true; // commit_partial removes the temporary file if the move fails
    try {
      files::commit_partial(temp_, path_);
    } catch (const OutputError& e) {
      throw WriteError(e.what());
    }
  }

private:
  std::filesystem::path path_, temp_;
  std::ofstream out_;
  bool done_ = false;
};

} // namespace

std::vector<std::filesystem::path> export_csv(const std::filesystem::path& run_file,
                                              const std::filesystem::path& out_dir) {
  const std::string file = run_file.string();
  files::require_regular(run_file, {file, 0, 0, ""}, "run file");
  std::unique_ptr<h5::File> f;
  try {
    f = std::make_unique<h5::File>(file, h5::File::Mode::read);
  } catch (const OutputError&) {
    throw InputError({file, 0, 0, ""}, "cannot read: not an HDF5 file or unreadable");
  }
  h5::refuse_foreign_data(*f, file);
  const auto bad = [&](const std::string& key, const std::string& why) {
    return InputError({file, 0, 0, key}, "cannot export: " + why);
  };
  const std::string stem = run_file.stem().string();
  const std::filesystem::path series_path = out_dir / (stem + "_series.csv"),
                              summary_path = out_dir / (stem + "_summary.csv");
  const std::vector<files::Input> inputs{{file, "the run file"}};
  const auto series_target = files::check_output(series_path.string(), inputs, "the export");
  const auto summary_target = files::check_output(summary_path.string(), inputs, "the export");
  try {
    if (f->has_attribute("kind") && f->string_attribute("kind") == "sweep")
      throw bad("kind", "this is a sweep file; export reads run files");
    if (!f->has_attribute("schema_version") || !f->has_attribute("steps"))
      throw bad("schema_version", "not a csei run file (no schema_version or steps attribute)");
    const std::int64_t schema = f->int_attribute("schema_version");
    if (schema < 3)
      throw bad("schema_version", "schema " + std::to_string(schema) +
                                      " has no named dimensions; rerun it with `csei run --from " +
                                      file + "` to get a schema 4 file");
    const std::int64_t steps = f->int_attribute("steps");
    const double per_year = f->double_attribute("steps_per_year");
    if (steps < 0 || steps > 1'000'000) throw bad("steps", "out of range");
    if (!std::isfinite(per_year) || per_year <= 0)
      throw bad("steps_per_year", "is not a positive number");
    const double represents =
        f->has_attribute("represents") ? f->double_attribute("represents") : 1.0;
    const h5::Group series(*f, "series", false);
    // The labels of each axis, from the dimension-scale datasets.
    std::vector<std::vector<std::string>> labels(kSeriesDimNames.size());
    for (std::size_t d = 0; d < kSeriesDimNames.size(); ++d) {
      const std::string name(kSeriesDimNames[d]);
      if (static_cast<SeriesDim>(d) == SeriesDim::event) {
        if (exists(*f, "policy")) {
          const h5::Group policy(*f, "policy", false);
          if (exists(policy, "event")) labels[d] = h5::read_strings(policy, "event");
        }
      } else if (exists(series, name)) {
        labels[d] = h5::read_strings(series, name);
      }
    }
    const auto rows = static_cast<std::size_t>(steps + 1);
    // A replicate file (schema 5): a leading replicate axis, whose coordinate holds the seeds,
    // and per replicate the names of its cluster slots.
    const bool replicated = f->has_attribute("replicates");
    std::vector<std::int64_t> seeds;
    std::vector<std::string> cluster_names;
    if (replicated) {
      seeds = h5::read_int64(series, "replicate");
      if (seeds.empty() ||
          static_cast<std::int64_t>(seeds.size()) != f->int_attribute("replicates"))
        throw bad("series/replicate", "has " + std::to_string(seeds.size()) +
                                          " seeds for the file's replicates attribute");
      if (exists(series, "cluster_name")) cluster_names = h5::read_strings(series, "cluster_name");
      const auto C = labels[static_cast<std::size_t>(SeriesDim::cluster)].size();
      if (!cluster_names.empty() && cluster_names.size() != seeds.size() * C)
        throw bad("series/cluster_name", "has " + std::to_string(cluster_names.size()) +
                                             " names for " + std::to_string(seeds.size()) +
                                             " replicates x " + std::to_string(C) + " slots");
    }
    const std::size_t reps = replicated ? seeds.size() : 1, lead_axes = replicated ? 2 : 1;
    const std::string lead_header = replicated ? "replicate," : "";

    {
      CsvFile csv(series_target);
      auto& out = csv.out();
      out << lead_header << "step,year,innovation,territory,group,variable,value,units\n";
      const auto write_series = [&](const h5::Location& g, const std::string& gname,
                                    const SeriesDef& def) {
        const std::string name(def.name);
        if (!exists(g, name)) return; // a series newer than the file
        const std::string key = gname + "/" + name;
        const h5::Dataset ds(g, name);
        const auto dims = ds.dims();
        if (dims.size() != def.rank + lead_axes)
          throw bad(key, "has " + std::to_string(dims.size()) + " dimensions; expected " +
                             std::to_string(def.rank + lead_axes));
        if (replicated && dims[0] != reps)
          throw bad(key, "has " + std::to_string(dims[0]) + " replicates; the file says " +
                             std::to_string(reps));
        if (dims[lead_axes - 1] != rows)
          throw bad(key, "has " + std::to_string(dims[lead_axes - 1]) + " steps; the file says " +
                             std::to_string(steps) + " (+1 for step 0)");
        std::size_t cells = 1;
        for (std::size_t a = 0; a < def.rank; ++a) {
          const auto& l = labels[static_cast<std::size_t>(def.dims[a])];
          if (dims[a + lead_axes] != l.size())
            throw bad(key, "axis " + std::string(dim_name(def.dims[a])) + " has " +
                               std::to_string(dims[a + lead_axes]) + " entries for " +
                               std::to_string(l.size()) + " labels");
          cells *= l.size();
        }
        const std::string units = field(std::string(def.units));
        std::vector<std::int64_t> ints;
        std::vector<double> reals;
        if (def.type == SeriesType::int64)
          ints = h5::read_int64(g, name);
        else
          reals = h5::read_double(g, name);
        if ((def.type == SeriesType::int64 ? ints.size() : reals.size()) != reps * rows * cells)
          throw bad(key, "holds a different number of values than its shape");
        const std::size_t C = labels[static_cast<std::size_t>(SeriesDim::cluster)].size();
        for (std::size_t rep = 0; rep < reps; ++rep)
          for (std::size_t r = 0; r < rows; ++r) {
            const std::string lead = (replicated ? std::to_string(seeds[rep]) + "," : "") +
                                     std::to_string(r) + "," +
                                     number(static_cast<double>(r) / per_year) + ",";
            for (std::size_t c = 0; c < cells; ++c) {
              // The labels of cell c, innermost axis last.
              std::string innovation, territory, group;
              std::size_t rest = c;
              for (std::size_t a = def.rank; a-- > 0;) {
                const auto d = static_cast<std::size_t>(def.dims[a]);
                const std::size_t at = rest % labels[d].size();
                rest /= labels[d].size();
                const std::string& l = def.dims[a] == SeriesDim::cluster && !cluster_names.empty()
                                           ? cluster_names[rep * C + at]
                                           : labels[d][at];
                if (def.dims[a] == SeriesDim::innovation)
                  innovation = l;
                else if (def.dims[a] == SeriesDim::territory)
                  territory = l;
                else
                  group = l;
              }
              const std::size_t i = (rep * rows + r) * cells + c;
              out << lead << field(innovation) << ',' << field(territory) << ',' << field(group)
                  << ',' << name << ','
                  << (def.type == SeriesType::int64 ? std::to_string(ints[i]) : number(reals[i]))
                  << ',' << units << '\n';
            }
          }
      };
      for (const SeriesDef& def : kSeries)
        write_series(series, "series", def);
      if (exists(*f, "policy")) {
        const h5::Group policy(*f, "policy", false);
        for (const SeriesDef& def : kPolicySeries)
          write_series(policy, "policy", def);
      }
      csv.commit();
    }

    {
      CsvFile csv(summary_target);
      auto& out = csv.out();
      out << lead_header << "innovation,metric,value,units,real_value,represents\n";
      const h5::Group summary(*f, "summary", false);
      const auto& innovations = labels[static_cast<std::size_t>(SeriesDim::innovation)];
      for (const MetricDef& m : summary_metrics()) {
        const std::string name(m.name);
        if (!exists(summary, name)) continue;
        const auto values = h5::read_double(summary, name);
        if (values.size() != reps * innovations.size())
          throw bad("summary/" + name, "has " + std::to_string(values.size()) + " values for " +
                                           std::to_string(reps) + " x " +
                                           std::to_string(innovations.size()) + " innovations");
        for (std::size_t i = 0; i < values.size(); ++i) {
          const std::size_t rep = i / innovations.size(), k = i % innovations.size();
          // Steps: -1 is "never", written as an empty field like NaN.
          const double v = m.step && values[i] < 0 ? NAN : values[i];
          out << (replicated ? std::to_string(seeds[rep]) + "," : "") << field(innovations[k])
              << ',' << name << ',' << number(v) << ',' << field(std::string(m.units)) << ','
              << (m.real ? number(v * represents) : "") << ',' << number(represents) << '\n';
        }
      }
      csv.commit();
    }
  } catch (const WriteError&) {
    throw;
  } catch (const OutputError& e) {
    // Reading failures inside the file are input errors; write failures stay output errors.
    throw InputError({file, 0, 0, ""}, std::string("not a readable csei run file: ") + e.what());
  }
  return {series_target, summary_target};
}

} // namespace csei
