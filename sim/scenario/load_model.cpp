// The CSEI model's scenario sections: awareness, abandonment, policy support, cluster rules,
// declared and generated clusters, and the policy-event timeline.
#include "scenario/load_model.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>

namespace csei::detail {
namespace {

constexpr double kBig = 1e12;

std::vector<std::string> form_names() {
  return {kLegalFormNames.begin(), kLegalFormNames.end()};
}

/// A rule's table: absent = off; present = on unless `enabled = false`.
const toml::table* rule_table(Context& ctx, Reader& r, const std::string& key, bool& on,
                              std::vector<std::string> keys, std::optional<Reader>& out) {
  const toml::table* t = r.table(key, false);
  on = t != nullptr;
  if (!t) return nullptr;
  keys.push_back("enabled");
  out.emplace(ctx, *t, r.key_path(key), std::move(keys));
  const toml::node* e = t->get("enabled");
  if (e) {
    if (const auto* b = e->as_boolean())
      on = b->get();
    else
      ctx.error(*e, r.key_path(key) + ".enabled", "must be true or false, got " + type_name(*e));
  }
  return t;
}

std::vector<int> read_name_list(Context& ctx, Reader& r, const std::string& key,
                                const std::map<std::string, int>& table, const char* what) {
  std::vector<int> out;
  const toml::array* a = r.array(key, false);
  if (!a) return out;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& n = *a->get(i);
    const std::string path = r.key_path(key) + "[" + std::to_string(i) + "]";
    if (const auto* str = n.as_string()) {
      const int idx = resolve(ctx, table, str->get(), what, ctx.where(n.source(), path));
      if (idx >= 0) out.push_back(idx);
    } else {
      ctx.error(n, path, "must be a string, got " + type_name(n));
    }
  }
  return out;
}

/// A list of territory or parent codes, expanded to distinct territory indices in order.
std::vector<int> read_territory_list(Context& ctx, Reader& r, const std::string& key,
                                     const Names& names) {
  std::vector<int> out;
  for (const auto& [code, where] : r.strings(key))
    for (const int t : resolve_territories(ctx, names, code, where))
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  return out;
}

} // namespace

std::vector<int> resolve_territories(Context& ctx, const Names& names, const std::string& code,
                                     const SourceLocation& where) {
  if (const auto it = names.territories.find(code); it != names.territories.end())
    return {it->second};
  if (const auto it = names.parents.find(code); it != names.parents.end()) return it->second;
  std::vector<std::string> all = Names::keys(names.territories);
  for (const auto& [k, v] : names.parents)
    all.push_back(k);
  std::string msg = "unknown territory code '" + code + "'";
  if (const auto hint = did_you_mean(code, all); !hint.empty())
    msg += "; did you mean '" + hint + "'?";
  ctx.error(where, msg);
  return {};
}

std::vector<std::string> Names::keys(const std::map<std::string, int>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m)
    out.push_back(k);
  return out;
}

int resolve(Context& ctx, const std::map<std::string, int>& table, const std::string& name,
            const char* what, const SourceLocation& where) {
  const auto it = table.find(name);
  if (it != table.end()) return it->second;
  std::string msg = std::string("unknown ") + what + " '" + name + "'";
  if (const auto hint = did_you_mean(name, Names::keys(table)); !hint.empty())
    msg += "; did you mean '" + hint + "'?";
  ctx.error(where, msg);
  return -1;
}

