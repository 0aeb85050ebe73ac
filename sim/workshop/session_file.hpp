// Workshop mode: the runs of a session as the trainer sees them, and the session file (HDF5,
// output/SCHEMA.md "Workshop session files") that exports every one of them at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace csei::workshop {

/// A run of the session, as the trainer sees it.
struct SessionRun {
  std::string id, owner, who, scenario;
  nlohmann::json params;     // slider name -> value (every slider of the scenario)
  std::vector<double> share; // the first innovation's adopters / organisations, per step
  double final_share = 0;
  std::int64_t steps_to_50 = -1;
  double steps_per_year = 12;
  std::uint64_t seed = 0;
  std::int64_t steps = 0, organisations = 0;
  bool kept = false;
  double at = 0;              // seconds into the session
  double policy_spending = 0; // real euros

  std::vector<std::string> territory_codes, territory_names;
  std::vector<std::int64_t> territory_organisations;
  struct Innovation {
    std::string name;
    std::vector<double> share, aware;                         // per step
    std::vector<std::vector<double>> territory_share_by_step; // [step][territory]
  };
  std::vector<Innovation> innovations;
};

/// Writes the session file: every run in `runs` (in that order) with its tag, scenario,
/// settings and series. Throws OutputError if it cannot be written.
void write_session_file(const std::filesystem::path& path,
                        const std::vector<const SessionRun*>& runs, std::uint64_t session);

} // namespace csei::workshop
