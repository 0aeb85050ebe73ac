// csei run / validate / info.
#include "cli/commands.hpp"

#include "cli/calibrate_command.hpp"
#include "cli/progress.hpp"
#include "cli/sweep_command.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/memory.hpp"
#include "core/sha256.hpp"
#include "core/text.hpp"
#include "kernel/simulation.hpp"
#include "kernel/summary.hpp"
#include "output/export.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"
#include "output/schema.hpp"
#include "scenario/load.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"
#include "world/world.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <unistd.h>

namespace csei {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// A JSON number: integers as integers, other values with 6 significant digits (shares to a
/// millionth, euros to the euro in the millions), null for NaN and infinities.
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// A metric in JSON: null for "never" (a step metric at -1) and for NaN.
std::string json_metric(const MetricDef& m, double v) {
  return m.step && v < 0 ? "null" : json_number(v);
}

std::string with_commas(std::int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

/// Runs `body` and turns every error into a message and an exit code.
template <class F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& p : e.problems())
      std::cerr << "error: " << p.where.describe() << ": " << p.message << '\n';
    return kExitBadInput;
  } catch (const Interrupted&) {
    std::cerr << "interrupted: no output was written\n";
    return kExitInterrupted;
  } catch (const OutputError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitFailure;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << '\n';
    return kExitFailure;
  }
}

/// The scenario stored in a run file, read with the input files the file embeds (each checked
/// against its SHA-256), so that it reruns without the original files.
/// `replicates` receives the file's replicate count (1 for a single run).
Scenario scenario_from_run(const std::string& file, const std::vector<std::string>& overrides,
                           std::int64_t& replicates) {
  files::require_regular(file, {file, 0, 0, ""}, "run file");
  std::unique_ptr<h5::File> f;
  try {
    f = std::make_unique<h5::File>(file, h5::File::Mode::read);
  } catch (const OutputError&) {
    throw InputError({file, 0, 0, ""}, "cannot read: not an HDF5 file or unreadable");
  }
  h5::refuse_foreign_data(*f, file);
  if (!f->has_attribute("scenario"))
    throw InputError({file, 0, 0, "scenario"}, "not a csei run file: missing root attribute");
  std::string source;
  try {
    source = f->string_attribute("scenario");
    replicates = f->has_attribute("replicates") ? f->int_attribute("replicates") : 1;
  } catch (const OutputError& e) {
    throw InputError({file, 0, 0, "scenario"}, std::string("damaged run file: ") + e.what());
  }
  if (replicates < 1 || replicates > kMaxReplicates)
    throw InputError({file, 0, 0, "replicates"},
                     "root attribute replicates = " + std::to_string(replicates) +
                         " is out of range (1 to " + std::to_string(kMaxReplicates) + ")");
  std::vector<std::string> role, path, content, hash;
  try {
    const h5::Group in(*f, "inputs", false);
    role = h5::read_strings(in, "role");
    path = h5::read_strings(in, "path");
    content = h5::read_strings(in, "content");
    hash = h5::read_strings(in, "sha256");
  } catch (const OutputError&) {
    throw InputError({file, 0, 0, "/inputs"},
                     "the file embeds no input files (written by an older csei): rerun it from "
                     "its scenario instead");
  }
  if (path.size() != role.size() || content.size() != role.size() || hash.size() != role.size())
    throw InputError({file, 0, 0, "/inputs"}, "the embedded input tables differ in length");
  std::vector<InputFile> inputs;
  for (std::size_t i = 0; i < role.size(); ++i) {
    const std::string name = std::filesystem::path(path[i]).filename().string();
    if (name.empty() || name == "." || name == "..")
      throw InputError({file, 0, 0, "/inputs/path[" + std::to_string(i) + "]"},
                       "embedded input '" + path[i] + "' has no file name");
    if (sha256_hex(content[i]) != hash[i])
      throw InputError({file, 0, 0, "/inputs/content[" + std::to_string(i) + "]"},
                       "embedded " + role[i] + " '" + path[i] + "' does not match its SHA-256");
    inputs.push_back({role[i], path[i], content[i]});
  }
  // The stored scenario names its territory CSV by file name: lay the embedded one out in a
  // private directory of its own and read the scenario against it.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("csei-from-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  for (const InputFile& x : inputs)
    if (x.role == "territories.csv" || x.role == "territories.parents") {
      std::ofstream out(dir / std::filesystem::path(x.path).filename(), std::ios::binary);
      out << x.text;
      if (!out)
        throw OutputError("cannot write a temporary copy of " + x.path + " in " + dir.string());
    }
  Scenario s = load_scenario_text(source, file + " (stored scenario)", dir, overrides);
  s.file = file;
  s.inputs = std::move(inputs); // the original files, not the temporary copies
  s.input_files = {{file, "the input run file (--from)"}};
  return s;
}

