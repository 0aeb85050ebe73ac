// Workshop mode: runs in-process with a deadline, and the worker pool.
#include "workshop/runner.hpp"

#include "core/error.hpp"
#include "output/run_writer.hpp"
#include "scenario/load.hpp"
#include "world/world.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <tbb/task_arena.h>

namespace csei::workshop {
namespace {

double ratio(std::int64_t a, std::int64_t b) {
  return b > 0 ? static_cast<double>(a) / static_cast<double>(b)
               : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

RunSeries run_series(const std::filesystem::path& scenario_file,
                     const std::vector<std::string>& overrides, const Limits& limits,
                     Clock::time_point deadline, const std::function<bool()>& cancelled,
                     const std::filesystem::path* h5_path) {
  const auto t0 = Clock::now();
  Scenario s;
  try {
    s = load_scenario(scenario_file, overrides);
  } catch (const InputError& e) {
    std::string msg;
    for (const auto& p : e.problems())
      msg += (msg.empty() ? "" : "; ") + p.where.key + ": " + p.message;
    throw RequestError(422, "the scenario does not accept these values: " + msg);
  }
  const std::int64_t size = s.organisation_count() * (s.steps + 1);
  if (s.steps > limits.max_steps || size > limits.max_org_steps)
    throw RequestError(413, "run too large: " + std::to_string(s.organisation_count()) +
                                " organisations x " + std::to_string(s.steps + 1) +
                                " steps is over the limit of " +
                                std::to_string(limits.max_org_steps));

  const World world = build_world(s);
  const std::size_t I = s.innovations.size(), T = s.territories.size();
  const std::int64_t n = world.organisation_count();

  RunSeries out;
  out.scenario = s.name;
  out.seed = s.seed;
  out.steps = s.steps;
  out.steps_per_year = s.steps_per_year;
  out.organisations = n;
  for (std::size_t t = 0; t < T; ++t) {
    out.territory_codes.push_back(s.territories[t].code);
    out.territory_names.push_back(s.territories[t].name);
    out.territory_parents.push_back(s.territories[t].parent);
    out.territory_organisations.push_back(s.organisations_per_territory[t]);
  }
  out.innovations.resize(I);
  for (std::size_t k = 0; k < I; ++k) {
    out.innovations[k].name = s.innovations[k].name;
    out.innovations[k].rule = rule_name(s.innovations[k].rule);
  }

  std::unique_ptr<RunWriter> writer;
  if (h5_path)
    writer = std::make_unique<RunWriter>(*h5_path, s, world,
                                         RunInfo{s.seed, 1, CSEI_VERSION, utc_now()});
  const auto record = [&](const StepCounts& c) {
    if (writer) writer->record(c);
    std::int64_t members = 0;
    for (std::size_t t = 0; t < T; ++t)
      members += c.members[t];
    out.members.push_back(members);
    for (std::size_t k = 0; k < I; ++k) {
      std::int64_t adopters = 0, aware = 0, member_adopters = 0;
      for (std::size_t t = 0; t < T; ++t) {
        adopters += c.adopters[k * T + t];
        aware += c.aware[k * T + t];
        member_adopters += c.member_adopters[k * T + t];
      }
      auto& inn = out.innovations[k];
      inn.share.push_back(ratio(adopters, n));
      inn.aware.push_back(ratio(aware, n));
      inn.member_share.push_back(ratio(member_adopters, members));
      inn.nonmember_share.push_back(ratio(adopters - member_adopters, n - members));
      auto& by_territory = inn.territory_share_by_step.emplace_back(T);
      for (std::size_t t = 0; t < T; ++t)
        by_territory[t] = ratio(c.adopters[k * T + t], out.territory_organisations[t]);
      if (c.step == s.steps) inn.territory_share = by_territory;
    }
  };
  const auto should_stop = [&] { return Clock::now() > deadline || (cancelled && cancelled()); };

  RunResult result;
  try {
    result = run_simulation(s, world, record, should_stop);
  } catch (const Interrupted&) {
    throw RequestError(503, "the run was stopped: it took longer than the server allows");
  }
  if (writer) writer->commit(result);
  for (std::size_t k = 0; k < I; ++k)
    out.innovations[k].summary = result.summaries[k];
  out.policy_spending = result.policy_spending;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

JobPool::JobPool(std::size_t workers, std::size_t max_queued) : max_queued_(max_queued) {
  if (workers == 0) workers = 1;
  for (std::size_t i = 0; i < workers; ++i)
    threads_.emplace_back([this] { work(); });
}

JobPool::~JobPool() {
  shutdown();
}

bool JobPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void JobPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::size_t JobPool::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::size_t JobPool::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

void JobPool::work() {
  tbb::task_arena arena(1); // one run, one core: the pool's width is the parallelism
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return; // stopping, and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    arena.execute([&] {
      try {
        job();
      } catch (...) { // jobs report their own errors; never let one end the worker
      }
    });
    std::lock_guard lock(mutex_);
    --running_;
  }
}

} // namespace csei::workshop
