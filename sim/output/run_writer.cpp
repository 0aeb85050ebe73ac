// HDF5 run files: provenance attributes, territory and innovation tables, per-step series.
#include "output/run_writer.hpp"

#include "output/h5.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <unistd.h>

namespace csei {

struct RunWriter::Impl {
  h5::File file;
  h5::Group series;
  h5::RowAppender adopters;
  h5::RowAppender new_adopters;
  std::vector<std::int64_t> row;

  Impl(const std::string& temp, std::size_t innovations, std::size_t territories, hsize_t chunk)
      : file(temp, h5::File::Mode::create), series(file, "series", true),
        adopters(series, "adopters", {innovations, territories}, chunk),
        new_adopters(series, "new_adopters", {innovations, territories}, chunk) {}
};

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunWriter::RunWriter(std::filesystem::path path, const Scenario& s, const World& w,
                     const RunInfo& info)
    : path_(std::move(path)) {
  if (path_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec)
      throw OutputError(path_.parent_path().string() +
                        ": cannot create directory: " + ec.message());
  }
  temp_ = path_;
  temp_ += ".partial-" + std::to_string(::getpid());
  // About 64 KiB per chunk, and never more rows than the run has.
  const std::size_t cells = std::max<std::size_t>(1, s.innovations.size() * s.territories.size());
  const auto chunk = static_cast<hsize_t>(
      std::clamp<std::size_t>(8192 / cells, 1, static_cast<std::size_t>(s.steps + 1)));
  try {
    impl_ =
        std::make_unique<Impl>(temp_.string(), s.innovations.size(), s.territories.size(), chunk);
    h5::File& f = impl_->file;
    f.attribute("schema_version", kSchemaVersion);
    f.attribute("scenario", s.source);
    f.attribute("scenario_name", s.name);
    f.attribute("seed", info.seed);
    f.attribute("threads", static_cast<std::int64_t>(info.threads));
    f.attribute("version", info.version);
    f.attribute("created", info.created);
    f.attribute("steps", s.steps);
    f.attribute("steps_per_year", s.steps_per_year);
    f.attribute("organisations", w.organisation_count());
    f.attribute("links", w.network.complete ? std::int64_t{-1} : w.network.link_count());

    h5::Group terr(f, "territories", true);
    std::vector<std::string> codes, names;
    std::vector<double> pop, lat, lon;
    std::vector<std::int64_t> orgs;
    for (std::size_t t = 0; t < s.territories.size(); ++t) {
      const Territory& tr = s.territories[t];
      codes.push_back(tr.code);
      names.push_back(tr.name);
      pop.push_back(tr.population);
      lat.push_back(tr.lat);
      lon.push_back(tr.lon);
      orgs.push_back(w.territory_begin[t + 1] - w.territory_begin[t]);
    }
    h5::write_strings(terr, "code", codes);
    h5::write_strings(terr, "name", names);
    h5::write_int64(terr, "organisations", orgs);
    h5::write_double(terr, "population", pop);
    h5::write_double(terr, "lat", lat);
    h5::write_double(terr, "lon", lon);

    h5::Group inn(f, "innovations", true);
    std::vector<std::string> inames, rules;
    std::vector<std::int64_t> pioneers;
    for (const auto& i : s.innovations) {
      inames.push_back(i.name);
      rules.push_back(rule_name(i.rule));
      pioneers.push_back(i.pioneers);
    }
    h5::write_strings(inn, "name", inames);
    h5::write_strings(inn, "rule", rules);
    h5::write_int64(inn, "pioneers", pioneers);
  } catch (...) {
    impl_.reset();
    std::filesystem::remove(temp_);
    throw;
  }
}

RunWriter::~RunWriter() {
  if (impl_) {
    impl_.reset();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void RunWriter::record(const StepCounts& c) {
  impl_->row.assign(c.adopters.begin(), c.adopters.end());
  impl_->adopters.append(impl_->row);
  impl_->row.assign(c.new_adopters.begin(), c.new_adopters.end());
  impl_->new_adopters.append(impl_->row);
}

void RunWriter::commit() {
  impl_->file.attribute("complete", std::int64_t{1});
  impl_->file.flush();
  impl_.reset(); // closes every handle, so the file is whole on disk before the rename
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) {
    std::filesystem::remove(temp_, ec);
    throw OutputError(path_.string() +
                      ": cannot move the finished file into place: " + ec.message());
  }
}

} // namespace csei
