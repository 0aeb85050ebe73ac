// Calibration files: parsing and validation (the base scenario, each parameter probed against
// it, each target's observed rows read and checked against the run's territories, innovations
// and years), the priors, and the probe that collects a run's target series.
#include "calibrate/spec.hpp"

#include "core/files.hpp"
#include "kernel/simulation.hpp"
#include "scenario/load.hpp"
#include "scenario/reader.hpp"
#include "sweep/spec.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <toml++/toml.h>

namespace csei::calibrate {

// ---- priors -------------------------------------------------------------------------------

double Parameter::z_low() const {
  switch (prior) {
  case Prior::uniform:
  case Prior::truncated_normal:
    return low;
  case Prior::log_uniform:
    return std::log(low);
  case Prior::normal:
    break;
  }
  return -std::numeric_limits<double>::infinity();
}

double Parameter::z_high() const {
  switch (prior) {
  case Prior::uniform:
  case Prior::truncated_normal:
    return high;
  case Prior::log_uniform:
    return std::log(high);
  case Prior::normal:
    break;
  }
  return std::numeric_limits<double>::infinity();
}

double Parameter::to_z(double x) const {
  return prior == Prior::log_uniform ? std::log(x) : x;
}

double Parameter::from_z(double z) const {
  return prior == Prior::log_uniform ? std::exp(z) : z;
}

double Parameter::density_z(double z) const {
  if (!(z >= z_low() && z <= z_high())) return 0.0;
  switch (prior) {
  case Prior::uniform:
  case Prior::log_uniform:
    return 1.0 / (z_high() - z_low());
  case Prior::normal:
  case Prior::truncated_normal: {
    const boost::math::normal_distribution<double> n(mean, sd);
    double mass = 1.0;
    if (prior == Prior::truncated_normal)
      mass = boost::math::cdf(n, high) - boost::math::cdf(n, low);
    return boost::math::pdf(n, z) / std::max(mass, 1e-300);
  }
  }
  return 0.0;
}

double Parameter::quantile(double u) const {
  u = std::clamp(u, 1e-12, 1.0 - 1e-12);
  switch (prior) {
  case Prior::uniform:
    return low + u * (high - low);
  case Prior::log_uniform:
    return std::exp(std::log(low) + u * (std::log(high) - std::log(low)));
  case Prior::normal:
  case Prior::truncated_normal: {
    const boost::math::normal_distribution<double> n(mean, sd);
    if (prior == Prior::normal) return boost::math::quantile(n, u);
    const double fa = boost::math::cdf(n, low), fb = boost::math::cdf(n, high);
    const double q = fa + u * (fb - fa);
    if (q <= 0.0) return low;
    if (q >= 1.0) return high;
    return std::clamp(boost::math::quantile(n, q), low, high);
  }
  }
  return low;
}

// ---- sizes --------------------------------------------------------------------------------

std::size_t CalibrationSpec::series_size() const {
  std::size_t n = 0;
  for (const auto& t : targets)
    n += static_cast<std::size_t>(t.years);
  return n;
}

std::size_t CalibrationSpec::series_offset(std::size_t k) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < k; ++i)
    n += static_cast<std::size_t>(targets[i].years);
  return n;
}

