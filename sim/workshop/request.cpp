// Workshop mode: the slider whitelist, the teaching scenarios and request validation.
#include "workshop/request.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace csei::workshop {
namespace {

using nlohmann::json;

/// A name from a request, shortened for messages.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return "'" + out + "'";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string range_text(const Slider& s) {
  return "[" + toml_number(s.min, s.integer) + ", " + toml_number(s.max, s.integer) + "]";
}

} // namespace

const std::vector<Slider>& sliders() {
  static const std::vector<Slider> all = {
      {"peer_weight", "Cluster peer weight",
       "How much more a fellow cluster member's example counts than another partner's.",
       "cluster_rules.peer_weight.weight", 1.0, 6.0, 0.5, false},
      {"facilitation", "Facilitation (per year)",
       "How fast a cluster's facilitator makes members aware of the innovation.",
       "cluster_rules.facilitation.rate", 0.0, 6.0, 0.5, false},
      {"bridging", "Bridging links",
       "Links each cluster member draws to members of partner clusters elsewhere.",
       "cluster_rules.bridging.links", 0.0, 6.0, 1.0, true},
      {"cost_subsidy", "Cost subsidy (share)",
       "Share of the innovation's cost paid by a public subsidy from the start.",
       "events (subsidise_cost at step 0)", 0.0, 1.0, 0.05, false},
      {"pioneers", "Pioneers", "Organisations that have adopted at the start.",
       "innovations[0].pioneers", 0.0, 200.0, 1.0, true},
      {"threshold_mean", "Mean threshold",
       "Average share of adopting partners an organisation waits for before it adopts.",
       "innovations[0].threshold.mean", 0.0, 0.5, 0.01, false},
      {"threshold_sd", "Threshold spread",
       "How different organisations are in how many adopters they wait for.",
       "innovations[0].threshold.sd", 0.0, 0.3, 0.01, false},
      {"word_of_mouth", "Word of mouth (per year)",
       "How strongly partners who use the innovation convince others.", "innovations[0].q", 0.0,
       3.0, 0.1, false},
      {"media", "Media (per year)", "How strongly outside information alone leads to adoption.",
       "innovations[0].p", 0.0, 0.5, 0.01, false},
  };
  return all;
}

const Slider* find_slider(std::string_view name) {
  for (const auto& s : sliders())
    if (s.name == name) return &s;
  return nullptr;
}

const std::vector<TeachingScenario>& teaching_scenarios() {
  static const std::vector<TeachingScenario> all = {
      {"word_of_mouth",
       "1. Word of mouth",
       "600 organisations in six regions hear of a new practice from the media and from partners "
       "who already use it: the S-shaped curve.",
       {"word_of_mouth", "media", "pioneers"}},
      {"clusters_matter",
       "2. Clusters matter",
       "2,000 organisations in four regions, one in five in a cluster with a facilitator. The "
       "innovation costs money and takes know-how: watch members and non-members.",
       {"peer_weight", "facilitation", "bridging", "cost_subsidy", "pioneers"}},
      {"tipping_points",
       "3. Tipping points",
       "1,000 organisations who all see each other adopt once enough others have: a small change "
       "decides between everyone and almost no one.",
       {"threshold_mean", "threshold_sd", "pioneers"}},
      {"eu_clusters",
       "4. Clusters across the EU",
       "The social economy of the EU-27 in miniature (40,000 organisations, split by "
       "population), with clusters in every country, starting in Germany: where does it spread?",
       {"peer_weight", "facilitation", "bridging", "cost_subsidy", "pioneers"}},
  };
  return all;
}

const TeachingScenario* find_scenario(std::string_view id) {
  for (const auto& s : teaching_scenarios())
    if (s.id == id) return &s;
  return nullptr;
}

double slider_default(const Slider& slider, const Scenario& s) {
  const std::string& n = slider.name;
  if (n == "peer_weight") return s.rules.weight;
  if (n == "facilitation") return s.rules.facilitation ? s.rules.facilitation_rate : 0.0;
  if (n == "bridging") return s.rules.bridging ? s.rules.bridge_links : 0.0;
  if (n == "cost_subsidy") return 0.0;
  if (s.innovations.empty()) return slider.min;
  const InnovationSpec& inn = s.innovations.front();
  if (n == "pioneers") return static_cast<double>(inn.pioneers);
  if (n == "threshold_mean") return inn.threshold.mean;
  if (n == "threshold_sd") return inn.threshold.sd;
  if (n == "word_of_mouth") return inn.q;
  if (n == "media") return inn.p;
  return slider.min;
}

