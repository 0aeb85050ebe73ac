// Scenario parsing and validation. One pass over the TOML tree collects every problem (with file,
// line, column and key path) before anything is built; cross-field checks run once the single
// fields are known to be good.
#include "scenario/load.hpp"

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/memory.hpp"
#include "scenario/limits.hpp"
#include "scenario/load_model.hpp"
#include "scenario/reader.hpp"
#include "scenario/territory_csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace csei {

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

namespace {

using namespace detail;
constexpr const char* kSetPrefix = "--set ";

/// The parent level: every distinct parent code of the territories, in order of first use,
/// named from `territories.parents` (a CSV of code, name) when given, else by its code.
struct ParentsFile {
  std::string path; // empty: none given
  SourceLocation where;
};

std::vector<TerritoryParent> read_parents(Context& ctx, const ParentsFile& file,
                                          const std::vector<Territory>& territories) {
  std::vector<TerritoryParent> out;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < territories.size(); ++i) {
    const std::string& code = territories[i].parent;
    if (code.empty()) continue;
    auto [it, fresh] = index.emplace(code, out.size());
    if (fresh) out.push_back({code, code, {}});
    out[it->second].territories.push_back(static_cast<int>(i));
  }
  if (file.path.empty()) return out;
  std::filesystem::path p(file.path);
  if (p.is_relative()) p = ctx.base_dir / p;
  const SourceLocation& where = file.where;
  if (out.empty()) {
    ctx.error(where, "no territory has a parent (a 'parent' or 'country' column, or 'parent' "
                     "in territories.list), so there is nothing to name");
    return out;
  }
  if (!std::filesystem::exists(p)) {
    ctx.error(where, "parent territory file not found: " + p.string());
    return out;
  }
  std::map<std::string, std::string> names;
  try {
    ctx.inputs.push_back(
        {"territories.parents", p.string(), files::read_text(p, where, "parent table")});
    for (auto& [code, name] : parse_parent_csv(ctx.inputs.back().text, p.string()))
      names.emplace(std::move(code), std::move(name));
  } catch (const InputError& e) {
    for (const auto& pr : e.problems())
      ctx.problems.push_back(pr);
    return out;
  }
  for (auto& parent : out) {
    const auto it = names.find(parent.code);
    if (it == names.end())
      ctx.error(where, "parent code '" + parent.code + "' (of territory '" +
                           territories[static_cast<std::size_t>(parent.territories[0])].code +
                           "') is not in " + p.string());
    else
      parent.name = it->second;
  }
  return out;
}

std::vector<Territory> read_territories(Context& ctx, Reader& top, SourceLocation& csv_where,
                                        ParentsFile& parents) {
  const toml::table* t = top.table("territories", true);
  if (!t) return {};
  Reader r(ctx, *t, "territories", {"csv", "list", "grid", "parents"});
  parents.path = r.string("parents", std::string{}).value_or("");
  parents.where = r.location("parents");
  const int which = r.exactly_one({"csv", "list", "grid"});
  std::vector<Territory> out;
  if (which == 0) {
    const auto rel = r.string("csv", std::nullopt);
    if (!rel) return {};
    std::filesystem::path p(*rel);
    if (p.is_relative()) p = ctx.base_dir / p;
    csv_where = r.location("csv");
    if (!std::filesystem::exists(p)) {
      ctx.error(csv_where, "territory file not found: " + p.string());
      return {};
    }
    try { // read once: the text parsed is the text embedded in the run file
      ctx.inputs.push_back(
          {"territories.csv", p.string(), files::read_text(p, csv_where, "territory table")});
      out = parse_territory_csv(ctx.inputs.back().text, p.string());
    } catch (const InputError& e) {
      for (const auto& pr : e.problems())
        ctx.problems.push_back(pr);
    }
    csv_where.file = p.string();
    csv_where.line = csv_where.column = 0;
  } else if (which == 1) {
    const toml::array* a = r.array("list", true);
    if (!a) return {};
    std::set<std::string> codes;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string path = "territories.list[" + std::to_string(i) + "]";
      const toml::table* e = a->get(i)->as_table();
      if (!e) {
        ctx.error(*a->get(i), path, "must be a table");
        continue;
      }
      Reader er(ctx, *e, path,
                {"code", "name", "population", "lat", "lon", "se_employment", "se_entities",
                 "neighbours", "parent"});
      Territory terr;
      terr.code = er.string("code", std::nullopt).value_or("");
      terr.name = er.string("name", terr.code).value_or("");
      terr.population = er.number("population", 0.0, 0, 1e12).value_or(0);
      terr.lat = er.number("lat", 0.0, -90, 90).value_or(0);
      terr.lon = er.number("lon", 0.0, -180, 180).value_or(0);
      terr.se_employment = er.number("se_employment", -1.0, 0, 1e12).value_or(-1);
      terr.se_entities = er.number("se_entities", -1.0, 0, 1e12).value_or(-1);
      terr.parent = er.string("parent", std::string{}).value_or("");
      if (!terr.code.empty() && !codes.insert(terr.code).second)
        ctx.error(er.location("code"), "duplicate territory code '" + terr.code + "'");
      out.push_back(std::move(terr));
    }
    if (a->empty()) ctx.error(r.location("list"), "must list at least one territory");
  } else if (which == 2) {
    const toml::table* g = r.table("grid", true);
    if (!g) return {};
    Reader gr(ctx, *g, "territories.grid", {"count", "spacing_km", "population"});
    const auto count = gr.integer("count", std::nullopt, 1, 1'000'000);
    const double spacing = gr.number("spacing_km", 100.0, 0, 1e4).value_or(100);
    const double pop = gr.number("population", 1e6, 0, 1e12).value_or(1e6);
    if (!count) return {};
    // A near-square grid centred on Europe; positions only matter through distances.
    const auto cols = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(*count))));
    constexpr double km_per_degree = 111.195;
    for (std::int64_t i = 0; i < *count; ++i) {
      Territory terr;
      std::string digits = std::to_string(i);
      terr.code = terr.name =
          "G" + std::string(digits.size() < 5 ? 5 - digits.size() : 0, '0') + digits;
      terr.population = pop;
      terr.lat =
          std::clamp(40.0 + static_cast<double>(i / cols) * spacing / km_per_degree, -89.0, 89.0);
      terr.lon = std::remainder(
          5.0 + static_cast<double>(i % cols) * spacing / (km_per_degree * std::cos(0.8)), 360.0);
      out.push_back(std::move(terr));
    }
  }
  return out;
}

