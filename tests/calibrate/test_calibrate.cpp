// Calibration: priors (densities integrate to 1, quantiles invert them), distances against
// hand-computed values, weighted quantiles, the probe's yearly values, a calibration file read
// from the test data, rounds of shards through the journal against a whole run, the journal's
// generation in progress, shard files.
#include "calibrate/abc.hpp"
#include "calibrate/journal.hpp"
#include "calibrate/shard.hpp"
#include "calibrate/spec.hpp"
#include "core/files.hpp"
#include "helpers.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <unistd.h>

using namespace csei;
using namespace csei::calibrate;
using Catch::Matchers::Contains;

namespace {

Parameter prior(Prior kind, double low, double high, double mean = 0, double sd = 1) {
  Parameter p;
  p.prior = kind;
  p.low = low;
  p.high = high;
  p.mean = mean;
  p.sd = sd;
  return p;
}

/// Integral of the prior density over z (midpoint rule).
double mass(const Parameter& p, double a, double b) {
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i)
    sum += p.density_z(a + (b - a) * (i + 0.5) / n);
  return sum * (b - a) / n;
}

} // namespace

TEST_CASE("calibrate: prior densities integrate to one and quantiles invert them") {
  const Parameter u = prior(Prior::uniform, 0.1, 0.5);
  CHECK(mass(u, 0, 1) == Approx(1.0).epsilon(1e-3));
  CHECK(u.quantile(0.25) == Approx(0.2));
  CHECK(u.density_z(0.6) == 0.0);
  const Parameter l = prior(Prior::log_uniform, 0.01, 1.0);
  CHECK(mass(l, std::log(0.005), std::log(2.0)) == Approx(1.0).epsilon(1e-3));
  CHECK(l.quantile(0.5) == Approx(0.1));
  CHECK(l.to_z(l.from_z(-1.5)) == Approx(-1.5));
  const Parameter n = prior(Prior::normal, 0, 0, 2.0, 0.5);
  CHECK(mass(n, -2, 6) == Approx(1.0).epsilon(1e-3));
  CHECK(n.quantile(0.5) == Approx(2.0));
  CHECK(n.quantile(0.975) == Approx(2.0 + 1.959964 * 0.5).epsilon(1e-5));
  const Parameter t = prior(Prior::truncated_normal, 0.0, 1.0, 0.0, 1.0);
  CHECK(mass(t, -1, 2) == Approx(1.0).epsilon(1e-3));
  CHECK(t.density_z(-0.01) == 0.0);
  CHECK(t.quantile(0.999) <= 1.0);
  CHECK(t.quantile(0.5) ==
        Approx(0.44177).epsilon(1e-3)); // median of N(0,1) on [0,1]: Phi^-1((0.5 + 0.8413) / 2)
}

TEST_CASE("calibrate: distances against hand-computed values") {
  Target g;
  g.start_year = 2000;
  g.years = 3;
  g.observed = {{2000, 10, "", 2}, {2002, 30, "", 3}};
  const double model[3] = {12, 99, 26};
  g.distance = DistanceKind::rmse_counts;
  CHECK(target_distance(g, model) == Approx(std::sqrt((4.0 + 16.0) / 2)));
  g.distance = DistanceKind::rmse_shares;
  CHECK(target_distance(g, model) == Approx(std::sqrt((4.0 + 16.0) / 2) / 30));
  g.distance = DistanceKind::poisson_deviance;
  CHECK(target_distance(g, model) ==
        Approx(2 * (10 * std::log(10.0 / 12) - (10 - 12.0) + 30 * std::log(30.0 / 26) - 4.0)));
  const double exact[3] = {10, 0, 30};
  CHECK(target_distance(g, exact) == Approx(0.0).margin(1e-12));
  const double failed[3] = {NAN, 0, 30};
  CHECK(std::isinf(target_distance(g, failed)));
}

TEST_CASE("calibrate: weighted quantiles") {
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.5) == 2);
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.2) == 1);
  CHECK(weighted_quantile({{3, 1}, {1, 1}, {2, 2}}, 0.95) == 3);
}