std::string toml_number(double value, bool integer) {
  if (integer) return std::to_string(static_cast<long long>(std::llround(value)));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, r.ptr);
  if (out.find_first_of(".eE") == std::string::npos) out += ".0";
  return out;
}

RunRequest parse_run_request(std::string_view body, const Limits& limits) {
  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const auto colon = what.find("parse error");
    throw RequestError(400, "malformed JSON: " +
                                (colon == std::string::npos ? what : what.substr(colon)));
  }
  if (!doc.is_object()) throw RequestError(400, "the request must be a JSON object");

  static const std::vector<std::string> fields = {"scenario", "params", "seed", "steps"};
  for (const auto& [key, value] : doc.items())
    if (std::find(fields.begin(), fields.end(), key) == fields.end())
      throw RequestError(400, "unknown field " + shown(key) + " (fields: " + join(fields) + ")");

  RunRequest req;
  const auto scenario = doc.find("scenario");
  if (scenario == doc.end() || !scenario->is_string())
    throw RequestError(400, "'scenario' is required and must be a string");
  const TeachingScenario* ts = find_scenario(scenario->get_ref<const std::string&>());
  if (!ts) {
    std::vector<std::string> ids;
    for (const auto& t : teaching_scenarios())
      ids.push_back(t.id);
    throw RequestError(400, "unknown scenario " + shown(scenario->get_ref<const std::string&>()) +
                                " (scenarios: " + join(ids) + ")");
  }
  req.scenario = ts->id;

  if (const auto params = doc.find("params"); params != doc.end()) {
    if (!params->is_object()) throw RequestError(400, "'params' must be an object");
    for (const auto& [key, value] : params->items()) {
      const Slider* slider = find_slider(key);
      const bool applies =
          slider && std::find(ts->sliders.begin(), ts->sliders.end(), key) != ts->sliders.end();
      if (!applies)
        throw RequestError(400, "unknown parameter " + shown(key) + " for scenario '" + ts->id +
                                    "' (parameters: " + join(ts->sliders) + ")");
      if (!value.is_number()) throw RequestError(400, "parameter '" + key + "' must be a number");
      const double v = value.get<double>();
      if (!std::isfinite(v) || v < slider->min || v > slider->max)
        throw RequestError(400, "parameter '" + key + "' must be in " + range_text(*slider) +
                                    ", got " + value.dump());
      if (slider->integer && v != std::floor(v))
        throw RequestError(400,
                           "parameter '" + key + "' must be a whole number, got " + value.dump());
      req.params.emplace_back(key, v);
    }
    // Whitelist order, so equal requests give equal override lists.
    std::sort(req.params.begin(), req.params.end(), [](const auto& a, const auto& b) {
      const auto& all = sliders();
      const auto pos = [&](const std::string& n) {
        return std::find_if(all.begin(), all.end(), [&](const Slider& s) { return s.name == n; });
      };
      return pos(a.first) < pos(b.first);
    });
  }

  if (const auto seed = doc.find("seed"); seed != doc.end()) {
    if (!seed->is_number_integer() || seed->get<std::int64_t>() < 0 ||
        seed->get<std::uint64_t>() > limits.max_seed)
      throw RequestError(400, "'seed' must be a whole number in [0, " +
                                  std::to_string(limits.max_seed) + "]");
    req.seed = seed->get<std::uint64_t>();
  }
  if (const auto steps = doc.find("steps"); steps != doc.end()) {
    if (!steps->is_number_integer() || steps->get<std::int64_t>() < 1 ||
        steps->get<std::int64_t>() > limits.max_steps)
      throw RequestError(400, "'steps' must be a whole number in [1, " +
                                  std::to_string(limits.max_steps) + "]");
    req.steps = steps->get<std::int64_t>();
  }
  return req;
}

std::vector<std::string> overrides(const RunRequest& request) {
  std::vector<std::string> out;
  for (const auto& [name, value] : request.params) {
    const Slider& s = *find_slider(name);
    if (name == "cost_subsidy") {
      if (value > 0)
        out.push_back("events=[{ step = 0, action = \"subsidise_cost\", value = " +
                      toml_number(value, false) + " }]");
    } else {
      out.push_back(s.key + "=" + toml_number(value, s.integer));
    }
  }
  if (request.seed) out.push_back("seed=" + std::to_string(*request.seed));
  if (request.steps) out.push_back("time.steps=" + std::to_string(*request.steps));
  return out;
}

} // namespace csei::workshop
