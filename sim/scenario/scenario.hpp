// The scenario: everything a run needs, parsed and validated once, then used read-only.
//
// A Scenario is produced only by load_scenario() (scenario/load.hpp), which checks every value
// and every cross-field constraint; the rest of the simulator takes it as `const Scenario&`.
#pragma once

#include "core/distribution.hpp"
#include "core/names.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace csei {

/// Legal forms of organisations: the social economy plus the rest of the quadruple helix.
enum class LegalForm : std::uint8_t {
  association,
  cooperative,
  mutual,
  foundation,
  social_enterprise,
  sme,
  public_body,
  research,
};
inline constexpr std::size_t kLegalFormCount = 8;
inline constexpr NameTable<LegalForm, kLegalFormCount> kLegalForms{
    {"association", "cooperative", "mutual", "foundation", "social_enterprise", "sme",
     "public_body", "research"}};
inline constexpr const auto& kLegalFormNames = kLegalForms.names;

struct Territory {
  std::string code;
  std::string name;
  double population = 0.0;   // inhabitants (0 where unknown)
  double support = -1;       // policy support level 0..1 (-1: the scenario's default)
  double se_employment = -1; // social-economy jobs (-1 where unknown)
  double se_entities = -1;   // social-economy entities (-1 where unknown)
  double lat = 0.0, lon = 0.0;
  std::vector<std::string> neighbours;
  std::string parent; // code of its parent territory (e.g. its country); empty: none
};

/// A territory one level up (a region's country): a code scenarios may address, selecting all
/// territories whose `parent` it is.
struct TerritoryParent {
  std::string code;
  std::string name;
  std::vector<int> territories; // its territories, in scenario order
};

struct OrganisationSpec {
  /// How many organisations each territory gets.
  enum class Mode { per_territory, total, scale };
  /// What a `total` is split by, or what a `scale` factor multiplies.
  enum class Basis { equal, population, se_employment, se_entities };

  Mode mode = Mode::per_territory;
  std::int64_t count = 0; // per_territory or total
  double factor = 0.0;    // scale
  Basis basis = Basis::equal;
  std::array<double, kLegalFormCount> form_mix{}; // normalised to sum 1
  /// Per-territory legal-form mixes overriding form_mix: (territory index, mix).
  std::vector<std::pair<int, std::array<double, kLegalFormCount>>> territory_mix;
  Distribution jobs;                                      // size in jobs (default for every form)
  std::array<Distribution, kLegalFormCount> jobs_by_form; // resolved per form
  std::vector<std::string> sectors{"general"};
  std::vector<double> sector_shares{1.0}; // normalised
  Distribution innovativeness;            // standard normal by default (Rogers' categories)
  Distribution resources;                 // in units of an innovation's cost
  /// Real entities one model organisation stands for (1: one to one). Counts of organisations,
  /// jobs, impact and euros are multiplied by it to give real-world figures.
  double represents = 1.0;
};

/// Legal forms as a bit set (bit f = LegalForm f).
using FormSet = std::uint8_t;
inline constexpr FormSet kAllForms = 0xFF;
/// The social economy proper: association .. social_enterprise.
inline constexpr FormSet kSocialEconomyForms = 0x1F;
inline constexpr bool has_form(FormSet set, LegalForm f) {
  return (set >> static_cast<unsigned>(f)) & 1U;
}

struct NetworkSpec {
  enum class Kind { partners, complete, erdos_renyi };
  enum class Remote { uniform, distance };

  Kind kind = Kind::partners;
  int partners = 8;         // partners: links each organisation draws
  double local_share = 0.9; // partners: share of draws in the own territory
  Remote remote = Remote::uniform;
  double decay_km = 500.0;  // partners + distance: e-folding distance of the territory choice
  double mean_degree = 4.0; // erdos_renyi: expected degree z
};

struct InnovationSpec {
  enum class Rule { bass, threshold, utility, cascade };
  enum class Kind { social, ecological, both };

