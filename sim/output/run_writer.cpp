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
/// labels) and the auxiliary coordinates `year` (over step) and `territory_name`; with `seeds`
/// (a replicate file), the scale `replicate` holding them.
void write_coordinates(const h5::Group& g, const Scenario& s, const SeriesExtents& e,
                       const std::vector<std::int64_t>* seeds = nullptr) {
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
  if (seeds) {
    h5::write_int64(g, "replicate", *seeds);
    describe("replicate", "",
             "replicate: its simulation seed (`csei run SCENARIO --seed <seed>` repeats it)");
    h5::make_scale(h5::Dataset(g, "replicate"), "replicate");
  }

  h5::write_double(g, "year", years);
  describe("year", "year", "time of the step: step / steps_per_year");
  h5::attach_scale(h5::Dataset(g, "year"), h5::Dataset(g, "step"), 0);
  h5::write_strings(g, "territory_name", names);
  describe("territory_name", "", "territory name (/territories/name)");
  h5::attach_scale(h5::Dataset(g, "territory_name"), h5::Dataset(g, "territory"), 0);
}

/// The root attributes (provenance) every run file has; `links` only in a single-run file.
void write_root(h5::File& f, const Scenario& s, const RunInfo& info, std::int64_t schema,
                std::int64_t organisations, const std::int64_t* links) {
  f.attribute("schema_version", schema);
  f.attribute("scenario", s.source);
  f.attribute("scenario_name", s.name);
  f.attribute("seed", info.seed);
  f.attribute("threads", static_cast<std::int64_t>(info.threads));
  f.attribute("version", info.version);
  f.attribute("created", info.created);
  f.attribute("steps", s.steps);
  f.attribute("steps_per_year", s.steps_per_year);
  f.attribute("organisations", organisations);
  if (links) f.attribute("links", *links);
  f.attribute("represents", s.organisations.represents);
}

/// Every input file, whole, with its SHA-256: `csei run --from` reruns the run from these.
void write_inputs(h5::File& f, const Scenario& s) {
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

/// /territories, /parents and /innovations; returns the territory codes.
std::vector<std::string> write_tables(h5::File& f, const Scenario& s) {
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
    orgs.push_back(s.organisations_per_territory[t]); // as the world numbers them
  }
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
  std::vector<std::string> inames, rules, kinds;
  std::vector<std::int64_t> pioneers, launch;
  for (const auto& i : s.innovations) {
    inames.push_back(i.name);
    rules.push_back(rule_name(i.rule));
    pioneers.push_back(i.pioneers);
    kinds.push_back(kind_name(i.kind));
    launch.push_back(i.launch_step);
  }
  h5::write_strings(inn, "name", inames);
  h5::write_strings(inn, "rule", rules);
  h5::write_strings(inn, "kind", kinds);
  h5::write_int64(inn, "launch_step", launch);
  h5::write_int64(inn, "pioneers", pioneers);
  return codes;
}

/// Organisations of each legal form in a world.
std::vector<std::int64_t> form_counts(const World& w) {
  std::vector<std::int64_t> per_form(kLegalFormCount, 0);
  for (const auto form : w.organisations.form)
    ++per_form[static_cast<std::size_t>(form)];
  return per_form;
}

/// /legal_forms: names [F] and organisations [F] (or [R, F]).
void write_legal_forms(h5::File& f, const std::vector<std::int64_t>& per_form,
                       const std::vector<hsize_t>& dims) {
  h5::Group forms(f, "legal_forms", true);
  h5::write_strings(forms, "name", {kLegalFormNames.begin(), kLegalFormNames.end()});
  h5::write_int64(forms, "organisations", per_form, dims);
}

