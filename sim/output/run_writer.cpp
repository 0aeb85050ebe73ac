// HDF5 run files: provenance attributes, territory and innovation tables, per-step series.
#include "output/run_writer.hpp"

#include "core/files.hpp"
#include "core/sha256.hpp"
#include "kernel/series.hpp"
#include "output/h5.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <tuple>
#include <unistd.h>

namespace csei {

struct RunWriter::Impl {
  h5::File file;
  h5::Group series, policy;
  std::vector<h5::RowWriter> rows;        // one per kSeries entry, in its order
  std::vector<h5::RowWriter> policy_rows; // one per kPolicySeries entry
  hsize_t clusters = 0;
  std::vector<std::string> territory_codes;

  explicit Impl(const std::string& temp)
      : file(temp, h5::File::Mode::create), series(file, "series", true),
        policy(file, "policy", true) {}
};

namespace {

std::string slot_name(std::size_t slot) {
  return "slot-" + std::to_string(slot);
}

/// The coordinate datasets of /series: the dimension scales (one per axis name, holding its
/// labels) and the auxiliary coordinates `year` (over step) and `territory_name`.
void write_coordinates(const h5::Group& g, const Scenario& s, const SeriesExtents& e) {
  const auto describe = [&](const std::string& name, const char* units, const char* what) {
    h5::Dataset ds(g, name);
    if (*units) ds.attribute("units", std::string(units));
    ds.attribute("description", std::string(what));
  };
  std::vector<std::int64_t> steps;
  std::vector<double> years;
  for (std::int64_t step = 0; step <= s.steps; ++step) {
    steps.push_back(step);
    years.push_back(static_cast<double>(step) / s.steps_per_year);
  }
  std::vector<std::string> innovations, codes, names, slots;
  for (const auto& inn : s.innovations)
    innovations.push_back(inn.name);
  for (const auto& t : s.territories) {
    codes.push_back(t.code);
    names.push_back(t.name);
  }
  for (std::size_t c = 0; c < e.clusters; ++c)
    slots.push_back(slot_name(c));
  h5::write_int64(g, "step", steps);
  describe("step", "step", "step number; row 0 is the initial state");
  h5::write_strings(g, "innovation", innovations);
  describe("innovation", "", "innovation name (/innovations/name)");
  h5::write_strings(g, "territory", codes);
  describe("territory", "", "territory code (/territories/code)");
  h5::write_strings(g, "cluster", slots);
  describe("cluster", "",
           "cluster slot: the name of the cluster that used it (/clusters/name), slot-N if none");
  h5::write_strings(g, "legal_form", {kLegalFormNames.begin(), kLegalFormNames.end()});
  describe("legal_form", "", "legal form (/legal_forms/name)");
  for (const std::string scale : {"step", "innovation", "territory", "cluster", "legal_form"})
    h5::make_scale(h5::Dataset(g, scale), scale);

  h5::write_double(g, "year", years);
  describe("year", "year", "time of the step: step / steps_per_year");
  h5::attach_scale(h5::Dataset(g, "year"), h5::Dataset(g, "step"), 0);
  h5::write_strings(g, "territory_name", names);
  describe("territory_name", "", "territory name (/territories/name)");
  h5::attach_scale(h5::Dataset(g, "territory_name"), h5::Dataset(g, "territory"), 0);
}

} // namespace

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
  temp_ = files::partial_name(path_);
  files::remove_stale_partials(path_);
  files::create_exclusive(temp_); // the folder's problems, with the system's reason
  const SeriesExtents extents{s.innovations.size(), s.territories.size(), cluster_slots(s, w),
                              kLegalFormCount, s.events.size()};
  try {
    impl_ = std::make_unique<Impl>(temp_.string());
    impl_->clusters = extents.clusters;
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
    f.attribute("represents", s.organisations.represents);

    // Every input file, whole, with its SHA-256: `csei run --from` reruns the run from these.
    {
      h5::Group in(f, "inputs", true);
      std::vector<std::string> role, where, text, hash;
      for (const InputFile& x : s.inputs) {
        role.push_back(x.role);
        where.push_back(x.path);
        text.push_back(x.text);
        hash.push_back(sha256_hex(x.text));
      }
      h5::write_strings(in, "role", role);
      h5::write_strings(in, "path", where);
      h5::write_strings(in, "content", text);
      h5::write_strings(in, "sha256", hash);
    }

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
    impl_->territory_codes = codes;
    h5::write_strings(terr, "code", codes);
    h5::write_strings(terr, "name", names);
    h5::write_int64(terr, "organisations", orgs);
    h5::write_double(terr, "population", pop);
    h5::write_double(terr, "lat", lat);
    h5::write_double(terr, "lon", lon);
    std::vector<std::string> parent;
    for (const Territory& tr : s.territories)
      parent.push_back(tr.parent);
    h5::write_strings(terr, "parent", parent);
    if (!s.parents.empty()) {
      h5::Group par(f, "parents", true);
      std::vector<std::string> pcodes, pnames;
      for (const TerritoryParent& p : s.parents) {
        pcodes.push_back(p.code);
        pnames.push_back(p.name);
      }
      h5::write_strings(par, "code", pcodes);
      h5::write_strings(par, "name", pnames);
    }

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

    // The series at their full shape, [S+1, ...], with their dimension scales and coordinates.
    const h5::Group& g = impl_->series;
    write_coordinates(g, s, extents);
    const h5::Dataset step_scale(g, "step");
    // The policy group: the event axis (labels and actions) and the spending series.
    h5::Group& pg = impl_->policy;
    {
      std::vector<std::string> labels, actions;
      std::vector<std::int64_t> from, to;
      for (std::size_t e = 0; e < s.events.size(); ++e) {
        actions.emplace_back(action_name(s.events[e].action));
        labels.push_back(std::to_string(e) + ":" + actions.back());
        from.push_back(s.events[e].from);
        to.push_back(s.events[e].to);
      }
      h5::write_strings(pg, "event", labels);
      h5::make_scale(h5::Dataset(pg, "event"), "event");
      h5::Dataset(pg, "event")
          .attribute("description",
                     std::string("scenario event: its index in [[events]] and action"));
      h5::write_strings(pg, "action", actions);
      h5::write_int64(pg, "from_step", from);
      h5::write_int64(pg, "to_step", to);
      const PolicyCosts& c = s.costs;
      const std::pair<const char*, double> unit_costs[] = {
          {"facilitator_year", c.facilitator_year},
          {"members_per_facilitator", c.members_per_facilitator},
          {"cost_unit", c.cost_unit},
          {"procurement_contract", c.procurement_contract},
          {"support_year", c.support_year},
          {"founded_cluster", c.founded_cluster},
          {"bridging_pair_year", c.bridging_pair_year},
          {"seeded_adopter", c.seeded_adopter}};
      for (const auto& [name, value] : unit_costs)
        pg.attribute(name, value);
    }
    impl_->policy_rows.reserve(kPolicySeries.size());
    for (const SeriesDef& def : kPolicySeries) {
      std::vector<hsize_t> dims{static_cast<hsize_t>(s.steps + 1)};
      for (const SeriesDim d : def.axes())
        dims.push_back(extents.of(d));
      const auto chunk = h5::chunk_shape(dims, value_bytes(def.type), kChunkBudgetBytes);
      auto& ds = impl_->policy_rows.emplace_back(
          pg, std::string(def.name), dims, chunk,
          def.type == SeriesType::int64 ? h5::RowWriter::Type::int64 : h5::RowWriter::Type::float64,
          kChunkCacheBytes);
      ds.attribute("units", std::string(def.units));
      ds.attribute("description", std::string(def.description));
      h5::attach_scale(ds, step_scale, 0);
      for (std::size_t a = 0; a < def.rank; ++a)
        h5::attach_scale(ds,
                         def.dims[a] == SeriesDim::event
                             ? h5::Dataset(pg, "event")
                             : h5::Dataset(g, std::string(dim_name(def.dims[a]))),
                         static_cast<unsigned>(a + 1));
    }
    impl_->rows.reserve(kSeries.size());
    for (const SeriesDef& def : kSeries) {
      std::vector<hsize_t> dims{static_cast<hsize_t>(s.steps + 1)};
      for (const SeriesDim d : def.axes())
        dims.push_back(extents.of(d));
      const auto chunk = h5::chunk_shape(dims, value_bytes(def.type), kChunkBudgetBytes);
      auto& ds = impl_->rows.emplace_back(
          g, std::string(def.name), dims, chunk,
          def.type == SeriesType::int64 ? h5::RowWriter::Type::int64 : h5::RowWriter::Type::float64,
          kChunkCacheBytes);
      ds.attribute("units", std::string(def.units));
      ds.attribute("description", std::string(def.description));
      ds.attribute("coordinates",
                   std::string(def.has(SeriesDim::territory) ? "year territory_name" : "year"));
      h5::attach_scale(ds, step_scale, 0);
      for (std::size_t a = 0; a < def.rank; ++a)
        h5::attach_scale(ds, h5::Dataset(g, std::string(dim_name(def.dims[a]))),
                         static_cast<unsigned>(a + 1));
    }
  } catch (const OutputError& e) {
    impl_.reset();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
    throw OutputError(temp_.string() + ": cannot write the run file: " + e.what());
  } catch (...) {
    impl_.reset();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
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
  try {
    record_step(c);
  } catch (const OutputError& e) {
    throw OutputError(temp_.string() + ": cannot write the run file: " + e.what());
  }
}

void RunWriter::commit(const RunResult& r) {
  try {
    write_end(r);
  } catch (const OutputError& e) {
    throw OutputError(temp_.string() + ": cannot write the run file: " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) {
    const std::string why = ec.message();
    std::filesystem::remove(temp_, ec);
    throw OutputError(path_.string() + ": cannot move the finished file into place: " + why);
  }
}

void RunWriter::record_step(const StepCounts& c) {
  Impl& x = *impl_;
  const auto row = static_cast<hsize_t>(c.step);
  for (std::size_t i = 0; i < kSeries.size(); ++i) {
    const SeriesDef& def = kSeries[i];
    if (def.int_row)
      x.rows[i].write(row, c.*def.int_row);
    else
      x.rows[i].write(row, c.*def.real_row);
  }
  for (std::size_t i = 0; i < kPolicySeries.size(); ++i) {
    const SeriesDef& def = kPolicySeries[i];
    if (def.int_row)
      x.policy_rows[i].write(row, c.*def.int_row);
    else
      x.policy_rows[i].write(row, c.*def.real_row);
  }
}

void RunWriter::write_end(const RunResult& r) {
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
    // The labels of the cluster axis of the series: slot c is cluster id c.
    std::vector<std::string> slots;
    for (std::size_t c = 0; c < impl_->clusters; ++c)
      slots.push_back(c < r.clusters.size() ? r.clusters[c].name : slot_name(c));
    h5::overwrite_strings(h5::Dataset(impl_->series, "cluster"), slots);
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
    for (const MetricDef& m : summary_metrics()) {
      const std::string name(m.name);
      std::vector<double> values;
      for (const auto& s : r.summaries)
        values.push_back(m.value(s));
      h5::write_double(g, name, values);
      h5::Dataset ds(g, name);
      ds.attribute("units", std::string(m.units));
      ds.attribute("description", std::string(m.description));
    }
    // Per territory [I, T] and the first territories [I] (codes; "" for none).
    const hsize_t I = r.summaries.size(), T = impl_->territory_codes.size();
    for (const auto& [pct, field, first] :
         {std::tuple{"10", &InnovationSummary::territory_steps_to_10,
                     &InnovationSummary::first_territory_10},
          std::tuple{"50", &InnovationSummary::territory_steps_to_50,
                     &InnovationSummary::first_territory_50}}) {
      const std::string p(pct);
      std::vector<std::int64_t> steps;
      std::vector<std::string> codes;
      for (const auto& sm : r.summaries) {
        steps.insert(steps.end(), (sm.*field).begin(), (sm.*field).end());
        codes.push_back(sm.*first < 0
                            ? std::string()
                            : impl_->territory_codes[static_cast<std::size_t>(sm.*first)]);
      }
      h5::write_int64(g, "territory_steps_to_" + p, steps, {I, T});
      h5::Dataset ds(g, "territory_steps_to_" + p);
      ds.attribute("units", std::string("step"));
      ds.attribute("description", "[innovation, territory]: first step with at least " + p +
                                      " % of the territory's suited organisations adopted; "
                                      "-1 = never or none suited");
      h5::write_strings(g, "first_territory_" + p, codes);
      h5::Dataset(g, "first_territory_" + p)
          .attribute("description", "code of the territory that reached " + p +
                                        " % first (first_step_" + p + "); empty: none");
    }
  }
  impl_->policy.attribute("total_spending", r.policy_spending);
  impl_->file.attribute("policy_spending", r.policy_spending);
  impl_->file.attribute("complete", std::int64_t{1});
  impl_->file.flush();
  impl_->rows.clear();
  impl_->series.close();
  impl_->file.close(); // every handle closed and checked: the file is whole on disk
  impl_.reset();
}

} // namespace csei