FormSet read_forms(Context& ctx, const toml::node& node, const std::string& path) {
  const auto* a = node.as_array();
  if (!a) {
    ctx.error(node, path, "must be an array of legal forms, got " + type_name(node));
    return kAllForms;
  }
  FormSet set = 0;
  const auto names = form_names();
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& n = *a->get(i);
    const std::string p = path + "[" + std::to_string(i) + "]";
    const auto* s = n.as_string();
    const auto it = s ? std::find(names.begin(), names.end(), s->get()) : names.end();
    if (it == names.end()) {
      std::string msg = s ? "unknown legal form '" + s->get() + "'" : "must be a legal form name";
      if (s)
        if (const auto hint = did_you_mean(s->get(), names); !hint.empty())
          msg += "; did you mean '" + hint + "'?";
      ctx.error(n, p, msg);
      continue;
    }
    set = static_cast<FormSet>(set | (1U << (it - names.begin())));
  }
  if (a->empty()) ctx.error(node, path, "must name at least one legal form");
  return set ? set : kAllForms;
}

void read_awareness(Context& ctx, Reader& top, Scenario& s) {
  const toml::table* t = top.table("awareness", false);
  if (!t) return;
  Reader r(ctx, *t, "awareness", {"enabled", "media", "support", "word_of_mouth"});
  s.awareness.enabled = true;
  if (const toml::node* e = t->get("enabled")) {
    if (const auto* b = e->as_boolean())
      s.awareness.enabled = b->get();
    else
      ctx.error(*e, "awareness.enabled", "must be true or false, got " + type_name(*e));
  }
  s.awareness.media = r.number("media", 0.0, 0, s.steps_per_year).value_or(0);
  s.awareness.support = r.number("support", 0.0, 0, s.steps_per_year).value_or(0);
  s.awareness.word_of_mouth = r.number("word_of_mouth", 0.0, 0, s.steps_per_year).value_or(0);
}

void read_abandonment(Context& ctx, Reader& top, Scenario& s) {
  const toml::table* t = top.table("abandonment", false);
  if (!t) return;
  Reader r(ctx, *t, "abandonment", {"enabled", "rate"});
  s.abandonment.enabled = true;
  if (const toml::node* e = t->get("enabled")) {
    if (const auto* b = e->as_boolean())
      s.abandonment.enabled = b->get();
    else
      ctx.error(*e, "abandonment.enabled", "must be true or false, got " + type_name(*e));
  }
  s.abandonment.rate = r.number("rate", 1.0, 0, s.steps_per_year).value_or(1);
}

void read_policy(Context& ctx, Reader& top, Scenario& s, const Names& names) {
  const toml::table* t = top.table("policy", false);
  if (!t) return;
  Reader r(ctx, *t, "policy", {"support", "by_territory"});
  s.support = r.number("support", 0.5, 0, 1).value_or(0.5);
  if (const toml::table* by = r.table("by_territory", false)) {
    for (const auto& [k, v] : *by) {
      const std::string code(k.str());
      const std::string path = "policy.by_territory." + code;
      const auto targets = resolve_territories(ctx, names, code, ctx.where(k.source(), path));
      std::optional<double> val; // (no lambda: clang 14 cannot capture a structured binding)
      if (const auto* f = v.as_floating_point())
        val = f->get();
      else if (const auto* i = v.as_integer())
        val = static_cast<double>(i->get());
      if (!val || *val < 0 || *val > 1) {
        ctx.error(v, path, "must be a number in [0, 1]");
        continue;
      }
      for (const int idx : targets)
        s.territories[static_cast<std::size_t>(idx)].support = *val;
    }
  }
}

