// csei calibrate.
#include "cli/calibrate_command.hpp"

#include "calibrate/abc.hpp"
#include "calibrate/journal.hpp"
#include "calibrate/shard.hpp"
#include "calibrate/spec.hpp"
#include "calibrate/writer.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/shard.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"
#include "sweep/journal.hpp"
#include "sweep/mpi.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <tbb/global_control.h>
#include <tbb/info.h>

namespace csei {
namespace {

std::string sweep_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void print_problems(const InputError& e) {
  for (const auto& p : e.problems())
    std::cerr << "error: " << p.where.describe() << ": " << p.message << '\n';
}

void print_plan(const calibrate::CalibrationSpec& s) {
  const auto& M = s.method;
  std::printf("%s: ok (calibration %s: ABC-SMC, %zu parameters, %zu targets, %lld particles x "
              "%lld replicates, at most %lld generations)\n",
              s.file.c_str(), s.name.c_str(), s.parameters.size(), s.targets.size(),
              static_cast<long long>(M.particles), static_cast<long long>(M.replicates),
              static_cast<long long>(M.generations));
  std::printf("base scenario: %s (%s, %lld organisations, %lld steps)\n", s.scenario_file.c_str(),
              s.base.name.c_str(), static_cast<long long>(s.base.organisation_count()),
              static_cast<long long>(s.base.steps));
  std::printf("%-32s %-17s %s\n", "parameter", "prior", "bounds / moments");
  for (const auto& p : s.parameters) {
    char buf[160];
    if (p.prior == calibrate::Prior::normal)
      std::snprintf(buf, sizeof buf, "mean %g, sd %g", p.mean, p.sd);
    else if (p.prior == calibrate::Prior::truncated_normal)
      std::snprintf(buf, sizeof buf, "[%g, %g], mean %g, sd %g", p.low, p.high, p.mean, p.sd);
    else
      std::snprintf(buf, sizeof buf, "[%g, %g]", p.low, p.high);
    std::printf("%-32s %-17s %s\n", p.key.c_str(), calibrate::prior_name(p.prior), buf);
  }
  for (const auto& t : s.targets) {
    std::printf("target %s: %s %s (%zu points, %d-%d) vs model %s, %s, weight %g\n", t.name.c_str(),
                t.series.c_str(), t.geo.c_str(), t.observed.size(), t.observed.front().year,
                t.observed.back().year, calibrate::quantity_name(t.quantity),
                calibrate::distance_name(t.distance), t.weight);
  }
}

/// An error every rank sees identically, or that rank 0 decided and shared: each rank returns
/// the code, rank 0 prints the message.
struct Collective {
  int code;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void remove_file(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

struct RunInfo {
  int threads = 1, ranks = 1, shards = 0;
};

/// The summary of a complete calibration, as a table or one JSON object.
void print_result(const calibrate::CalibrationSpec& spec, const calibrate::Result& res,
                  const std::string& out, const RunInfo& info, bool json) {
  const double rate =
      res.run_seconds > 0 ? static_cast<double>(res.evaluations) / res.run_seconds : 0.0;
  if (json) {
    std::cout.precision(17);
    std::cout << "{\"output\": " << quote_text(out)
              << ", \"calibration\": " << quote_text(spec.name) << ", \"complete\": true"
              << ", \"generations\": " << res.generations.size()
              << ", \"stop_reason\": " << quote_text(res.stop_reason)
              << ", \"evaluations\": " << res.evaluations << ", \"failed\": " << res.failed
              << ", \"threads\": " << info.threads << ", \"ranks\": " << info.ranks
              << ", \"shards\": " << info.shards << ", \"seconds\": " << res.seconds
              << ", \"run_seconds\": " << res.run_seconds
              << ", \"evaluations_per_second\": " << rate << ", \"tolerance\": [";
    for (std::size_t g = 0; g < res.generations.size(); ++g) {
      const double t = res.generations[g].tolerance;
      std::cout << (g ? ", " : "") << (std::isfinite(t) ? sweep_text(t) : "null");
    }
    std::cout << "], \"acceptance_rate\": [";
    for (std::size_t g = 0; g < res.generations.size(); ++g)
      std::cout << (g ? ", " : "") << res.generations[g].acceptance_rate;
    std::cout << "], \"posterior\": {";
    for (std::size_t j = 0; j < spec.parameters.size(); ++j)
      std::cout << (j ? ", " : "") << quote_text(spec.parameters[j].key)
                << ": {\"median\": " << res.q50[j] << ", \"q05\": " << res.q05[j]
                << ", \"q95\": " << res.q95[j] << ", \"mean\": " << res.mean[j] << "}";
    std::cout << "}}\n";
  } else {
    std::printf("csei %s | calibration %s | ABC-SMC, %lld particles x %lld replicates\n",
                CSEI_VERSION, spec.name.c_str(), static_cast<long long>(spec.method.particles),
                static_cast<long long>(spec.method.replicates));
    std::printf("%-10s %12s %10s %10s\n", "generation", "tolerance", "proposals", "accepted");
    for (std::size_t g = 0; g < res.generations.size(); ++g) {
      const auto& gen = res.generations[g];
      std::printf("%-10zu %12.5g %10lld %9.1f%%\n", g, gen.tolerance,
                  static_cast<long long>(gen.proposals), 100.0 * gen.acceptance_rate);
    }
    std::printf("stopped: %s\n", res.stop_reason.c_str());
    std::printf("%-32s %12s %12s %12s\n", "parameter", "median", "5%", "95%");
    for (std::size_t j = 0; j < spec.parameters.size(); ++j)
      std::printf("%-32s %12.5g %12.5g %12.5g\n", spec.parameters[j].key.c_str(), res.q50[j],
                  res.q05[j], res.q95[j]);
    if (info.shards > 0)
      std::printf("shards: %lld runs in rounds of %d shards, %.2f s of the slowest shards\n",
                  static_cast<long long>(res.evaluations), info.shards, res.run_seconds);
    else
      std::printf("speed:  %lld runs in %.2f s, %.2f runs/s on %d thread%s x %d rank%s\n",
                  static_cast<long long>(res.evaluations), res.run_seconds, rate, info.threads,
                  info.threads == 1 ? "" : "s", info.ranks, info.ranks == 1 ? "" : "s");
    std::printf("output: %s (%.2f s in all)\n", out.c_str(), res.seconds);
  }
  if (res.failed > 0)
    std::cerr << "warning: " << res.failed
              << " runs failed (their particles were never accepted); the first: "
              << res.first_failure << '\n';
}

/// The round the sampler's state calls for next.
calibrate::Round round_of(const calibrate::Sampler& s, const std::vector<calibrate::Batch>& b) {
  calibrate::Round r;
  r.predictive = s.predictive();
  r.generation = s.generation();
  r.from = r.predictive ? 0 : s.result().pending.drawn;
  r.batches = static_cast<std::int64_t>(b.size());
  for (const auto& x : b)
    r.runs += static_cast<std::int64_t>(x.runs());
  return r;
}

/// `--shard K/N`: shard K's runs of the next round, into <output>.shard-K-of-N.
int run_shard(const CalibrateOptions& o, const calibrate::CalibrationSpec& spec,
              const calibrate::Result& state, const std::string& out, int threads,
              const mpi::Session& mpi, bool json) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool root = mpi.rank() == 0;
  const Shard shard = parse_shard(o.shard);
  const calibrate::Sampler sampler(spec, state);
  if (sampler.complete()) {
    if (root)
      std::cerr << "note: " << out << ": the calibration needs no more runs: csei calibrate "
                << o.file << " -o " << out << " --merge writes its file\n";
    return kExitOk;
  }
  const std::vector<calibrate::Batch> batches = sampler.next(sampler.round_batches());
  const calibrate::Round round = round_of(sampler, batches);
  std::vector<std::int64_t> mine;
  std::int64_t held = 0;
  for (std::int64_t q = shard.k - 1; q < round.runs; q += shard.n, ++held)
    if (held % mpi.size() == mpi.rank()) mine.push_back(q);
  std::vector<sweep::RunRecord> records;
  std::mutex mutex;
  const calibrate::BatchRunner runner(spec);
  const auto t1 = std::chrono::steady_clock::now();
  const bool whole = runner.run(
      batches, mine, threads,
      [&](std::int64_t q, sweep::RunRecord&& r) {
        r.run = q;
        const std::lock_guard lock(mutex);
        records.push_back(std::move(r));
      },
      stop_requested);
  const double run_seconds = seconds_since(t1);
  if (mpi.max(whole ? 0 : 1) != 0) {
    if (root)
      std::cerr << "interrupted: no shard file written; run shard " << shard.k << "/" << shard.n
                << " again\n";
    throw Collective{kExitInterrupted};
  }
  calibrate::ShardFile file;
  file.fingerprint = calibrate::fingerprint(spec);
  file.k = shard.k;
  file.n = shard.n;
  file.round = round;
  file.seconds = static_cast<double>(mpi.max(static_cast<std::int64_t>(run_seconds * 1e6))) / 1e6;
  if (mpi.size() > 1) {
    std::string bytes;
    for (const auto& r : records)
      sweep::append_frame(bytes, r);
    records = sweep::decode_frames(mpi.all_gather(bytes));
  }
  std::sort(records.begin(), records.end(),
            [](const sweep::RunRecord& a, const sweep::RunRecord& b) { return a.run < b.run; });
  file.records = std::move(records);
  const auto path = calibrate::shard_path(out, shard.k, shard.n);
  int code = kExitOk;
  if (root) {
    try {
      calibrate::write_shard_file(path, file);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << '\n';
      code = kExitFailure;
    }
  }
  code = static_cast<int>(mpi.max(code));
  if (!root || code != kExitOk) return code;
  std::int64_t failed = 0;
  for (const auto& r : file.records)
    failed += r.status == sweep::RunRecord::Status::failed;
  const auto n = static_cast<std::int64_t>(file.records.size());
  const double rate = run_seconds > 0 ? static_cast<double>(n) / run_seconds : 0.0;
  const std::string what = round.describe(spec.method.batch);
  if (json) {
    std::cout.precision(17);
    std::cout << "{\"output\": " << quote_text(path.string())
              << ", \"calibration\": " << quote_text(spec.name)
              << ", \"shard\": " << quote_text(shard.text().empty() ? "1/1" : shard.text())
              << ", \"round\": " << quote_text(what)
              << ", \"predictive\": " << (round.predictive ? "true" : "false")
              << ", \"generation\": " << round.generation << ", \"from\": " << round.from
              << ", \"batches\": " << round.batches << ", \"round_runs\": " << round.runs
              << ", \"runs\": " << n << ", \"failed\": " << failed << ", \"threads\": " << threads
              << ", \"ranks\": " << mpi.size() << ", \"run_seconds\": " << file.seconds
              << ", \"evaluations_per_second\": " << rate << ", \"seconds\": " << seconds_since(t0)
              << "}\n";
  } else {
    std::printf("csei %s | calibration %s | shard %lld/%lld of %s\n", CSEI_VERSION,
                spec.name.c_str(), static_cast<long long>(shard.k), static_cast<long long>(shard.n),
                what.c_str());
    std::printf("runs:   %lld (%lld failed) in %.2f s, %.2f runs/s on %d thread%s x %d rank%s\n",
                static_cast<long long>(n), static_cast<long long>(failed), run_seconds, rate,
                threads, threads == 1 ? "" : "s", mpi.size(), mpi.size() == 1 ? "" : "s");
    std::printf("output: %s (merge the round's shards with: csei calibrate %s -o %s --merge)\n",
                path.string().c_str(), o.file.c_str(), out.c_str());
  }
  return kExitOk;
}

/// `--merge`: the round's shard files into the journal, or the result file once complete.
int merge_shards(const CalibrateOptions& o, const calibrate::CalibrationSpec& spec,
                 calibrate::Result state, const std::string& out,
                 const std::filesystem::path& journal, bool json) {
  const auto t0 = std::chrono::steady_clock::now();
  calibrate::Sampler sampler(spec, std::move(state));
  std::vector<std::filesystem::path> paths;
  for (const auto& f : o.shard_files)
    paths.emplace_back(f);
  if (paths.empty()) paths = calibrate::find_shard_files(out);
  int shards = 0;
  if (!sampler.complete()) {
    const SourceLocation cmd{"command line (--merge)", 0, 0, "merge"};
    if (paths.empty())
      throw InputError(cmd, "no shard files to merge (" + out +
                                ".shard-K-of-N): run csei calibrate " + o.file + " -o " + out +
                                " --shard K/N for K = 1..N first");
    const std::vector<calibrate::Batch> batches = sampler.next(sampler.round_batches());
    const calibrate::Round round = round_of(sampler, batches);
    const std::string fp = calibrate::fingerprint(spec);
    std::vector<calibrate::ShardFile> files;
    std::vector<std::string> by_k;
    for (const auto& p : paths) {
      const std::string name = p.string();
      calibrate::ShardFile f = calibrate::read_shard_file(p);
      const SourceLocation at{name, 0, 0, ""};
      const std::string which = std::to_string(f.k) + "/" + std::to_string(f.n);
      if (f.fingerprint != fp)
        throw InputError(at,
                         "shard " + which +
                             " belongs to a different calibration (the "
                             "calibration file, its base scenario, its observed data or the csei "
                             "version differ from " +
                             o.file + ")");
      if (!files.empty() && f.n != files.front().n)
        throw InputError(at, "is shard " + which + ", but " + paths.front().string() +
                                 " is one of " + std::to_string(files.front().n) +
                                 " shards: the shards of a round share N");
      if (by_k.empty()) by_k.resize(static_cast<std::size_t>(f.n));
      auto& seen = by_k[static_cast<std::size_t>(f.k - 1)];
      if (!seen.empty()) throw InputError(at, "is shard " + which + " again (" + seen + " is too)");
      seen = name;
      if (!(f.round == round))
        throw InputError(
            at, "shard " + which + " holds " + f.round.describe(spec.method.batch) +
                    ", but the round to merge is " + round.describe(spec.method.batch) + " (" +
                    (std::filesystem::exists(journal) ? journal.string()
                                                      : std::string("no journal yet")) +
                    "): a shard file of another round? run the shard again");
      files.push_back(std::move(f));
    }
    const std::int64_t N = files.front().n;
    for (std::int64_t k = 1; k <= N; ++k)
      if (by_k[static_cast<std::size_t>(k - 1)].empty())
        throw InputError({calibrate::shard_path(out, k, N).string(), 0, 0, ""},
                         "shard " + std::to_string(k) + "/" + std::to_string(N) +
                             " of the round is missing: run csei calibrate " + o.file + " -o " +
                             out + " --shard " + std::to_string(k) + "/" + std::to_string(N));
    std::vector<sweep::RunRecord> records(static_cast<std::size_t>(round.runs));
    double slowest = 0;
    for (auto& f : files) {
      slowest = std::max(slowest, f.seconds);
      for (auto& r : f.records)
        records[static_cast<std::size_t>(r.run)] = std::move(r);
    }
    // The batches in order, as one process would have taken them, until the generation fills
    // (the rest of the round is not needed) or the predictive runs are in.
    std::size_t at = 0;
    const std::int64_t g = sampler.generation();
    for (const auto& b : batches) {
      std::vector<sweep::RunRecord> mine(
          std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(at)),
          std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(at + b.runs())));
      at += b.runs();
      const double share =
          slowest * static_cast<double>(b.runs()) / static_cast<double>(round.runs);
      if (sampler.take(b, mine, share) || sampler.complete() || sampler.predictive() ||
          sampler.generation() != g)
        break;
    }
    shards = static_cast<int>(N);
  }
  if (sampler.complete()) {
    calibrate::Result res = sampler.result();
    res.seconds = res.run_seconds + seconds_since(t0);
    calibrate::write_calibration_file(out, spec, res, {utc_now(), 0, 1, std::max(shards, 1)});
    remove_file(journal);
    for (const auto& p : paths)
      remove_file(p);
    print_result(spec, res, out, {0, 1, std::max(shards, 1)}, json);
    return kExitOk;
  }
  calibrate::write_journal(journal, spec, sampler.result());
  for (const auto& p : paths)
    remove_file(p);
  const calibrate::Progress pr = sampler.progress();
  const std::vector<calibrate::Batch> next = sampler.next(sampler.round_batches());
  const calibrate::Round round = round_of(sampler, next);
  const std::string what = round.describe(spec.method.batch);
  if (json) {
    std::cout.precision(17);
    std::cout << "{\"output\": " << quote_text(out)
              << ", \"calibration\": " << quote_text(spec.name)
              << ", \"complete\": false, \"merged\": " << shards
              << ", \"journal\": " << quote_text(journal.string())
              << ", \"generations\": " << sampler.result().generations.size()
              << ", \"predictive\": " << (pr.predictive ? "true" : "false")
              << ", \"accepted\": " << pr.accepted << ", \"proposals\": " << pr.proposals
              << ", \"evaluations\": " << pr.evaluations << ", \"next_round\": " << quote_text(what)
              << ", \"next_round_runs\": " << round.runs << "}\n";
  } else {
    std::printf("csei %s | calibration %s | merged %d shards\n", CSEI_VERSION, spec.name.c_str(),
                shards);
    if (pr.predictive)
      std::printf("state:  %zu generation(s) complete (%s); the predictive runs come next\n",
                  sampler.result().generations.size(), sampler.result().stop_reason.c_str());
    else if (pr.proposals == 0)
      std::printf(
          "state:  %zu generation(s) complete; generation %lld comes next (tolerance %.5g)\n",
          sampler.result().generations.size(), static_cast<long long>(pr.generation), pr.tolerance);
    else
      std::printf("state:  generation %lld: %lld of %lld particles accepted in %lld proposals\n",
                  static_cast<long long>(pr.generation), static_cast<long long>(pr.accepted),
                  static_cast<long long>(spec.method.particles),
                  static_cast<long long>(pr.proposals));
    std::printf("next:   %s: run the shards again (--shard K/N), then --merge\n", what.c_str());
    std::printf("journal: %s\n", journal.string().c_str());
  }
  return kExitOk;
}

int calibrate_body(const CalibrateOptions& o, const mpi::Session& mpi) {
  const bool root = mpi.rank() == 0;
  const bool json = o.format == "json" || (o.format == "auto" && !is_terminal(1));
  const bool sharded = !o.shard.empty();
  calibrate::CalibrationSpec spec;
  std::string out;
  try {
    spec = calibrate::load_calibration(o.file);
    if (sharded) (void)parse_shard(o.shard);
    const SourceLocation cmd{"command line", 0, 0, ""};
    if (sharded && o.merge)
      throw InputError(cmd, "--shard makes one shard's runs, --merge combines the shards: give "
                            "one of them");
    if (!o.shard_files.empty() && !o.merge)
      throw InputError(cmd,
                       "shard files (" + o.shard_files.front() + ") are read only with --merge");
    if (o.merge && mpi.size() > 1)
      throw InputError(cmd, "--merge runs as one process, not under mpirun with " +
                                std::to_string(mpi.size()) + " ranks");
    std::vector<files::Input> inputs{{spec.file, "the calibration file"}};
    for (const auto& [path, role] : spec.base.input_files)
      inputs.push_back({path, role});
    for (const auto& t : spec.targets)
      inputs.push_back({t.file, "an observed series file"});
    for (const auto& f : o.shard_files)
      inputs.push_back({f, "a shard file to merge"});
    out = files::check_output(o.output.empty() ? "output/" + spec.name + ".h5" : o.output, inputs)
              .string();
  } catch (const InputError& e) {
    if (root) print_problems(e);
    throw Collective{kExitBadInput};
  }
  if (o.dry_run) {
    if (root) print_plan(spec);
    return kExitOk;
  }
  // Rank 0 reads the journal an unfinished calibration left (a plain run continues it only
  // with --resume, never overwrites it; shards and merges always start from it) and shares it.
  const std::filesystem::path journal = calibrate::journal_path(out);
  std::string decision = "-1\n";
  if (root) {
    try {
      std::error_code ec;
      if (std::filesystem::exists(journal, ec)) {
        if (!sharded && !o.merge && !o.resume) {
          std::cerr << "error: " << out << ": an unfinished calibration left its journal ("
                    << journal.string()
                    << "): add --resume to continue it, or delete it to start again\n";
          decision = std::to_string(kExitBadInput) + "\n";
        } else {
          const std::string text = files::read_text(journal, {journal.string(), 0, 0, ""},
                                                    "calibration journal", std::size_t{1} << 30);
          (void)calibrate::parse_journal(text, journal.string(), spec);
          decision = "-1\n" + text;
        }
      }
    } catch (const InputError& e) {
      print_problems(e);
      decision = std::to_string(kExitBadInput) + "\n";
    }
  }
  decision = mpi.broadcast(decision);
  const auto nl = decision.find('\n');
  if (const int code = std::stoi(decision.substr(0, nl)); code >= 0) throw Collective{code};
  const std::string journal_text = decision.substr(nl + 1);
  calibrate::Result state;
  if (!journal_text.empty()) state = calibrate::parse_journal(journal_text, journal.string(), spec);
  const bool resumed = !journal_text.empty();

  const int threads = o.threads > 0
                          ? o.threads
                          : std::max(1, tbb::info::default_concurrency() / mpi::local_ranks());
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  if (o.merge) return merge_shards(o, spec, std::move(state), out, journal, json);
  if (sharded) return run_shard(o, spec, state, out, threads, mpi, json);

  const bool show = root && o.progress && is_terminal(2);
  const auto progress = [&](const calibrate::Progress& p) {
    if (!show) return;
    if (p.predictive)
      std::fprintf(stderr, "\r\033[K%s: posterior predictive runs", spec.name.c_str());
    else
      std::fprintf(stderr,
                   "\r\033[K%s: generation %lld, tolerance %.4g: %lld/%lld accepted of %lld "
                   "proposals",
                   spec.name.c_str(), static_cast<long long>(p.generation), p.tolerance,
                   static_cast<long long>(p.accepted),
                   static_cast<long long>(spec.method.particles),
                   static_cast<long long>(p.proposals));
    std::fflush(stderr);
  };
  const calibrate::Ranks ranks{mpi.rank(), mpi.size(),
                               [&](const std::string& b) { return mpi.all_gather(b); },
                               [&](bool v) { return mpi.max(v ? 1 : 0) != 0; }};
  calibrate::Result res;
  try {
    res = calibrate::run_abc_smc(
        spec, threads, progress, stop_requested, resumed ? &state : nullptr,
        [&](const calibrate::Result& r) {
          if (root) calibrate::write_journal(journal, spec, r);
        },
        &ranks);
  } catch (const Interrupted&) {
    if (!root) throw Collective{kExitInterrupted};
    if (show) std::fprintf(stderr, "\r\033[K");
    std::error_code ec;
    std::cerr << "interrupted: no calibration file written"
              << (std::filesystem::exists(journal, ec)
                      ? "; the complete generations are in " + journal.string() +
                            ": continue with --resume"
                      : std::string())
              << '\n';
    throw Collective{kExitInterrupted};
  }
  if (show) std::fprintf(stderr, "\r\033[K");
  int code = kExitOk;
  if (root) {
    try {
      calibrate::write_calibration_file(out, spec, res, {utc_now(), threads, mpi.size(), 0});
      remove_file(journal);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << '\n';
      code = kExitFailure;
    }
  }
  code = static_cast<int>(mpi.max(code));
  if (!root || code != kExitOk) return code;
  if (resumed && !json)
    std::printf("resumed: %zu generations from %s\n", state.generations.size(),
                journal.string().c_str());
  print_result(spec, res, out, {threads, mpi.size(), 0}, json);
  return kExitOk;
}

} // namespace

