// Reading TOML tables with problems collected (file, line, column, key path) rather than thrown:
// the typed getters and the unknown-key check every scenario section uses.
#pragma once

#include "core/distribution.hpp"
#include "core/error.hpp"
#include "scenario/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace csei {

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

namespace detail {

/// Collects problems; knows the scenario file for nodes that came from it.
struct Context {
  std::string file;
  std::filesystem::path base_dir;
  std::vector<InputError::Problem> problems;
  std::vector<std::pair<std::string, std::string>> overridden; // key path -> "--set ..." text
  std::vector<InputFile> inputs; // files read while building (the territory CSV)

  SourceLocation where(const toml::source_region& src, const std::string& key) const {
    // Values given on the command line have no line in the file: name the --set instead.
    for (const auto& [path, assignment] : overridden) {
      if (key == path ||
          (key.rfind(path, 0) == 0 && (key[path.size()] == '.' || key[path.size()] == '[')))
        return {"command line (--set " + assignment + ")", 0, 0, key};
    }
    // Nodes read from a base scenario (`extends`) carry that file's path.
    return {src.path && !src.path->empty() ? *src.path : file, src.begin.line, src.begin.column,
            key};
  }
  void error(const toml::node& node, const std::string& key, std::string msg) {
    problems.push_back({where(node.source(), key), std::move(msg)});
  }
  void error(const SourceLocation& loc, std::string msg) {
    problems.push_back({loc, std::move(msg)});
  }
};

inline std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

inline std::string type_name(const toml::node& n) {
  switch (n.type()) {
  case toml::node_type::table:
    return "a table";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a number";
  case toml::node_type::boolean:
    return "a boolean";
  default:
    return "a date/time";
  }
}

/// Reads one table: typed getters that record problems, and a check for unknown keys.
class Reader {
public:
  Reader(Context& ctx, const toml::table& table, std::string path, std::vector<std::string> allowed)
      : ctx_(ctx), table_(table), path_(std::move(path)), allowed_(std::move(allowed)) {
    for (const auto& [k, v] : table_) {
      const std::string key(k.str());
      if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
        std::string msg = "unknown key";
        if (const auto hint = did_you_mean(key, allowed_); !hint.empty())
          msg += "; did you mean '" + hint + "'?";
        ctx_.problems.push_back({ctx_.where(k.source(), key_path(key)), msg});
      }
    }
  }

  [[nodiscard]] std::string key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  [[nodiscard]] bool has(const std::string& key) const { return table_.contains(key); }
  [[nodiscard]] const toml::node* node(const std::string& key) const { return table_.get(key); }
  [[nodiscard]] SourceLocation location(const std::string& key) const {
    const toml::node* n = table_.get(key);
    return ctx_.where(n ? n->source() : table_.source(), key_path(key));
  }
  [[nodiscard]] SourceLocation table_location() const { return ctx_.where(table_.source(), path_); }
  void error(const std::string& key, std::string msg) { ctx_.error(location(key), std::move(msg)); }
  /// A key the configuration does not read: a problem if it is present, saying why; unless the
  /// file's value was made unused by a `--set` of `switch_key` (a kind changed on the command
  /// line).
  void unused(const std::string& key, const std::string& why, const std::string& switch_key) {
    if (!has(key)) return;
    const auto cli = [&](const std::string& k) {
      return location(k).file.rfind("command line", 0) == 0;
    };
    if (has(switch_key) && cli(switch_key) && !cli(key)) return;
    ctx_.error(location(key), "not used " + why);
  }
  void missing(const std::string& key) {
    ctx_.error(ctx_.where(table_.source(), key_path(key)), "missing required key");
  }

  std::optional<bool> boolean(const std::string& key, bool def) {
    const toml::node* n = table_.get(key);
    if (!n) return def;
    if (const auto* b = n->as_boolean()) return b->get();
    ctx_.error(*n, key_path(key), "must be true or false, got " + type_name(*n));
    return std::nullopt;
  }