TEST_CASE("calibrate: the recovery file reads, and its probe gives yearly values") {
  const auto spec =
      load_calibration(test::source_dir() / "tests/calibrate/data/bass_recovery.toml");
  REQUIRE(spec.parameters.size() == 2);
  CHECK(spec.parameters[1].key == "innovations[0].q");
  REQUIRE(spec.targets.size() == 1);
  const Target& g = spec.targets[0];
  CHECK(g.years == 12);
  CHECK(g.observed.size() == 12);
  CHECK(g.observed.front().value == 77);
  CHECK(spec.series_size() == 12);
  // Stocks at the year's last step: feed steps 0..120 with adopters = step.
  Probe probe(spec);
  std::vector<std::int64_t> series, adopters(1), zeros(1);
  for (std::int64_t s = 0; s <= 120; ++s) {
    adopters[0] = s;
    StepCounts c;
    c.step = s;
    c.innovations = c.territories = 1;
    c.adopters = adopters;
    c.new_adopters = c.aware = zeros;
    probe(c, series);
  }
  REQUIRE(series.size() == 12);
  CHECK(series[0] == 10);
  CHECK(series[11] == 120);
}

TEST_CASE("calibrate: an unknown innovation is an input error at its line") {
  const auto dir = test::source_dir() / "tests/calibrate/data";
  std::string text = R"(scenario = "bass_small.toml"
[[parameters]]
key = "innovations[0].p"
prior = "uniform"
low = 0.0
high = 0.2
[[targets]]
file = "bass_observed.csv"
series = "bass_adopters"
output = "new_adopters"
innovations = ["bas"]
start_year = 2000
[method]
particles = 10
)";
  const std::string msg =
      test::input_error_of([&] { (void)load_calibration_text(text, "c.toml", dir); });
  CHECK_THAT(msg, Contains("c.toml:11:16: targets[0].innovations[0]: unknown innovation 'bas'"));
  CHECK_THAT(msg, Contains("did you mean 'bass'"));
}

TEST_CASE("calibrate: the probe sums flows over a year's steps and masks territories") {
  CalibrationSpec spec;
  spec.base.steps = 8;
  spec.base.steps_per_year = 4;
  spec.base.innovations.resize(2);
  spec.base.territories.resize(3);
  const auto target = [](Quantity q, std::vector<int> inn, std::vector<int> ter) {
    Target g;
    g.quantity = q;
    g.innovations = std::move(inn);
    g.territories = std::move(ter);
    g.years = 2;
    return g;
  };
  spec.targets = {target(Quantity::new_adopters, {1}, {0, 2}), target(Quantity::aware, {}, {1}),
                  target(Quantity::members, {}, {2}), target(Quantity::clusters, {}, {})};
  Probe probe(spec);
  std::vector<std::int64_t> series;
  for (std::int64_t s = 0; s <= 8; ++s) {
    // [I*T]: innovation k, territory t holds 100 k + 10 t + s.
    std::vector<std::int64_t> it(6), members{1, 2, 3 * s}, cm{s, 0, s > 4 ? 1 : 0};
    for (int k = 0; k < 2; ++k)
      for (int t = 0; t < 3; ++t)
        it[static_cast<std::size_t>(k * 3 + t)] = 100 * k + 10 * t + s;
    StepCounts c;
    c.step = s;
    c.innovations = 2;
    c.territories = 3;
    c.clusters = 3;
    c.adopters = c.new_adopters = c.aware = it;
    c.members = members;
    c.cluster_members = cm;
    probe(c, series);
  }
  REQUIRE(series.size() == 8);
  // new_adopters of innovation 1 in territories 0 and 2: (100 + s) + (120 + s) per step; year 0
  // is steps 0-4, year 1 steps 5-8.
  CHECK(series[0] == 5 * 220 + 2 * (0 + 1 + 2 + 3 + 4));
  CHECK(series[1] == 4 * 220 + 2 * (5 + 6 + 7 + 8));
  // aware in territory 1 of both innovations, at steps 4 and 8.
  CHECK(series[2] == (10 + 4) + (110 + 4));
  CHECK(series[3] == (10 + 8) + (110 + 8));
  CHECK(series[4] == 12); // members of territory 2 at step 4
  CHECK(series[5] == 24);
  CHECK(series[6] == 1); // clusters with members at step 4: slot 0 only
  CHECK(series[7] == 2); // at step 8: slots 0 and 2
}