/// The "innovations" array of `csei run`'s JSON: per innovation its summary, metrics and real
/// figures.
void print_innovations_json(const Scenario& s, const std::vector<InnovationSummary>& results) {
  const double scale = s.organisations.represents;
  const auto code_or_null = [&](int t) {
    return t < 0 ? std::string("null")
                 : quote_text(s.territories[static_cast<std::size_t>(t)].code);
  };
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    std::cout << (k ? ", " : "") << "{\"name\": " << quote_text(r.name)
              << ", \"adopters\": " << r.adopters
              << ", \"final_share\": " << json_number(r.final_share) << ", \"steps_to_50\": "
              << (r.steps_to_50 < 0 ? "null" : std::to_string(r.steps_to_50))
              << ", \"first_territory_10\": " << code_or_null(r.first_territory_10)
              << ", \"first_territory_50\": " << code_or_null(r.first_territory_50)
              << ", \"metrics\": {";
    const auto values = metric_values(r);
    const auto defs = summary_metrics();
    for (std::size_t m = 0; m < values.size(); ++m)
      std::cout << (m ? ", " : "") << '"' << metric_names()[m]
                << "\": " << json_metric(defs[m], values[m]);
    // Real-world figures: model figures x the real entities a model organisation stands for.
    std::cout << "}, \"real\": {";
    bool first = true;
    for (std::size_t m = 0; m < values.size(); ++m) {
      if (!defs[m].real) continue;
      std::cout << (first ? "" : ", ") << '"' << metric_names()[m]
                << "\": " << json_number(values[m] * scale);
      first = false;
    }
    std::cout << "}}";
  }
}

/// Cluster slots a replicate may have, at most about (declared, generated, emergence, founded):
/// the memory plan's share of the cluster series.
std::size_t planned_cluster_slots(const Scenario& s) {
  double slots = static_cast<double>(s.clusters.size());
  if (s.generation.density > 0)
    slots += s.generation.density * static_cast<double>(s.organisation_count()) / 1000.0 +
             static_cast<double>(s.territories.size());
  if (s.rules.emergence) slots += static_cast<double>(s.rules.max_new_clusters);
  for (const auto& e : s.events)
    if (e.action == EventSpec::Action::found_cluster)
      slots += static_cast<double>(e.to - e.from + 1);
  return static_cast<std::size_t>(std::min(slots, 1e12));
}

