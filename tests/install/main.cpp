// Embeds the simulator: loads a scenario, builds its world, runs it and prints each innovation's
// adopters as JSON (compared with `csei run --format json` by scripts/test-install.sh).
#include <csei/csei.hpp>
#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: csei_consumer SCENARIO\n");
    return 2;
  }
  try {
    const csei::Scenario s = csei::load_scenario(argv[1]);
    const csei::World world = csei::build_world(s);
    std::int64_t steps = 0;
    const csei::RunResult r =
        csei::run_simulation(s, world, [&](const csei::StepCounts& c) { steps = c.step; });
    std::printf("{\"scenario\": \"%s\", \"steps\": %lld, \"adopters\": [", s.name.c_str(),
                static_cast<long long>(steps));
    for (std::size_t k = 0; k < r.summaries.size(); ++k)
      std::printf("%s%lld", k ? ", " : "", static_cast<long long>(r.summaries[k].adopters));
    std::printf("]}\n");
  } catch (const csei::InputError& e) {
    for (const auto& p : e.problems())
      std::fprintf(stderr, "error: %s: %s\n", p.where.describe().c_str(), p.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