  std::string name;
  Rule rule = Rule::bass;
  Kind kind = Kind::social;
  FormSet suits = kAllForms;    // legal forms that can adopt it
  std::int64_t launch_step = 0; // nothing happens before; pioneers adopt at this step
  double p = 0.0;               // bass: external influence per year
  double q = 0.0;               // bass: internal influence per year
  Distribution threshold = Distribution::constant(0.5);
  // Attributes used by the utility rule, abandonment and the cluster rules.
  double appeal = 0.0;     // relative advantage
  double complexity = 0.0; // >= 0
  double cost = 0.0;       // >= 0, in the units of organisations' resources
  // utility: P(adopt in a step) = rate * dt * logistic(V), V = appeal - complexity_weight *
  // complexity_eff - cost_weight * cost_eff / resources + social_weight * I +
  // innovativeness_weight * innovativeness
  double rate = 1.0;
  double social_weight = 4.0;
  double innovativeness_weight = 1.0;
  double cost_weight = 1.0;
  double complexity_weight = 1.0;
  // cascade (independent cascade): each newly adopted neighbour gets one chance per link
  double cascade_probability = 0.1;
  // outcomes
  double jobs_per_adopter = 0.0;
  double impact_per_job = 0.0; // ecological impact per job of the adopting organisation
  // origin
  std::int64_t pioneers = 0;
  std::vector<int> pioneer_territories; // ascending territory indices; empty: anywhere
  int pioneer_cluster = -1;             // index into declared clusters, or -1
  FormSet pioneer_forms = kAllForms;
};

inline constexpr NameTable<InnovationSpec::Rule, 4> kRuleNames{
    {"bass", "threshold", "utility", "cascade"}};
inline constexpr NameTable<InnovationSpec::Kind, 3> kInnovationKinds{
    {"social", "ecological", "both"}};

/// A rule set as bits (bit r = InnovationSpec::Rule r).
using RuleSet = std::uint8_t;
[[nodiscard]] inline constexpr RuleSet rule_bit(InnovationSpec::Rule r) {
  return static_cast<RuleSet>(1U << static_cast<unsigned>(r));
}

/// The innovation parameters that only some rules read, and which rules read them; a scenario
/// that sets one for an innovation whose rule does not read it is refused. Parameters not listed
/// here (name, kind, suits, launch_step, outcomes, pioneers) are read whatever the rule. `cost` is
/// also read by abandonment, when it is enabled.
struct RuleParameter {
  const char* key;
  RuleSet rules;
};
inline constexpr RuleSet kBassOnly = rule_bit(InnovationSpec::Rule::bass);
inline constexpr RuleSet kThresholdOnly = rule_bit(InnovationSpec::Rule::threshold);
inline constexpr RuleSet kUtilityOnly = rule_bit(InnovationSpec::Rule::utility);
inline constexpr RuleSet kCascadeOnly = rule_bit(InnovationSpec::Rule::cascade);
inline constexpr std::array<RuleParameter, 12> kRuleParameters{{
    {"p", kBassOnly},
    {"q", kBassOnly},
    {"threshold", kThresholdOnly},
    {"appeal", kUtilityOnly},
    {"complexity", kUtilityOnly},
    {"cost", kUtilityOnly},
    {"rate", kUtilityOnly},
    {"social_weight", kUtilityOnly},
    {"innovativeness_weight", kUtilityOnly},
    {"cost_weight", kUtilityOnly},
    {"complexity_weight", kUtilityOnly},
    {"cascade_probability", kCascadeOnly},
}};

/// The names of the rules in a set, comma-separated ("bass, utility").
[[nodiscard]] inline std::string rule_list(RuleSet rules) {
  std::string out;
  for (std::size_t r = 0; r < kRuleNames.size(); ++r)
    if ((rules >> r) & 1U) out += (out.empty() ? "" : ", ") + std::string(kRuleNames.names[r]);
  return out;
}

/// Awareness stage: unaware -> aware before the adoption rule applies (when enabled).
struct AwarenessSpec {
  bool enabled = false;
  double media = 0.0;         // per year
  double support = 0.0;       // per year, times the territory's policy support level
  double word_of_mouth = 0.0; // per year, times the weighted share of adopted neighbours
};

struct AbandonmentSpec {
  bool enabled = false;
  double rate = 1.0; // per year, for adopters whose effective cost exceeds their resources
};