int command_calibrate(const CalibrateOptions& o) {
  if (mpi::launched_by_mpirun() && !mpi::available()) {
    std::cerr << "error: this csei was built without MPI; it cannot run under mpirun\n";
    return kExitFailure;
  }
  const mpi::Session mpi;
  try {
    return calibrate_body(o, mpi);
  } catch (const Collective& c) {
    return c.code;
  } catch (const InputError& e) {
    print_problems(e);
    if (mpi.size() > 1) mpi.abort(kExitBadInput);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << (dynamic_cast<const OutputError*>(&e) ? "error: " : "error: calibration failed: ")
              << e.what() << '\n';
    if (mpi.size() > 1) mpi.abort(kExitFailure);
    return kExitFailure;
  }
}

int command_validate_calibration(const std::string& file) {
  CalibrateOptions o;
  o.file = file;
  o.dry_run = true;
  return command_calibrate(o);
}

int command_info_calibration(const std::string& file) {
  std::unique_ptr<h5::File> f;
  try {
    files::require_regular(file, {file, 0, 0, ""}, "file");
    H5E_BEGIN_TRY {
      if (H5Fis_hdf5(file.c_str()) <= 0) return -1;
    }
    H5E_END_TRY;
    f = std::make_unique<h5::File>(file, h5::File::Mode::read);
    if (!f->has_attribute("kind") || f->string_attribute("kind") != "calibration") return -1;
  } catch (const std::exception&) {
    return -1;
  }
  try {
    std::printf("%s: calibration %s (csei %s, schema %lld), %s\n", file.c_str(),
                f->string_attribute("name").c_str(), f->string_attribute("version").c_str(),
                static_cast<long long>(f->int_attribute("schema_version")),
                f->has_attribute("complete") ? "complete" : "INCOMPLETE");
    std::printf("base scenario: %s | %lld particles x %lld replicates | %lld generations (%s)\n",
                f->string_attribute("scenario_file").c_str(),
                static_cast<long long>(f->int_attribute("particles")),
                static_cast<long long>(f->int_attribute("replicates")),
                static_cast<long long>(f->int_attribute("generations")),
                f->string_attribute("stop_reason").c_str());
    std::printf("runs: %lld (%lld failed) in %.2f s\n",
                static_cast<long long>(f->int_attribute("evaluations")),
                static_cast<long long>(f->int_attribute("failed")), f->double_attribute("seconds"));
    if (f->has_attribute("shards") && f->int_attribute("shards") > 0)
      std::printf("made in rounds of %lld shards, merged\n",
                  static_cast<long long>(f->int_attribute("shards")));
    else if (f->has_attribute("ranks"))
      std::printf("made on %lld thread(s) x %lld MPI rank(s)\n",
                  static_cast<long long>(f->int_attribute("threads")),
                  static_cast<long long>(f->int_attribute("ranks")));
    const h5::Group g(*f, "generations", false);
    const auto tol = h5::read_double(g, "tolerance");
    const auto rate = h5::read_double(g, "acceptance_rate");
    std::printf("tolerance:");
    for (std::size_t i = 0; i < tol.size(); ++i)
      std::printf(" %.4g (%.0f%%)", tol[i], 100 * rate[i]);
    std::printf("\n%-32s %12s %12s %12s\n", "parameter", "median", "5%", "95%");
    const h5::Group par(*f, "parameters", false), post(*f, "posterior", false);
    const auto keys = h5::read_strings(par, "key");
    const auto med = h5::read_double(post, "median"), lo = h5::read_double(post, "q05"),
               hi = h5::read_double(post, "q95");
    for (std::size_t j = 0; j < keys.size(); ++j)
      std::printf("%-32s %12.5g %12.5g %12.5g\n", keys[j].c_str(), med[j], lo[j], hi[j]);
  } catch (const std::exception& e) {
    std::cerr << "error: " << file << ": damaged calibration file: " << e.what() << '\n';
    return kExitBadInput;
  }
  return kExitOk;
}