OrganisationSpec read_organisations(Context& ctx, Reader& top) {
  OrganisationSpec o;
  o.form_mix = {0.70, 0.15, 0.02, 0.05, 0.08, 0.0, 0.0, 0.0}; // documented default (docs/MODEL.md)
  o.jobs = Distribution::constant(1.0);
  const toml::table* t = top.table("organisations", true);
  if (!t) return o;
  Reader r(ctx, *t, "organisations",
           {"per_territory", "total", "scale", "split", "of", "legal_forms", "jobs", "jobs_by_form",
            "sectors", "innovativeness", "resources", "territory_mix", "represents"});
  o.represents = r.number("represents", 1.0, 1e-9, 1e9).value_or(1.0);
  const std::vector<std::string> bases = {"equal", "population", "se_employment", "se_entities"};
  const auto basis_of = [&](const std::string& s) {
    return static_cast<OrganisationSpec::Basis>(std::find(bases.begin(), bases.end(), s) -
                                                bases.begin());
  };
  switch (r.exactly_one({"per_territory", "total", "scale"})) {
  case 0:
    o.mode = OrganisationSpec::Mode::per_territory;
    o.count = r.integer("per_territory", std::nullopt, 0, 1'000'000'000).value_or(0);
    break;
  case 1:
    o.mode = OrganisationSpec::Mode::total;
    o.count = r.integer("total", std::nullopt, 1, 2'000'000'000).value_or(1);
    o.basis = basis_of(r.string("split", "equal", bases).value_or("equal"));
    break;
  case 2: {
    o.mode = OrganisationSpec::Mode::scale;
    o.factor = r.number("scale", std::nullopt, 0, 1e6).value_or(0);
    const std::vector<std::string> of = {"population", "se_employment", "se_entities"};
    if (const auto s = r.string("of", std::nullopt, of)) o.basis = basis_of(*s);
    break;
  }
  default:
    break;
  }
  if (const toml::table* lf = r.table("legal_forms", false)) {
    std::vector<std::string> names(kLegalFormNames.begin(), kLegalFormNames.end());
    Reader fr(ctx, *lf, "organisations.legal_forms", names);
    double sum = 0;
    for (std::size_t i = 0; i < kLegalFormCount; ++i) {
      o.form_mix[i] = fr.number(names[i], 0.0, 0, 1e12).value_or(0);
      sum += o.form_mix[i];
    }
    if (sum <= 0)
      ctx.error(r.location("legal_forms"), "shares must add up to more than 0");
    else
      for (auto& s : o.form_mix)
        s /= sum;
  }
  if (const toml::table* j = r.table("jobs", false))
    o.jobs = read_distribution(ctx, *j, "organisations.jobs");
  o.jobs_by_form.fill(o.jobs);
  if (const toml::table* jf = r.table("jobs_by_form", false)) {
    std::vector<std::string> names(kLegalFormNames.begin(), kLegalFormNames.end());
    Reader fr(ctx, *jf, "organisations.jobs_by_form", names);
    for (std::size_t f = 0; f < kLegalFormCount; ++f)
      if (const toml::table* d = fr.table(names[f], false))
        o.jobs_by_form[f] = read_distribution(ctx, *d, "organisations.jobs_by_form." + names[f]);
  }
  if (const toml::table* sec = r.table("sectors", false)) {
    o.sectors.clear();
    o.sector_shares.clear();
    double sum = 0;
    for (const auto& [k, v] : *sec) {
      const std::string key = "organisations.sectors." + std::string(k.str());
      std::optional<double> share;
      if (const auto* f = v.as_floating_point())
        share = f->get();
      else if (const auto* i = v.as_integer())
        share = static_cast<double>(i->get());
      if (!share || *share < 0) ctx.error(v, key, "must be a share >= 0");
      o.sectors.emplace_back(k.str());
      o.sector_shares.push_back(share.value_or(0));
      sum += share.value_or(0);
    }
    if (o.sectors.empty() || o.sectors.size() > 255 || sum <= 0)
      ctx.error(r.location("sectors"),
                "must list 1 to 255 sectors with shares adding up to more than 0");
    else
      for (auto& x : o.sector_shares)
        x /= sum;
  }
  o.innovativeness.kind = Distribution::Kind::normal;
  o.innovativeness.mean = 0.0;
  o.innovativeness.sd = 1.0;
  if (const toml::table* d = r.table("innovativeness", false))
    o.innovativeness = read_distribution(ctx, *d, "organisations.innovativeness");
  o.resources = Distribution::constant(1.0);
  if (const toml::table* d = r.table("resources", false))
    o.resources = read_distribution(ctx, *d, "organisations.resources");
  return o;
}

/// Per-territory legal-form mixes; read after the territories are known.
void read_territory_mix(Context& ctx, const toml::table* orgs, Scenario& s,
                        const detail::Names& names) {
  if (!orgs) return;
  const toml::node* node = orgs->get("territory_mix");
  if (!node) return;
  const toml::array* a = node->as_array();
  if (!a) {
    ctx.error(*node, "organisations.territory_mix", "must be an array of tables");
    return;
  }
  std::vector<std::string> forms(kLegalFormNames.begin(), kLegalFormNames.end());
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string path = "organisations.territory_mix[" + std::to_string(i) + "]";
    const toml::table* t = a->get(i)->as_table();
    if (!t) {
      ctx.error(*a->get(i), path, "must be a table");
      continue;
    }
    Reader r(ctx, *t, path, {"territory", "legal_forms"});
    const auto code = r.string("territory", std::nullopt);
    const std::vector<int> targets =
        code ? detail::resolve_territories(ctx, names, *code, r.location("territory"))
             : std::vector<int>{};
    std::array<double, kLegalFormCount> mix{};
    double sum = 0;
    if (const toml::table* lf = r.table("legal_forms", true)) {
      Reader fr(ctx, *lf, path + ".legal_forms", forms);
      for (std::size_t f = 0; f < kLegalFormCount; ++f)
        sum += mix[f] = fr.number(forms[f], 0.0, 0, 1e12).value_or(0);
    }
    if (sum <= 0) {
      ctx.error(r.location("legal_forms"), "shares must add up to more than 0");
      continue;
    }
    for (auto& x : mix)
      x /= sum;
    for (const int idx : targets)
      s.organisations.territory_mix.emplace_back(idx, mix);
  }
}

NetworkSpec read_network(Context& ctx, Reader& top) {
  NetworkSpec n;
  const toml::table* t = top.table("network", false);
  if (!t) return n;
  Reader r(ctx, *t, "network",
           {"kind", "partners", "local_share", "remote", "decay_km", "mean_degree"});
  const auto kind = r.string("kind", "partners", {"partners", "complete", "erdos_renyi"});
  n.kind = *kind == "complete"      ? NetworkSpec::Kind::complete
           : *kind == "erdos_renyi" ? NetworkSpec::Kind::erdos_renyi
                                    : NetworkSpec::Kind::partners;
  n.partners = static_cast<int>(r.integer("partners", 8, 0, kMaxPartners).value_or(8));
  n.local_share = r.number("local_share", 0.9, 0, 1).value_or(0.9);
  n.remote =
      r.string("remote", "uniform", {"uniform", "distance"}).value_or("uniform") == "distance"
          ? NetworkSpec::Remote::distance
          : NetworkSpec::Remote::uniform;
  n.decay_km = r.number("decay_km", 500.0, 1e-3, 1e6).value_or(500);
  n.mean_degree = r.number("mean_degree", 4.0, 0, 1e6).value_or(4);
  return n;
}

struct PendingTerritoryRef {
  std::size_t innovation;
  std::string code;
  SourceLocation where;
};

std::vector<InnovationSpec> read_innovations(Context& ctx, Reader& top, double steps_per_year,
                                             std::vector<PendingTerritoryRef>& refs,
                                             std::vector<PendingTerritoryRef>& cluster_refs,
                                             std::vector<SourceLocation>& pioneer_where,
                                             std::vector<SourceLocation>& threshold_where) {
  std::vector<InnovationSpec> out;
  const toml::array* a = top.array("innovations", true);
  if (!a) return out;
  if (a->empty()) ctx.error(top.location("innovations"), "must declare at least one innovation");
  std::set<std::string> names;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string path = "innovations[" + std::to_string(i) + "]";
    const toml::table* t = a->get(i)->as_table();
    if (!t) {
      ctx.error(*a->get(i), path, "must be a table");
      continue;
    }
    Reader r(ctx, *t, path,
             {"name",
              "rule",
              "kind",
              "suits",
              "launch_step",
              "p",
              "q",
              "threshold",
              "appeal",
              "complexity",
              "cost",
              "rate",
              "social_weight",
              "innovativeness_weight",
              "cost_weight",
              "complexity_weight",
              "cascade_probability",
              "jobs_per_adopter",
              "impact_per_job",
              "pioneers",
              "pioneer_territory",
              "pioneer_cluster",
              "pioneer_forms"});
    InnovationSpec inn;
    inn.name = r.string("name", std::nullopt).value_or("innovation" + std::to_string(i));
    if (inn.name.empty())
      ctx.error(r.location("name"), "must not be empty");
    else if (!names.insert(inn.name).second)
      ctx.error(r.location("name"), "duplicate innovation name '" + inn.name + "'");
    inn.rule = kRuleNames.parse(r.string("rule", "bass", kRuleNames.list()).value_or("bass"))
                   .value_or(InnovationSpec::Rule::bass);
    inn.kind = kInnovationKinds
                   .parse(r.string("kind", "social", kInnovationKinds.list()).value_or("social"))
                   .value_or(InnovationSpec::Kind::social);
    if (const toml::node* f = r.node("suits"))
      inn.suits = detail::read_forms(ctx, *f, path + ".suits");
    inn.launch_step = r.integer("launch_step", 0, 0, 1'000'000).value_or(0);
    inn.appeal = r.number("appeal", 0.0, -1e6, 1e6).value_or(0);
    inn.complexity = r.number("complexity", 0.0, 0, 1e6).value_or(0);
    inn.cost = r.number("cost", 0.0, 0, 1e12).value_or(0);
    inn.rate = r.number("rate", 1.0, 0, steps_per_year).value_or(1);
    inn.social_weight = r.number("social_weight", 4.0, -1e6, 1e6).value_or(4);
    inn.innovativeness_weight = r.number("innovativeness_weight", 1.0, -1e6, 1e6).value_or(1);
    inn.cost_weight = r.number("cost_weight", 1.0, 0, 1e6).value_or(1);
    inn.complexity_weight = r.number("complexity_weight", 1.0, 0, 1e6).value_or(1);
    inn.cascade_probability = r.number("cascade_probability", 0.1, 0, 1).value_or(0.1);
    inn.jobs_per_adopter = r.number("jobs_per_adopter", 0.0, 0, 1e6).value_or(0);
    inn.impact_per_job = r.number("impact_per_job", 0.0, 0, 1e9).value_or(0);
    if (const toml::node* f = r.node("pioneer_forms"))
      inn.pioneer_forms = detail::read_forms(ctx, *f, path + ".pioneer_forms");
    if (const auto c = r.string("pioneer_cluster", std::string{}); c && !c->empty())
      cluster_refs.push_back({i, *c, r.location("pioneer_cluster")});
    // Rates are per year; a per-step probability term may not exceed 1.
    inn.p = r.number("p", 0.0, 0, steps_per_year).value_or(0);
    inn.q = r.number("q", 0.0, 0, steps_per_year).value_or(0);
    if (const toml::table* th = r.table("threshold", false))
      inn.threshold = read_distribution(ctx, *th, path + ".threshold");
    else if (inn.rule == InnovationSpec::Rule::threshold)
      r.missing("threshold");
    inn.pioneers = r.integer("pioneers", 0, 0, 2'000'000'000).value_or(0);
    pioneer_where.push_back(r.location("pioneers"));
    threshold_where.push_back(r.location("threshold"));
    if (const auto code = r.string("pioneer_territory", std::string{}); code && !code->empty())
      refs.push_back({i, *code, r.location("pioneer_territory")});
    out.push_back(std::move(inn));
  }
  return out;
}

double basis_value(const Territory& t, OrganisationSpec::Basis b) {
  switch (b) {
  case OrganisationSpec::Basis::equal:
    return 1.0;
  case OrganisationSpec::Basis::population:
    return t.population > 0 ? t.population : -1.0;
  case OrganisationSpec::Basis::se_employment:
    return t.se_employment;
  case OrganisationSpec::Basis::se_entities:
    return t.se_entities;
  }
  return -1.0;
}

const char* basis_name(OrganisationSpec::Basis b) {
  switch (b) {
  case OrganisationSpec::Basis::equal:
    return "equal";
  case OrganisationSpec::Basis::population:
    return "population";
  case OrganisationSpec::Basis::se_employment:
    return "se_employment";
  case OrganisationSpec::Basis::se_entities:
    return "se_entities";
  }
  return "?";
}

std::vector<std::int64_t> organisation_counts(Context& ctx, const Scenario& s,
                                              const SourceLocation& org_where,
                                              const SourceLocation& data_where) {
  const auto& o = s.organisations;
  const std::size_t T = s.territories.size();
  std::vector<std::int64_t> counts(T, 0);
  if (o.mode == OrganisationSpec::Mode::per_territory) {
    std::fill(counts.begin(), counts.end(), o.count);
    return counts;
  }
  std::vector<double> w(T);
  bool ok = true;
  for (std::size_t i = 0; i < T; ++i) {
    w[i] = basis_value(s.territories[i], o.basis);
    if (w[i] < 0) {
      SourceLocation loc = data_where;
      loc.key = basis_name(o.basis);
      ctx.error(loc, "territory '" + s.territories[i].code + "' has no " + basis_name(o.basis) +
                         " value, needed by organisations." +
                         (o.mode == OrganisationSpec::Mode::total ? "split" : "of"));
      ok = false;
    }
  }
  if (!ok) return counts;
  if (o.mode == OrganisationSpec::Mode::scale) {
    for (std::size_t i = 0; i < T; ++i) {
      const double v = o.factor * w[i];
      if (!(v <= static_cast<double>(kMaxOrganisations))) {
        SourceLocation loc = data_where;
        loc.key = basis_name(o.basis);
        char amount[32];
        std::snprintf(amount, sizeof amount, "%.4g", v);
        ctx.error(loc, "territory '" + s.territories[i].code + "' would have " + amount +
                           " organisations (organisations.scale x " + basis_name(o.basis) +
                           "); at most " + std::to_string(kMaxOrganisations) + " in all");
        continue;
      }
      counts[i] = std::llround(v);
    }
    return counts;
  }
  // Largest-remainder split of the total, ties to the lower index: exact and deterministic.
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  if (sum <= 0) {
    ctx.error(org_where, std::string("the territories' ") + basis_name(o.basis) + " adds up to 0");
    return counts;
  }
  std::vector<double> rem(T);
  std::int64_t assigned = 0;
  for (std::size_t i = 0; i < T; ++i) {
    const double exact = static_cast<double>(o.count) * w[i] / sum;
    counts[i] = static_cast<std::int64_t>(std::floor(exact));
    rem[i] = exact - static_cast<double>(counts[i]);
    assigned += counts[i];
  }
  std::vector<std::size_t> order(T);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return rem[a] > rem[b]; });
  for (std::size_t k = 0; assigned < o.count; ++k, ++assigned)
    ++counts[order[k % T]];
  return counts;
}

