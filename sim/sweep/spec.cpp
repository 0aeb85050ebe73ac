// Sweep files: parsing, validation (including probing each parameter against the base scenario)
// and the mapping from unit-hypercube coordinates to parameter values.
#include "sweep/spec.hpp"

#include "core/files.hpp"
#include "core/fingerprint.hpp"
#include "core/memory.hpp"
#include "core/rng.hpp"
#include "core/text.hpp"
#include "kernel/summary.hpp"
#include "scenario/load.hpp"
#include "scenario/reader.hpp"
#include "world/world.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/sobol.hpp>
#include <charconv>
#include <cmath>
#include <fnmatch.h>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace csei::sweep {

const char* design_name(DesignKind k) {
  switch (k) {
  case DesignKind::grid:
    return "grid";
  case DesignKind::lhs:
    return "lhs";
  case DesignKind::morris:
    return "morris";
  case DesignKind::sobol:
    return "sobol";
  }
  return "?";
}

const char* type_name(ValueType t) {
  switch (t) {
  case ValueType::real:
    return "real";
  case ValueType::integer:
    return "integer";
  case ValueType::level:
    return "level";
  }
  return "?";
}

const char* distribution_name(Distribution d) {
  switch (d) {
  case Distribution::uniform:
    return "uniform";
  case Distribution::loguniform:
    return "loguniform";
  case Distribution::normal:
    return "normal";
  case Distribution::triangular:
    return "triangular";
  }
  return "?";
}

const char* series_name(SeriesMode m) {
  switch (m) {
  case SeriesMode::none:
    return "none";
  case SeriesMode::total:
    return "total";
  case SeriesMode::territories:
    return "territories";
  }
  return "?";
}

std::string exact_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0"; // TOML: keep it a float
  return s;
}

// ---- values -------------------------------------------------------------------------------

namespace {

/// Quantile of the parameter's distribution over [lo, hi] at u in [0, 1].
double quantile(const Parameter& p, double lo, double hi, double u) {
  u = std::clamp(u, 0.0, 1.0);
  double x = lo;
  switch (p.distribution) {
  case Distribution::uniform:
    x = lo + u * (hi - lo);
    break;
  case Distribution::loguniform:
    x = std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
    break;
  case Distribution::normal: {
    // Truncated to [lo, hi]: invert the normal CDF between the CDF values of the bounds.
    const boost::math::normal_distribution<double> n(p.mean, p.sd);
    const double fa = boost::math::cdf(n, lo), fb = boost::math::cdf(n, hi);
    const double q = fa + u * (fb - fa);
    if (q <= 0.0)
      x = lo;
    else if (q >= 1.0)
      x = hi;
    else
      x = boost::math::quantile(n, q);
    break;
  }
  case Distribution::triangular: {
    const double c = std::clamp(p.mode, lo, hi), w = hi - lo;
    const double fc = w > 0 ? (c - lo) / w : 0.0;
    x = u < fc ? lo + std::sqrt(u * w * (c - lo)) : hi - std::sqrt((1 - u) * w * (hi - c));
    break;
  }
  }
  return std::clamp(x, lo, hi);
}

} // namespace

int Parameter::grid_size() const {
  return type == ValueType::level ? static_cast<int>(levels.size()) : grid_points;
}

Parameter::Value Parameter::at(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  switch (type) {
  case ValueType::level: {
    const std::size_t m = levels.size();
    const auto i = std::min(m - 1, static_cast<std::size_t>(u * static_cast<double>(m)));
    return {level_values[i], levels[i]};
  }
  case ValueType::integer: {
    // Continuous over [low, high + 1), rounded down: under `uniform` every integer in the range
    // is equally likely.
    const double x = std::min(high, std::floor(quantile(*this, low, high + 1.0, u)));
    const auto i = static_cast<std::int64_t>(x);
    return {static_cast<double>(i), std::to_string(i)};
  }
  case ValueType::real:
    break;
  }
  const double x = quantile(*this, low, high, u);
  return {x, exact_text(x)};
}

// ---- the sweep ----------------------------------------------------------------------------