bool is_calibration_toml(const std::string& file) {
  return calibrate::is_calibration_file(file);
}

std::function<int()> add_calibrate_command(CLI::App& app) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* cmd = app.add_subcommand(
      "calibrate", "Calibrate scenario parameters against observed series by ABC-SMC (see "
                   "docs/calibration-format.md); under mpirun the ranks share the runs");
  cmd->add_option("file", o->file, "Calibration file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Result file (default: output/<calibration name>.h5)");
  cmd->add_option("--threads", o->threads,
                  "Worker threads per process (0: every core, shared among the MPI ranks of one "
                  "machine)")
      ->check(CLI::Range(0, 4096));
  cmd->add_flag("--resume", o->resume,
                "Continue an interrupted calibration from its journal (<output>.journal) after "
                "its last complete generation, to the same result");
  cmd->add_option("shards", o->shard_files,
                  "With --merge: the round's shard files (default: <output>.shard-*-of-*)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--shard", o->shard,
                  "Make only shard K of N of the next round's runs (the round follows from the "
                  "journal) into <output>.shard-K-of-N; combine the round with --merge");
  cmd->add_flag("--merge", o->merge,
                "Combine a round's shard files: the journal takes the round (the result file is "
                "written once the calibration is complete)");
  cmd->add_flag("--dry-run", o->dry_run,
                "Check the calibration file, its base scenario and observed series; print the "
                "plan (no runs)");
  cmd->add_option("--format", o->format, "Summary format (auto: table on a terminal, else json)")
      ->check(CLI::IsMember({"auto", "table", "json"}));
  cmd->add_flag("!--no-progress", o->progress, "Never show a progress line");
  return [=]() -> int {
    if (!*cmd) return -1;
    install_stop_handlers();
    return command_calibrate(*o);
  };
}

} // namespace csei