/// Splits "a.b[2].c" into keys and indices; throws InputError on bad syntax.
struct PathPart {
  std::string key;
  std::optional<std::size_t> index;
};

std::vector<PathPart> parse_key_path(const std::string& path, const SourceLocation& where) {
  std::vector<PathPart> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = i;
    while (j < path.size() && path[j] != '.' && path[j] != '[')
      ++j;
    if (j == i && (parts.empty() || path[i] != '['))
      throw InputError(where, "malformed key path '" + path + "'");
    if (j > i) parts.push_back({path.substr(i, j - i), std::nullopt});
    i = j;
    while (i < path.size() && path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string::npos || close == i + 1)
        throw InputError(where, "malformed index in key path '" + path + "'");
      const std::string digits = path.substr(i + 1, close - i - 1);
      if (digits.find_first_not_of("0123456789") != std::string::npos)
        throw InputError(where, "index must be a number in key path '" + path + "'");
      if (digits.size() > 9)
        throw InputError(where, "index " + digits + " is out of range in key path '" + path +
                                    "' (at most 999999999)");
      parts.push_back({"", std::stoul(digits)});
      i = close + 1;
    }
    if (i < path.size()) {
      if (path[i] != '.' || i + 1 == path.size())
        throw InputError(where, "malformed key path '" + path + "'");
      ++i;
    }
  }
  if (parts.empty()) throw InputError(where, "empty key path");
  return parts;
}