/// Cluster rules: each switchable; the values are scenario defaults that clusters may override.
struct ClusterRules {
  bool peer_weight = false;
  double weight = 2.0; // weight of links within one's own cluster (>= 1)
  bool facilitation = false;
  double facilitation_rate = 2.0; // awareness per year for members, at full capacity
  bool resource_pooling = false;
  double pooling = 0.3; // share of the cost a member does not bear
  bool knowledge_sharing = false;
  double sharing = 0.3; // share of the complexity removed for members
  bool bridging = false;
  int bridge_partners = 2;        // other clusters each cluster bridges to
  double cross_territory = 0.8;   // share of bridge partners in other territories
  int bridge_links = 2;           // bridge links each member draws (times openness)
  double bridge_weight = 2.0;     // weight of bridge links at zero sector diversity
  double diversity_penalty = 0.8; // bridge weight x (1 - penalty x sector diversity)
  bool recruitment = false;
  double recruitment_rate = 0.2; // invitations per member per year, to a random neighbour
  bool emergence = false;
  double emergence_rate = 1.0; // foundings per year per territory at full policy support
  int min_founders = 5;        // linked aware or adopting social-economy organisations
  int max_new_clusters = 200;  // slots for clusters founded during a run
};

struct ClusterSpec {
  std::string name;
  int territory = 0;                                   // home territory
  std::vector<int> territories;                        // further territories members may come from
  std::array<std::int64_t, kLegalFormCount> members{}; // wanted members by legal form
  std::vector<int> sectors; // indices into organisations.sectors (empty: any)
  double capacity = 50.0;   // members one facilitator can serve
  double openness = 0.5;    // 0..1: scales bridge links and bridge weight
  double weight = -1, facilitation_rate = -1, pooling = -1, sharing = -1; // -1: scenario default
};

struct ClusterGeneration {
  double density = 0.0; // clusters per 1,000 organisations in each territory
  Distribution size;    // members per cluster
  double capacity = 50.0;
  double openness = 0.5;
  int sectors = 2;           // sectors a generated cluster spans (its members' sectors)
  FormSet forms = kAllForms; // legal forms that may join
  int internal_links = 10;   // links each member draws within its cluster
};

struct EventSpec {
  enum class Action {
    fund_facilitation,
    subsidise_cost,
    raise_support,
    public_procurement,
    found_cluster,
    open_bridges,
    seed_adopters,
    cut_funding
  };
  Action action = Action::raise_support;
  std::int64_t from = 0, to = 0; // applied at every step in [from, to]
  std::vector<int> territories;  // empty: all
  std::vector<int> clusters;     // declared cluster indices; empty: all
  FormSet forms = kAllForms;
  std::vector<int> innovations; // empty: all
  double value = 0.0;
  std::int64_t count = 0; // seed_adopters: organisations; found_cluster: members
  std::string name;       // found_cluster
};

inline constexpr NameTable<EventSpec::Action, 8> kActionNames{
    {"fund_facilitation", "subsidise_cost", "raise_support", "public_procurement", "found_cluster",
     "open_bridges", "seed_adopters", "cut_funding"}};

/// The event keys that only some actions read (bit a = EventSpec::Action a); `step`, `from`, `to`,
/// `action` and `territories` are read by every action. An event that sets a key its action does
/// not read is refused.
struct ActionParameter {
  const char* key;
  std::uint16_t actions;
};
[[nodiscard]] inline constexpr std::uint16_t
action_bits(std::initializer_list<EventSpec::Action> as) {
  std::uint16_t bits = 0;
  for (const auto a : as)
    bits = static_cast<std::uint16_t>(bits | (1U << static_cast<unsigned>(a)));
  return bits;
}
inline constexpr std::array<ActionParameter, 6> kActionParameters{{
    {"clusters", action_bits({EventSpec::Action::fund_facilitation, EventSpec::Action::cut_funding,
                              EventSpec::Action::open_bridges, EventSpec::Action::seed_adopters})},
    {"forms",
     action_bits({EventSpec::Action::cut_funding, EventSpec::Action::subsidise_cost,
                  EventSpec::Action::public_procurement, EventSpec::Action::seed_adopters})},
    {"innovations",
     action_bits({EventSpec::Action::cut_funding, EventSpec::Action::subsidise_cost,
                  EventSpec::Action::public_procurement, EventSpec::Action::seed_adopters})},
    {"value", action_bits({EventSpec::Action::fund_facilitation, EventSpec::Action::subsidise_cost,
                           EventSpec::Action::raise_support, EventSpec::Action::public_procurement,
                           EventSpec::Action::found_cluster, EventSpec::Action::open_bridges,
                           EventSpec::Action::cut_funding})},
    {"count", action_bits({EventSpec::Action::seed_adopters, EventSpec::Action::found_cluster})},
    {"name", action_bits({EventSpec::Action::found_cluster})},
}};

