// Reading a scenario: TOML file -> command-line overrides -> validated, immutable Scenario.
#pragma once

#include "scenario/scenario.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace csei {

/// Parse, override and validate the scenario in `file`. Each override is "key.path=value" with
/// the value in TOML syntax (bare words are taken as strings). Throws InputError listing every
/// problem with file, line, column and key path.
[[nodiscard]] Scenario load_scenario(const std::filesystem::path& file,
                                     const std::vector<std::string>& overrides = {});

/// As load_scenario, from text; `label` names the source in messages and relative paths are
/// resolved against `base_dir`.
[[nodiscard]] Scenario load_scenario_text(std::string_view text, const std::string& label,
                                          const std::filesystem::path& base_dir,
                                          const std::vector<std::string>& overrides = {});

/// Link ends per organisation the scenario's network will have, about (for memory planning).
[[nodiscard]] double link_ends_per_organisation(const Scenario& scenario);
/// Bytes a world and the kernel's state need for the scenario, at least: attributes and cluster
/// state per organisation, per innovation its thresholds and adoption state, per link end its
/// target and the network build's temporaries. Loading checks one such world against the memory
/// there is; `csei run --replicates` plans how many to hold at once with it.
[[nodiscard]] double world_bytes(const Scenario& scenario);

/// The closest of `candidates` to `word` if it is close enough to be a likely typo, else "".
[[nodiscard]] std::string did_you_mean(std::string_view word,
                                       const std::vector<std::string>& candidates);

} // namespace csei