/// `csei run --replicates R` (R > 1): R runs of seeds derived from the scenario's, at once as
/// far as threads and memory allow, into one replicate file.
int run_replicates(const RunOptions& o, const Scenario& s, std::int64_t replicates, int threads,
                   const std::filesystem::path& target, const std::string& out, bool json,
                   std::chrono::steady_clock::time_point t0) {
  const auto R = static_cast<std::size_t>(replicates);
  // Memory: every replicate's series stay in memory until the file is written, and each
  // replicate running holds its world.
  const double record = ReplicateRecord::planned_bytes(s, planned_cluster_slots(s));
  const double records = record * static_cast<double>(R), world_need = world_bytes(s);
  const double have = static_cast<double>(memory_limit_bytes());
  const SourceLocation where{"command line (--replicates " + std::to_string(replicates) + ")", 0, 0,
                             ""};
  if (records + world_need > have)
    throw InputError(
        where, std::to_string(replicates) + " replicates need at least " +
                   format_bytes(records + world_need) + " of memory (" + format_bytes(record) +
                   " of series each, kept until the file is "
                   "written, and " +
                   format_bytes(world_need) + " for a world), more than the " + format_bytes(have) +
                   " there is (physical memory, or CSEI_MEMORY_LIMIT): lower "
                   "--replicates or time.steps");
  const auto fit =
      static_cast<std::size_t>(std::max(1.0, std::floor((have - records) / world_need)));
  const std::size_t at_once = std::min({R, static_cast<std::size_t>(threads), fit});

  std::vector<std::uint64_t> seeds(R);
  for (std::size_t r = 0; r < R; ++r)
    seeds[r] = sweep::replicate_seed(s.seed, -1, static_cast<std::int64_t>(r));
  const bool terminal = o.progress && is_terminal(2);
  ProgressBar bar("replicates", replicates, terminal);
  std::mutex done_mutex;
  std::int64_t done = 0;
  std::vector<std::optional<ReplicateRecord>> slots(R);
  const auto t1 = std::chrono::steady_clock::now();
  const bool whole = sweep::run_many(
      R, threads,
      [&](std::size_t r, const std::function<bool()>& stop) {
        Scenario sr = s;
        sr.seed = seeds[r];
        const World world = build_world(sr, stop);
        ReplicateRecord rec(sr, world, seeds[r]);
        rec.result = run_simulation(
            sr, world, [&](const StepCounts& c) { rec.record(c); }, stop);
        slots[r].emplace(std::move(rec));
        const std::lock_guard lock(done_mutex);
        bar.update(++done);
      },
      stop_requested, at_once);
  bar.finish();
  if (!whole || stop_requested()) throw Interrupted();
  const double run_s = seconds_since(t1);
  std::vector<ReplicateRecord> reps;
  reps.reserve(R);
  for (auto& x : slots)
    reps.push_back(std::move(*x));
  write_replicate_file(target, s, {s.seed, threads, CSEI_VERSION, utc_now()}, reps);
  const double total_s = seconds_since(t0);

  if (json) {
    std::cout << "{\"output\": " << quote_text(out) << ", \"scenario\": " << quote_text(s.name)
              << ", \"seed\": " << s.seed << ", \"replicates\": " << replicates
              << ", \"threads\": " << threads << ", \"at_once\": " << at_once
              << ", \"organisations\": " << s.organisation_count()
              << ", \"represents\": " << json_number(s.organisations.represents)
              << ", \"steps\": " << s.steps << ", \"seconds\": {\"run\": " << json_number(run_s)
              << ", \"total\": " << json_number(total_s) << "}, \"runs\": [";
    for (std::size_t r = 0; r < R; ++r) {
      std::cout << (r ? ", " : "") << "{\"replicate\": " << r << ", \"seed\": " << reps[r].seed
                << ", \"links\": " << reps[r].links << ", \"policy_spending_eur\": "
                << json_number(std::round(reps[r].result.policy_spending))
                << ", \"innovations\": [";
      print_innovations_json(s, reps[r].result.summaries);
      std::cout << "]}";
    }
    std::cout << "]}\n";
    return kExitOk;
  }
  std::printf("csei %s | scenario %s | seed %llu | %lld replicates | %d threads\n", CSEI_VERSION,
              s.name.c_str(), static_cast<unsigned long long>(s.seed),
              static_cast<long long>(replicates), threads);
  std::printf("world: %s organisations in %zu territories; seeds derived from %llu, as a "
              "sweep's common seeds (/series/replicate)\n",
              with_commas(s.organisation_count()).c_str(), s.territories.size(),
              static_cast<unsigned long long>(s.seed));
  std::printf("run:   %lld replicates of %lld steps in %.2f s (%zu at once)\n\n",
              static_cast<long long>(replicates), static_cast<long long>(s.steps), run_s, at_once);
  std::printf("%-26s %9s %17s %11s %15s\n", "innovation", "share", "min - max", "suited",
              "50% reached in");
  for (std::size_t k = 0; k < s.innovations.size(); ++k) {
    double sum = 0, suited = 0, lo = INFINITY, hi = -INFINITY;
    std::int64_t reached = 0;
    for (const auto& rep : reps) {
      const InnovationSummary& x = rep.result.summaries[k];
      sum += x.final_share;
      suited += x.suited_share;
      lo = std::min(lo, x.final_share);
      hi = std::max(hi, x.final_share);
      reached += x.steps_to_50 >= 0 ? 1 : 0;
    }
    char range[40], at50[48];
    std::snprintf(range, sizeof range, "%.3f - %.3f", lo, hi);
    std::snprintf(at50, sizeof at50, "%lld of %lld", static_cast<long long>(reached),
                  static_cast<long long>(replicates));
    std::printf("%-26s %9.3f %17s %11.3f %15s\n", s.innovations[k].name.c_str(),
                sum / static_cast<double>(R), range, suited / static_cast<double>(R), at50);
  }
  std::printf("\n(share and suited: means over the replicates)\n");
  std::printf("\noutput: %s (%.2f s in all)\n", out.c_str(), total_s);
  return kExitOk;
}

} // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGHUP, on_stop_signal);
}