/// Applies one "key.path=value"; returns the key path in the form error messages use.
std::string apply_override(toml::table& root, const std::string& assignment) {
  const SourceLocation where{"command line (--set " + assignment + ")", 0, 0, ""};
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError(where, "expected key.path=value");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const auto parts = parse_key_path(path, where);

  // The value in TOML syntax; a bare word that is not valid TOML is taken as a string.
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text, std::string(kSetPrefix) + assignment);
  } catch (const toml::parse_error&) {
    parsed = toml::table{{"v", text}};
  }
  toml::node& value = *parsed.get("v");

  toml::node* cur = &root;
  std::string walked;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const bool last = k + 1 == parts.size();
    const PathPart& part = parts[k];
    if (part.index) {
      auto* arr = cur->as_array();
      walked.append("[").append(std::to_string(*part.index)).append("]");
      if (!arr)
        throw InputError(where, "'" + walked.substr(0, walked.rfind('[')) + "' is not an array");
      if (*part.index >= arr->size())
        throw InputError(where, "index out of range in '" + walked + "' (the array has " +
                                    std::to_string(arr->size()) + " elements)");
      if (last) {
        arr->replace(arr->cbegin() + static_cast<std::ptrdiff_t>(*part.index), std::move(value));
        return walked;
      }
      cur = arr->get(*part.index);
    } else {
      auto* tbl = cur->as_table();
      walked += (walked.empty() ? "" : ".") + part.key;
      if (!tbl) throw InputError(where, "cannot set '" + walked + "': its parent is not a table");
      if (last) {
        tbl->insert_or_assign(part.key, std::move(value));
        return walked;
      }
      if (!tbl->contains(part.key)) {
        if (parts[k + 1].index)
          throw InputError(where, "'" + walked + "' does not exist; cannot index into it");
        tbl->insert(part.key, toml::table{});
      }
      cur = tbl->get(part.key);
    }
  }
  return walked;
}