std::int64_t SweepSpec::points() const {
  const auto k = static_cast<std::int64_t>(parameters.size());
  switch (design) {
  case DesignKind::grid: {
    std::int64_t n = 1; // saturating: a grid past the int64 range reads as its maximum
    for (const auto& p : parameters)
      if (__builtin_mul_overflow(n, std::int64_t{p.grid_size()}, &n))
        return std::numeric_limits<std::int64_t>::max();
    return n;
  }
  case DesignKind::lhs:
    return samples;
  case DesignKind::morris:
    return trajectories * (k + 1);
  case DesignKind::sobol:
    return samples * (k + 2);
  }
  return 0;
}

std::uint64_t replicate_seed(std::uint64_t seed, std::int64_t point, std::int64_t rep) {
  const std::uint64_t key = mix64(mix64(seed ^ 0x243F6A8885A308D3ULL) + 0x13198A2E03707344ULL);
  const std::uint64_t p = point < 0 ? 0 : static_cast<std::uint64_t>(point) + 1;
  const std::uint64_t r = static_cast<std::uint64_t>(rep);
  return mix64(mix64(key ^ (p * 0xA4093822299F31D1ULL)) ^ (r * 0x082EFA98EC4E6C89ULL + 1)) >> 1;
}

std::uint64_t SweepSpec::run_seed(std::int64_t point, std::int64_t rep) const {
  return replicate_seed(seed, common_seeds ? -1 : point, rep);
}

std::string SweepSpec::fingerprint() const {
  // Every input that determines the results (core/fingerprint.hpp).
  Fingerprint fp;
  const auto feed = [&fp](std::string_view s) { fp.feed(s); };

  feed(CSEI_VERSION);
  feed(source);
  feed(scenario_text);
  feed(std::to_string(runs()));
  for (const auto& o : outcomes)
    feed(o);
  feed(series_name(series));
  return fp.hex();
}

std::vector<std::string> SweepSpec::overrides(const std::vector<std::string>& values,
                                              std::uint64_t run_seed_value) const {
  std::vector<std::string> out = fixed;
  for (std::size_t j = 0; j < parameters.size(); ++j)
    out.push_back(parameters[j].key + "=" + values[j]);
  out.push_back("seed=" + std::to_string(run_seed_value));
  return out;
}

std::vector<std::string> metric_names_of(const Scenario& scenario) {
  // The names SummaryTracker::metrics() gives: "<innovation>.<metric>".
  std::vector<std::string> out;
  for (const auto& inn : scenario.innovations)
    for (const auto& m : metric_names())
      out.push_back(inn.name + "." + m);
  return out;
}

// ---- parsing ------------------------------------------------------------------------------

namespace {

using detail::Context;
using detail::fmt;
using detail::Reader;

bool bare_key(std::string_view k) {
  return !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

/// A TOML value as inline TOML text (what `--set key=TEXT` reads back as the same value).
std::string literal(const toml::node& n) {
  if (const auto* s = n.as_string()) return quote_text(s->get());
  if (const auto* i = n.as_integer()) return std::to_string(i->get());
  if (const auto* f = n.as_floating_point()) {
    const double v = f->get();
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return exact_text(v);
  }
  if (const auto* b = n.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* a = n.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < a->size(); ++i)
      out += (i ? ", " : "") + literal(*a->get(i));
    return out + "]";
  }
  if (const auto* t = n.as_table()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      out += (first ? " " : ", ") + (bare_key(key) ? key : quote_text(key)) + " = " + literal(v);
      first = false;
    }
    return out + (first ? "}" : " }");
  }
  std::ostringstream os; // a date or time: TOML's own text
  n.visit([&](const auto& v) {
    if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> ||
                  toml::is_date_time<decltype(v)>)
      os << v;
  });
  return os.str();
}

/// The text of `p` (a regular file of bounded size), or "" with `why` set.
std::string read_file(const std::filesystem::path& p, std::string& why) {
  try {
    return files::read_text(p, {}, "");
  } catch (const InputError& e) {
    why = e.problems().front().message;
    return {};
  }
}