bool stop_requested() {
  return g_stop.load(std::memory_order_relaxed);
}

int command_validate(const std::string& file, const std::vector<std::string>& overrides) {
  if (is_calibration_toml(file)) {
    if (!overrides.empty()) {
      std::cerr << "error: " << file
                << ": a calibration file: --set does not apply (put fixed values in its `set`)\n";
      return kExitBadInput;
    }
    return command_validate_calibration(file);
  }
  if (is_sweep_file(file)) {
    if (!overrides.empty()) {
      std::cerr << "error: " << file
                << ": a sweep file: --set does not apply (put fixed values in its `set`)\n";
      return kExitBadInput;
    }
    return command_validate_sweep(file);
  }
  return guarded([&] {
    const Scenario s = load_scenario(file, overrides);
    std::cout << file << ": ok (" << s.name << ": " << s.territories.size() << " territories, "
              << with_commas(s.organisation_count()) << " organisations, " << s.innovations.size()
              << " innovations, " << s.steps << " steps)\n";
    return kExitOk;
  });
}

int command_run(const RunOptions& o) {
  return guarded([&] {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::string> overrides = o.overrides;
    if (o.seed) overrides.push_back("seed=" + std::to_string(*o.seed));
    std::int64_t stored_replicates = 1;
    const Scenario s = o.from.empty() ? load_scenario(o.scenario, overrides)
                                      : scenario_from_run(o.from, overrides, stored_replicates);
    const std::int64_t replicates = o.replicates.value_or(stored_replicates);

    const int threads = o.threads > 0 ? o.threads : tbb::info::default_concurrency();
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(threads));
    const std::string out = o.output.empty() ? "output/" + s.name + ".h5" : o.output;
    std::vector<files::Input> inputs;
    for (const auto& [path, role] : s.input_files)
      inputs.push_back({path, role});
    const std::filesystem::path target = files::check_output(out, inputs);
    const bool json = o.format == "json" || (o.format == "auto" && !is_terminal(1));
    if (replicates > 1) return run_replicates(o, s, replicates, threads, target, out, json, t0);

    const bool terminal = o.progress && is_terminal(2);
    if (terminal)
      std::fprintf(stderr, "building %s organisations and their network...",
                   with_commas(s.organisation_count()).c_str());
    const World world = build_world(s, stop_requested);
    if (terminal) std::fprintf(stderr, "\r\033[K");
    const double build_s = seconds_since(t0);

    RunWriter writer(target, s, world, {s.seed, threads, CSEI_VERSION, utc_now()});
    ProgressBar bar("steps", s.steps, terminal);
    const auto t1 = std::chrono::steady_clock::now();
    const RunResult result = run_simulation(
        s, world,
        [&](const StepCounts& c) {
          writer.record(c);
          bar.update(c.step);
        },
        stop_requested);
    bar.finish();
    const double run_s = seconds_since(t1);
    writer.commit(result);
    const auto& results = result.summaries;
    const double total_s = seconds_since(t0);

    if (json) {
      const double scale = s.organisations.represents;
      std::cout << "{\"output\": " << quote_text(out) << ", \"scenario\": " << quote_text(s.name)
                << ", \"seed\": " << s.seed << ", \"threads\": " << threads
                << ", \"organisations\": " << world.organisation_count()
                << ", \"represents\": " << json_number(scale)
                << ", \"links\": " << (world.network.complete ? -1 : world.network.link_count())
                << ", \"steps\": " << s.steps
                << ", \"policy_spending_eur\": " << json_number(std::round(result.policy_spending))
                << ", \"seconds\": {\"build\": " << json_number(build_s)
                << ", \"run\": " << json_number(run_s) << ", \"total\": " << json_number(total_s)
                << "}, \"innovations\": [";
      print_innovations_json(s, results);
      std::cout << "]}\n";
    } else {
      std::printf("csei %s | scenario %s | seed %llu | %d threads\n", CSEI_VERSION, s.name.c_str(),
                  static_cast<unsigned long long>(s.seed), threads);
      std::printf("world: %s organisations in %zu territories, %s links (built in %.2f s)\n",
                  with_commas(world.organisation_count()).c_str(), s.territories.size(),
                  world.network.complete ? "all-to-all"
                                         : with_commas(world.network.link_count()).c_str(),
                  build_s);
      std::printf("run:   %lld steps of %.3g years in %.2f s\n\n", static_cast<long long>(s.steps),
                  s.step_years(), run_s);
      std::printf("%-26s %10s %7s %7s %15s %17s %13s\n", "innovation", "adopters", "share",
                  "suited", "50% at step", "first to 50%", "cluster adv.");
      for (const auto& r : results) {
        char at50[32] = "not reached";
        if (r.steps_to_50 >= 0)
          std::snprintf(at50, sizeof at50, "%lld (yr %.1f)", static_cast<long long>(r.steps_to_50),
                        static_cast<double>(r.steps_to_50) * s.step_years());
        char lead[64] = "-";
        if (r.first_territory_50 >= 0)
          std::snprintf(lead, sizeof lead, "%s (yr %.1f)",
                        s.territories[static_cast<std::size_t>(r.first_territory_50)].code.c_str(),
                        static_cast<double>(r.first_step_50) * s.step_years());
        char adv[32] = "-";
        if (std::isfinite(r.cluster_advantage))
          std::snprintf(adv, sizeof adv, "%+.3f", r.cluster_advantage);
        std::printf("%-26s %10s %7.3f %7.3f %15s %17s %13s\n", r.name.c_str(),
                    with_commas(r.adopters).c_str(), r.final_share, r.suited_share, at50, lead,
                    adv);
      }
      if (s.organisations.represents != 1.0)
        std::printf("\none model organisation stands for %g real entities: real adopters, jobs and "
                    "impact are these figures x %g\n",
                    s.organisations.represents, s.organisations.represents);
      if (!s.events.empty())
        std::printf(
            "policy spending: %s EUR (real euros, [policy_costs])\n",
            with_commas(static_cast<std::int64_t>(std::llround(result.policy_spending))).c_str());
      std::printf("\noutput: %s (%.2f s in all)\n", out.c_str(), total_s);
    }
    return kExitOk;
  });
}