/// The `[workshop]` table: title, summary and the sliders of workshop mode, each checked (ranges,
/// steps, a key path that names a value of this scenario or a default).
void read_workshop(Context& ctx, Reader& top, const toml::table& root, Scenario& s) {
  const toml::table* t = top.table("workshop", false);
  if (!t) return;
  WorkshopSpec& w = s.workshop;
  w.present = true;
  Reader r(ctx, *t, "workshop", {"title", "summary", "order", "sliders"});
  w.title = r.string("title", std::nullopt).value_or("");
  if (r.has("title") && w.title.empty()) r.error("title", "must not be empty");
  w.summary = r.string("summary", std::string{}).value_or("");
  w.order = r.integer("order", 0, -1'000'000, 1'000'000).value_or(0);
  const toml::array* a = r.array("sliders", false);
  if (!a) return;
  constexpr double kBig = 1e12;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string path = "workshop.sliders[" + std::to_string(i) + "]";
    const toml::table* st = a->get(i)->as_table();
    if (!st) {
      ctx.error(*a->get(i), path, "must be a table (a [[workshop.sliders]] entry)");
      continue;
    }
    Reader sr(ctx, *st, path,
              {"name", "key", "label", "help", "min", "max", "step", "integer", "default"});
    WorkshopSlider sl;
    sl.name = sr.string("name", std::nullopt).value_or("");
    const bool name_ok = !sl.name.empty() && sl.name.size() <= 40 &&
                         std::all_of(sl.name.begin(), sl.name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                         });
    if (sr.has("name") && !name_ok)
      sr.error("name", "must be 1 to 40 of a-z, 0-9 and _ (the API's name of the slider)");
    for (const auto& other : w.sliders)
      if (name_ok && other.name == sl.name)
        sr.error("name", "a second slider named '" + sl.name + "'");
    sl.key = sr.string("key", std::nullopt).value_or("");
    sl.label = sr.string("label", std::nullopt).value_or("");
    if (sr.has("label") && sl.label.empty()) sr.error("label", "must not be empty");
    sl.help = sr.string("help", std::string{}).value_or("");
    const auto lo = sr.number("min", std::nullopt, -kBig, kBig);
    const auto hi = sr.number("max", std::nullopt, -kBig, kBig);
    sl.integer = sr.boolean("integer", false).value_or(false);
    const auto def = sr.number("default", 0.0, -kBig, kBig);
    if (!lo || !hi) continue;
    sl.min = *lo;
    sl.max = *hi;
    if (sl.max <= sl.min) {
      sr.error("max", "must be greater than min (" + fmt(sl.min) + "), got " + fmt(sl.max));
      continue;
    }
    sl.step = sr.number("step", (sl.max - sl.min) / 10, 0, kBig).value_or(0);
    if (sl.step <= 0 || sl.step > sl.max - sl.min)
      sr.error(sr.has("step") ? "step" : "max", "step must be in (0, max - min] = (0, " +
                                                    fmt(sl.max - sl.min) + "], got " +
                                                    fmt(sl.step));
    if (sl.integer)
      for (const auto& [key, v] :
           {std::pair<const char*, double>{"min", sl.min}, {"max", sl.max}, {"step", sl.step}})
        if (v != std::floor(v))
          sr.error(sr.has(key) ? key : "integer",
                   std::string("must be a whole number for an integer "
                               "slider, got ") +
                       fmt(v));
    // The scenario's own value: at the key path, else the default.
    std::optional<double> value;
    if (sl.key == "events.subsidise_cost") {
      value = def.value_or(0);
    } else if (sr.has("key")) {
      std::vector<PathPart> parts;
      try {
        parts = parse_key_path(sl.key, sr.location("key"));
      } catch (const InputError& e) {
        for (const auto& p : e.problems())
          ctx.error(sr.location("key"), p.message);
        continue;
      }
      const toml::node* cur = &root;
      for (const auto& part : parts) {
        if (!cur) break;
        if (part.index) {
          const auto* arr = cur->as_array();
          cur = arr && *part.index < arr->size() ? arr->get(*part.index) : nullptr;
        } else {
          const auto* tbl = cur->as_table();
          cur = tbl ? tbl->get(part.key) : nullptr;
        }
      }
      if (cur && cur->as_integer())
        value = static_cast<double>(cur->as_integer()->get());
      else if (cur && cur->as_floating_point())
        value = cur->as_floating_point()->get();
      else if (cur)
        sr.error("key",
                 "'" + sl.key + "' is " + type_name(*cur) + " in this scenario, not a number");
      else if (sr.has("default"))
        value = def;
      else
        sr.error("key", "'" + sl.key +
                            "' is not set in this scenario: give the slider a default (the "
                            "value the scenario has without it)");
    }
    if (value) {
      sl.value = *value;
      if (sl.value < sl.min || sl.value > sl.max)
        sr.error(sr.has("default") && sl.key != "events.subsidise_cost" ? "default" : "key",
                 "the scenario's value " + fmt(sl.value) + " is outside [" + fmt(sl.min) + ", " +
                     fmt(sl.max) + "]");
    }
    w.sliders.push_back(std::move(sl));
  }
}

