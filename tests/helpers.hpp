// Shared helpers for the C++ tests: scenarios from text, paths into the source tree, thread caps.
#pragma once

#include "core/error.hpp"
#include "kernel/simulation.hpp"
#include "scenario/load.hpp"
#include "world/world.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <tbb/global_control.h>
#include <vector>

namespace csei::test {

inline std::filesystem::path source_dir() {
  return CSEI_SOURCE_DIR;
}

inline Scenario scenario_from(const std::string& text,
                              const std::vector<std::string>& overrides = {}) {
  return load_scenario_text(text, "test.toml", source_dir() / "scenarios", overrides);
}

/// The message of the InputError that `load` throws (every problem, one per line), or a test
/// failure if it throws none.
template <class Load>
std::string input_error_of(const Load& load) {
  try {
    (void)load();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("no InputError");
  return {};
}

/// `text` with the first `from` replaced by `to` (which must be there).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

/// Full series of a run kept in memory: adopters[step][innovation * T + territory].
struct Series {
  std::vector<std::vector<std::int64_t>> adopters, new_adopters;
  std::vector<AdoptionState> final_state;

  [[nodiscard]] std::int64_t total(std::size_t step, std::size_t innovation, std::size_t T) const {
    std::int64_t sum = 0;
    for (std::size_t t = 0; t < T; ++t)
      sum += adopters[step][innovation * T + t];
    return sum;
  }
};

/// Builds the world and runs every step with at most `threads` worker threads.
inline Series run(const Scenario& s, int threads = 0) {
  std::unique_ptr<tbb::global_control> cap;
  if (threads > 0)
    cap = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                static_cast<std::size_t>(threads));
  const World w = build_world(s);
  Simulation sim(s, w);
  Series out;
  sim.initialise();
  for (;;) {
    const StepCounts c = sim.counts();
    out.adopters.emplace_back(c.adopters.begin(), c.adopters.end());
    out.new_adopters.emplace_back(c.new_adopters.begin(), c.new_adopters.end());
    if (c.step == s.steps) break;
    sim.step();
  }
  for (std::size_t k = 0; k < s.innovations.size(); ++k)
    out.final_state.push_back(sim.state(k));
  return out;
}

/// One Watts (2002) run: G(10,000, z / N), every threshold `phi` (as written in a scenario), one
/// pioneer, 200 steps; the final adoption share.
inline double watts_run(double z, const std::string& phi, std::uint64_t seed) {
  const std::string text =
      "seed = " + std::to_string(seed) +
      "\n[time]\nsteps = 200\n[territories]\nlist = [{ code = \"W\" }]\n[organisations]\n"
      "per_territory = 10000\n[network]\nkind = \"erdos_renyi\"\nmean_degree = " +
      std::to_string(z) +
      "\n[[innovations]]\nname = \"cascade\"\nrule = \"threshold\"\nthreshold = { kind = "
      "\"fixed\", value = " +
      phi + " }\npioneers = 1\n";
  return static_cast<double>(run(scenario_from(text)).total(200, 0, 1)) / 10000.0;
}

} // namespace csei::test
