// Workshop mode: request validation (only whitelisted parameters within their ranges, bounded
// run size) and the overrides a request becomes.
#include "helpers.hpp"
#include "workshop/request.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

using namespace csei;
using namespace csei::workshop;

namespace {

/// The status and message of the RequestError that parsing `body` throws.
std::pair<int, std::string> refusal(const std::string& body) {
  try {
    (void)parse_run_request(body);
  } catch (const RequestError& e) {
    return {e.status(), e.what()};
  }
  return {0, ""};
}

bool mentions(const std::string& message, const std::string& fragment) {
  return message.find(fragment) != std::string::npos;
}

} // namespace

TEST_CASE("a valid request becomes overrides in whitelist order", "[workshop]") {
  const RunRequest r = parse_run_request(
      R"({"scenario": "clusters_matter", "seed": 7, "steps": 24,
          "params": {"pioneers": 40, "cost_subsidy": 0.25, "peer_weight": 3, "bridging": 4}})");
  CHECK(r.scenario == "clusters_matter");
  CHECK(r.seed == 7u);
  CHECK(r.steps == 24);
  const auto o = overrides(r);
  REQUIRE(o.size() == 6);
  CHECK(o[0] == "cluster_rules.peer_weight.weight=3.0");
  CHECK(o[1] == "cluster_rules.bridging.links=4");
  CHECK(o[2] == R"(events=[{ step = 0, action = "subsidise_cost", value = 0.25 }])");
  CHECK(o[3] == "innovations[0].pioneers=40");
  CHECK(o[4] == "seed=7");
  CHECK(o[5] == "time.steps=24");
}

TEST_CASE("only the scenario is required; a zero subsidy adds no event", "[workshop]") {
  CHECK(overrides(parse_run_request(R"({"scenario": "word_of_mouth"})")).empty());
  CHECK(overrides(
            parse_run_request(R"({"scenario": "clusters_matter", "params": {"cost_subsidy": 0}})"))
            .empty());
}

TEST_CASE("numbers are written so that TOML reads them back exactly", "[workshop]") {
  CHECK(toml_number(3.0, false) == "3.0");
  CHECK(toml_number(0.1, false) == "0.1");
  CHECK(toml_number(1e-7, false) == "1e-07");
  CHECK(toml_number(200.0, true) == "200");
}

TEST_CASE("bad requests are refused with 400 and a message naming the problem", "[workshop]") {
  struct Case {
    const char* body;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"scenario": "word_of_mouth", "params": {"colour": 1}})", "unknown parameter 'colour'"},
      {R"({"scenario": "tipping_points", "params": {"peer_weight": 2}})", "unknown parameter"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": 6.5}})",
       "must be in [1.0, 6.0]"},
      {R"({"scenario": "clusters_matter", "params": {"facilitation": -1}})", "must be in"},
      {R"({"scenario": "clusters_matter", "params": {"pioneers": 1e300}})", "must be in [0, 200]"},
      {R"({"scenario": "clusters_matter", "params": {"bridging": 1.5}})", "whole number"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": "2"}})", "must be a number"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": false}})", "must be a number"},
      {R"({"scenario": "clusters_matter", "params": 3})", "'params' must be an object"},
      {R"({"scenario": "word_of_mouth", "steps": 100000000})", "'steps' must be"},
      {R"({"scenario": "word_of_mouth", "steps": 2.5})", "'steps' must be"},
      {R"({"scenario": "word_of_mouth", "seed": -3})", "'seed' must be"},
      {R"({"scenario": "word_of_mouth", "seed": 18446744073709551615})", "'seed' must be"},
      {R"({"scenario": "word_of_mouth", "organisations": 1})", "unknown field 'organisations'"},
      {R"({"scenario": "../baseline_eu27"})", "unknown scenario '../baseline_eu27'"},
      {R"({"scenario": null})", "'scenario' is required"},
      {R"({})", "'scenario' is required"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"scenario": "word_of_mouth")", "malformed JSON"},
      {"", "malformed JSON"},
      {R"({"scenario": "word_of_mouth", "params": {"media": NaN}})", "malformed JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto [status, message] = refusal(c.body);
    CHECK(status == 400);
    CHECK(mentions(message, c.fragment));
  }
}

TEST_CASE("long names are shortened in messages", "[workshop]") {
  const std::string name(5000, 'x');
  const auto [status, message] =
      refusal(R"({"scenario": "word_of_mouth", "params": {")" + name + R"(": 1}})");
  CHECK(status == 400);
  CHECK(message.size() < 300);
}

TEST_CASE("every teaching scenario loads and every slider of it applies", "[workshop]") {
  for (const auto& ts : teaching_scenarios()) {
    INFO(ts.id);
    const Scenario s = load_scenario(test::source_dir() / "scenarios/teaching" / (ts.id + ".toml"));
    for (const auto& name : ts.sliders) {
      const Slider* slider = find_slider(name);
      REQUIRE(slider);
      const double v = slider_default(*slider, s);
      CHECK(v >= slider->min);
      CHECK(v <= slider->max);
    }
    // Both ends of every range are accepted by the scenario's own validation.
    for (const bool top : {false, true}) {
      RunRequest r{ts.id, {}, std::nullopt, std::nullopt};
      for (const auto& name : ts.sliders) {
        const Slider* slider = find_slider(name);
        r.params.emplace_back(name, top ? slider->max : slider->min);
      }
      CHECK_NOTHROW(load_scenario(test::source_dir() / "scenarios/teaching" / (ts.id + ".toml"),
                                  overrides(r)));
    }
  }
}