Scenario build(Context& ctx, toml::table& root, const std::string& default_name) {
  Scenario s;
  s.file = ctx.file;
  Reader top(ctx, root, "",
             {"name", "description", "seed", "time", "territories", "organisations", "network",
              "innovations", "awareness", "abandonment", "policy", "cluster_rules", "clusters",
              "cluster_generation", "events", "outcomes", "policy_costs", "workshop"});
  s.name = top.string("name", default_name).value_or(default_name);
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos)
    ctx.error(top.location("name"), "must be a non-empty name without slashes");
  (void)top.string("description", std::string{});
  s.seed = static_cast<std::uint64_t>(
      top.integer("seed", 1, 0, std::numeric_limits<std::int64_t>::max()).value_or(1));

  if (const toml::table* t = top.table("time", true)) {
    Reader r(ctx, *t, "time", {"steps", "steps_per_year"});
    s.steps = r.integer("steps", std::nullopt, 0, 1'000'000).value_or(0);
    s.steps_per_year = r.number("steps_per_year", 12.0, 1e-3, 1e6).value_or(12);
  }

  SourceLocation data_where = top.location("territories");
  ParentsFile parents_file;
  s.territories = read_territories(ctx, top, data_where, parents_file);
  s.parents = read_parents(ctx, parents_file, s.territories);
  s.organisations = read_organisations(ctx, top);
  s.network = read_network(ctx, top);

  detail::Names names;
  for (std::size_t i = 0; i < s.territories.size(); ++i)
    names.territories.emplace(s.territories[i].code, static_cast<int>(i));
  for (const auto& parent : s.parents) {
    if (names.territories.count(parent.code))
      ctx.error(data_where, "'" + parent.code +
                                "' is both a territory code and a parent code; a code must name "
                                "one of them");
    names.parents.emplace(parent.code, parent.territories);
  }
  for (std::size_t i = 0; i < s.organisations.sectors.size(); ++i)
    names.sectors.emplace(s.organisations.sectors[i], static_cast<int>(i));
  detail::read_cluster_generation(ctx, top, s);
  detail::read_clusters(ctx, top, s, names);

  std::vector<PendingTerritoryRef> refs, cluster_refs;
  std::vector<SourceLocation> pioneer_where, threshold_where;
  s.innovations = read_innovations(ctx, top, s.steps_per_year, refs, cluster_refs, pioneer_where,
                                   threshold_where);
  for (std::size_t i = 0; i < s.innovations.size(); ++i)
    names.innovations.emplace(s.innovations[i].name, static_cast<int>(i));
  detail::read_awareness(ctx, top, s);
  detail::read_abandonment(ctx, top, s);
  detail::read_policy(ctx, top, s, names);
  detail::read_cluster_rules(ctx, top, s);
  detail::read_events(ctx, top, s, names);
  read_territory_mix(ctx, top.table("organisations", false), s, names);
  if (const toml::table* t = top.table("outcomes", false)) {
    Reader r(ctx, *t, "outcomes", {"reached_share", "min_organisations"});
    s.outcomes.reached_share =
        r.number("reached_share", s.outcomes.reached_share, 0, 1).value_or(0.1);
    s.outcomes.min_organisations =
        r.integer("min_organisations", s.outcomes.min_organisations, 0, 2'000'000'000)
            .value_or(100);
  }
  if (const toml::table* t = top.table("policy_costs", false)) {
    PolicyCosts& c = s.costs;
    Reader r(ctx, *t, "policy_costs",
             {"facilitator_year", "members_per_facilitator", "cost_unit", "procurement_contract",
              "support_year", "founded_cluster", "bridging_pair_year", "seeded_adopter"});
    const auto euros = [&](const char* key, double& v) {
      v = r.number(key, v, 0, 1e15).value_or(v);
    };
    euros("facilitator_year", c.facilitator_year);
    c.members_per_facilitator =
        r.number("members_per_facilitator", c.members_per_facilitator, 1e-9, 1e9)
            .value_or(c.members_per_facilitator);
    euros("cost_unit", c.cost_unit);
    euros("procurement_contract", c.procurement_contract);
    euros("support_year", c.support_year);
    euros("founded_cluster", c.founded_cluster);
    euros("bridging_pair_year", c.bridging_pair_year);
    euros("seeded_adopter", c.seeded_adopter);
  }

  read_workshop(ctx, top, root, s);

  if (!ctx.problems.empty()) return s; // cross-field checks need sound single fields
  detail::check_unused(ctx, root, s);

  for (const auto& ref : refs) {
    auto& targets = s.innovations[ref.innovation].pioneer_territories;
    targets = detail::resolve_territories(ctx, names, ref.code, ref.where);
    std::sort(targets.begin(), targets.end());
  }
  for (const auto& ref : cluster_refs) {
    const int c = detail::resolve(ctx, names.clusters, ref.code, "cluster", ref.where);
    if (c >= 0) s.innovations[ref.innovation].pioneer_cluster = c;
  }
  for (const auto& inn : s.innovations)
    if (inn.launch_step > s.steps)
      ctx.error(top.location("innovations"), "innovation '" + inn.name + "' is launched at step " +
                                                 std::to_string(inn.launch_step) +
                                                 ", after the last step (" +
                                                 std::to_string(s.steps) + ")");

  s.organisations_per_territory =
      organisation_counts(ctx, s, top.location("organisations"), data_where);
  if (!ctx.problems.empty()) return s;
  // Where a key of a top-level table sits (the table itself if the key is absent).
  const auto key_location = [&](const char* table, const char* key) {
    const toml::node* t = root.get(table);
    const toml::node* k = t && t->is_table() ? t->as_table()->get(key) : nullptr;
    return ctx.where(k   ? k->source()
                     : t ? t->source()
                         : root.source(),
                     std::string(table) + "." + key);
  };
  const std::int64_t n = s.organisation_count();
  if (n < 1) ctx.error(top.location("organisations"), "the scenario has no organisations");
  if (n > kMaxOrganisations)
    ctx.error(top.location("organisations"),
              n == std::numeric_limits<std::int64_t>::max()
                  ? "too many organisations (the per-territory counts add up to more than "
                    "2^63; at most " +
                        std::to_string(kMaxOrganisations) + ")"
                  : "too many organisations (" + std::to_string(n) + "; at most " +
                        std::to_string(kMaxOrganisations) + ")");
  if (n <= kMaxOrganisations) {
    // What the world and the kernel's state need, at least (bytes per organisation: attributes
    // and cluster state, per innovation its thresholds and adoption state, per link end its
    // target and the network build's temporaries), against the memory there is.
    const double links = link_ends_per_organisation(s);
    const double need = world_bytes(s);
    const double have = static_cast<double>(memory_limit_bytes());
    if (need > have)
      ctx.error(top.location("organisations"),
                std::to_string(n) + " organisations need at least " + format_bytes(need) +
                    " of memory (" + std::to_string(s.innovations.size()) + " innovations, " +
                    std::to_string(static_cast<long long>(links)) +
                    " link ends each), more than the " + format_bytes(have) +
                    " there is (physical memory, or CSEI_MEMORY_LIMIT): lower the organisation "
                    "counts (organisations.per_territory, total or scale)");
  }
  if (s.network.kind == NetworkSpec::Kind::partners && s.network.partners > 0 &&
      s.network.partners > n - 1)
    ctx.error(key_location("network", "partners"),
              "each organisation cannot draw " + std::to_string(s.network.partners) +
                  " distinct partners among " + std::to_string(n) + " organisations");
  if (s.network.kind == NetworkSpec::Kind::partners &&
      s.network.remote == NetworkSpec::Remote::distance &&
      s.territories.size() > kMaxDistanceTerritories)
    ctx.error(key_location("network", "remote"), "'distance' supports at most " +
                                                     std::to_string(kMaxDistanceTerritories) +
                                                     " territories; use 'uniform'");
  if (s.network.kind == NetworkSpec::Kind::erdos_renyi &&
      s.network.mean_degree > static_cast<double>(n - 1))
    ctx.error(key_location("network", "mean_degree"),
              "must be at most the number of organisations less one (" + std::to_string(n - 1) +
                  ")");
  for (std::size_t i = 0; i < s.innovations.size(); ++i) {
    const auto& inn = s.innovations[i];
    std::int64_t eligible = inn.pioneer_territories.empty() ? n : 0;
    for (const int t : inn.pioneer_territories)
      eligible += s.organisations_per_territory[static_cast<std::size_t>(t)];
    if (inn.pioneers > eligible)
      ctx.error(pioneer_where[i],
                std::to_string(inn.pioneers) + " pioneers but only " + std::to_string(eligible) +
                    " organisations" +
                    (inn.pioneer_territories.empty()       ? ""
                     : inn.pioneer_territories.size() == 1 ? " in the territory"
                                                           : " in its territories"));
    if (inn.threshold.kind == Distribution::Kind::values &&
        static_cast<std::int64_t>(inn.threshold.values.size()) != n)
      ctx.error(threshold_where[i], "lists " + std::to_string(inn.threshold.values.size()) +
                                        " values for " + std::to_string(n) + " organisations");
  }
  detail::check_clusters(ctx, top, s);
  if (s.organisations.jobs.kind == Distribution::Kind::values &&
      static_cast<std::int64_t>(s.organisations.jobs.values.size()) != n)
    ctx.error(top.location("organisations"),
              "organisations.jobs lists " + std::to_string(s.organisations.jobs.values.size()) +
                  " values for " + std::to_string(n) + " organisations");
  return s;
}

} // namespace