/// The static part of /policy: the event axis (labels and actions) and the unit costs.
void write_policy_tables(h5::Group& pg, const Scenario& s) {
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
      .attribute("description", std::string("scenario event: its index in [[events]] and action"));
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

/// The series datasets of `defs` in `g`, at their full shape: [S+1, ...], or [R, S+1, ...] with
/// `replicates` > 0 (one replicate per chunk row), with their dimension scales attached.
std::vector<h5::RowWriter> make_series(const h5::Group& g, const h5::Group& series,
                                       const h5::Group& policy, std::span<const SeriesDef> defs,
                                       const Scenario& s, const SeriesExtents& extents,
                                       std::size_t replicates, bool describe_coordinates) {
  std::vector<h5::RowWriter> out;
  out.reserve(defs.size());
  const h5::Dataset step_scale(series, "step");
  const unsigned lead = replicates > 0 ? 1 : 0;
  for (const SeriesDef& def : defs) {
    std::vector<hsize_t> dims{static_cast<hsize_t>(s.steps + 1)};
    for (const SeriesDim d : def.axes())
      dims.push_back(extents.of(d));
    auto chunk = h5::chunk_shape(dims, value_bytes(def.type), kChunkBudgetBytes);
    if (replicates > 0) {
      dims.insert(dims.begin(), static_cast<hsize_t>(replicates));
      chunk.insert(chunk.begin(), 1);
    }
    auto& ds = out.emplace_back(g, std::string(def.name), dims, chunk,
                                def.type == SeriesType::int64 ? h5::RowWriter::Type::int64
                                                              : h5::RowWriter::Type::float64,
                                kChunkCacheBytes);
    ds.attribute("units", std::string(def.units));
    ds.attribute("description", std::string(def.description));
    if (describe_coordinates) {
      std::string coordinates = def.has(SeriesDim::territory) ? "year territory_name" : "year";
      if (replicates > 0 && def.has(SeriesDim::cluster)) coordinates += " cluster_name";
      ds.attribute("coordinates", coordinates);
    }
    if (replicates > 0) h5::attach_scale(ds, h5::Dataset(series, "replicate"), 0);
    h5::attach_scale(ds, step_scale, lead);
    for (std::size_t a = 0; a < def.rank; ++a)
      h5::attach_scale(ds,
                       def.dims[a] == SeriesDim::event
                           ? h5::Dataset(policy, "event")
                           : h5::Dataset(series, std::string(dim_name(def.dims[a]))),
                       static_cast<unsigned>(a + 1 + lead));
  }
  return out;
}

/// /clusters and /events of one or more runs; with `replicated`, one long table over the
/// replicates with a `replicate` column (the replicate's index).
void write_cluster_and_event_tables(h5::File& f, std::span<const RunResult* const> runs,
                                    bool replicated) {
  {
    h5::Group g(f, "clusters", true);
    std::vector<std::string> names;
    std::vector<std::int64_t> territory, founded, declared, replicate;
    std::vector<double> diversity, capacity, openness;
    for (std::size_t r = 0; r < runs.size(); ++r)
      for (const auto& c : runs[r]->clusters) {
        names.push_back(c.name);
        territory.push_back(c.territory);
        founded.push_back(c.founded);
        declared.push_back(c.declared);
        diversity.push_back(c.sector_diversity);
        capacity.push_back(c.capacity);
        openness.push_back(c.openness);
        replicate.push_back(static_cast<std::int64_t>(r));
      }
    if (replicated) h5::write_int64(g, "replicate", replicate);
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
    std::vector<std::int64_t> step, affected, replicate;
    std::vector<std::string> action, target;
    for (std::size_t r = 0; r < runs.size(); ++r)
      for (const auto& e : runs[r]->events) {
        step.push_back(e.step);
        action.push_back(e.action);
        target.push_back(e.target);
        affected.push_back(e.affected);
        replicate.push_back(static_cast<std::int64_t>(r));
      }
    if (replicated) h5::write_int64(g, "replicate", replicate);
    h5::write_int64(g, "step", step);
    h5::write_strings(g, "kind", action);
    h5::write_strings(g, "target", target);
    h5::write_int64(g, "affected", affected);
  }
}

/// /summary of one or more runs: [I] per metric, or [R, I] with `replicated`.
void write_summary(h5::File& f, std::span<const RunResult* const> runs,
                   const std::vector<std::string>& territory_codes, bool replicated) {
  h5::Group g(f, "summary", true);
  const hsize_t R = runs.size(), I = runs.empty() ? 0 : runs[0]->summaries.size(),
                T = territory_codes.size();
  const auto shape = [&](std::vector<hsize_t> inner) {
    if (replicated) inner.insert(inner.begin(), R);
    return inner;
  };
  const std::string lead = replicated ? "replicate, " : "";
  for (const MetricDef& m : summary_metrics()) {
    const std::string name(m.name);
    std::vector<double> values;
    for (const RunResult* r : runs)
      for (const auto& s : r->summaries)
        values.push_back(m.value(s));
    h5::write_double(g, name, values, replicated ? shape({I}) : std::vector<hsize_t>{});
    h5::Dataset ds(g, name);
    ds.attribute("units", std::string(m.units));
    ds.attribute("description", std::string(m.description));
  }
  // Per territory [I, T] and the first territories [I] (codes; "" for none).
  for (const auto& [pct, field, first] :
       {std::tuple{"10", &InnovationSummary::territory_steps_to_10,
                   &InnovationSummary::first_territory_10},
        std::tuple{"50", &InnovationSummary::territory_steps_to_50,
                   &InnovationSummary::first_territory_50}}) {
    const std::string p(pct);
    std::vector<std::int64_t> steps;
    std::vector<std::string> codes;
    for (const RunResult* r : runs)
      for (const auto& sm : r->summaries) {
        steps.insert(steps.end(), (sm.*field).begin(), (sm.*field).end());
        codes.push_back(sm.*first < 0 ? std::string()
                                      : territory_codes[static_cast<std::size_t>(sm.*first)]);
      }
    h5::write_int64(g, "territory_steps_to_" + p, steps, shape({I, T}));
    h5::Dataset ds(g, "territory_steps_to_" + p);
    ds.attribute("units", std::string("step"));
    ds.attribute("description", "[" + lead + "innovation, territory]: first step with at least " +
                                    p +
                                    " % of the territory's suited organisations adopted; "
                                    "-1 = never or none suited");
    h5::write_strings(g, "first_territory_" + p, codes,
                      replicated ? shape({I}) : std::vector<hsize_t>{});
    h5::Dataset(g, "first_territory_" + p)
        .attribute("description", "code of the territory that reached " + p +
                                      " % first (first_step_" + p + "); empty: none");
  }
}

/// The labels of the cluster axis for a run: slot c is cluster id c, named after it.
std::vector<std::string> slot_labels(const RunResult& r, std::size_t slots) {
  std::vector<std::string> out;
  for (std::size_t c = 0; c < slots; ++c)
    out.push_back(c < r.clusters.size() ? r.clusters[c].name : slot_name(c));
  return out;
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
  temp_ = files::begin_partial(path_);
  const SeriesExtents extents{s.innovations.size(), s.territories.size(), cluster_slots(s, w),
                              kLegalFormCount, s.events.size()};
  try {
    impl_ = std::make_unique<Impl>(temp_.string());
    impl_->clusters = extents.clusters;
    h5::File& f = impl_->file;
    const std::int64_t links = w.network.complete ? std::int64_t{-1} : w.network.link_count();
    write_root(f, s, info, kSingleRunSchemaVersion, w.organisation_count(), &links);
    write_inputs(f, s);
    impl_->territory_codes = write_tables(f, s);
    write_legal_forms(f, form_counts(w), {});

    // The series at their full shape, [S+1, ...], with their dimension scales and coordinates.
    write_coordinates(impl_->series, s, extents);
    write_policy_tables(impl_->policy, s);
    impl_->policy_rows = make_series(impl_->policy, impl_->series, impl_->policy, kPolicySeries, s,
                                     extents, 0, false);
    impl_->rows =
        make_series(impl_->series, impl_->series, impl_->policy, kSeries, s, extents, 0, true);
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
  files::commit_partial(temp_, path_);
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
  const RunResult* runs[] = {&r};
  write_cluster_and_event_tables(f, runs, false);
  // The labels of the cluster axis of the series: slot c is cluster id c.
  h5::overwrite_strings(h5::Dataset(impl_->series, "cluster"), slot_labels(r, impl_->clusters));
  write_summary(f, runs, impl_->territory_codes, false);
  impl_->policy.attribute("total_spending", r.policy_spending);
  impl_->file.attribute("policy_spending", r.policy_spending);
  impl_->file.attribute("complete", std::int64_t{1});
  impl_->file.flush();
  impl_->rows.clear();
  impl_->series.close();
  impl_->file.close(); // every handle closed and checked: the file is whole on disk
  impl_.reset();
}

// ---- replicate files ----------------------------------------------------------------------

ReplicateRecord::ReplicateRecord(const Scenario& s, const World& w, std::uint64_t run_seed)
    : seed(run_seed), links(w.network.complete ? std::int64_t{-1} : w.network.link_count()),
      clusters(cluster_slots(s, w)), per_form(form_counts(w)) {
  const SeriesExtents e{s.innovations.size(), s.territories.size(), clusters, kLegalFormCount,
                        s.events.size()};
  const auto rows = static_cast<std::size_t>(s.steps + 1);
  const auto reserve = [&](std::span<const SeriesDef> defs) {
    for (const SeriesDef& def : defs) {
      ints.emplace_back();
      reals.emplace_back();
      if (def.int_row)
        ints.back().reserve(rows * e.cells(def));
      else
        reals.back().reserve(rows * e.cells(def));
    }
  };
  reserve(kSeries);
  reserve(kPolicySeries);
}

void ReplicateRecord::record(const StepCounts& c) {
  std::size_t i = 0;
  const auto append = [&](std::span<const SeriesDef> defs) {
    for (const SeriesDef& def : defs) {
      if (def.int_row) {
        const auto row = c.*def.int_row;
        ints[i].insert(ints[i].end(), row.begin(), row.end());
      } else {
        const auto row = c.*def.real_row;
        reals[i].insert(reals[i].end(), row.begin(), row.end());
      }
      ++i;
    }
  };
  append(kSeries);
  append(kPolicySeries);
}

double ReplicateRecord::planned_bytes(const Scenario& s, std::size_t cluster_slots) {
  const SeriesExtents e{s.innovations.size(), s.territories.size(), cluster_slots, kLegalFormCount,
                        s.events.size()};
  double cells = 0;
  for (const SeriesDef& def : kSeries)
    cells += static_cast<double>(e.cells(def));
  for (const SeriesDef& def : kPolicySeries)
    cells += static_cast<double>(e.cells(def));
  // The series, and per innovation and territory the summary's per-territory steps.
  return 8.0 * (cells * static_cast<double>(s.steps + 1) +
                4.0 * static_cast<double>(s.innovations.size() * s.territories.size())) +
         4096.0;
}

namespace {

/// One replicate's rows of a series over clusters (its last axis), `lines` rows of `own`
/// values, padded with zeros to `slots` values each (slots the replicate never had stay 0).
template <class T>
std::vector<T> padded(const std::vector<T>& rows, std::size_t lines, std::size_t own,
                      std::size_t slots) {
  std::vector<T> out;
  out.reserve(lines * slots);
  for (std::size_t l = 0; l < lines; ++l) {
    out.insert(out.end(), rows.begin() + static_cast<std::ptrdiff_t>(l * own),
               rows.begin() + static_cast<std::ptrdiff_t>((l + 1) * own));
    out.insert(out.end(), slots - own, T{});
  }
  return out;
}

} // namespace

void write_replicate_file(const std::filesystem::path& path, const Scenario& s, const RunInfo& info,
                          const std::vector<ReplicateRecord>& reps) {
  const std::filesystem::path temp = files::begin_partial(path);
  files::write_partial(temp, path, "run file", [&] {
    std::size_t slots = 0;
    std::vector<std::int64_t> seeds, links, per_form, own_slots;
    std::vector<double> spending;
    std::vector<const RunResult*> runs;
    for (const ReplicateRecord& r : reps) {
      slots = std::max(slots, r.clusters);
      seeds.push_back(static_cast<std::int64_t>(r.seed));
      links.push_back(r.links);
      own_slots.push_back(static_cast<std::int64_t>(r.clusters));
      spending.push_back(r.result.policy_spending);
      per_form.insert(per_form.end(), r.per_form.begin(), r.per_form.end());
      runs.push_back(&r.result);
    }
    const auto R = static_cast<hsize_t>(reps.size());
    const SeriesExtents extents{s.innovations.size(), s.territories.size(), slots, kLegalFormCount,
                                s.events.size()};
    {
      h5::File f(temp.string(), h5::File::Mode::create);
      write_root(f, s, info, kSchemaVersion, s.organisation_count(), nullptr);
      f.attribute("replicates", static_cast<std::int64_t>(reps.size()));
      write_inputs(f, s);
      const auto codes = write_tables(f, s);
      write_legal_forms(f, per_form, {R, kLegalFormCount});
      {
        h5::Group g(f, "replicates", true);
        h5::write_int64(g, "links", links);
        h5::Dataset(g, "links")
            .attribute("description",
                       std::string("undirected links in the replicate's network; -1: complete"));
        h5::write_int64(g, "cluster_slots", own_slots);
        h5::Dataset(g, "cluster_slots")
            .attribute("description",
                       std::string("the replicate's own cluster slots: the first columns of "
                                   "the cluster axis (the others stay 0)"));
        h5::write_double(g, "policy_spending", spending);
        h5::Dataset(g, "policy_spending").attribute("units", std::string("EUR"));
        h5::Dataset(g, "policy_spending")
            .attribute("description",
                       std::string("total policy spending of the replicate, real euros"));
      }
      h5::Group series(f, "series", true), policy(f, "policy", true);
      write_coordinates(series, s, extents, &seeds);
      // Cluster names differ between replicates: the scale holds slot-<c>, and the auxiliary
      // coordinate cluster_name [R, C] each replicate's names.
      std::vector<std::string> names;
      for (const ReplicateRecord& r : reps) {
        const auto own = slot_labels(r.result, slots);
        names.insert(names.end(), own.begin(), own.end());
      }
      h5::write_strings(series, "cluster_name", names, {R, static_cast<hsize_t>(slots)});
      {
        h5::Dataset ds(series, "cluster_name");
        ds.attribute("description",
                     std::string("[replicate, cluster]: the name of the cluster that used the "
                                 "slot in the replicate (/clusters/name), slot-N if none"));
        h5::attach_scale(ds, h5::Dataset(series, "replicate"), 0);
        h5::attach_scale(ds, h5::Dataset(series, "cluster"), 1);
      }
      write_policy_tables(policy, s);
      auto policy_rows =
          make_series(policy, series, policy, kPolicySeries, s, extents, reps.size(), false);
      auto rows = make_series(series, series, policy, kSeries, s, extents, reps.size(), true);
      const auto write = [&](std::vector<h5::RowWriter>& out, std::span<const SeriesDef> defs,
                             std::size_t offset) {
        for (std::size_t i = 0; i < defs.size(); ++i)
          for (std::size_t r = 0; r < reps.size(); ++r) {
            const ReplicateRecord& rep = reps[r];
            const auto& ints = rep.ints[offset + i];
            const auto& reals = rep.reals[offset + i];
            if (!defs[i].has(SeriesDim::cluster) || rep.clusters == slots) {
              if (defs[i].int_row)
                out[i].write(r, ints);
              else
                out[i].write(r, reals);
              continue;
            }
            // Rows of the widest replicate's shape: (S+1) x the axes before the cluster axis.
            const std::size_t lines =
                static_cast<std::size_t>(s.steps + 1) * extents.cells(defs[i]) / slots;
            if (defs[i].int_row)
              out[i].write(r, padded(ints, lines, rep.clusters, slots));
            else
              out[i].write(r, padded(reals, lines, rep.clusters, slots));
          }
      };
      write(rows, kSeries, 0);
      write(policy_rows, kPolicySeries, kSeries.size());
      write_cluster_and_event_tables(f, runs, true);
      write_summary(f, runs, codes, true);
      f.attribute("complete", std::int64_t{1});
      f.flush();
      rows.clear();
      policy_rows.clear();
      series.close();
      policy.close();
      f.close();
    }
  });
}

} // namespace csei
