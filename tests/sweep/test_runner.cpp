// Running sweeps: a sweep run equals the same scenario run alone, results do not depend on the
// thread count or the order of the runs, failures are recorded, and journals and sweep files
// give back exactly what went in.
#include "helpers.hpp"
#include "kernel/summary.hpp"
#include "sweep/journal.hpp"
#include "sweep/runner.hpp"
#include "sweep/writer.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>
#include <unistd.h>

using namespace csei;
using namespace csei::sweep;

namespace {

const std::string kSweep = R"(scenario = "small.toml"
set = ["time.steps=18", "organisations.total=1500"]
replicates = 2
seed = 11
[design]
kind = "lhs"
samples = 6
[[parameters]]
key = "innovations[0].q"
range = [0.5, 2.0]
[[parameters]]
key = "network.local_share"
range = [0.3, 1.0]
[outcomes]
metrics = ["*.final_share", "*.steps_to_10", "*.territories_reached"]
series = "territories"
)";

SweepSpec sweep_from(const std::string& text) {
  return load_sweep_text(text, "sweep.toml", test::source_dir() / "tests" / "data");
}

std::vector<RunRecord> run_all(const Runner& runner, std::vector<std::int64_t> order, int threads) {
  // As `csei sweep --threads N` does: allow N threads even beyond the cores.
  const tbb::global_control cap(tbb::global_control::max_allowed_parallelism,
                                static_cast<std::size_t>(threads));
  std::vector<RunRecord> out;
  std::mutex m;
  const bool whole = runner.run_all(order, threads, [&](RunRecord&& r) {
    const std::lock_guard lock(m);
    out.push_back(std::move(r));
  });
  CHECK(whole);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.run < b.run; });
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("csei_sweep_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

} // namespace

TEST_CASE("a sweep run gives what the same scenario gives when run alone", "[sweep][runner]") {
  const SweepSpec s = sweep_from(kSweep);
  const Design d = make_design(s);
  const Runner runner(s, d);
  const std::int64_t index = 7; // point 3, replicate 1
  const RunRecord rec = runner.run(index);
  REQUIRE(rec.status == RunRecord::Status::ok);
  CHECK(rec.steps == 18);

  const Scenario alone = load_scenario(test::source_dir() / "tests" / "data" / "small.toml",
                                       s.overrides(d.texts(3), s.run_seed(3, 1)));
  const World w = build_world(alone);
  SummaryTracker tracker(alone, w);
  std::vector<std::int64_t> series;
  run_simulation(alone, w, [&](const StepCounts& c) {
    tracker.observe(c);
    series.insert(series.end(), c.adopters.begin(), c.adopters.end());
  });
  CHECK(rec.series == series);
  std::vector<double> expected;
  for (const auto& name : s.outcomes)
    for (const auto& m : tracker.metrics())
      if (m.name == name) expected.push_back(m.value);
  CHECK(rec.metrics == expected);
  CHECK(runner.series_size() == series.size());
}

TEST_CASE("sweep results do not depend on threads or on the order of the runs", "[sweep][runner]") {
  const SweepSpec s = sweep_from(kSweep);
  const Design d = make_design(s);
  const Runner runner(s, d);
  std::vector<std::int64_t> order(static_cast<std::size_t>(s.runs()));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  const auto one = run_all(runner, order, 1);
  REQUIRE(one.size() == order.size());
  std::reverse(order.begin(), order.end());
  for (const int threads : {2, 4})
    CHECK(run_all(runner, order, threads) == one);
  // Replicates of a point differ (their seeds do).
  CHECK(one[0].series != one[1].series);
}

TEST_CASE("a run the scenario rejects is recorded with its error", "[sweep][runner]") {
  const SweepSpec s = sweep_from(R"(scenario = "small.toml"
set = ["time.steps=3"]
[design]
kind = "grid"
[[parameters]]
key = "innovations[1].pioneers"
levels = [5, 2000]
[[parameters]]
key = "organisations.total"
levels = [3000, 1000]
)");
  const Design d = make_design(s);
  const Runner runner(s, d);
  const auto recs = run_all(runner, {0, 1, 2, 3}, 2);
  REQUIRE(recs.size() == 4);
  CHECK(recs[0].status == RunRecord::Status::ok);
  CHECK(recs[2].status == RunRecord::Status::ok);
  REQUIRE(recs[3].status == RunRecord::Status::failed);
  CHECK(recs[3].error ==
        "innovations[1].pioneers: 2000 pioneers but only 1000 organisations [the point sets "
        "innovations[1].pioneers=2000, organisations.total=1000]");
  CHECK(std::isnan(recs[3].metrics.at(0)));
}

TEST_CASE("a stop request ends the runs early, reporting only whole runs", "[sweep][runner]") {
  const SweepSpec s = sweep_from(kSweep);
  const Design d = make_design(s);
  const Runner runner(s, d);
  int calls = 0;
  std::vector<RunRecord> got;
  const bool whole = runner.run_all(
      {0, 1, 2, 3, 4, 5}, 1, [&](RunRecord&& r) { got.push_back(std::move(r)); },
      [&] { return ++calls > 30; });
  CHECK_FALSE(whole);
  CHECK(got.size() < 6);
  for (const auto& r : got)
    CHECK(r.status == RunRecord::Status::ok);
}

