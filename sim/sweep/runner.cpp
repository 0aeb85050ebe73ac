// One run of a sweep, and many of them in parallel.
#include "sweep/runner.hpp"

#include "kernel/summary.hpp"
#include "scenario/load.hpp"
#include "world/world.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

namespace csei::sweep {

bool operator==(const RunRecord& a, const RunRecord& b) {
  return a.run == b.run && a.status == b.status && a.steps == b.steps && a.series == b.series &&
         a.error == b.error && a.metrics.size() == b.metrics.size() &&
         (a.metrics.empty() ||
          std::memcmp(a.metrics.data(), b.metrics.data(), a.metrics.size() * sizeof(double)) == 0);
}

Runner::Runner(const SweepSpec& spec, const Design& design) : spec_(spec), design_(design) {
  for (std::size_t m = 0; m < spec.outcomes.size(); ++m)
    column_.emplace(spec.outcomes[m], m);
}

std::size_t Runner::series_size() const {
  const auto& b = spec_.base;
  const auto rows = static_cast<std::size_t>(b.steps + 1);
  switch (spec_.series) {
  case SeriesMode::none:
    return 0;
  case SeriesMode::total:
    return rows * b.innovations.size();
  case SeriesMode::territories:
    return rows * b.innovations.size() * b.territories.size();
  }
  return 0;
}

RunRecord Runner::run(std::int64_t index, const std::function<bool()>& should_stop) const {
  const std::int64_t point = index / spec_.replicates, rep = index % spec_.replicates;
  RunRecord rec;
  rec.run = index;
  rec.metrics.assign(spec_.outcomes.size(), std::numeric_limits<double>::quiet_NaN());
  try {
    const Scenario s =
        load_scenario_text(spec_.scenario_text, spec_.scenario_file,
                           std::filesystem::path(spec_.scenario_file).parent_path(),
                           spec_.overrides(design_.texts(static_cast<std::size_t>(point)),
                                           spec_.run_seed(point, rep)));
    const std::size_t I = s.innovations.size(), T = s.territories.size();
    const std::size_t want = spec_.collect ? 0 : series_size();
    const bool total = spec_.series == SeriesMode::total;
    if (want > 0 && want != static_cast<std::size_t>(s.steps + 1) * I * (total ? 1 : T))
      throw std::runtime_error("the run's series shape differs from the base scenario's");
    const World world = build_world(s, should_stop);
    std::vector<std::int64_t> series;
    series.reserve(want);
    const RunResult result = run_simulation(
        s, world,
        [&](const StepCounts& c) {
          if (spec_.collect) spec_.collect(c, series);
          if (want == 0) return;
          if (total) {
            for (std::size_t k = 0; k < c.innovations; ++k) {
              std::int64_t sum = 0;
              for (std::size_t t = 0; t < c.territories; ++t)
                sum += c.adopters[k * c.territories + t];
              series.push_back(sum);
            }
          } else {
            series.insert(series.end(), c.adopters.begin(), c.adopters.end());
          }
        },
        should_stop);
    for (const auto& m : result.metrics)
      if (const auto it = column_.find(m.name); it != column_.end())
        rec.metrics[it->second] = m.value;
    rec.series = std::move(series);
    rec.steps = s.steps;
    rec.status = RunRecord::Status::ok;
  } catch (const Interrupted&) {
    throw;
  } catch (const InputError& e) {
    // The scenario rejected this point: say what, and which values the point set.
    rec.status = RunRecord::Status::failed;
    for (const auto& p : e.problems()) {
      std::string line = p.where.key.empty() ? p.message : p.where.key + ": " + p.message;
      if (p.where.file.rfind("command line", 0) != 0) {
        SourceLocation at = p.where;
        at.key.clear();
        line += " (" + at.describe() + ")";
      }
      rec.error += (rec.error.empty() ? "" : "; ") + line;
    }
    const auto values = design_.texts(static_cast<std::size_t>(point));
    std::string set;
    for (std::size_t j = 0; j < values.size(); ++j)
      set += (j ? ", " : "") + spec_.parameters[j].key + "=" + values[j];
    rec.error += " [the point sets " + set + "]";
  } catch (const std::bad_alloc&) {
    rec.status = RunRecord::Status::failed;
    rec.error = "out of memory";
  } catch (const std::exception& e) {
    rec.status = RunRecord::Status::failed;
    rec.error = e.what();
  }
  if (rec.status == RunRecord::Status::failed) {
    std::fill(rec.metrics.begin(), rec.metrics.end(), std::numeric_limits<double>::quiet_NaN());
    rec.series.clear();
  }
  return rec;
}

bool run_many(std::size_t count, int threads,
              const std::function<void(std::size_t, const std::function<bool()>&)>& body,
              const std::function<bool()>& should_stop, std::size_t at_once) {
  std::atomic<bool> stopped{false};
  const std::function<bool()> stop = [&] {
    if (stopped.load(std::memory_order_relaxed)) return true;
    if (should_stop && should_stop()) stopped.store(true);
    return stopped.load(std::memory_order_relaxed);
  };
  // One arena sized to --threads: the calls are its outer level and each call's own parallel
  // loops nest inside it, so the process never has more busy threads than the arena allows.
  // `lanes` calls go at once, each lane taking the next index when its call ends.
  const std::size_t width = static_cast<std::size_t>(std::max(1, threads));
  const std::size_t lanes = std::min(count, at_once > 0 ? std::min(at_once, width) : width);
  std::atomic<std::size_t> next{0};
  tbb::task_arena arena(static_cast<int>(width));
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::size_t>(0, lanes, 1),
        [&](const tbb::blocked_range<std::size_t>& r) {
          for (std::size_t lane = r.begin(); lane < r.end(); ++lane)
            for (std::size_t i = next++; i < count; i = next++) {
              if (stop()) return;
              try {
                // Isolated: while a call waits on its own inner loops its thread may help only
                // with those, never start another call (a second world on the same thread).
                tbb::this_task_arena::isolate([&] { body(i, stop); });
              } catch (const Interrupted&) {
                stopped.store(true);
                return;
              }
            }
        },
        tbb::simple_partitioner());
  });
  return !stopped.load();
}

bool Runner::run_all(const std::vector<std::int64_t>& indices, int threads,
                     const std::function<void(RunRecord&&)>& done,
                     const std::function<bool()>& should_stop) const {
  return run_many(
      indices.size(), threads,
      [&](std::size_t i, const std::function<bool()>& stop) {
        RunRecord rec = run(indices[i], stop);
        done(std::move(rec));
      },
      should_stop);
}

} // namespace csei::sweep