std::int64_t Scenario::organisation_count() const {
  // Saturating: a sum past the int64 range reads as its maximum (and fails validation).
  std::int64_t n = 0;
  for (const std::int64_t c : organisations_per_territory)
    if (c < 0 || __builtin_add_overflow(n, c, &n)) return std::numeric_limits<std::int64_t>::max();
  return n;
}

namespace {

toml::table parse_toml(std::string_view text, const std::string& label) {
  try {
    return toml::parse(text, label);
  } catch (const toml::parse_error& e) {
    throw InputError({label, e.source().begin.line, e.source().begin.column, ""},
                     std::string(e.description()));
  }
}

/// Tables merge key by key; anything else in `over` replaces what `base` has, except `events`,
/// whose entries are appended (a variant adds its policy timeline to the base's).
void merge_into(toml::table& base, toml::table&& over, bool top) {
  for (auto&& [k, v] : over) {
    toml::node* mine = base.get(k.str());
    if (mine && mine->is_table() && v.is_table()) {
      merge_into(*mine->as_table(), std::move(*v.as_table()), false);
    } else if (top && k.str() == "events" && mine && mine->is_array() && v.is_array()) {
      for (auto&& e : *v.as_array())
        mine->as_array()->push_back(std::move(e));
    } else {
      base.insert_or_assign(k.str(), std::move(v));
    }
  }
}

/// Resolves `extends = "base.toml"` (relative to the file, up to 8 levels): the result is one
/// self-contained table. Paths in the base (territories.csv) are rewritten relative to `dir`.
toml::table resolve_extends(toml::table root, const std::string& label,
                            const std::filesystem::path& dir, int depth,
                            std::vector<InputFile>& inputs) {
  const toml::node* ext = root.get("extends");
  if (!ext) return root;
  const auto where = [&] {
    return SourceLocation{label, ext->source().begin.line, ext->source().begin.column, "extends"};
  };
  const auto* path = ext->as_string();
  if (!path) throw InputError(where(), "must be the path of a base scenario");
  if (depth >= 8) throw InputError(where(), "too many levels of 'extends' (a cycle?)");
  const std::filesystem::path base_file = dir / path->get();
  const std::string text = files::read_text(base_file, where(), "base scenario");
  inputs.push_back({"extends", base_file.string(), text});
  toml::table base = resolve_extends(parse_toml(text, base_file.string()), base_file.string(),
                                     base_file.parent_path(), depth + 1, inputs);
  for (const char* key : {"csv", "parents"}) {
    if (auto* csv = base["territories"][key].as_string()) {
      const std::filesystem::path p(csv->get());
      if (p.is_relative()) {
        const auto moved = std::filesystem::proximate(base_file.parent_path() / p, dir);
        *csv = moved.generic_string();
      }
    }
  }
  root.erase("extends");
  merge_into(base, std::move(root), true);
  return base;
}

} // namespace