void read_cluster_rules(Context& ctx, Reader& top, Scenario& s) {
  const toml::table* t = top.table("cluster_rules", false);
  if (!t) return;
  Reader r(ctx, *t, "cluster_rules",
           {"peer_weight", "facilitation", "resource_pooling", "knowledge_sharing", "bridging",
            "recruitment", "emergence"});
  ClusterRules& c = s.rules;
  const double spy = s.steps_per_year;
  std::optional<Reader> rr;
  if (rule_table(ctx, r, "peer_weight", c.peer_weight, {"weight"}, rr))
    c.weight = rr->number("weight", c.weight, 1, 1e6).value_or(c.weight);
  rr.reset();
  if (rule_table(ctx, r, "facilitation", c.facilitation, {"rate"}, rr))
    c.facilitation_rate = rr->number("rate", c.facilitation_rate, 0, spy).value_or(0);
  rr.reset();
  if (rule_table(ctx, r, "resource_pooling", c.resource_pooling, {"share"}, rr))
    c.pooling = rr->number("share", c.pooling, 0, 1).value_or(0);
  rr.reset();
  if (rule_table(ctx, r, "knowledge_sharing", c.knowledge_sharing, {"share"}, rr))
    c.sharing = rr->number("share", c.sharing, 0, 1).value_or(0);
  rr.reset();
  if (rule_table(ctx, r, "bridging", c.bridging,
                 {"partners", "cross_territory", "links", "weight", "diversity_penalty"}, rr)) {
    c.bridge_partners =
        static_cast<int>(rr->integer("partners", c.bridge_partners, 0, 64).value_or(0));
    c.cross_territory = rr->number("cross_territory", c.cross_territory, 0, 1).value_or(0);
    c.bridge_links = static_cast<int>(rr->integer("links", c.bridge_links, 0, 64).value_or(0));
    c.bridge_weight = rr->number("weight", c.bridge_weight, 0, 1e6).value_or(0);
    c.diversity_penalty = rr->number("diversity_penalty", c.diversity_penalty, 0, 1).value_or(0);
  }
  rr.reset();
  if (rule_table(ctx, r, "recruitment", c.recruitment, {"rate"}, rr))
    c.recruitment_rate = rr->number("rate", c.recruitment_rate, 0, spy).value_or(0);
  rr.reset();
  if (rule_table(ctx, r, "emergence", c.emergence, {"rate", "min_founders", "max_new_clusters"},
                 rr)) {
    c.emergence_rate = rr->number("rate", c.emergence_rate, 0, spy).value_or(0);
    c.min_founders =
        static_cast<int>(rr->integer("min_founders", c.min_founders, 1, 1000).value_or(5));
    c.max_new_clusters = static_cast<int>(
        rr->integer("max_new_clusters", c.max_new_clusters, 0, 100000).value_or(0));
  }
}

void read_clusters(Context& ctx, Reader& top, Scenario& s, Names& names) {
  const toml::array* a = top.array("clusters", false);
  if (!a) return;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string path = "clusters[" + std::to_string(i) + "]";
    const toml::table* t = a->get(i)->as_table();
    if (!t) {
      ctx.error(*a->get(i), path, "must be a table");
      continue;
    }
    Reader r(ctx, *t, path,
             {"name", "territory", "territories", "members", "sectors", "capacity", "openness",
              "rules"});
    ClusterSpec c;
    c.name = r.string("name", std::nullopt).value_or("cluster" + std::to_string(i));
    if (c.name.empty())
      ctx.error(r.location("name"), "must not be empty");
    else if (!names.clusters.emplace(c.name, static_cast<int>(i)).second)
      ctx.error(r.location("name"), "duplicate cluster name '" + c.name + "'");
    // A parent code (a country) makes its most populous territory (the first on a tie) the
    // home and lets members come from all of its territories.
    std::vector<int> home;
    if (const auto code = r.string("territory", std::nullopt))
      home = resolve_territories(ctx, names, *code, r.location("territory"));
    if (!home.empty())
      c.territory = *std::max_element(home.begin(), home.end(), [&](int x, int y) {
        return s.territories[static_cast<std::size_t>(x)].population <
               s.territories[static_cast<std::size_t>(y)].population;
      });
    for (const int u : home)
      if (u != c.territory) c.territories.push_back(u);
    for (const int u : read_territory_list(ctx, r, "territories", names))
      if (u != c.territory &&
          std::find(c.territories.begin(), c.territories.end(), u) == c.territories.end())
        c.territories.push_back(u);
    if (const toml::table* m = r.table("members", true)) {
      Reader mr(ctx, *m, path + ".members", form_names());
      std::int64_t total = 0;
      for (std::size_t f = 0; f < kLegalFormCount; ++f) {
        c.members[f] = mr.integer(kLegalFormNames[f], 0, 0, 10'000'000).value_or(0);
        total += c.members[f];
      }
      if (total < 2) ctx.error(r.location("members"), "a cluster needs at least 2 members");
    }
    c.sectors = read_name_list(ctx, r, "sectors", names.sectors, "sector");
    c.capacity = r.number("capacity", s.generation.capacity, 1e-9, kBig).value_or(50);
    c.openness = r.number("openness", s.generation.openness, 0, 1).value_or(0.5);
    if (const toml::table* rules = r.table("rules", false)) {
      Reader rr(ctx, *rules, path + ".rules",
                {"weight", "facilitation_rate", "pooling", "sharing"});
      c.weight = rr.number("weight", -1.0, 1, 1e6).value_or(-1);
      c.facilitation_rate = rr.number("facilitation_rate", -1.0, 0, s.steps_per_year).value_or(-1);
      c.pooling = rr.number("pooling", -1.0, 0, 1).value_or(-1);
      c.sharing = rr.number("sharing", -1.0, 0, 1).value_or(-1);
    }
    s.clusters.push_back(std::move(c));
  }
}