std::string problem_text(const InputError::Problem& p) {
  return (p.where.key.empty() ? "" : p.where.key + ": ") + p.message;
}

Parameter read_parameter(Context& ctx, const toml::table& t, const std::string& path,
                         const toml::table& scenario_root, int default_points) {
  Reader r(
      ctx, t, path,
      {"key", "name", "range", "levels", "distribution", "mean", "sd", "mode", "type", "points"});
  Parameter p;
  p.where = r.table_location();
  p.values_where = r.location(r.node("levels") ? "levels" : "range");
  p.key = r.string("key", std::nullopt).value_or("");
  if (p.key.empty() && r.node("key")) r.error("key", "must not be empty");
  p.name = r.string("name", p.key).value_or(p.key);
  const bool has_range = r.node("range") != nullptr, has_levels = r.node("levels") != nullptr;
  if (has_range == has_levels) {
    if (has_range)
      r.error("levels", "conflicts with 'range': give only one of them");
    else
      ctx.error(p.where, "needs one of 'range' or 'levels'");
  }
  constexpr double big = 1e300;
  if (has_range) {
    if (const toml::array* a = r.array("range", false)) {
      std::vector<double> v;
      for (const auto& e : *a) {
        if (const auto* i = e.as_integer())
          v.push_back(static_cast<double>(i->get()));
        else if (const auto* f = e.as_floating_point(); f && std::isfinite(f->get()))
          v.push_back(f->get());
      }
      if (a->size() != 2 || v.size() != 2)
        r.error("range", "must be [low, high], two finite numbers");
      else if (!(v[0] < v[1]))
        r.error("range", "low must be below high, got [" + fmt(v[0]) + ", " + fmt(v[1]) + "]");
      else {
        p.low = v[0];
        p.high = v[1];
      }
    }
    // The type defaults to the type of the base scenario's value at the key, if it has one.
    bool base_integer = false;
    if (!p.key.empty()) {
      const toml::node_view<const toml::node> at = toml::at_path(scenario_root, p.key);
      base_integer = at && at.is_integer();
    }
    const auto type = r.string("type", base_integer ? "integer" : "real", {"real", "integer"});
    p.type = type == "integer" ? ValueType::integer : ValueType::real;
    if (p.type == ValueType::integer &&
        (p.low != std::floor(p.low) || p.high != std::floor(p.high)))
      r.error("range", "an integer parameter needs integer bounds");
    const auto dist =
        r.string("distribution", "uniform", {"uniform", "loguniform", "normal", "triangular"});
    if (dist == "loguniform") {
      p.distribution = Distribution::loguniform;
      if (p.low <= 0) r.error("range", "a loguniform range must be above 0");
    } else if (dist == "normal") {
      p.distribution = Distribution::normal;
      p.mean = r.number("mean", std::nullopt, -big, big).value_or(0);
      p.sd = r.number("sd", std::nullopt, 1e-300, big).value_or(1);
    } else if (dist == "triangular") {
      p.distribution = Distribution::triangular;
      p.mode = r.number("mode", std::nullopt, -big, big).value_or(p.low);
      if (p.mode < p.low || p.mode > p.high) r.error("mode", "must lie within the range");
    }
    if (dist != "normal") {
      for (const char* k : {"mean", "sd"})
        if (r.node(k)) r.error(k, "applies only to distribution = \"normal\"");
    }
    if (dist != "triangular" && r.node("mode"))
      r.error("mode", "applies only to distribution = \"triangular\"");
    p.grid_points = static_cast<int>(r.integer("points", default_points, 1, 1'000'000).value_or(3));
  } else if (has_levels) {
    p.type = ValueType::level;
    for (const char* k : {"type", "distribution", "mean", "sd", "mode", "points"})
      if (r.node(k)) r.error(k, "applies only to a 'range'; a list of levels is used as given");
    if (const toml::array* a = r.array("levels", false)) {
      if (a->empty()) r.error("levels", "must list at least one level");
      for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& e = *a->get(i);
        p.levels.push_back(literal(e));
        if (const auto* n = e.as_integer())
          p.level_values.push_back(static_cast<double>(n->get()));
        else if (const auto* f = e.as_floating_point())
          p.level_values.push_back(f->get());
        else if (const auto* b = e.as_boolean())
          p.level_values.push_back(b->get() ? 1.0 : 0.0);
        else
          p.level_values.push_back(static_cast<double>(i));
      }
      std::set<std::string> seen;
      for (const auto& l : p.levels)
        if (!seen.insert(l).second) r.error("levels", "lists " + l + " twice");
    }
  }
  return p;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

} // namespace