int command_info(const std::string& file) {
  if (is_calibration_toml(file)) return command_validate_calibration(file);
  if (const int code = command_info_calibration(file); code >= 0) return code;
  if (is_sweep_file(file)) return command_info_sweep(file);
  return guarded([&] {
    files::require_regular(file, {file, 0, 0, ""}, "run file");
    std::unique_ptr<h5::File> f;
    try {
      f = std::make_unique<h5::File>(file, h5::File::Mode::read);
    } catch (const OutputError& e) {
      throw InputError({file, 0, 0, ""}, "cannot read: not an HDF5 file or unreadable");
    }
    bool sweep = false;
    try {
      sweep = f->has_attribute("kind") && f->string_attribute("kind") == "sweep";
    } catch (const OutputError& e) {
      throw InputError({file, 0, 0, "kind"}, std::string("not a readable csei file: ") + e.what());
    }
    if (sweep) {
      f.reset();
      return command_info_sweep(file);
    }
    h5::refuse_foreign_data(*f, file);
    const auto bad = [&](const std::string& key, const std::string& why) {
      return InputError({file, 0, 0, key}, "not a readable csei run file: " + why);
    };
    // Everything read is checked against everything else before use; HDF5 reading failures
    // (a missing group, a dataset of the wrong type) are input errors too.
    try {
      for (const char* key : {"schema_version", "scenario_name", "seed", "steps"})
        if (!f->has_attribute(key))
          throw InputError({file, 0, 0, key}, "not a csei run file: missing root attribute");
      const std::int64_t schema = f->int_attribute("schema_version");
      if (schema < 1 || schema > kSchemaVersion)
        throw bad("schema_version", "unknown schema version " + std::to_string(schema) +
                                        " (this csei reads 1 to " + std::to_string(kSchemaVersion) +
                                        ")");
      const std::int64_t steps = f->int_attribute("steps");
      if (steps < 0 || steps > 1'000'000)
        throw bad("steps", "steps = " + std::to_string(steps) + " is out of range");
      const h5::Group terr(*f, "territories", false), inn(*f, "innovations", false),
          series(*f, "series", false);
      // A replicate file (schema 5): R replicates along a leading axis.
      const std::int64_t replicates =
          f->has_attribute("replicates") ? f->int_attribute("replicates") : 1;
      if (replicates < 1 || replicates > kMaxReplicates || (replicates > 1 && schema < 5))
        throw bad("replicates", "replicates = " + std::to_string(replicates) +
                                    " is out of range for schema " + std::to_string(schema));
      const bool replicated = replicates > 1;
      const h5::Dataset adopters_ds(series, "adopters");
      auto dims = adopters_ds.dims();
      const std::size_t want_rank = replicated ? 4 : 3;
      if (dims.size() != want_rank)
        throw bad("series/adopters", "has " + std::to_string(dims.size()) +
                                         " dimensions; expected " + std::to_string(want_rank) +
                                         (replicated ? " (replicate, step, innovation, territory)"
                                                     : " (step, innovation, territory)"));
      std::vector<std::int64_t> seeds;
      if (replicated) {
        if (dims[0] != static_cast<hsize_t>(replicates))
          throw bad("series/adopters", "has " + std::to_string(dims[0]) +
                                           " replicates; the file says " +
                                           std::to_string(replicates));
        seeds = h5::read_int64(series, "replicate");
        if (seeds.size() != static_cast<std::size_t>(replicates))
          throw bad("series/replicate", "has " + std::to_string(seeds.size()) + " seeds for " +
                                            std::to_string(replicates) + " replicates");
        dims.erase(dims.begin());
      }
      const auto codes = h5::read_strings(terr, "code");
      const auto names = h5::read_strings(inn, "name");
      const auto orgs = h5::read_int64(terr, "organisations");
      if (dims[0] != static_cast<hsize_t>(steps + 1))
        throw bad("series/adopters", "has " + std::to_string(dims[0]) + " steps; the file says " +
                                         std::to_string(steps) + " (+1 for step 0)");
      if (dims[1] != names.size())
        throw bad("series/adopters", "has " + std::to_string(dims[1]) + " innovation columns for " +
                                         std::to_string(names.size()) + " innovation names");
      if (dims[2] != codes.size() || orgs.size() != codes.size())
        throw bad("series/adopters", "has " + std::to_string(dims[2]) + " territory columns for " +
                                         std::to_string(codes.size()) + " territory codes and " +
                                         std::to_string(orgs.size()) + " organisation counts");
      std::int64_t n = 0;
      for (auto v : orgs)
        if (v < 0 || __builtin_add_overflow(n, v, &n))
          throw bad("territories/organisations",
                    v < 0 ? "negative organisation count " + std::to_string(v)
                          : std::string("organisation counts add up past the integer range"));
      const auto adopters = h5::read_int64(series, "adopters");
      const std::size_t T = dims[2], rows = dims[0], I = names.size();
      const auto R = static_cast<std::size_t>(replicates);
      // Final adopters per replicate and innovation.
      std::vector<std::int64_t> final_adopters(R * I, 0);
      for (std::size_t r = 0; r < R && rows > 0; ++r)
        for (std::size_t k = 0; k < I; ++k)
          for (std::size_t t = 0; t < T; ++t) {
            const std::int64_t a = adopters[((r * rows + rows - 1) * I + k) * T + t];
            if (a < 0 || a > orgs[t])
              throw bad("series/adopters",
                        "innovation '" + names[k] + "' has " + std::to_string(a) +
                            " adopters in territory '" + codes[t] + "' of " +
                            std::to_string(orgs[t]) + " organisations" +
                            (replicated ? " in replicate " + std::to_string(r) : ""));
            final_adopters[r * I + k] += a;
          }
      const double per_year = f->double_attribute("steps_per_year");
      if (!std::isfinite(per_year) || per_year <= 0)
        throw bad("steps_per_year", "is not a positive number");
      std::printf("file:          %s\n", file.c_str());
      std::printf("scenario:      %s\n", f->string_attribute("scenario_name").c_str());
      std::printf("schema:        %lld\n", static_cast<long long>(schema));
      std::printf("csei version:  %s\n", f->string_attribute("version").c_str());
      std::printf("created:       %s\n", f->string_attribute("created").c_str());
      std::printf("seed:          %lld%s\n", static_cast<long long>(f->int_attribute("seed")),
                  replicated ? " (the base seed of the replicates)" : "");
      if (replicated) {
        std::printf("replicates:    %lld, seeds", static_cast<long long>(replicates));
        for (std::size_t r = 0; r < R; ++r) {
          if (r == 8 && R > 10) {
            std::printf(" ... %lld", static_cast<long long>(seeds.back()));
            break;
          }
          std::printf(" %lld", static_cast<long long>(seeds[r]));
        }
        std::printf(" (/series/replicate)\n");
      }
      std::printf("threads:       %lld\n", static_cast<long long>(f->int_attribute("threads")));
      std::printf("steps:         %lld (%g per year)\n", static_cast<long long>(steps), per_year);
      std::printf("organisations: %s in %zu territories\n", with_commas(n).c_str(), codes.size());
      std::printf("complete:      %s\n", f->has_attribute("complete") ? "yes" : "no");
      if (replicated)
        std::printf("series:        /series/adopters [%lld, %llu, %llu, %llu] (replicate, step, "
                    "innovation, territory)\n\n",
                    static_cast<long long>(replicates), static_cast<unsigned long long>(dims[0]),
                    static_cast<unsigned long long>(dims[1]),
                    static_cast<unsigned long long>(dims[2]));
      else
        std::printf("series:        /series/adopters [%llu, %llu, %llu]\n\n",
                    static_cast<unsigned long long>(dims[0]),
                    static_cast<unsigned long long>(dims[1]),
                    static_cast<unsigned long long>(dims[2]));
      const auto share = [&](std::int64_t a) {
        return n > 0 ? static_cast<double>(a) / static_cast<double>(n) : 0.0;
      };
      if (!replicated) {
        std::printf("%-24s %12s %11s\n", "innovation", "adopters", "final share");
        for (std::size_t k = 0; k < I && rows > 0; ++k)
          std::printf("%-24s %12s %11.3f\n", names[k].c_str(),
                      with_commas(final_adopters[k]).c_str(), share(final_adopters[k]));
      } else {
        std::printf("%-24s %12s %11s %17s\n", "innovation", "adopters", "final share", "min - max");
        for (std::size_t k = 0; k < I && rows > 0; ++k) {
          std::int64_t sum = 0, lo = INT64_MAX, hi = INT64_MIN;
          for (std::size_t r = 0; r < R; ++r) {
            const std::int64_t a = final_adopters[r * I + k];
            sum += a;
            lo = std::min(lo, a);
            hi = std::max(hi, a);
          }
          const double mean = static_cast<double>(sum) / static_cast<double>(R);
          char range[48];
          std::snprintf(range, sizeof range, "%.3f - %.3f", share(lo), share(hi));
          std::printf("%-24s %12s %11.3f %17s\n", names[k].c_str(),
                      with_commas(std::llround(mean)).c_str(),
                      n > 0 ? mean / static_cast<double>(n) : 0.0, range);
        }
        std::printf("\n(adopters and final share: means over the %lld replicates)\n",
                    static_cast<long long>(replicates));
      }
    } catch (const OutputError& e) {
      throw InputError({file, 0, 0, ""}, std::string("not a readable csei run file: ") + e.what());
    }
    return kExitOk;
  });
}

int command_export(const std::string& file, const std::string& out_dir) {
  return guarded([&] {
    const std::filesystem::path run(file);
    const std::filesystem::path dir =
        out_dir.empty() ? run.parent_path() : std::filesystem::path(out_dir);
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) throw OutputError(dir.string() + ": cannot create directory: " + ec.message());
    }
    for (const auto& p : export_csv(run, dir))
      std::printf("%s\n", p.string().c_str());
    return kExitOk;
  });
}

int command_schema(const std::string& table) {
  if (table == "series" || table == "all")
    std::cout << begin_marker("series") << series_markdown() << end_marker("series");
  if (table == "all") std::cout << '\n';
  if (table == "summary" || table == "all")
    std::cout << begin_marker("summary") << summary_markdown() << end_marker("summary");
  if (table == "all") std::cout << '\n';
  if (table == "policy" || table == "all")
    std::cout << begin_marker("policy") << policy_markdown() << end_marker("policy");
  return kExitOk;
}

} // namespace csei