  /// An array of strings with where each stands; problems recorded per element.
  std::vector<std::pair<std::string, SourceLocation>> strings(const std::string& key) {
    std::vector<std::pair<std::string, SourceLocation>> out;
    const toml::array* a = array(key, false);
    if (!a) return out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      const std::string p = key_path(key) + "[" + std::to_string(i) + "]";
      if (const auto* str = e.as_string())
        out.emplace_back(std::string(str->get()), ctx_.where(e.source(), p));
      else
        ctx_.error(e, p, "must be a string, got " + type_name(e));
    }
    return out;
  }

  std::optional<double> number(const std::string& key, std::optional<double> def, double lo,
                               double hi) {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (!def) missing(key);
      return def;
    }
    std::optional<double> v;
    if (const auto* i = n->as_integer())
      v = static_cast<double>(i->get());
    else if (const auto* f = n->as_floating_point())
      v = f->get();
    if (!v) {
      ctx_.error(*n, key_path(key), "must be a number, got " + type_name(*n));
      return def;
    }
    if (!std::isfinite(*v) || *v < lo || *v > hi) {
      ctx_.error(*n, key_path(key),
                 "must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + fmt(*v));
      return def;
    }
    return v;
  }

  std::optional<std::int64_t> integer(const std::string& key, std::optional<std::int64_t> def,
                                      std::int64_t lo, std::int64_t hi) {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (!def) missing(key);
      return def;
    }
    const auto* i = n->as_integer();
    if (!i) {
      ctx_.error(*n, key_path(key), "must be an integer, got " + type_name(*n));
      return def;
    }
    if (i->get() < lo || i->get() > hi) {
      ctx_.error(*n, key_path(key),
                 "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                     std::to_string(i->get()));
      return def;
    }
    return i->get();
  }

  std::optional<std::string> string(const std::string& key, std::optional<std::string> def,
                                    const std::vector<std::string>& choices = {}) {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (!def) missing(key);
      return def;
    }
    const auto* s = n->as_string();
    if (!s) {
      ctx_.error(*n, key_path(key), "must be a string, got " + type_name(*n));
      return def;
    }
    std::string v(s->get());
    if (!choices.empty() && std::find(choices.begin(), choices.end(), v) == choices.end()) {
      std::string msg = "'" + v + "' is not one of";
      for (const auto& c : choices)
        msg += " '" + c + "'";
      if (const auto hint = did_you_mean(v, choices); !hint.empty())
        msg += "; did you mean '" + hint + "'?";
      ctx_.error(*n, key_path(key), msg);
      return def;
    }
    return v;
  }

  const toml::table* table(const std::string& key, bool required) {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (required) missing(key);
      return nullptr;
    }
    if (!n->is_table()) {
      ctx_.error(*n, key_path(key), "must be a table, got " + type_name(*n));
      return nullptr;
    }
    return n->as_table();
  }

  const toml::array* array(const std::string& key, bool required) {
    const toml::node* n = table_.get(key);
    if (!n) {
      if (required) missing(key);
      return nullptr;
    }
    if (!n->is_array()) {
      ctx_.error(*n, key_path(key), "must be an array, got " + type_name(*n));
      return nullptr;
    }
    return n->as_array();
  }

  /// Exactly one of `keys` must be present; returns its index or -1 (problem recorded).
  int exactly_one(const std::vector<std::string>& keys) {
    int found = -1;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!has(keys[i])) continue;
      if (found >= 0) {
        ctx_.error(location(keys[i]), "conflicts with '" + keys[static_cast<std::size_t>(found)] +
                                          "': give only one of them");
        return -1;
      }
      found = static_cast<int>(i);
    }
    if (found < 0) {
      std::string msg = "needs one of";
      for (const auto& k : keys)
        msg += " '" + k + "'";
      ctx_.error(ctx_.where(table_.source(), path_), msg);
    }
    return found;
  }

private:
  Context& ctx_;
  const toml::table& table_;
  std::string path_;
  std::vector<std::string> allowed_;
};

inline Distribution read_distribution(Context& ctx, const toml::table& t, const std::string& path) {
  Reader r(ctx, t, path, {"kind", "value", "min", "max", "mean", "sd", "values", "lower", "upper"});
  Distribution d;
  constexpr double big = 1e300;
  const auto kind = r.string("kind", std::nullopt, kDistributionKinds.list());
  if (!kind) return d;
  if (const auto k = kDistributionKinds.parse(*kind)) {
    for (const auto& param : kDistributionParameters) {
      if ((param.kinds >> static_cast<unsigned>(*k)) & 1U) continue;
      std::string users;
      for (std::size_t j = 0; j < kDistributionKinds.size(); ++j)
        if ((param.kinds >> j) & 1U)
          users += (users.empty() ? "" : ", ") + kDistributionKinds.list()[j];
      r.unused(param.key, "by distribution kind '" + *kind + "' (used by: " + users + ")", "kind");
    }
  }
  if (*kind == "fixed") {
    d.kind = Distribution::Kind::fixed;
    d.value = r.number("value", std::nullopt, -big, big).value_or(0);
  } else if (*kind == "uniform") {
    d.kind = Distribution::Kind::uniform;
    d.min = r.number("min", std::nullopt, -big, big).value_or(0);
    d.max = r.number("max", std::nullopt, -big, big).value_or(1);
    if (d.max < d.min) ctx.error(r.location("max"), "must be >= min (" + fmt(d.min) + ")");
  } else if (*kind == "normal" || *kind == "lognormal") {
    d.kind = *kind == "normal" ? Distribution::Kind::normal : Distribution::Kind::lognormal;
    d.mean = r.number("mean", std::nullopt, *kind == "normal" ? -big : 1e-300, big).value_or(1);
    d.sd = r.number("sd", std::nullopt, 0, big).value_or(0);
  } else {
    d.kind = Distribution::Kind::values;
    if (const auto* a = r.array("values", true)) {
      for (std::size_t i = 0; i < a->size(); ++i) {
        const toml::node& n = *a->get(i);
        if (const auto* f = n.as_floating_point())
          d.values.push_back(f->get());
        else if (const auto* in = n.as_integer())
          d.values.push_back(static_cast<double>(in->get()));
        else
          ctx.error(n, path + ".values[" + std::to_string(i) + "]", "must be a number");
      }
    }
  }
  d.lower = r.number("lower", -std::numeric_limits<double>::infinity(), -big, big).value();
  d.upper = r.number("upper", std::numeric_limits<double>::infinity(), -big, big).value();
  if (d.upper < d.lower) ctx.error(r.location("upper"), "must be >= lower");
  return d;
}

} // namespace detail
} // namespace csei