double link_ends_per_organisation(const Scenario& s) {
  double links = 0;
  if (s.network.kind == NetworkSpec::Kind::partners)
    links = 2.0 * std::min(s.network.partners, kMaxPartners);
  else if (s.network.kind == NetworkSpec::Kind::erdos_renyi)
    links = s.network.mean_degree;
  if (s.generation.density > 0 || !s.clusters.empty())
    links += 2.0 * std::max(0, s.generation.internal_links);
  return links;
}

double world_bytes(const Scenario& s) {
  const double per_org = 48.0 + 32.0 * static_cast<double>(s.innovations.size()) +
                         10.0 * link_ends_per_organisation(s);
  return per_org * static_cast<double>(s.organisation_count());
}

Scenario load_scenario_text(std::string_view text, const std::string& label,
                            const std::filesystem::path& base_dir,
                            const std::vector<std::string>& overrides) {
  Context ctx{label, base_dir, {}, {}, {}};
  std::vector<InputFile> inputs{{"scenario", label, std::string(text)}};
  toml::table root = resolve_extends(parse_toml(text, label), label, base_dir, 0, inputs);
  for (const auto& o : overrides)
    ctx.overridden.emplace_back(apply_override(root, o), o);

  std::string stem = std::filesystem::path(label).stem().string();
  if (stem.empty()) stem = "scenario";
  Scenario s = build(ctx, root, stem);
  if (!ctx.problems.empty()) throw InputError(std::move(ctx.problems));
  inputs.insert(inputs.end(), ctx.inputs.begin(), ctx.inputs.end());
  s.inputs = std::move(inputs);
  for (const InputFile& x : s.inputs) // what no output of the run may be (the scenario itself is
    if (x.role != "scenario")         // added by load_scenario, which knows it is a file)
      s.input_files.emplace_back(x.path, x.role == "extends"           ? "a base scenario (extends)"
                                         : x.role == "territories.csv" ? "the territory table"
                                                                       : "the parent table");
  // The stored scenario names its territory and parent CSVs by file name: the run file embeds
  // those files, so the text does not depend on where the scenario was read from.
  for (const char* key : {"csv", "parents"})
    if (auto* csv = root["territories"][key].as_string())
      *csv = std::filesystem::path(csv->get()).filename().string();
  std::ostringstream os;
  os << toml::toml_formatter{root};
  s.source = os.str();
  return s;
}

Scenario load_scenario(const std::filesystem::path& file,
                       const std::vector<std::string>& overrides) {
  const std::string text = files::read_text(file, {file.string(), 0, 0, ""}, "scenario file");
  Scenario s = load_scenario_text(text, file.string(), file.parent_path(), overrides);
  s.input_files.insert(s.input_files.begin(), {file.string(), "the scenario"});
  return s;
}

} // namespace csei
