// The scenario: everything a run needs, parsed and validated once, then used read-only.
//
// A Scenario is produced only by load_scenario() (scenario/load.hpp), which checks every value
// and every cross-field constraint; the rest of the simulator takes it as `const Scenario&`.
#pragma once

#include "core/distribution.hpp"

#include <array>
#include <cstdint>
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
inline constexpr std::array<const char*, kLegalFormCount> kLegalFormNames = {
    "association",       "cooperative", "mutual",      "foundation",
    "social_enterprise", "sme",         "public_body", "research"};

struct Territory {
  std::string code;
  std::string name;
  double population = 0.0;   // inhabitants (0 where unknown)
  double se_employment = -1; // social-economy jobs (-1 where unknown)
  double se_entities = -1;   // social-economy entities (-1 where unknown)
  double lat = 0.0, lon = 0.0;
  std::vector<std::string> neighbours;
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
  Distribution jobs;                              // size in jobs
};

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
  enum class Rule { bass, threshold };

  std::string name;
  Rule rule = Rule::bass;
  double p = 0.0; // bass: external influence per year
  double q = 0.0; // bass: internal influence per year
  Distribution threshold = Distribution::constant(0.5);
  std::int64_t pioneers = 0;
  int pioneer_territory = -1; // index into territories, or -1 for anywhere
};

struct Scenario {
  std::string name;
  std::string file;   // path of the scenario file as given
  std::string source; // resolved scenario (after --set overrides) as TOML text
  std::uint64_t seed = 1;
  std::int64_t steps = 0;
  double steps_per_year = 12.0;

  std::vector<Territory> territories;
  OrganisationSpec organisations;
  std::vector<std::int64_t> organisations_per_territory; // derived, validated
  NetworkSpec network;
  std::vector<InnovationSpec> innovations;

  [[nodiscard]] std::int64_t organisation_count() const;
  [[nodiscard]] double step_years() const { return 1.0 / steps_per_year; }
};

[[nodiscard]] const char* rule_name(InnovationSpec::Rule r);

} // namespace csei
