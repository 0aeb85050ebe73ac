// Workshop mode: in-process runs (same series as a plain run, bounded size and time) and the
// bounded worker pool.
#include "helpers.hpp"
#include "kernel/summary.hpp"
#include "workshop/runner.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>

using namespace csei;
using namespace csei::workshop;

namespace {

std::filesystem::path teaching(const std::string& id) {
  return test::source_dir() / "scenarios/teaching" / (id + ".toml");
}

Clock::time_point in_seconds(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const RequestError& e) {
    return e.status();
  }
  return 0;
}

} // namespace

TEST_CASE("a workshop run has the series of the same scenario run directly", "[workshop]") {
  const std::vector<std::string> ov = {"innovations[0].q=0.8", "time.steps=30"};
  const RunSeries r = run_series(teaching("word_of_mouth"), ov, {}, in_seconds(60));
  const Scenario s = load_scenario(teaching("word_of_mouth"), ov);
  const World w = build_world(s);
  std::vector<double> share;
  (void)run_simulation(s, w, [&](const StepCounts& c) {
    std::int64_t a = 0;
    for (auto v : c.adopters)
      a += v;
    share.push_back(static_cast<double>(a) / static_cast<double>(w.organisation_count()));
  });
  REQUIRE(r.innovations.size() == 1);
  CHECK(r.steps == 30);
  CHECK(r.innovations[0].share == share);
  CHECK(r.innovations[0].territory_share.size() == s.territories.size());
  CHECK(r.innovations[0].summary.final_share == Approx(share.back()));
}

TEST_CASE("cluster members and non-members are tracked", "[workshop]") {
  const RunSeries r =
      run_series(teaching("clusters_matter"), {"time.steps=12"}, {}, in_seconds(60));
  REQUIRE(!r.members.empty());
  CHECK(r.members.back() > 0);
  CHECK(r.innovations[0].member_share.size() == 13);
}

TEST_CASE("runs over the size limit are refused before they start", "[workshop]") {
  Limits small;
  small.max_org_steps = 1000;
  CHECK(status_of([&] {
          (void)run_series(teaching("word_of_mouth"), {}, small, in_seconds(60));
        }) == 413);
}

TEST_CASE("a run past its deadline or cancelled stops with 503", "[workshop]") {
  CHECK(status_of([&] {
          (void)run_series(teaching("word_of_mouth"), {}, {},
                           Clock::now() - std::chrono::seconds(1));
        }) == 503);
  CHECK(status_of([&] {
          (void)run_series(teaching("word_of_mouth"), {}, {}, in_seconds(60), [] { return true; });
        }) == 503);
}

TEST_CASE("values the scenario itself refuses are a 422", "[workshop]") {
  // More pioneers than organisations in the one territory of a tiny run.
  CHECK(status_of([&] {
          (void)run_series(teaching("tipping_points"),
                           {"organisations.per_territory=5", "innovations[0].pioneers=50"}, {},
                           in_seconds(60));
        }) == 422);
}

TEST_CASE("the job pool runs jobs and refuses them when its queue is full", "[workshop]") {
  JobPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> done{0};
  std::promise<void> started;
  REQUIRE(pool.submit([&, gate] {
    started.set_value();
    gate.wait();
    ++done;
  }));
  started.get_future().wait(); // the worker holds the first job
  CHECK(pool.submit([&] { ++done; }));
  CHECK(pool.submit([&] { ++done; }));
  CHECK_FALSE(pool.submit([&] { ++done; })); // two queued: full
  CHECK(pool.queued() == 2);
  CHECK(pool.running() == 1);
  release.set_value();
  pool.shutdown(); // runs what is queued, then stops
  CHECK(done == 3);
  CHECK_FALSE(pool.submit([] {}));
}