void read_cluster_generation(Context& ctx, Reader& top, Scenario& s) {
  ClusterGeneration& g = s.generation;
  g.size = Distribution::constant(50);
  const toml::table* t = top.table("cluster_generation", false);
  if (!t) return;
  Reader r(ctx, *t, "cluster_generation",
           {"density", "size", "capacity", "openness", "sectors", "forms", "internal_links"});
  g.density = r.number("density", 0.0, 0, 1000).value_or(0);
  if (const toml::table* sz = r.table("size", false))
    g.size = read_distribution(ctx, *sz, "cluster_generation.size");
  g.capacity = r.number("capacity", g.capacity, 1e-9, kBig).value_or(50);
  g.openness = r.number("openness", g.openness, 0, 1).value_or(0.5);
  g.sectors = static_cast<int>(r.integer("sectors", 2, 1, 255).value_or(2));
  if (const toml::node* f = r.node("forms"))
    g.forms = read_forms(ctx, *f, "cluster_generation.forms");
  g.internal_links = static_cast<int>(r.integer("internal_links", 10, 0, 128).value_or(10));
}

void read_events(Context& ctx, Reader& top, Scenario& s, const Names& names) {
  const toml::array* a = top.array("events", false);
  if (!a) return;
  const std::vector<std::string> actions = kActionNames.list();
  for (std::size_t i = 0; i < a->size(); ++i) {
    const std::string path = "events[" + std::to_string(i) + "]";
    const toml::table* t = a->get(i)->as_table();
    if (!t) {
      ctx.error(*a->get(i), path, "must be a table");
      continue;
    }
    Reader r(ctx, *t, path,
             {"step", "from", "to", "action", "territories", "clusters", "forms", "innovations",
              "value", "count", "name"});
    EventSpec e;
    const auto action = r.string("action", std::nullopt, actions);
    if (action)
      e.action = static_cast<EventSpec::Action>(std::find(actions.begin(), actions.end(), *action) -
                                                actions.begin());
    if (r.has("step")) {
      if (r.has("from") || r.has("to"))
        ctx.error(r.location("step"), "give either 'step' or 'from' and 'to'");
      e.from = e.to = r.integer("step", 0, 0, s.steps).value_or(0);
    } else {
      e.from = r.integer("from", std::nullopt, 0, s.steps).value_or(0);
      e.to = r.integer("to", std::nullopt, 0, s.steps).value_or(0);
      if (e.to < e.from)
        ctx.error(r.location("to"), "must be >= from (" + std::to_string(e.from) + ")");
    }
    e.territories = read_territory_list(ctx, r, "territories", names);
    e.clusters = read_name_list(ctx, r, "clusters", names.clusters, "cluster");
    if (const toml::node* f = r.node("forms")) e.forms = read_forms(ctx, *f, path + ".forms");
    e.innovations = read_name_list(ctx, r, "innovations", names.innovations, "innovation");
    using A = EventSpec::Action;
    const bool share = e.action == A::subsidise_cost || e.action == A::cut_funding ||
                       e.action == A::raise_support || e.action == A::open_bridges;
    const bool needs_value = e.action != A::seed_adopters && e.action != A::found_cluster;
    if (needs_value)
      e.value = r.number("value", std::nullopt, share ? -1.0 : 0.0, share ? 1.0 : kBig).value_or(0);
    else
      e.value = r.number("value", 0.0, 0, kBig).value_or(0);
    if (e.action == A::seed_adopters || e.action == A::found_cluster)
      e.count = r.integer("count", std::nullopt, 1, 2'000'000'000).value_or(1);
    if (e.action == A::found_cluster) {
      e.name = r.string("name", "founded" + std::to_string(i)).value_or("");
      if (e.territories.size() != 1)
        ctx.error(r.location("territories"), "found_cluster needs exactly one territory");
    }
    if (e.action == A::seed_adopters && e.innovations.empty() && s.innovations.size() > 1)
      ctx.error(r.location("innovations"), "seed_adopters needs the innovations to seed");
    s.events.push_back(std::move(e));
  }
}

void check_clusters(Context& ctx, Reader& top, const Scenario& s) {
  // An organisation belongs to one cluster: clusters drawing on one territory only cannot want
  // more members together than it has.
  std::vector<std::int64_t> wanted_in(s.territories.size(), 0);
  std::vector<std::string> who(s.territories.size());
  std::vector<int> how_many(s.territories.size(), 0);
  for (const ClusterSpec& c : s.clusters) {
    if (!c.territories.empty()) continue;
    const auto t = static_cast<std::size_t>(c.territory);
    for (auto m : c.members)
      wanted_in[t] += m;
    who[t] += (who[t].empty() ? "'" : ", '") + c.name + "'";
    ++how_many[t];
  }
  for (std::size_t t = 0; t < s.territories.size(); ++t)
    if (wanted_in[t] > s.organisations_per_territory[t] && how_many[t] > 1) // one: below
      ctx.error(top.location("clusters"),
                "clusters " + who[t] + " want " + std::to_string(wanted_in[t]) +
                    " members together but territory '" + s.territories[t].code + "' has " +
                    std::to_string(s.organisations_per_territory[t]) +
                    " organisations, each in at most one cluster");
  // A legal form that none of the cluster's territories has (its share there is 0).
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    const ClusterSpec& spec = s.clusters[c];
    std::vector<int> terrs{spec.territory};
    terrs.insert(terrs.end(), spec.territories.begin(), spec.territories.end());
    for (std::size_t f = 0; f < kLegalFormCount; ++f) {
      if (spec.members[f] == 0) continue;
      bool any = false;
      for (int t : terrs) {
        auto mix = s.organisations.form_mix;
        for (const auto& [idx, m] : s.organisations.territory_mix)
          if (idx == t) mix = m;
        any = any || (mix[f] > 0 && s.organisations_per_territory[static_cast<std::size_t>(t)] > 0);
      }
      if (!any)
        ctx.error(top.location("clusters"),
                  "clusters[" + std::to_string(c) + "] ('" + spec.name + "') wants " +
                      std::to_string(spec.members[f]) + " " + kLegalFormNames[f] +
                      " members but its territories have no " + kLegalFormNames[f] +
                      " organisations (its share in organisations.legal_forms is 0)");
    }
  }
  for (std::size_t c = 0; c < s.clusters.size(); ++c) {
    std::int64_t wanted = 0, available = 0;
    for (auto m : s.clusters[c].members)
      wanted += m;
    available += s.organisations_per_territory[static_cast<std::size_t>(s.clusters[c].territory)];
    for (int t : s.clusters[c].territories)
      available += s.organisations_per_territory[static_cast<std::size_t>(t)];
    if (wanted > available)
      ctx.error(top.location("clusters"),
                "clusters[" + std::to_string(c) + "] ('" + s.clusters[c].name + "') wants " +
                    std::to_string(wanted) + " members but its territories have " +
                    std::to_string(available) + " organisations");
  }
}

} // namespace csei::detail

