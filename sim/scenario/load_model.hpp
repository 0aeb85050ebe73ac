// Scenario sections of the CSEI model (awareness, abandonment, policy support, cluster rules,
// clusters, cluster generation, policy events), read with the same problem collection as the
// rest of the scenario. Internal to the scenario loader.
#pragma once

#include "scenario/reader.hpp"
#include "scenario/scenario.hpp"

#include <map>

namespace csei::detail {

/// Name -> index lookups for cross-references, with "did you mean" on a miss.
struct Names {
  std::map<std::string, int> territories, clusters, innovations, sectors;
  /// Parent codes (e.g. countries) -> their territories (e.g. regions), ascending.
  std::map<std::string, std::vector<int>> parents;
  [[nodiscard]] static std::vector<std::string> keys(const std::map<std::string, int>& m);
};

/// Reads a list of legal-form names into a set; problems recorded at `path`.
FormSet read_forms(Context& ctx, const toml::node& node, const std::string& path);
/// Resolves a name through `table`; records "unknown <what> 'x'; did you mean" on a miss.
int resolve(Context& ctx, const std::map<std::string, int>& table, const std::string& name,
            const char* what, const SourceLocation& where);

/// Resolves a territory or parent code to territory indices (a parent code selects all its
/// territories); records "unknown territory code 'x'; did you mean" on a miss (empty result).
std::vector<int> resolve_territories(Context& ctx, const Names& names, const std::string& code,
                                     const SourceLocation& where);

void read_awareness(Context& ctx, Reader& top, Scenario& s);
void read_abandonment(Context& ctx, Reader& top, Scenario& s);
void read_policy(Context& ctx, Reader& top, Scenario& s, const Names& names);
void read_cluster_rules(Context& ctx, Reader& top, Scenario& s);
void read_clusters(Context& ctx, Reader& top, Scenario& s, Names& names);
void read_cluster_generation(Context& ctx, Reader& top, Scenario& s);
void read_events(Context& ctx, Reader& top, Scenario& s, const Names& names);
/// Values the configuration never reads (a rule's parameters on another rule, keys of switched-off
/// sections, keys of other kinds and actions): each is a problem naming the key and why.
void check_unused(Context& ctx, const toml::table& root, const Scenario& s);
/// Checks that need the organisation counts (cluster sizes against the territories).
void check_clusters(Context& ctx, Reader& top, const Scenario& s);

} // namespace csei::detail