SweepSpec load_sweep_text(std::string_view text, const std::string& label,
                          const std::filesystem::path& base_dir) {
  Context ctx{label, {}, {}, {}, {}};
  toml::table root;
  try {
    root = toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    throw InputError({label, e.source().begin.line, e.source().begin.column, ""},
                     std::string(e.description()));
  }
  SweepSpec s;
  s.file = label;
  s.source = std::string(text);
  Reader top(ctx, root, "",
             {"name", "description", "scenario", "set", "seed", "replicates", "common_seeds",
              "design", "parameters", "outcomes"});
  std::string stem = std::filesystem::path(label).stem().string();
  if (stem.empty()) stem = "sweep";
  s.name = top.string("name", stem).value_or(stem);
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos)
    top.error("name", "must be a non-empty name without slashes");
  s.description = top.string("description", std::string{}).value_or("");
  s.replicates = top.integer("replicates", 1, 1, 1'000'000).value_or(1);
  s.common_seeds = top.boolean("common_seeds", false).value_or(false);
  const auto seed = top.integer("seed", -1, 0, std::numeric_limits<std::int64_t>::max());
  const auto fixed = top.strings("set");
  for (const auto& [f, where] : fixed) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      ctx.error(where, "expected \"key.path=value\", got \"" + f + "\"");
    else if (f.substr(0, eq) == "seed")
      ctx.error(where, "the seed is set by the sweep's 'seed' key, not by 'set'");
    s.fixed.push_back(f);
  }

  // The base scenario, with the fixed overrides, must be valid on its own.
  toml::table scenario_root;
  bool have_base = false;
  if (const auto sc = top.string("scenario", std::nullopt); sc && !sc->empty()) {
    std::filesystem::path p(*sc);
    if (p.is_relative()) p = base_dir / p;
    s.scenario_file = p.lexically_normal().string();
    std::string why;
    s.scenario_text = read_file(p, why);
    if (!why.empty()) {
      top.error("scenario", "cannot open the base scenario '" + s.scenario_file + "':" + why);
    } else {
      try {
        scenario_root = toml::parse(s.scenario_text, s.scenario_file);
      } catch (const toml::parse_error&) {
        // load_scenario_text below reports it with its location
      }
      std::vector<std::string> over = s.fixed;
      if (seed && *seed >= 0) over.push_back("seed=" + std::to_string(*seed));
      try {
        s.base = load_scenario_text(s.scenario_text, s.scenario_file,
                                    std::filesystem::path(s.scenario_file).parent_path(), over);
        have_base = true;
        s.base.input_files.insert(s.base.input_files.begin(),
                                  {s.scenario_file, "the sweep's base scenario"});
      } catch (const InputError& e) {
        for (const auto& pr : e.problems()) {
          // A fixed override's problem points at the sweep file's `set` entry.
          bool placed = false;
          for (std::size_t i = 0; i < fixed.size() && !placed; ++i)
            if (pr.where.file == "command line (--set " + fixed[i].first + ")") {
              ctx.error(fixed[i].second, problem_text(pr));
              placed = true;
            }
          if (!placed) ctx.error(pr.where, "in the base scenario: " + pr.message);
        }
      }
    }
  } else if (sc) {
    top.error("scenario", "must not be empty");
  }
  s.seed = seed && *seed >= 0 ? static_cast<std::uint64_t>(*seed) : s.base.seed;

  // The design.
  int default_points = 3; // grid: points along a range parameter that does not set its own
  if (const toml::table* d = top.table("design", true)) {
    Reader r(ctx, *d, "design", {"kind", "seed", "samples", "trajectories", "levels", "points"});
    const auto kind = r.string("kind", std::nullopt, {"grid", "lhs", "morris", "sobol"});
    s.design = kind == "lhs"      ? DesignKind::lhs
               : kind == "morris" ? DesignKind::morris
               : kind == "sobol"  ? DesignKind::sobol
                                  : DesignKind::grid;
    s.design_seed = static_cast<std::uint64_t>(
        r.integer("seed", 1, 0, std::numeric_limits<std::int64_t>::max()).value_or(1));
    const bool needs_samples = kind == "lhs" || kind == "sobol";
    s.samples = r.integer("samples", needs_samples ? std::nullopt : std::optional<std::int64_t>(0),
                          kind == "sobol" ? 2 : 1, 1'000'000'000)
                    .value_or(0);
    s.trajectories =
        r.integer("trajectories", kind == "morris" ? std::nullopt : std::optional<std::int64_t>(0),
                  1, 1'000'000)
            .value_or(0);
    s.levels = r.integer("levels", 4, 2, 1'000'000).value_or(4);
    if (kind == "morris" && s.levels % 2 != 0)
      r.error("levels", "must be even (the Morris step is levels / (2 (levels - 1)))");
    const auto points =
        r.node("points") ? r.integer("points", 0, 1, 1'000'000) : std::optional<std::int64_t>{};
    if (r.node("points") && kind != "grid") r.error("points", "applies only to kind = \"grid\"");
    for (const char* k : {"samples"})
      if (r.node(k) && !needs_samples) r.error(k, "applies only to kind = \"lhs\" or \"sobol\"");
    for (const char* k : {"trajectories", "levels"})
      if (r.node(k) && kind != "morris") r.error(k, "applies only to kind = \"morris\"");
    if (points) default_points = static_cast<int>(*points);
  }

  // The parameters.
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
      Parameter p = read_parameter(ctx, *t, path, scenario_root, default_points);
      if (p.key.empty()) continue;
      if (p.key == "seed")
        ctx.error(p.where, "the seed cannot be a parameter: replicates vary it");
      else if (!keys.insert(p.key).second)
        ctx.error(p.where, "parameter '" + p.key + "' is varied twice");
      s.parameters.push_back(std::move(p));
    }
  }
  const std::size_t k = s.parameters.size();
  if (s.design == DesignKind::sobol &&
      2 * k > boost::random::detail::qrng_tables::sobol::max_dimension)
    top.error("parameters",
              "a Sobol design supports at most " +
                  std::to_string(boost::random::detail::qrng_tables::sobol::max_dimension / 2) +
                  " parameters");

  // The outcomes.
  std::vector<std::pair<std::string, SourceLocation>> patterns;
  if (const toml::table* o = top.table("outcomes", false)) {
    Reader r(ctx, *o, "outcomes", {"metrics", "series"});
    patterns = r.strings("metrics");
    if (r.node("metrics") && patterns.empty() && ctx.problems.empty())
      r.error("metrics", "must list at least one metric name or pattern");
    const auto series = r.string("series", "none", {"none", "total", "territories"});
    s.series = series == "total"         ? SeriesMode::total
               : series == "territories" ? SeriesMode::territories
                                         : SeriesMode::none;
    if (s.series != SeriesMode::none)
      for (const auto& p : s.parameters)
        if (p.key == "time" || p.key.rfind("time.steps", 0) == 0 ||
            p.key.rfind("territories", 0) == 0 || p.key == "innovations")
          ctx.error(p.where, "with outcomes.series every run must have the same shape: this "
                             "sweep cannot vary '" +
                                 p.key + "'");
  }
  if (patterns.empty()) patterns.push_back({"*", top.table_location()});
  for (const auto& [pat, where] : patterns)
    s.outcome_patterns.push_back(pat);

  if (!ctx.problems.empty() || !have_base) {
    if (ctx.problems.empty()) top.missing("scenario");
    throw InputError(std::move(ctx.problems));
  }

  // Outcomes: the metric names the patterns select, in metric order.
  const auto names = metric_names_of(s.base);
  std::vector<bool> chosen(names.size(), false);
  for (const auto& [pat, where] : patterns) {
    bool any = false;
    for (std::size_t m = 0; m < names.size(); ++m)
      if (glob_match(pat, names[m])) chosen[m] = any = true;
    if (!any) {
      std::string msg = "'" + pat + "' matches no metric; the runs report";
      for (std::size_t m = 0; m < names.size() && m < 12; ++m)
        msg += (m ? ", " : " ") + names[m];
      if (names.size() > 12) msg += ", ...";
      ctx.error(where, msg);
    }
  }
  for (std::size_t m = 0; m < names.size(); ++m)
    if (chosen[m]) s.outcomes.push_back(names[m]);

  // Every parameter, at each end of its range or at each of its levels, must give a valid
  // scenario: unknown keys, wrong types and out-of-range values are found before any run.
  const auto dir = std::filesystem::path(s.scenario_file).parent_path();
  for (const auto& p : s.parameters) {
    std::vector<Parameter::Value> probes;
    if (p.type == ValueType::level)
      for (std::size_t l = 0; l < p.levels.size(); ++l)
        probes.push_back({p.level_values[l], p.levels[l]});
    else
      probes = {p.at(0.0), p.at(1.0)};
    for (const auto& v : probes) {
      std::vector<std::string> over = s.fixed;
      over.push_back(p.key + "=" + v.text);
      try {
        (void)load_scenario_text(s.scenario_text, s.scenario_file, dir, over);
      } catch (const InputError& e) {
        const auto& pr = e.problems().front();
        std::string msg =
            "the base scenario rejects " + p.key + " = " + v.text + ": " + problem_text(pr);
        if (p.type == ValueType::real && pr.message.find("must be an integer") != std::string::npos)
          msg += " (add type = \"integer\" to the parameter)";
        ctx.error(p.values_where, msg);
        break;
      }
    }
  }
  if (s.runs() < 1)
    ctx.error(top.location("design"), "the design has no runs");
  else if (s.runs() > (std::int64_t{1} << 40))
    ctx.error(top.location("design"), "too many runs (" + std::to_string(s.runs()) + ")");
  else if (have_base) {
    // The design (unit, value and text per point and parameter) and one record per run
    // (metrics, and the series if kept) stay in memory until the file is written.
    const double P = static_cast<double>(s.parameters.size());
    double series = 0;
    if (s.series != SeriesMode::none)
      series =
          static_cast<double>(s.base.steps + 1) * static_cast<double>(s.base.innovations.size()) *
          (s.series == SeriesMode::total ? 1.0 : static_cast<double>(s.base.territories.size()));
    const double need = static_cast<double>(s.points()) * P * 56.0 +
                        static_cast<double>(s.runs()) *
                            (96.0 + 8.0 * static_cast<double>(s.outcomes.size()) + 8.0 * series);
    const double have = static_cast<double>(memory_limit_bytes());
    if (need > have) {
      const char* key = s.design == DesignKind::morris ? "design.trajectories"
                        : s.design == DesignKind::grid ? "parameters"
                                                       : "design.samples";
      ctx.error(top.location("design"),
                std::to_string(s.points()) + " points x " + std::to_string(s.replicates) +
                    " replicates need at least " + format_bytes(need) +
                    " of memory, more than the " + format_bytes(have) +
                    " there is (physical memory, or CSEI_MEMORY_LIMIT): lower " + key +
                    (s.replicates > 1 ? " or replicates" : "") +
                    (series > 0 ? ", or keep fewer series (outcomes.series)" : ""));
    }
  }
  if (!ctx.problems.empty()) throw InputError(std::move(ctx.problems));
  return s;
}

SweepSpec load_sweep(const std::filesystem::path& file) {
  const std::string text = files::read_text(file, {file.string(), 0, 0, ""}, "sweep file");
  return load_sweep_text(text, file.string(), file.parent_path());
}

} // namespace csei::sweep