namespace {

using detail::Context;
using detail::Reader;

// ---- observed series files ----------------------------------------------------------------

/// One CSV record split into fields (RFC 4180 quoting); `pos` advances past it.
std::vector<std::string> csv_record(const std::string& text, std::size_t& pos, int& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  while (pos < text.size()) {
    const char c = text[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < text.size() && text[pos] == '"') {
          field += '"';
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++line;
      break;
    } else if (c != '\r') {
      field += c;
    }
  }
  out.push_back(std::move(field));
  return out;
}

struct ObservedRow {
  std::string series, geo, year, value, note;
  int line;
};

/// Reads an observed-series CSV (columns series, geo, year, value; optional measure, note).
std::vector<ObservedRow> read_observed(const std::string& path, const SourceLocation& where) {
  const std::string text = files::read_text(path, where, "observed series file");
  std::size_t pos = 0;
  int line = 1;
  const auto header = csv_record(text, pos, line);
  const auto col = [&](const char* name) -> int {
    const auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  const int cs = col("series"), cg = col("geo"), cy = col("year"), cv = col("value"),
            cm = col("measure"), cn = col("note");
  if (cs < 0 || cg < 0 || cy < 0 || cv < 0)
    throw InputError(where, "observed series file " + path +
                                " needs the columns series, geo, year and value (line 1 has " +
                                std::to_string(header.size()) + " columns)");
  std::vector<ObservedRow> rows;
  while (pos < text.size()) {
    const int at = line;
    const auto f = csv_record(text, pos, line);
    if (f.size() == 1 && f[0].empty()) continue;
    const auto get = [&](int c) { return c >= 0 && c < static_cast<int>(f.size()) ? f[c] : ""; };
    std::string note = get(cm);
    if (!get(cn).empty()) note += (note.empty() ? "" : "; ") + get(cn);
    rows.push_back({get(cs), get(cg), get(cy), get(cv), note, at});
  }
  return rows;
}

bool parse_int(const std::string& s, int& out) {
  try {
    std::size_t n = 0;
    const long v = std::stol(s, &n);
    if (n != s.size() || v < -100000 || v > 100000) return false;
    out = static_cast<int>(v);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool parse_double(const std::string& s, double& out) {
  try {
    std::size_t n = 0;
    out = std::stod(s, &n);
    return n == s.size() && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

// ---- parts of the file --------------------------------------------------------------------

constexpr double kBig = 1e300;

Parameter read_parameter(Context& ctx, const toml::table& t, const std::string& path) {
  Reader r(ctx, t, path, {"key", "name", "prior", "low", "high", "mean", "sd"});
  Parameter p;
  p.where = r.table_location();
  p.key = r.string("key", std::nullopt).value_or("");
  if (r.has("key") && p.key.empty()) r.error("key", "must not be empty");
  p.name = r.string("name", p.key).value_or(p.key);
  const auto prior = r.string("prior", std::nullopt, kPriorNames.list());
  if (!prior) return p;
  p.prior = kPriorNames.parse(*prior).value_or(Prior::uniform);
  const bool bounded = p.prior != Prior::normal,
             gaussian = p.prior == Prior::normal || p.prior == Prior::truncated_normal;
  if (bounded) {
    p.low = r.number("low", std::nullopt, -kBig, kBig).value_or(0);
    p.high = r.number("high", std::nullopt, -kBig, kBig).value_or(1);
    if (r.has("low") && r.has("high") && !(p.high > p.low))
      r.error("high", "must be above low (" + detail::fmt(p.low) + ")");
    if (p.prior == Prior::log_uniform && r.has("low") && p.low <= 0)
      r.error("low", "a log_uniform prior needs low > 0");
  } else {
    for (const char* k : {"low", "high"})
      if (r.has(k))
        r.error(k, "a normal prior is unbounded: use prior = \"truncated_normal\" for bounds");
  }
  if (gaussian) {
    p.mean = r.number("mean", std::nullopt, -kBig, kBig).value_or(0);
    p.sd = r.number("sd", std::nullopt, 1e-300, kBig).value_or(1);
  } else {
    for (const char* k : {"mean", "sd"})
      if (r.has(k)) r.error(k, "applies only to prior = \"normal\" or \"truncated_normal\"");
  }
  return p;
}

/// The index of `name` in `names`, or -1 with a problem at `where`.
int find_name(Context& ctx, const SourceLocation& where, const std::string& what,
              const std::string& name, const std::vector<std::string>& names) {
  const auto it = std::find(names.begin(), names.end(), name);
  if (it != names.end()) return static_cast<int>(it - names.begin());
  std::string msg = "unknown " + what + " '" + name + "' in the base scenario";
  if (const auto hint = did_you_mean(name, names); !hint.empty())
    msg += "; did you mean '" + hint + "'?";
  else {
    msg += " (it has:";
    for (std::size_t i = 0; i < names.size() && i < 12; ++i)
      msg += " " + names[i];
    msg += names.size() > 12 ? " ...)" : ")";
  }
  ctx.error(where, msg);
  return -1;
}

Target read_target(Context& ctx, const toml::table& t, const std::string& path,
                   const std::filesystem::path& base_dir, const CalibrationSpec& s,
                   bool have_base) {
  Reader r(ctx, t, path,
           {"name", "file", "series", "geo", "years", "output", "innovations", "territories",
            "start_year", "scale", "distance", "weight"});
  Target g;
  g.where = r.table_location();
  const auto series = r.string("series", std::nullopt);
  g.series = series.value_or("");
  g.name = r.string("name", g.series).value_or(g.series);
  g.geo = r.string("geo", std::string{}).value_or("");
  const auto output = r.string("output", std::nullopt, kQuantityNames.list());
  g.quantity = kQuantityNames.parse(output.value_or("")).value_or(Quantity::adopters);
  const auto dist = r.string("distance", "rmse_counts", kDistanceNames.list());
  g.distance = kDistanceNames.parse(dist.value_or("")).value_or(DistanceKind::rmse_counts);
  g.weight = r.number("weight", 1.0, 0.0, kBig).value_or(1.0);
  g.start_year = static_cast<int>(r.integer("start_year", std::nullopt, -10000, 10000).value_or(0));

  // Scale: a number, or "represents" (the run's organisations.represents).
  if (const toml::node* n = r.node("scale")) {
    if (const auto* str = n->as_string()) {
      if (str->get() != "represents")
        r.error("scale",
                "must be a number > 0 or \"represents\", got \"" + std::string(str->get()) + "\"");
      else
        g.scale_represents = true;
    } else {
      g.scale = r.number("scale", 1.0, 1e-300, kBig).value_or(1.0);
    }
  } else {
    g.scale_represents = g.quantity != Quantity::clusters;
  }
  if (g.scale_represents) {
    for (std::size_t j = 0; j < s.parameters.size(); ++j)
      if (s.parameters[j].key == "organisations.represents")
        g.scale_parameter = static_cast<int>(j);
    g.scale = have_base ? s.base.organisations.represents : 1.0;
  }

  // Innovations and territories, against the base scenario.
  const auto innovations = r.strings("innovations");
  const auto territories = r.strings("territories");
  if (g.quantity == Quantity::members && r.has("innovations"))
    r.error("innovations", "output \"members\" counts cluster members of every innovation");
  if (g.quantity == Quantity::clusters) {
    for (const char* k : {"innovations", "territories"})
      if (r.has(k)) r.error(k, "output \"clusters\" counts every cluster of the run");
  }
  if (have_base) {
    std::vector<std::string> inames, tcodes;
    for (const auto& inn : s.base.innovations)
      inames.push_back(inn.name);
    for (const auto& ter : s.base.territories)
      tcodes.push_back(ter.code);
    for (const auto& p : s.base.parents)
      tcodes.push_back(p.code);
    for (const auto& [name, where] : innovations) {
      g.innovation_names.push_back(name);
      if (const int i = find_name(ctx, where, "innovation", name, inames); i >= 0)
        g.innovations.push_back(i);
    }
    for (const auto& [code, where] : territories) {
      g.territory_names.push_back(code);
      const int i = find_name(ctx, where, "territory", code, tcodes);
      if (i < 0) continue;
      if (i < static_cast<int>(s.base.territories.size()))
        g.territories.push_back(i);
      else
        for (const int k :
             s.base.parents[static_cast<std::size_t>(i) - s.base.territories.size()].territories)
          g.territories.push_back(k);
    }
    g.years = static_cast<int>(
        std::floor(static_cast<double>(s.base.steps) / s.base.steps_per_year + 1e-9));
    if (g.years < 1)
      ctx.error(r.location("start_year"),
                "the base scenario runs " + std::to_string(s.base.steps) +
                    " steps, less than a year: no yearly value to compare");
  }

  // The observed rows.
  int from = std::numeric_limits<int>::min(), to = std::numeric_limits<int>::max();
  if (const toml::array* a = r.array("years", false)) {
    const auto y0 = a->size() == 2 ? a->get(0)->value<std::int64_t>() : std::nullopt;
    const auto y1 = a->size() == 2 ? a->get(1)->value<std::int64_t>() : std::nullopt;
    if (!y0 || !y1 || *y1 < *y0)
      r.error("years", "must be [first, last], two integer years with first <= last");
    else {
      from = static_cast<int>(*y0);
      to = static_cast<int>(*y1);
    }
  }
  const auto file = r.string("file", std::nullopt);
  if (file && series) {
    std::filesystem::path p(*file);
    if (p.is_relative()) p = base_dir / p;
    g.file = p.lexically_normal().string();
    try {
      const auto rows = read_observed(g.file, r.location("file"));
      std::set<std::string> names;
      std::set<int> seen;
      for (const auto& row : rows) {
        names.insert(row.series);
        if (row.series != g.series || (!g.geo.empty() && row.geo != g.geo)) continue;
        Observation o;
        if (row.year.empty()) continue; // undated figures cannot be placed on the run's clock
        if (!parse_int(row.year, o.year)) {
          ctx.error(r.location("file"), g.file + ":" + std::to_string(row.line) +
                                            ": year must be an integer, got '" + row.year + "'");
          continue;
        }
        if (o.year < from || o.year > to) continue;
        if (!parse_double(row.value, o.value) || o.value < 0) {
          ctx.error(r.location("file"), g.file + ":" + std::to_string(row.line) +
                                            ": value must be a number >= 0, got '" + row.value +
                                            "'");
          continue;
        }
        if (!seen.insert(o.year).second) {
          ctx.error(r.location("series"),
                    "series '" + g.series + "' has two rows for " + std::to_string(o.year) +
                        (g.geo.empty() ? " (give `geo` to choose one place)" : "") + " in " +
                        g.file + " (line " + std::to_string(row.line) + ")");
          continue;
        }
        o.note = row.note;
        o.line = row.line;
        g.observed.push_back(std::move(o));
      }
      std::sort(g.observed.begin(), g.observed.end(),
                [](const Observation& a, const Observation& b) { return a.year < b.year; });
      if (g.observed.empty() && !names.count(g.series)) {
        std::vector<std::string> list(names.begin(), names.end());
        std::string msg = "series '" + g.series + "' is not in " + g.file;
        if (const auto hint = did_you_mean(g.series, list); !hint.empty())
          msg += "; did you mean '" + hint + "'?";
        r.error("series", msg);
      } else if (g.observed.empty()) {
        r.error("series", "series '" + g.series + "' has no dated row" +
                              (g.geo.empty() ? "" : " for geo '" + g.geo + "'") +
                              (r.has("years") ? " within `years`" : "") + " in " + g.file);
      }
    } catch (const InputError& e) {
      for (const auto& pr : e.problems())
        ctx.error(pr.where, pr.message);
    }
  }
  // Every observed year must fall within the run.
  if (have_base && g.years >= 1 && r.has("start_year")) {
    for (const auto& o : g.observed) {
      if (o.year >= g.start_year && o.year < g.start_year + g.years) continue;
      ctx.error(r.location(r.has("years") ? "years" : "start_year"),
                "the observed year " + std::to_string(o.year) + " (" + g.file + ":" +
                    std::to_string(o.line) + ") is outside the run, which covers " +
                    std::to_string(g.start_year) + "-" +
                    std::to_string(g.start_year + g.years - 1) + " (start_year " +
                    std::to_string(g.start_year) + ", " + std::to_string(g.years) + " years)");
      break;
    }
  }
  return g;
}

} // namespace

CalibrationSpec load_calibration_text(std::string_view text, const std::string& label,
                                      const std::filesystem::path& base_dir) {
  Context ctx{label, {}, {}, {}, {}};
  toml::table root;
  try {
    root = toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    throw InputError({label, e.source().begin.line, e.source().begin.column, ""},
                     std::string(e.description()));
  }
  CalibrationSpec s;
  s.file = label;
  s.source = std::string(text);
  Reader top(ctx, root, "",
             {"name", "description", "scenario", "set", "parameters", "targets", "method"});
  std::string stem = std::filesystem::path(label).stem().string();
  if (stem.empty()) stem = "calibration";
  s.name = top.string("name", stem).value_or(stem);
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos)
    top.error("name", "must be a non-empty name without slashes");
  s.description = top.string("description", std::string{}).value_or("");
  const auto fixed = top.strings("set");
  for (const auto& [f, where] : fixed) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      ctx.error(where, "expected \"key.path=value\", got \"" + f + "\"");
    else if (f.substr(0, eq) == "seed")
      ctx.error(where, "the seed is set by method.seed, not by 'set'");
    s.fixed.push_back(f);
  }

  // The base scenario, with the fixed overrides.
  bool have_base = false;
  if (const auto sc = top.string("scenario", std::nullopt); sc && !sc->empty()) {
    std::filesystem::path p(*sc);
    if (p.is_relative()) p = base_dir / p;
    s.scenario_file = p.lexically_normal().string();
    try {
      s.scenario_text = files::read_text(p, top.location("scenario"), "the base scenario");
      s.base = load_scenario_text(s.scenario_text, s.scenario_file,
                                  std::filesystem::path(s.scenario_file).parent_path(), s.fixed);
      have_base = true;
    } catch (const InputError& e) {
      for (const auto& pr : e.problems()) {
        bool placed = false;
        for (std::size_t i = 0; i < fixed.size() && !placed; ++i)
          if (pr.where.file == "command line (--set " + fixed[i].first + ")") {
            ctx.error(fixed[i].second, pr.message);
            placed = true;
          }
        if (!placed)
          ctx.error(pr.where, pr.where.file == s.scenario_file || pr.where.line > 0
                                  ? "in the base scenario: " + pr.message
                                  : pr.message);
      }
    }
  } else if (sc) {
    top.error("scenario", "must not be empty");
  } else {
    top.missing("scenario");
  }

  // The parameters, each probed against the base scenario at both ends of its prior.
  if (const toml::array* a = top.array("parameters", true)) {
    if (a->empty()) top.error("parameters", "must list at least one parameter");
    std::set<std::string> keys;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string path = "parameters[" + std::to_string(i) + "]";
      const toml::table* t = a->get(i)->as_table();
      if (!t) {
        ctx.error(ctx.where(a->get(i)->source(), path), "must be a table ([[parameters]])");
        continue;
      }
      const std::size_t before = ctx.problems.size();
      Parameter p = read_parameter(ctx, *t, path);
      if (p.key.empty()) continue;
      SourceLocation key_at = ctx.where(t->get("key")->source(), path + ".key");
      if (p.key == "seed")
        ctx.error(key_at, "the seed cannot be a parameter: method.seed and replicates set it");
      else if (p.key.rfind("time", 0) == 0 || p.key.rfind("territories", 0) == 0 ||
               p.key == "innovations")
        ctx.error(key_at, "a calibration cannot vary '" + p.key +
                              "': every run must have the base scenario's years, territories "
                              "and innovations");
      else if (!keys.insert(p.key).second)
        ctx.error(key_at, "parameter '" + p.key + "' is calibrated twice");
      else if (have_base && ctx.problems.size() == before) {
        for (const double u : {0.001, 0.999}) {
          const double v = p.quantile(u);
          std::vector<std::string> over = s.fixed;
          over.push_back(p.key + "=" + sweep::exact_text(v));
          try {
            (void)load_scenario_text(s.scenario_text, s.scenario_file,
                                     std::filesystem::path(s.scenario_file).parent_path(), over);
          } catch (const InputError& e) {
            const auto& pr = e.problems().front();
            ctx.error(key_at, "the base scenario rejects " + p.key + " = " + sweep::exact_text(v) +
                                  " (the prior's " + (u < 0.5 ? "low" : "high") + " end): " +
                                  (pr.where.key.empty() ? "" : pr.where.key + ": ") + pr.message);
            break;
          }
        }
      }
      s.parameters.push_back(std::move(p));
    }
  }

  // The targets.
  if (const toml::array* a = top.array("targets", true)) {
    if (a->empty()) top.error("targets", "must list at least one target");
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string path = "targets[" + std::to_string(i) + "]";
      const toml::table* t = a->get(i)->as_table();
      if (!t) {
        ctx.error(ctx.where(a->get(i)->source(), path), "must be a table ([[targets]])");
        continue;
      }
      s.targets.push_back(read_target(ctx, *t, path, base_dir, s, have_base));
    }
    double weights = 0;
    for (const auto& g : s.targets)
      weights += g.weight;
    if (!s.targets.empty() && weights <= 0)
      top.error("targets", "the targets' weights must not all be 0");
  }

  // The method.
  if (const toml::table* m = top.table("method", true)) {
    Reader r(ctx, *m, "method",
             {"kind", "particles", "generations", "quantile", "min_acceptance", "replicates",
              "seed", "batch", "max_proposals", "predictive", "kernel"});
    (void)r.string("kind", "abc_smc", {"abc_smc"});
    auto& M = s.method;
    M.particles = r.integer("particles", 200, 2, 10'000'000).value_or(200);
    M.generations = r.integer("generations", 10, 1, 10'000).value_or(10);
    M.quantile = r.number("quantile", 0.5, 0.01, 0.99).value_or(0.5);
    M.min_acceptance = r.number("min_acceptance", 0.0, 0.0, 0.99).value_or(0.0);
    M.replicates = r.integer("replicates", 1, 1, 10'000).value_or(1);
    M.seed = static_cast<std::uint64_t>(
        r.integer("seed", 1, 0, std::numeric_limits<std::int64_t>::max()).value_or(1));
    M.batch = r.integer("batch", 0, 0, 10'000'000).value_or(0);
    M.max_proposals = r.integer("max_proposals", 0, 0, 1'000'000'000'000).value_or(0);
    M.predictive = r.integer("predictive", 100, 0, 1'000'000).value_or(100);
    M.covariance =
        r.string("kernel", "covariance", {"covariance", "diagonal"}).value_or("") != "diagonal";
    if (M.batch == 0) M.batch = M.particles;
    if (M.max_proposals == 0)
      M.max_proposals = M.min_acceptance > 0
                            ? static_cast<std::int64_t>(
                                  std::ceil(static_cast<double>(M.particles) / M.min_acceptance)) +
                                  M.batch
                            : 50 * M.particles;
    if (r.has("max_proposals") && M.max_proposals < M.particles)
      r.error("max_proposals",
              "must be at least method.particles (" + std::to_string(M.particles) + ")");
  }

  if (!ctx.problems.empty()) throw InputError(std::move(ctx.problems));
  s.base.input_files.insert(s.base.input_files.begin(),
                            {s.scenario_file, "the calibration's base scenario"});
  return s;
}

CalibrationSpec load_calibration(const std::filesystem::path& file) {
  const std::string label = file.string();
  const std::string text = files::read_text(file, {label, 0, 0, ""}, "calibration file");
  return load_calibration_text(text, label, file.parent_path());
}

bool is_calibration_file(const std::string& file) {
  try {
    const std::string text = files::read_text(file, {file, 0, 0, ""}, "file", std::size_t{1} << 24);
    const toml::table root = toml::parse(text, file);
    return root.contains("targets") && root.contains("method");
  } catch (const std::exception&) {
    return false;
  }
}

// ---- the probe ----------------------------------------------------------------------------

Probe::Probe(const CalibrationSpec& spec) : size_(spec.series_size()) {
  const auto& b = spec.base;
  const auto steps = static_cast<std::size_t>(b.steps);
  for (std::size_t k = 0; k < spec.targets.size(); ++k) {
    const Target& g = spec.targets[k];
    Part p;
    p.quantity = g.quantity;
    p.offset = spec.series_offset(k);
    p.innovation.assign(b.innovations.size(), g.innovations.empty() ? 1 : 0);
    for (const int i : g.innovations)
      p.innovation[static_cast<std::size_t>(i)] = 1;
    p.territory.assign(b.territories.size(), g.territories.empty() ? 1 : 0);
    for (const int t : g.territories)
      p.territory[static_cast<std::size_t>(t)] = 1;
    p.year_of_step.assign(steps + 1, -1);
    p.year_end.assign(steps + 1, 0);
    std::size_t s = 0;
    for (int y = 0; y < g.years; ++y) {
      const auto end = static_cast<std::size_t>(std::min(
          static_cast<double>(steps), std::round(static_cast<double>(y + 1) * b.steps_per_year)));
      for (; s <= end; ++s)
        p.year_of_step[s] = y;
      p.year_end[end] = 1;
    }
    parts_.push_back(std::move(p));
  }
}

void Probe::operator()(const StepCounts& c, std::vector<std::int64_t>& series) const {
  if (series.empty()) series.assign(size_, 0);
  const auto s = static_cast<std::size_t>(c.step);
  for (const Part& p : parts_) {
    if (s >= p.year_of_step.size() || p.year_of_step[s] < 0) continue;
    const bool flow = p.quantity == Quantity::new_adopters;
    if (!flow && !p.year_end[s]) continue;
    std::int64_t v = 0;
    switch (p.quantity) {
    case Quantity::adopters:
    case Quantity::new_adopters:
    case Quantity::aware: {
      const auto& a = p.quantity == Quantity::adopters       ? c.adopters
                      : p.quantity == Quantity::new_adopters ? c.new_adopters
                                                             : c.aware;
      for (std::size_t k = 0; k < c.innovations; ++k) {
        if (!p.innovation[k]) continue;
        for (std::size_t t = 0; t < c.territories; ++t)
          if (p.territory[t]) v += a[k * c.territories + t];
      }
      break;
    }
    case Quantity::members:
      for (std::size_t t = 0; t < c.territories; ++t)
        if (p.territory[t]) v += c.members[t];
      break;
    case Quantity::clusters:
      for (std::size_t j = 0; j < c.clusters; ++j)
        v += c.cluster_members[j] > 0;
      break;
    }
    auto& slot = series[p.offset + static_cast<std::size_t>(p.year_of_step[s])];
    slot = flow ? slot + v : v;
  }
}

} // namespace csei::calibrate
