// Workshop mode: the whitelist of what a participant may change (sliders mapped to scenario key
// paths, with ranges), the teaching scenarios they apply to, and the validation of a run request
// (JSON) into `--set` overrides. Nothing here runs a simulation or touches the network.
#pragma once

#include "scenario/scenario.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csei::workshop {

/// A refused request: the HTTP status to answer with and a message for the participant.
class RequestError : public std::runtime_error {
public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  [[nodiscard]] int status() const noexcept { return status_; }

private:
  int status_;
};

/// A parameter participants may set: an API name mapped to scenario values, within a range.
struct Slider {
  std::string name;  // API name, e.g. "peer_weight"
  std::string label; // shown next to the control
  std::string help;  // one sentence for the participant
  std::string key;   // the scenario key path it sets (for the record; see overrides())
  double min = 0.0, max = 1.0, step = 0.1;
  bool integer = false;
};

/// Every slider the workshop knows: the whitelist.
[[nodiscard]] const std::vector<Slider>& sliders();
[[nodiscard]] const Slider* find_slider(std::string_view name);

/// A teaching scenario (scenarios/teaching/<id>.toml) and the sliders that apply to it.
struct TeachingScenario {
  std::string id;
  std::string title;
  std::string summary;
  std::vector<std::string> sliders;
};

[[nodiscard]] const std::vector<TeachingScenario>& teaching_scenarios();
[[nodiscard]] const TeachingScenario* find_scenario(std::string_view id);

/// The value a slider has in a loaded scenario (its default on the page).
[[nodiscard]] double slider_default(const Slider& slider, const Scenario& scenario);

/// Bounds on what one request may ask for.
struct Limits {
  std::int64_t max_steps = 240;           // steps a request may ask for
  std::int64_t max_org_steps = 4'000'000; // organisations x (steps + 1) of one run
  std::uint64_t max_seed = 1'000'000'000;
};

/// A validated run request.
struct RunRequest {
  std::string scenario;                               // a teaching scenario id
  std::vector<std::pair<std::string, double>> params; // slider name and value, whitelist order
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> steps;
};

/// Parses and validates the JSON body of POST /api/run:
///   {"scenario": "clusters_matter", "params": {"peer_weight": 3.5}, "seed": 7, "steps": 60}
/// Only "scenario" is required. Throws RequestError(400) naming the first problem.
[[nodiscard]] RunRequest parse_run_request(std::string_view body, const Limits& limits = {});

/// The `--set` overrides that carry out a validated request (key path = TOML value).
[[nodiscard]] std::vector<std::string> overrides(const RunRequest& request);

/// Formats a number as a TOML value: an integer, or a float that reads back exactly.
[[nodiscard]] std::string toml_number(double value, bool integer);

} // namespace csei::workshop
