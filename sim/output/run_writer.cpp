// HDF5 run files: provenance attributes, territory and innovation tables, per-step series.
#include "output/run_writer.hpp"

#include "output/h5.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <unistd.h>

namespace csei {

struct RunWriter::Impl {
  using Type = h5::RowAppender::Type;
  h5::File file;
  h5::Group series;
  h5::RowAppender adopters, new_adopters, aware, abandoned, member_adopters, members, by_form, jobs,
      impact, transfers, cluster_members, cluster_adopters;

  Impl(const std::string& temp, hsize_t I, hsize_t T, hsize_t C, hsize_t chunk)
      : file(temp, h5::File::Mode::create), series(file, "series", true),
        adopters(series, "adopters", {I, T}, chunk),
        new_adopters(series, "new_adopters", {I, T}, chunk), aware(series, "aware", {I, T}, chunk),
        abandoned(series, "abandoned", {I, T}, chunk),
        member_adopters(series, "member_adopters", {I, T}, chunk),
        members(series, "members", {T}, chunk),
        by_form(series, "adopters_by_form", {I, kLegalFormCount}, chunk),
        jobs(series, "jobs", {I, T}, chunk, Type::float64),
        impact(series, "impact", {I, T}, chunk, Type::float64),
        transfers(series, "transfers", {I, T}, chunk),
        cluster_members(series, "cluster_members", {C}, chunk),
        cluster_adopters(series, "cluster_adopters", {I, C}, chunk) {}
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
    impl_ = std::make_unique<Impl>(temp_.string(), s.innovations.size(), s.territories.size(),
                                   cluster_slots(s, w), chunk);
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
    std::vector<std::string> kinds;
    std::vector<std::int64_t> launch;
    for (const auto& i : s.innovations) {
      kinds.push_back(kind_name(i.kind));
      launch.push_back(i.launch_step);
    }
    h5::write_strings(inn, "kind", kinds);
    h5::write_int64(inn, "launch_step", launch);

    h5::Group forms(f, "legal_forms", true);
    std::vector<std::int64_t> per_form(kLegalFormCount, 0);
    for (const auto form : w.organisations.form)
      ++per_form[static_cast<std::size_t>(form)];
    h5::write_strings(forms, "name", {kLegalFormNames.begin(), kLegalFormNames.end()});
    h5::write_int64(forms, "organisations", per_form);
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
  Impl& x = *impl_;
  x.adopters.append(c.adopters);
  x.new_adopters.append(c.new_adopters);
  x.aware.append(c.aware);
  x.abandoned.append(c.abandoned);
  x.member_adopters.append(c.member_adopters);
  x.members.append(c.members);
  x.by_form.append(c.adopters_by_form);
  x.jobs.append(c.jobs);
  x.impact.append(c.impact);
  x.transfers.append(c.transfers);
  x.cluster_members.append(c.cluster_members);
  x.cluster_adopters.append(c.cluster_adopters);
}

void RunWriter::commit(const RunResult& r) {
  h5::File& f = impl_->file;
  {
    h5::Group g(f, "clusters", true);
    std::vector<std::string> names;
    std::vector<std::int64_t> territory, founded, declared;
    std::vector<double> diversity, capacity, openness;
    for (const auto& c : r.clusters) {
      names.push_back(c.name);
      territory.push_back(c.territory);
      founded.push_back(c.founded);
      declared.push_back(c.declared);
      diversity.push_back(c.sector_diversity);
      capacity.push_back(c.capacity);
      openness.push_back(c.openness);
    }
    h5::write_strings(g, "name", names);
    h5::write_int64(g, "territory", territory);
    h5::write_int64(g, "founded", founded);
    h5::write_int64(g, "declared", declared);
    h5::write_double(g, "sector_diversity", diversity);
    h5::write_double(g, "capacity", capacity);
    h5::write_double(g, "openness", openness);
  }
  {
    h5::Group g(f, "events", true);
    std::vector<std::int64_t> step, affected;
    std::vector<std::string> action, target;
    for (const auto& e : r.events) {
      step.push_back(e.step);
      action.push_back(e.action);
      target.push_back(e.target);
      affected.push_back(e.affected);
    }
    h5::write_int64(g, "step", step);
    h5::write_strings(g, "kind", action);
    h5::write_strings(g, "target", target);
    h5::write_int64(g, "affected", affected);
  }
  {
    h5::Group g(f, "summary", true);
    const auto& names = metric_names();
    for (std::size_t m = 0; m < names.size(); ++m) {
      std::vector<double> values;
      for (const auto& s : r.summaries)
        values.push_back(metric_values(s)[m]);
      h5::write_double(g, names[m], values);
    }
  }
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