namespace {

/// A small Bass calibration: 12 particles, 3 generations, batches of 5, 4 predictive runs.
CalibrationSpec small_calibration() {
  const auto dir = test::source_dir() / "tests/calibrate/data";
  std::string text =
      files::read_text(dir / "bass_recovery.toml", {"bass_recovery.toml", 0, 0, ""}, "file");
  text = test::replaced(text, "particles = 200", "particles = 12");
  text = test::replaced(text, "generations = 8", "generations = 3");
  text = test::replaced(text, "predictive = 50", "predictive = 4\nbatch = 5");
  return load_calibration_text(text, "small.toml", dir);
}

void same_generations(const Result& a, const Result& b) {
  REQUIRE(a.generations.size() == b.generations.size());
  for (std::size_t g = 0; g < a.generations.size(); ++g) {
    const auto &x = a.generations[g], &y = b.generations[g];
    CHECK(x.particles == y.particles);
    CHECK(x.weights == y.weights);
    CHECK(x.distances == y.distances);
    CHECK(x.target_distances == y.target_distances);
    CHECK(x.z == y.z);
    CHECK(x.proposals == y.proposals);
    CHECK(x.evaluations == y.evaluations);
    CHECK(x.tolerance == y.tolerance);
  }
  CHECK(a.stop_reason == b.stop_reason);
  CHECK(a.evaluations == b.evaluations);
  CHECK(a.q50 == b.q50);
  CHECK(a.predictive_particles == b.predictive_particles);
  CHECK(a.predictive_series == b.predictive_series);
}

} // namespace

TEST_CASE("calibrate: rounds of shards through the journal give the whole run's result") {
  const tbb::global_control one(tbb::global_control::max_allowed_parallelism, 2);
  const CalibrationSpec spec = small_calibration();
  const Result whole = run_abc_smc(spec, 2);
  REQUIRE(whole.complete);
  REQUIRE(whole.generations.size() == 3);

  // As a sharded calibration does it: a round of batches, its runs made by three "shards" in
  // any order, the batches taken in order until the generation changes, the state through the
  // journal's text between rounds.
  const BatchRunner runner(spec);
  Result state;
  int rounds = 0;
  for (;;) {
    const Sampler sampler(spec, state);
    if (sampler.complete()) break;
    const auto batches = sampler.next(sampler.round_batches());
    REQUIRE(!batches.empty());
    std::size_t runs = 0;
    for (const auto& b : batches)
      runs += b.runs();
    std::vector<sweep::RunRecord> records(runs);
    std::mutex m;
    for (std::int64_t k = 2; k >= 0; --k) {
      std::vector<std::int64_t> items;
      for (auto q = static_cast<std::int64_t>(runs) - 1 - k; q >= 0; q -= 3)
        items.push_back(q);
      REQUIRE(runner.run(batches, items, 2, [&](std::int64_t q, sweep::RunRecord&& r) {
        const std::lock_guard lock(m);
        records[static_cast<std::size_t>(q)] = std::move(r);
      }));
    }
    Sampler taker(spec, state);
    std::size_t at = 0;
    const auto g = taker.generation();
    for (const auto& b : batches) {
      std::vector<sweep::RunRecord> mine(records.begin() + static_cast<std::ptrdiff_t>(at),
                                         records.begin() +
                                             static_cast<std::ptrdiff_t>(at + b.runs()));
      at += b.runs();
      if (taker.take(b, mine, 0.0) || taker.complete() || taker.predictive() ||
          taker.generation() != g)
        break;
    }
    state = parse_journal(journal_text(spec, taker.result()), "j", spec);
    if (taker.complete()) state = taker.result();
    REQUIRE(++rounds < 30);
  }
  same_generations(whole, state);
  CHECK(rounds >= 4); // three generations and the predictive runs
}