[[nodiscard]] inline const char* action_name(EventSpec::Action a) {
  return kActionNames(a);
}
[[nodiscard]] inline const char* kind_name(InnovationSpec::Kind k) {
  return kInnovationKinds(k);
}

/// A file the scenario was read from (the scenario, its `extends` chain, the territory CSV), kept
/// whole so that a run file can embed it.
struct InputFile {
  std::string role; // "scenario", "extends" or "territories.csv"
  std::string path; // as opened
  std::string text; // the file's bytes
};

/// How the summary metrics are defined where the model leaves a choice (`[outcomes]`).
struct OutcomeSpec {
  double reached_share = 0.1;           // a territory is reached at this share of suited orgs
  std::int64_t min_organisations = 100; // suited organisations a territory needs to be "first"
};

/// Euros per unit of each policy action (`[policy_costs]`), for real entities: a model quantity
/// is multiplied by OrganisationSpec::represents first. Defaults are illustrative assumptions.
struct PolicyCosts {
  double facilitator_year = 60'000;     // one facilitator's salary and costs for a year
  double members_per_facilitator = 50;  // member places one facilitator serves
  double cost_unit = 10'000;            // euros per unit of an innovation's `cost`
  double procurement_contract = 20'000; // premium of one contract per unit of appeal bonus
  double support_year = 100;            // per organisation-year of +1.0 policy support
  double founded_cluster = 150'000;     // setting up one cluster
  double bridging_pair_year = 30'000;   // a bridging programme per cluster pair and year (+1.0)
  double seeded_adopter = 10'000;       // one seeded adopter
};

/// A slider of workshop mode, declared in a teaching scenario's `[workshop]` table.
struct WorkshopSlider {
  std::string name;  // the API's name ("peer_weight")
  std::string key;   // the scenario key path it sets ("cluster_rules.peer_weight.weight"), or
                     // "events.subsidise_cost" (a subsidise_cost event at step 0)
  std::string label; // shown next to the control
  std::string help;  // one sentence for the participant
  double min = 0.0, max = 1.0, step = 0.1;
  bool integer = false;
  double value = 0.0; // the scenario's own value (at `key`, else the slider's `default`)
};

/// The `[workshop]` table: the scenario as workshop mode offers it.
struct WorkshopSpec {
  bool present = false;
  std::string title, summary;
  std::int64_t order = 0; // the page lists scenarios by order, then title
  std::vector<WorkshopSlider> sliders;
};

struct Scenario {
  std::string name;
  std::string file;   // path of the scenario file as given
  std::string source; // resolved scenario (after --set overrides) as TOML text; its territory
                      // CSV is named by file name only, as embedded in `inputs`
  std::vector<InputFile> inputs; // every file read, in reading order
  /// The files read to make it, each with what it is to the scenario ("the scenario", "a base
  /// scenario (extends)", "the territory table"): no output of a run may be one of them.
  std::vector<std::pair<std::string, std::string>> input_files;
  std::uint64_t seed = 1;
  std::int64_t steps = 0;
  double steps_per_year = 12.0;
  WorkshopSpec workshop; // [workshop]: sliders of workshop mode

  std::vector<Territory> territories;
  std::vector<TerritoryParent> parents; // empty when no territory has a parent
  OrganisationSpec organisations;
  std::vector<std::int64_t> organisations_per_territory; // derived, validated
  NetworkSpec network;
  std::vector<InnovationSpec> innovations;
  AwarenessSpec awareness;
  AbandonmentSpec abandonment;
  double support = 0.5; // default policy support level of territories
  ClusterRules rules;
  std::vector<ClusterSpec> clusters;
  ClusterGeneration generation;
  std::vector<EventSpec> events;
  OutcomeSpec outcomes;
  PolicyCosts costs;

  [[nodiscard]] std::int64_t organisation_count() const;
  [[nodiscard]] double step_years() const { return 1.0 / steps_per_year; }
  [[nodiscard]] double territory_support(std::size_t t) const {
    return territories[t].support >= 0 ? territories[t].support : support;
  }
};

[[nodiscard]] inline const char* rule_name(InnovationSpec::Rule r) {
  return kRuleNames(r);
}

} // namespace csei