TEST_CASE("journal frames round-trip, and a cut-short tail is dropped", "[sweep][journal]") {
  TempDir tmp;
  const auto path = tmp.path / "out.h5.journal.x-r0";
  RunRecord a;
  a.run = 3;
  a.status = RunRecord::Status::ok;
  a.steps = 12;
  a.metrics = {0.25, std::nan(""), -1.0};
  a.series = {1, 2, 3, 4};
  RunRecord b;
  b.run = 9;
  b.status = RunRecord::Status::failed;
  b.metrics = {std::nan(""), std::nan(""), std::nan("")};
  b.error = "bad value \"x\"\nsecond line";
  {
    JournalWriter j(path, "fp");
    j.append(a);
    j.append(b);
  }
  auto back = read_journal(path);
  CHECK(back.fingerprint == "fp");
  REQUIRE(back.records.size() == 2);
  CHECK(back.records[0] == a);
  CHECK(back.records[1] == b);
  CHECK_FALSE(back.truncated);

  // A kill in the middle of a write leaves a partial frame: everything before it is kept.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 5);
  back = read_journal(path);
  CHECK(back.records.size() == 1);
  CHECK(back.truncated);

  // A damaged byte fails the checksum.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f.put('\x7f');
  }
  CHECK(read_journal(path).records.size() <= 1);

  CHECK(find_journals(tmp.path / "out.h5") == std::vector<std::filesystem::path>{path});
  CHECK(find_journals(tmp.path / "other.h5").empty());

  std::string bytes;
  append_frame(bytes, a);
  append_frame(bytes, b);
  const auto frames = decode_frames(bytes);
  REQUIRE(frames.size() == 2);
  CHECK(frames[1] == b);
}

TEST_CASE("a sweep file gives back its header and records", "[sweep][output]") {
  TempDir tmp;
  const SweepSpec s = sweep_from(kSweep);
  const Design d = make_design(s);
  const Runner runner(s, d);
  const SweepHeader h = make_sweep_header(s, d);
  std::vector<RunRecord> recs(static_cast<std::size_t>(s.runs()));
  for (std::size_t r = 0; r < recs.size(); ++r) {
    recs[r].run = static_cast<std::int64_t>(r);
    if (r % 3 != 2) recs[r] = runner.run(static_cast<std::int64_t>(r)); // others pending
  }
  recs[4].status = RunRecord::Status::failed;
  recs[4].error = "it failed";
  recs[4].series.clear();
  recs[4].steps = -1;
  std::fill(recs[4].metrics.begin(), recs[4].metrics.end(), std::nan(""));
  const auto path = tmp.path / "s.h5";
  write_sweep_file(path, h, recs, {"2026-01-01T00:00:00Z", 2, 1, "1/3", 1.5});
  const SweepFile f = read_sweep_file(path);
  CHECK(f.shard == "1/3");
  CHECK(f.header.fingerprint == h.fingerprint);
  CHECK(f.header.unit == h.unit);
  CHECK(f.header.text == h.text);
  CHECK(f.header.keys == h.keys);
  CHECK(f.header.run_seed == h.run_seed);
  CHECK(f.header.outcomes == h.outcomes);
  CHECK(f.header.sweep_text == s.source);
  CHECK(f.header.scenario_text == s.scenario_text);
  CHECK(f.header.series_rows == 19);
  REQUIRE(f.records.size() == recs.size());
  for (std::size_t r = 0; r < recs.size(); ++r) {
    INFO(r);
    if (recs[r].status == RunRecord::Status::pending)
      CHECK(f.records[r].status == RunRecord::Status::pending);
    else
      CHECK(f.records[r] == recs[r]);
  }
  // Writing what was read gives the same datasets again.
  write_sweep_file(tmp.path / "t.h5", f.header, f.records, {"x", 1, 1, "1/3", 0});
  const SweepFile g = read_sweep_file(tmp.path / "t.h5");
  CHECK(g.records == f.records);
  CHECK(g.header.value == f.header.value);

  CHECK_THROWS_AS(read_sweep_file(test::source_dir() / "tests" / "data" / "small.toml"),
                  InputError);
}

TEST_CASE("run_many calls each index once, at most at_once at a time, and stops when asked",
          "[sweep][runner]") {
  for (const std::size_t at_once : {std::size_t{0}, std::size_t{1}, std::size_t{2}}) {
    std::mutex m;
    std::vector<int> calls(20, 0);
    std::atomic<int> running{0}, most{0};
    const bool whole = run_many(
        calls.size(), 3,
        [&](std::size_t i, const std::function<bool()>&) {
          const int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          ::usleep(2000);
          --running;
          const std::lock_guard lock(m);
          ++calls[i];
        },
        {}, at_once);
    CHECK(whole);
    CHECK(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));
    CHECK(most.load() <= static_cast<int>(at_once == 0 ? 3 : at_once));
    CHECK(most.load() >= 1);
  }
  // A stop request ends it early: no new call starts, and it says so.
  std::atomic<int> started{0};
  const bool whole = run_many(
      50, 2, [&](std::size_t, const std::function<bool()>&) { ++started; },
      [&] { return started.load() >= 5; }, 1);
  CHECK_FALSE(whole);
  CHECK(started.load() == 5);
}