TEST_CASE("calibrate: the journal keeps a generation in progress exactly, and refuses damage") {
  const CalibrationSpec spec = small_calibration();
  Sampler s(spec);
  const BatchRunner runner(spec);
  // Generation 0 and the first batch of generation 1.
  for (int taken = 0; s.generation() < 1 || s.result().pending.drawn == 0; ++taken) {
    const auto batch = s.next(1);
    std::vector<sweep::RunRecord> records(batch[0].runs());
    std::vector<std::int64_t> items(records.size());
    std::iota(items.begin(), items.end(), 0);
    REQUIRE(runner.run(batch, items, 1, [&](std::int64_t q, sweep::RunRecord&& r) {
      records[static_cast<std::size_t>(q)] = std::move(r);
    }));
    (void)s.take(batch[0], records, 0.5);
    REQUIRE(taken < 20);
  }
  const std::string text = journal_text(spec, s.result());
  CHECK_THAT(text, Contains("\npending "));
  const Result back = parse_journal(text, "j", spec);
  CHECK(back.pending.drawn == s.result().pending.drawn);
  CHECK(back.pending.particles == s.result().pending.particles);
  CHECK(back.pending.distances == s.result().pending.distances);
  CHECK(journal_text(spec, back) == text);
  // The next batch proposed from the journal's state is the one the live sampler proposes.
  const Sampler again(spec, back);
  CHECK(again.next(2)[1].x == s.next(2)[1].x);
  // Cut short, or a pending part longer than a generation: refused, naming the journal.
  const std::string cut = text.substr(0, text.size() - 4);
  CHECK_THAT(test::input_error_of([&] { return parse_journal(cut, "cal.h5.journal", spec); }),
             Contains("cal.h5.journal: damaged calibration journal (truncated)"));
  const auto p = text.find("\npending ") + 9;
  std::string bad = text;
  bad.replace(p, text.find(' ', p) - p, "12");
  CHECK_THAT(test::input_error_of([&] { return parse_journal(bad, "j", spec); }),
             Contains("bad pending generation"));
}

TEST_CASE("calibrate: shard files read back, and a wrong record set is refused") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("csei_shard_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ShardFile s;
  s.fingerprint = "abc";
  s.k = 2;
  s.n = 3;
  s.round = {false, 1, 10, 2, 8};
  s.seconds = 0.25;
  for (std::int64_t q : {1, 4, 7}) {
    sweep::RunRecord r;
    r.run = q;
    r.status = sweep::RunRecord::Status::ok;
    r.steps = 3;
    r.series = {q, 2 * q};
    s.records.push_back(r);
  }
  const auto path = shard_path(dir / "out.h5", 2, 3);
  CHECK(path.filename() == "out.h5.shard-2-of-3");
  write_shard_file(path, s);
  const ShardFile back = read_shard_file(path);
  CHECK(back.round == s.round);
  CHECK(back.records == s.records);
  CHECK(back.seconds == 0.25);
  CHECK(find_shard_files(dir / "out.h5") == std::vector<std::filesystem::path>{path});
  CHECK(s.round.describe(5) == "generation 1, proposals 10-19 (2 batches, 8 runs)");
  // A run of another shard in it, or one missing.
  s.records[1].run = 5;
  write_shard_file(path, s);
  CHECK_THAT(test::input_error_of([&] { return read_shard_file(path); }),
             Contains("run 5 where run 4 of shard 2/3 belongs"));
  s.records.pop_back();
  s.records[1].run = 4;
  write_shard_file(path, s);
  CHECK_THAT(test::input_error_of([&] { return read_shard_file(path); }),
             Contains("run 7 is missing"));
  std::filesystem::remove_all(dir);
}