namespace csei::detail {
namespace {

const toml::table* sub_table(const toml::table* t, const std::string& key) {
  if (!t) return nullptr;
  const toml::node* n = t->get(key);
  return n ? n->as_table() : nullptr;
}

bool from_command_line(const Context& ctx, const std::string& path) {
  return ctx.where(toml::source_region{}, path).file.rfind("command line", 0) == 0;
}

/// A file's value that a `--set` of one of `switches` (turning its section off, changing a kind
/// or rule) made unused is let pass: `--set cluster_rules.facilitation.enabled=false` works on
/// any scenario. A value given by `--set` itself, or unused in the file as written, is not.
bool excused(const Context& ctx, const std::string& key_path,
             const std::vector<std::string>& switches) {
  if (from_command_line(ctx, key_path)) return false;
  return std::any_of(switches.begin(), switches.end(),
                     [&](const std::string& sw) { return from_command_line(ctx, sw); });
}

/// Records "not used<why>" for `key` of `t` if it is there (`why`: " by ..." or ": ...").
void unused(Context& ctx, const toml::table* t, const std::string& path, const std::string& key,
            const std::string& why, const std::vector<std::string>& switches = {}) {
  if (!t) return;
  const std::string key_path = path.empty() ? key : path + "." + key;
  if (const toml::node* n = t->get(key); n && !excused(ctx, key_path, switches))
    ctx.error(*n, key_path, "not used" + why);
}

/// Every key of a switched-off section, except `enabled` itself.
void unused_when_off(Context& ctx, const toml::table* t, const std::string& path,
                     const std::string& why) {
  if (!t) return;
  for (const auto& [k, v] : *t) {
    const std::string key_path = path + "." + std::string(k.str());
    if (k.str() != "enabled" && !excused(ctx, key_path, {path + ".enabled"}))
      ctx.error(v, key_path, "not used: " + why);
  }
}

} // namespace

void check_unused(Context& ctx, const toml::table& root, const Scenario& s) {
  using Rule = InnovationSpec::Rule;
  bool any_utility = false;
  for (const auto& inn : s.innovations)
    any_utility = any_utility || inn.rule == Rule::utility;
  const ClusterRules& cr = s.rules;

  // Innovations: each rule's parameters on the other rules; pioneer options without pioneers.
  if (const toml::node* node = root.get("innovations"); node && node->is_array()) {
    const toml::array& a = *node->as_array();
    for (std::size_t i = 0; i < a.size() && i < s.innovations.size(); ++i) {
      const toml::table* t = a.get(i)->as_table();
      const InnovationSpec& inn = s.innovations[i];
      const std::string path = "innovations[" + std::to_string(i) + "]";
      for (const auto& param : kRuleParameters) {
        if (param.rules & rule_bit(inn.rule)) continue;
        const bool cost = std::string_view(param.key) == "cost";
        if (cost && s.abandonment.enabled) continue;
        unused(ctx, t, path, param.key,
               " by rule '" + std::string(rule_name(inn.rule)) + "' (used by: " +
                   rule_list(param.rules) + (cost ? "; and by abandonment when enabled" : "") + ")",
               {path + ".rule"});
      }
      if (inn.pioneers == 0)
        for (const char* key : {"pioneer_territory", "pioneer_cluster", "pioneer_forms"})
          unused(ctx, t, path, key, ": the innovation has no pioneers (pioneers = 0)",
                 {path + ".pioneers"});
    }
  }

  // Organisations: the split and basis keys of the other modes; attributes no rule reads.
  const toml::table* orgs = sub_table(&root, "organisations");
  if (s.organisations.mode != OrganisationSpec::Mode::total)
    unused(ctx, orgs, "organisations", "split", " without 'total' (used by: total)");
  if (s.organisations.mode != OrganisationSpec::Mode::scale)
    unused(ctx, orgs, "organisations", "of", " without 'scale' (used by: scale)");
  // Legal forms: a size for a form no territory has; a mix every territory replaces.
  std::array<bool, kLegalFormCount> present{};
  std::vector<bool> mixed(s.territories.size(), false);
  for (const auto& [t, mix] : s.organisations.territory_mix)
    mixed[static_cast<std::size_t>(t)] = true;
  const bool default_mix_used = std::find(mixed.begin(), mixed.end(), false) != mixed.end();
  for (std::size_t f = 0; f < kLegalFormCount; ++f) {
    present[f] = default_mix_used && s.organisations.form_mix[f] > 0;
    for (const auto& [t, mix] : s.organisations.territory_mix)
      present[f] = present[f] || mix[f] > 0;
    if (!present[f])
      unused(ctx, sub_table(orgs, "jobs_by_form"), "organisations.jobs_by_form", kLegalFormNames[f],
             ": no territory has organisations of legal form '" + std::string(kLegalFormNames[f]) +
                 "' (its share is 0)");
  }
  if (!default_mix_used)
    unused(ctx, orgs, "organisations", "legal_forms",
           ": every territory has its own mix in organisations.territory_mix");

  // What the innovations' rules read: a rule changed on the command line excuses the file.
  std::vector<std::string> rule_switches{"innovations"};
  for (std::size_t i = 0; i < s.innovations.size(); ++i)
    rule_switches.push_back("innovations[" + std::to_string(i) + "].rule");
  const bool rule_from_cli =
      std::any_of(rule_switches.begin(), rule_switches.end(),
                  [&](const std::string& sw) { return from_command_line(ctx, sw); });
  if (!any_utility)
    unused(ctx, orgs, "organisations", "innovativeness",
           ": no innovation uses rule 'utility' (used by: utility)", rule_switches);
  rule_switches.emplace_back("abandonment.enabled");
  if (!any_utility && !s.abandonment.enabled)
    unused(ctx, orgs, "organisations", "resources",
           ": no innovation uses rule 'utility' and abandonment is off (used by: utility, "
           "abandonment)",
           rule_switches);

  // Network: the keys of the other kinds.
  const toml::table* net = sub_table(&root, "network");
  const std::string kind = s.network.kind == NetworkSpec::Kind::complete      ? "complete"
                           : s.network.kind == NetworkSpec::Kind::erdos_renyi ? "erdos_renyi"
                                                                              : "partners";
  if (s.network.kind != NetworkSpec::Kind::partners)
    for (const char* key : {"partners", "local_share", "remote", "decay_km"})
      unused(ctx, net, "network", key, " by network kind '" + kind + "' (used by: partners)",
             {"network.kind"});
  else if (s.network.remote == NetworkSpec::Remote::uniform)
    unused(ctx, net, "network", "decay_km",
           " with remote = 'uniform' (used by: remote = 'distance')", {"network.remote"});
  if (s.network.kind != NetworkSpec::Kind::erdos_renyi)
    unused(ctx, net, "network", "mean_degree",
           " by network kind '" + kind + "' (used by: erdos_renyi)", {"network.kind"});

  // Switched-off sections.
  if (!s.awareness.enabled)
    unused_when_off(ctx, sub_table(&root, "awareness"), "awareness",
                    "awareness is off (enabled = false)");
  if (!s.abandonment.enabled)
    unused_when_off(ctx, sub_table(&root, "abandonment"), "abandonment",
                    "abandonment is off (enabled = false)");
  const toml::table* rules = sub_table(&root, "cluster_rules");
  const std::array<std::pair<const char*, bool>, 7> rule_on{
      {{"peer_weight", cr.peer_weight},
       {"facilitation", cr.facilitation},
       {"resource_pooling", cr.resource_pooling},
       {"knowledge_sharing", cr.knowledge_sharing},
       {"bridging", cr.bridging},
       {"recruitment", cr.recruitment},
       {"emergence", cr.emergence}}};
  for (const auto& [name, on] : rule_on)
    if (!on)
      unused_when_off(ctx, sub_table(rules, name), std::string("cluster_rules.") + name,
                      std::string("cluster_rules.") + name + " is off (enabled = false)");

  // Cluster rules that are on but act on something nothing reads.
  if (cr.facilitation && !s.awareness.enabled && !from_command_line(ctx, "awareness.enabled"))
    ctx.error(ctx.where(sub_table(rules, "facilitation")->source(), "cluster_rules.facilitation"),
              "has no effect: facilitation raises members' awareness, and the awareness stage is "
              "off ([awareness])");
  if (cr.knowledge_sharing && !any_utility && !rule_from_cli)
    ctx.error(ctx.where(sub_table(rules, "knowledge_sharing")->source(),
                        "cluster_rules.knowledge_sharing"),
              "has no effect: it lowers complexity, which only rule 'utility' reads, and no "
              "innovation uses it");
  if (cr.resource_pooling && !any_utility && !s.abandonment.enabled && !rule_from_cli)
    ctx.error(
        ctx.where(sub_table(rules, "resource_pooling")->source(), "cluster_rules.resource_pooling"),
        "has no effect: it lowers cost, which only rule 'utility' and abandonment read, and "
        "neither is in use");

  // Clusters' own values for rules that are off. (`capacity` and `openness` are not checked:
  // events change them and the output records them even while their rule is off.)
  if (const toml::node* node = root.get("clusters"); node && node->is_array()) {
    const toml::array& a = *node->as_array();
    for (std::size_t i = 0; i < a.size(); ++i) {
      const toml::table* t = a.get(i)->as_table();
      const std::string path = "clusters[" + std::to_string(i) + "]";
      const toml::table* own = sub_table(t, "rules");
      const std::array<std::tuple<const char*, const char*, bool>, 4> overrides{{
          {"weight", "peer_weight", cr.peer_weight},
          {"facilitation_rate", "facilitation", cr.facilitation},
          {"pooling", "resource_pooling", cr.resource_pooling},
          {"sharing", "knowledge_sharing", cr.knowledge_sharing},
      }};
      for (const auto& [key, rule, on] : overrides)
        if (!on)
          unused(ctx, own, path + ".rules", key, std::string(": cluster_rules.") + rule + " is off",
                 {std::string("cluster_rules.") + rule + ".enabled"});
    }
  }
  const toml::table* gen = sub_table(&root, "cluster_generation");
  if (s.generation.density <= 0)
    for (const char* key : {"size", "sectors", "forms"})
      unused(ctx, gen, "cluster_generation", key,
             ": cluster_generation.density is 0, so no clusters are generated",
             {"cluster_generation.density"});

  // Events: the keys of the other actions.
  if (const toml::node* node = root.get("events"); node && node->is_array()) {
    const toml::array& a = *node->as_array();
    for (std::size_t i = 0; i < a.size() && i < s.events.size(); ++i) {
      const toml::table* t = a.get(i)->as_table();
      const EventSpec::Action action = s.events[i].action;
      for (const auto& param : kActionParameters) {
        if ((param.actions >> static_cast<unsigned>(action)) & 1U) continue;
        std::string users;
        for (std::size_t x = 0; x < kActionNames.size(); ++x)
          if ((param.actions >> x) & 1U)
            users += (users.empty() ? "" : ", ") + std::string(kActionNames.names[x]);
        unused(ctx, t, "events[" + std::to_string(i) + "]", param.key,
               " by action '" + std::string(action_name(action)) + "' (used by: " + users + ")");
      }
    }
  }
}

} // namespace csei::detail
