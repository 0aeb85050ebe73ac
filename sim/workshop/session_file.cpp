// The workshop session file (output/SCHEMA.md "Workshop session files").
#include "workshop/session_file.hpp"

#include "output/h5.hpp"
#include "output/run_writer.hpp"

#include <cmath>
#include <limits>

namespace csei::workshop {

namespace {

/// [I, T+1] from one series per innovation (NaN where a series is shorter).
std::vector<double> stacked(const SessionRun& r,
                            std::vector<double> SessionRun::Innovation::*series, std::size_t rows) {
  std::vector<double> out(r.innovations.size() * rows, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < r.innovations.size(); ++i) {
    const auto& v = r.innovations[i].*series;
    for (std::size_t t = 0; t < rows && t < v.size(); ++t)
      out[i * rows + t] = v[t];
  }
  return out;
}

} // namespace

void write_session_file(const std::filesystem::path& path,
                        const std::vector<const SessionRun*>& runs, std::uint64_t session) {
  h5::File f(path.string(), h5::File::Mode::create);
  f.attribute("schema_version", std::int64_t{1});
  f.attribute("kind", std::string("workshop_session"));
  f.attribute("version", std::string(CSEI_VERSION));
  f.attribute("created", utc_now());
  f.attribute("session", static_cast<std::int64_t>(session));
  f.attribute("runs", static_cast<std::int64_t>(runs.size()));
  std::vector<std::string> ids;
  for (const auto* r : runs)
    ids.push_back(r->id);
  h5::write_strings(f, "run_ids", ids);
  h5::Group all(f, "runs", true);
  for (const auto* rp : runs) {
    const SessionRun& r = *rp;
    h5::Group g(all, r.id, true);
    g.attribute("who", r.who);
    g.attribute("scenario", r.scenario);
    g.attribute("seed", r.seed);
    g.attribute("steps", r.steps);
    g.attribute("steps_per_year", r.steps_per_year);
    g.attribute("organisations", r.organisations);
    g.attribute("kept", std::int64_t{r.kept ? 1 : 0});
    g.attribute("at_seconds", r.at);
    g.attribute("policy_spending", r.policy_spending);
    g.attribute("final_share", r.final_share);
    g.attribute("steps_to_50", r.steps_to_50);
    {
      h5::Group settings(g, "settings", true);
      for (const auto& [name, value] : r.params.items())
        settings.attribute(name, value.get<double>());
    }
    std::vector<std::string> names;
    for (const auto& inn : r.innovations)
      names.push_back(inn.name);
    h5::write_strings(g, "innovations", names);
    h5::write_strings(g, "territories", r.territory_codes);
    h5::write_strings(g, "territory_names", r.territory_names);
    h5::write_int64(g, "territory_organisations", r.territory_organisations);
    const auto rows = static_cast<std::size_t>(r.steps + 1);
    const auto I = static_cast<hsize_t>(r.innovations.size());
    h5::write_double(g, "share", stacked(r, &SessionRun::Innovation::share, rows),
                     {I, static_cast<hsize_t>(rows)});
    h5::write_double(g, "aware", stacked(r, &SessionRun::Innovation::aware, rows),
                     {I, static_cast<hsize_t>(rows)});
    const std::size_t K = r.territory_codes.size();
    std::vector<double> by_territory(r.innovations.size() * rows * K,
                                     std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < r.innovations.size(); ++i) {
      const auto& by_step = r.innovations[i].territory_share_by_step;
      for (std::size_t t = 0; t < rows && t < by_step.size(); ++t)
        for (std::size_t k = 0; k < K && k < by_step[t].size(); ++k)
          by_territory[(i * rows + t) * K + k] = by_step[t][k];
    }
    h5::write_double(g, "territory_share", by_territory,
                     {I, static_cast<hsize_t>(rows), static_cast<hsize_t>(K)});
  }
  all.close();
  f.attribute("complete", std::int64_t{1});
  f.close();
}

} // namespace csei::workshop
