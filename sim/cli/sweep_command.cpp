// csei sweep and csei sweep-merge.
//
// A sweep runs every (point, replicate) of its design. Finished runs go to a journal next to
// the output (<out>.journal.<session>-r<rank>) as they end, so a killed sweep resumes with
// --resume without redoing them; the result file is written once, by rank 0, from every run's
// record, in run order, so it does not depend on how the runs were spread over threads, ranks
// or shards.
#include "cli/sweep_command.hpp"

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/shard.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"
#include "sweep/design.hpp"
#include "sweep/journal.hpp"
#include "sweep/mpi.hpp"
#include "sweep/runner.hpp"
#include "sweep/spec.hpp"
#include "sweep/writer.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <toml++/toml.h>
#include <unistd.h>

namespace csei {
namespace {

using sweep::RunRecord;

/// An error every rank sees identically, or that rank 0 decided and shared: each rank returns
/// the code, rank 0 prints the message.
struct Collective {
  int code;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_problems(const InputError& e) {
  for (const auto& p : e.problems())
    std::cerr << "error: " << p.where.describe() << ": " << p.message << '\n';
}

std::string session_tag() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llx-%x",
                static_cast<unsigned long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(now).count()),
                static_cast<unsigned>(::getpid()));
  return buf;
}

/// Runs done / total, rate and time left, on one line of stderr.
class SweepProgress {
public:
  SweepProgress(std::string label, std::int64_t total, bool enabled)
      : label_(std::move(label)), total_(total), enabled_(enabled),
        start_(std::chrono::steady_clock::now()), last_(start_) {}
  ~SweepProgress() { finish(); }

  void update(std::int64_t done, std::int64_t failed) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    constexpr int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    char failures[32] = "";
    if (failed > 0) std::snprintf(failures, sizeof failures, ", %lld failed", (long long)failed);
    std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld runs, %.1f runs/s, %s left%s", label_.c_str(),
                 bar.c_str(), static_cast<long long>(done), static_cast<long long>(total_), rate,
                 clock(left).c_str(), failures);
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
    enabled_ = drawn_ = false;
  }

private:
  static std::string clock(double s) {
    const auto t = static_cast<long long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
    return buf;
  }
  std::string label_;
  std::int64_t total_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

struct Summary {
  std::string output, name, design;
  std::int64_t points = 0, replicates = 0, runs = 0, ran = 0, resumed = 0, ok = 0, failed = 0;
  int threads = 0, ranks = 1;
  int merged = 0; // sweep-merge: shard files merged
  std::string shard;
  double seconds = 0.0, run_seconds = 0.0;
  std::vector<RunRecord> failures; // failed records (error text)
  std::vector<std::int64_t> failure_point, failure_rep;
};

void print_summary(const Summary& s, bool json) {
  const double rate = s.run_seconds > 0 ? static_cast<double>(s.ran) / s.run_seconds : 0.0;
  if (json) {
    std::cout << "{\"output\": " << quote_text(s.output) << ", \"sweep\": " << quote_text(s.name)
              << ", \"design\": " << quote_text(s.design) << ", \"points\": " << s.points
              << ", \"replicates\": " << s.replicates << ", \"runs\": " << s.runs
              << ", \"ran\": " << s.ran << ", \"resumed\": " << s.resumed << ", \"ok\": " << s.ok
              << ", \"failed\": " << s.failed << ", \"threads\": " << s.threads
              << ", \"ranks\": " << s.ranks << ", \"merged\": " << s.merged
              << ", \"shard\": " << quote_text(s.shard) << ", \"seconds\": " << s.seconds
              << ", \"run_seconds\": " << s.run_seconds << ", \"runs_per_second\": " << rate
              << ", \"failures\": [";
    for (std::size_t i = 0; i < s.failures.size(); ++i)
      std::cout << (i ? ", " : "") << "{\"run\": " << s.failures[i].run
                << ", \"point\": " << s.failure_point[i] << ", \"replicate\": " << s.failure_rep[i]
                << ", \"error\": " << quote_text(s.failures[i].error) << "}";
    std::cout << "]}\n";
  } else {
    std::printf("csei %s | sweep %s | %s design | %lld points x %lld replicates%s\n", CSEI_VERSION,
                s.name.c_str(), s.design.c_str(), static_cast<long long>(s.points),
                static_cast<long long>(s.replicates),
                s.shard.empty() ? "" : (" | shard " + s.shard).c_str());
    std::printf("runs:   %lld in the file: %lld ok, %lld failed", static_cast<long long>(s.runs),
                static_cast<long long>(s.ok), static_cast<long long>(s.failed));
    if (s.resumed > 0)
      std::printf(" (%lld from an earlier session)", static_cast<long long>(s.resumed));
    std::printf("\n");
    if (s.merged > 0)
      std::printf("merged: %d shard files\n", s.merged);
    else if (s.ran > 0)
      std::printf("speed:  %lld runs in %.2f s, %.2f runs/s on %d thread%s x %d rank%s\n",
                  static_cast<long long>(s.ran), s.run_seconds, rate, s.threads,
                  s.threads == 1 ? "" : "s", s.ranks, s.ranks == 1 ? "" : "s");
    std::printf("output: %s (%.2f s in all)\n", s.output.c_str(), s.seconds);
  }
  const std::size_t shown = std::min<std::size_t>(s.failures.size(), 10);
  for (std::size_t i = 0; i < shown; ++i)
    std::cerr << "error: run " << s.failures[i].run << " (point " << s.failure_point[i]
              << ", replicate " << s.failure_rep[i] << ") failed: " << s.failures[i].error << '\n';
  if (s.failed > static_cast<std::int64_t>(shown))
    std::cerr << "error: ... and " << (s.failed - static_cast<std::int64_t>(shown))
              << " more failed runs (see /runs/error in the file)\n";
  if (s.failed > 0)
    std::cerr << "error: " << s.failed << " of " << s.runs
              << " runs failed; the file records each with its error\n";
}

void fill_summary_records(Summary& sum, const SweepHeader& h,
                          const std::vector<RunRecord>& records) {
  for (const auto& r : records) {
    sum.ok += r.status == RunRecord::Status::ok;
    if (r.status == RunRecord::Status::failed) {
      ++sum.failed;
      if (sum.failures.size() < 20) {
        sum.failures.push_back(r);
        sum.failure_point.push_back(h.point[static_cast<std::size_t>(r.run)]);
        sum.failure_rep.push_back(h.replicate[static_cast<std::size_t>(r.run)]);
      }
    }
  }
}

void print_plan(const sweep::SweepSpec& s, const sweep::Design& d, const Shard& shard) {
  std::printf("%s: ok (sweep %s: %s design, %zu parameters, %lld points x %lld replicates = %lld "
              "runs%s)\n",
              s.file.c_str(), s.name.c_str(), sweep::design_name(s.design), s.parameters.size(),
              static_cast<long long>(s.points()), static_cast<long long>(s.replicates),
              static_cast<long long>(s.runs()),
              shard.whole() ? "" : (", shard " + shard.text()).c_str());
  std::printf("base scenario: %s (%s, %lld organisations, %lld steps)\n", s.scenario_file.c_str(),
              s.base.name.c_str(), static_cast<long long>(s.base.organisation_count()),
              static_cast<long long>(s.base.steps));
  std::printf("%-32s %-8s %-12s %s\n", "parameter", "type", "distribution", "values");
  for (std::size_t j = 0; j < s.parameters.size(); ++j) {
    const auto& p = s.parameters[j];
    std::string values;
    if (p.type == sweep::ValueType::level) {
      for (const auto& l : p.levels)
        values += (values.empty() ? "" : ", ") + l;
    } else {
      std::ostringstream os;
      os << "[" << p.low << ", " << p.high << "]";
      values = os.str();
    }
    std::set<std::string> distinct;
    for (std::size_t i = 0; i < d.points; ++i)
      distinct.insert(d.text[i * d.parameters + j]);
    std::printf("%-32s %-8s %-12s %s (%zu distinct)\n", p.key.c_str(), sweep::type_name(p.type),
                p.type == sweep::ValueType::level ? "levels"
                                                  : sweep::distribution_name(p.distribution),
                values.c_str(), distinct.size());
  }
  std::string outs;
  for (const auto& o : s.outcomes)
    outs += (outs.empty() ? "" : ", ") + o;
  std::printf("outcomes (%zu): %s\nseries: %s\n", s.outcomes.size(), outs.c_str(),
              sweep::series_name(s.series));
}

int sweep_body(const SweepOptions& o, const mpi::Session& mpi) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool root = mpi.rank() == 0;
  const bool json = o.format == "json" || (o.format == "auto" && !is_terminal(1));

  // Phase 1: what every rank works out the same way (a problem here is a collective one).
  sweep::SweepSpec spec;
  Shard shard;
  try {
    spec = sweep::load_sweep(o.file);
    shard = parse_shard(o.shard);
  } catch (const InputError& e) {
    if (root) print_problems(e);
    throw Collective{kExitBadInput};
  }
  const sweep::Design design = sweep::make_design(spec);
  const SweepHeader header = make_sweep_header(spec, design);
  const std::string given = !o.output.empty() ? o.output
                            : shard.whole()
                                ? "output/" + spec.name + ".h5"
                                : "output/" + spec.name + "-shard-" + std::to_string(shard.k) +
                                      "-of-" + std::to_string(shard.n) + ".h5";
  std::string out;
  try {
    std::vector<files::Input> inputs{{spec.file, "the sweep file"}};
    for (const auto& [path, role] : spec.base.input_files)
      inputs.push_back({path, role});
    out = files::check_output(given, inputs).string();
  } catch (const InputError& e) {
    if (root) print_problems(e);
    throw Collective{kExitBadInput};
  }
  const int threads = o.threads > 0
                          ? o.threads
                          : std::max(1, tbb::info::default_concurrency() / mpi::local_ranks());

  if (o.dry_run) {
    if (root) {
      print_plan(spec, design, shard);
      if (!o.output.empty()) {
        std::vector<RunRecord> pending(static_cast<std::size_t>(spec.runs()));
        for (std::size_t r = 0; r < pending.size(); ++r)
          pending[r].run = static_cast<std::int64_t>(r);
        write_sweep_file(out, header, pending, {utc_now(), threads, mpi.size(), shard.text(), 0});
        std::printf("design written to %s (no runs)\n", out.c_str());
      }
    }
    return kExitOk;
  }

  // Phase 2: rank 0 looks for an unfinished sweep and shares what is already done.
  std::vector<RunRecord> loaded;
  std::vector<std::filesystem::path> old_journals;
  std::string decision; // "<code> <tag> <done run indices...>"
  if (root) {
    int code = -1;
    std::ostringstream msg;
    try {
      old_journals = sweep::find_journals(out);
      if (!old_journals.empty() && !o.resume) {
        msg << "error: " << out << ": an unfinished sweep left " << old_journals.size()
            << " journal file(s) (" << old_journals.front().string()
            << (old_journals.size() > 1 ? ", ..." : "")
            << "): add --resume to continue it, or delete them to start again\n";
        code = kExitBadInput;
      }
      std::set<std::int64_t> seen;
      for (const auto& j : old_journals) {
        if (code >= 0) break;
        const auto contents = sweep::read_journal(j);
        if (!contents.fingerprint.empty() && contents.fingerprint != header.fingerprint) {
          msg << "error: " << j.string()
              << ": the journal belongs to a different sweep (the sweep file, its base scenario "
                 "or the csei version changed since): delete it to start again\n";
          code = kExitBadInput;
          break;
        }
        for (auto& r : contents.records)
          if (r.run >= 0 && r.run < spec.runs() && shard.holds(r.run) && seen.insert(r.run).second)
            loaded.push_back(std::move(r));
      }
      if (code < 0 && o.resume && old_journals.empty() && std::filesystem::exists(out)) {
        // Nothing unfinished: the sweep may already be complete.
        const SweepFile done = read_sweep_file(out);
        if (done.header.fingerprint == header.fingerprint && done.shard == shard.text()) {
          Summary sum;
          sum.output = out;
          sum.name = spec.name;
          sum.design = header.design;
          sum.points = header.points;
          sum.replicates = header.replicates;
          sum.threads = threads;
          sum.ranks = mpi.size();
          sum.shard = shard.text();
          for (const auto& r : done.records)
            sum.runs += r.status != RunRecord::Status::pending;
          sum.resumed = sum.runs;
          fill_summary_records(sum, header, done.records);
          sum.seconds = seconds_since(t0);
          std::cerr << "note: " << out << " is already complete: nothing to run\n";
          print_summary(sum, json);
          code = sum.failed > 0 ? kExitRunsFailed : kExitOk;
        }
      }
    } catch (const InputError& e) {
      print_problems(e);
      code = kExitBadInput;
    } catch (const OutputError& e) {
      msg << "error: " << e.what() << '\n';
      code = kExitFailure;
    }
    std::cerr << msg.str();
    std::ostringstream d;
    d << code << ' ' << session_tag();
    for (const auto& r : loaded)
      d << ' ' << r.run;
    decision = d.str();
    if (o.resume && !loaded.empty() && code < 0)
      std::cerr << "resuming: " << loaded.size() << " finished runs found in "
                << old_journals.size() << " journal file(s)\n";
  }
  decision = mpi.broadcast(decision);
  std::istringstream din(decision);
  int code = 0;
  std::string tag;
  din >> code >> tag;
  if (code >= 0) throw Collective{code};
  std::vector<char> done(static_cast<std::size_t>(spec.runs()), 0);
  for (std::int64_t r; din >> r;)
    done[static_cast<std::size_t>(r)] = 1;

  // Phase 3: this rank's share of the runs still to do.
  std::vector<std::int64_t> todo, mine;
  for (std::int64_t r = 0; r < spec.runs(); ++r)
    if (shard.holds(r) && !done[static_cast<std::size_t>(r)]) todo.push_back(r);
  for (std::size_t j = static_cast<std::size_t>(mpi.rank()); j < todo.size();
       j += static_cast<std::size_t>(mpi.size()))
    mine.push_back(todo[j]);

  const std::filesystem::path out_path(out);
  if (out_path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(out_path.parent_path(), ec);
    if (ec)
      throw OutputError(out_path.parent_path().string() +
                        ": cannot create directory: " + ec.message());
  }
  std::filesystem::path journal_path = out_path;
  journal_path += ".journal." + tag + "-r" + std::to_string(mpi.rank());
  sweep::JournalWriter journal(journal_path, header.fingerprint);

  const tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                  static_cast<std::size_t>(threads));
  const sweep::Runner runner(spec, design);
  std::vector<RunRecord> results;
  std::mutex mutex;
  std::int64_t finished = 0, failed = 0;
  const std::string label = mpi.size() > 1 ? "sweep (rank 0 of " + std::to_string(mpi.size()) + ")"
                                           : std::string("sweep");
  SweepProgress bar(label, static_cast<std::int64_t>(mine.size()),
                    root && o.progress && is_terminal(2));
  const auto t1 = std::chrono::steady_clock::now();
  const bool complete = runner.run_all(
      mine, threads,
      [&](RunRecord&& rec) {
        journal.append(rec);
        const std::lock_guard lock(mutex);
        ++finished;
        failed += rec.status == RunRecord::Status::failed;
        results.push_back(std::move(rec));
        bar.update(finished, failed);
      },
      stop_requested);
  bar.finish();
  const double run_seconds = seconds_since(t1);
  journal.close();
  if (mpi.max(complete ? 0 : 1) != 0) {
    if (root) {
      std::int64_t saved = static_cast<std::int64_t>(loaded.size()) + finished;
      std::cerr << "interrupted: " << (mpi.size() > 1 ? "rank 0 saved " : "") << saved
                << " finished runs in " << out << ".journal.*; continue with: csei sweep " << o.file
                << " -o " << out << (o.shard.empty() ? "" : " --shard " + o.shard) << " --resume\n";
    }
    throw Collective{kExitInterrupted};
  }

  // Phase 4: every record to rank 0, which writes the file.
  if (!root) {
    std::string bytes;
    for (const auto& r : results)
      sweep::append_frame(bytes, r);
    mpi.send(bytes, 0);
    std::istringstream verdict(mpi.broadcast(""));
    int code_of_root = kExitFailure, written = 0;
    verdict >> code_of_root >> written;
    if (written) {
      std::error_code ec;
      std::filesystem::remove(journal_path, ec);
    }
    return code_of_root;
  }
  int exit_code = kExitOk;
  bool written = false;
  Summary sum;
  try {
    std::vector<RunRecord> records(static_cast<std::size_t>(spec.runs()));
    for (std::size_t r = 0; r < records.size(); ++r)
      records[r].run = static_cast<std::int64_t>(r);
    const auto place = [&](RunRecord&& r) {
      if (r.run >= 0 && r.run < spec.runs())
        records[static_cast<std::size_t>(r.run)] = std::move(r);
    };
    for (auto& r : loaded)
      place(std::move(r));
    std::int64_t ran = static_cast<std::int64_t>(results.size());
    for (auto& r : results)
      place(std::move(r));
    for (int from = 1; from < mpi.size(); ++from) {
      auto theirs = sweep::decode_frames(mpi.receive(from));
      ran += static_cast<std::int64_t>(theirs.size());
      for (auto& r : theirs)
        place(std::move(r));
    }
    for (const auto& r : records)
      if (shard.holds(r.run) && r.status == RunRecord::Status::pending)
        throw OutputError("run " + std::to_string(r.run) + " is missing after the sweep");

    write_sweep_file(out, header, records,
                     {utc_now(), threads, mpi.size(), shard.text(), seconds_since(t0)});
    written = true;
    for (const auto& j : old_journals) {
      std::error_code ec;
      std::filesystem::remove(j, ec);
    }
    std::error_code ec;
    std::filesystem::remove(journal_path, ec);

    sum.output = out;
    sum.name = spec.name;
    sum.design = header.design;
    sum.points = header.points;
    sum.replicates = header.replicates;
    sum.ran = ran;
    sum.resumed = static_cast<std::int64_t>(loaded.size());
    sum.threads = threads;
    sum.ranks = mpi.size();
    sum.shard = shard.text();
    for (const auto& r : records)
      sum.runs += shard.holds(r.run);
    fill_summary_records(sum, header, records);
    sum.run_seconds = run_seconds;
    sum.seconds = seconds_since(t0);
    exit_code = sum.failed > 0 ? kExitRunsFailed : kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\nthe finished runs stay in " << out
              << ".journal.*: fix the problem and run again with --resume\n";
    exit_code = kExitFailure;
  }
  (void)mpi.broadcast(std::to_string(exit_code) + (written ? " 1" : " 0"));
  if (exit_code != kExitFailure) print_summary(sum, json);
  return exit_code;
}

} // namespace

int command_sweep(const SweepOptions& o) {
  if (mpi::launched_by_mpirun() && !mpi::available()) {
    std::cerr << "error: this csei was built without MPI; it cannot run under mpirun\n";
    return kExitFailure;
  }
  mpi::Session mpi;
  install_stop_handlers();
  try {
    return sweep_body(o, mpi);
  } catch (const Collective& c) {
    return c.code;
  } catch (const InputError& e) {
    print_problems(e);
    if (mpi.size() > 1) mpi.abort(kExitBadInput);
    return kExitBadInput;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    if (mpi.size() > 1) mpi.abort(kExitFailure);
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << (dynamic_cast<const OutputError*>(&e) ? "error: " : "internal error: ") << e.what()
              << '\n';
    if (mpi.size() > 1) mpi.abort(kExitFailure);
    return kExitFailure;
  }
}

int command_sweep_merge(const std::vector<std::string>& inputs, const std::string& output,
                        const std::string& format) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    std::vector<SweepFile> files;
    for (const auto& in : inputs)
      files.push_back(read_sweep_file(in));
    const SweepHeader& h = files.front().header;
    std::vector<RunRecord> records(static_cast<std::size_t>(h.runs));
    std::vector<int> from(records.size(), -1);
    for (std::size_t r = 0; r < records.size(); ++r)
      records[r].run = static_cast<std::int64_t>(r);
    for (std::size_t f = 0; f < files.size(); ++f) {
      if (files[f].header.fingerprint != h.fingerprint)
        throw InputError({inputs[f], 0, 0, "fingerprint"},
                         "belongs to a different sweep than " + inputs.front() +
                             " (sweep file, base scenario or csei version differ)");
      for (auto& r : files[f].records) {
        if (r.status == RunRecord::Status::pending) continue;
        auto& slot = records[static_cast<std::size_t>(r.run)];
        if (slot.status == RunRecord::Status::pending) {
          slot = std::move(r);
          from[static_cast<std::size_t>(slot.run)] = static_cast<int>(f);
        } else if (!(slot == r)) {
          throw InputError(
              {inputs[f], 0, 0, "runs"},
              "run " + std::to_string(r.run) + " differs from the same run in " +
                  inputs[static_cast<std::size_t>(from[static_cast<std::size_t>(r.run)])]);
        }
      }
    }
    std::vector<std::int64_t> missing;
    for (const auto& r : records)
      if (r.status == RunRecord::Status::pending) missing.push_back(r.run);
    if (!missing.empty()) {
      std::string list;
      for (std::size_t i = 0; i < missing.size() && i < 8; ++i)
        list += (i ? ", " : "") + std::to_string(missing[i]);
      throw InputError({"command line", 0, 0, ""},
                       std::to_string(missing.size()) + " of " + std::to_string(h.runs) +
                           " runs are in none of the files (runs " + list +
                           (missing.size() > 8 ? ", ..." : "") + "): is a shard missing?");
    }
    std::vector<files::Input> shards;
    for (const auto& in : inputs)
      shards.push_back({in, "a shard file to merge"});
    const auto target = files::check_output(output, shards);
    write_sweep_file(target, h, records,
                     {utc_now(), 0, static_cast<int>(files.size()), "", seconds_since(t0)});
    Summary sum;
    sum.output = output;
    sum.name = h.name;
    sum.design = h.design;
    sum.points = h.points;
    sum.replicates = h.replicates;
    sum.runs = h.runs;
    sum.merged = static_cast<int>(files.size());
    fill_summary_records(sum, h, records);
    sum.seconds = seconds_since(t0);
    print_summary(sum, format == "json" || (format == "auto" && !is_terminal(1)));
    return sum.failed > 0 ? kExitRunsFailed : kExitOk;
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitFailure;
  }
}

std::function<int()> add_sweep_commands(CLI::App& app) {
  auto sweep = std::make_shared<SweepOptions>();
  auto* cmd = app.add_subcommand(
      "sweep", "Run a sensitivity sweep: every point x replicate of a design (see "
               "docs/sweep-format.md); under mpirun the ranks share the runs");
  cmd->add_option("file", sweep->file, "Sweep file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", sweep->output,
                  "Result file (default: output/<sweep name>.h5, or ...-shard-K-of-N.h5)");
  cmd->add_option("--threads", sweep->threads,
                  "Worker threads per process (0: every core, shared among the MPI ranks of one "
                  "machine)")
      ->check(CLI::Range(0, 4096));
  cmd->add_flag("--resume", sweep->resume,
                "Continue an interrupted sweep from its journal, without redoing finished runs");
  cmd->add_option("--shard", sweep->shard,
                  "Run only slice K of N (runs r with r % N == K - 1); combine the slices with "
                  "sweep-merge");
  cmd->add_flag("--dry-run", sweep->dry_run,
                "Check the sweep and print its plan; with -o also write the design (no runs)");
  cmd->add_option("--format", sweep->format,
                  "Summary format (auto: table on a terminal, else json)")
      ->check(CLI::IsMember({"auto", "table", "json"}));
  cmd->add_flag("!--no-progress", sweep->progress, "Never show a progress bar");

  auto merge_inputs = std::make_shared<std::vector<std::string>>();
  auto merge_output = std::make_shared<std::string>();
  auto merge_format = std::make_shared<std::string>("auto");
  auto* merge = app.add_subcommand(
      "sweep-merge",
      "Combine the shard files of one sweep into one file (as if run on one machine)");
  merge->add_option("shards", *merge_inputs, "Shard files written by csei sweep --shard")
      ->required()
      ->check(CLI::ExistingFile);
  merge->add_option("-o,--output", *merge_output, "Merged result file")->required();
  merge
      ->add_option("--format", *merge_format,
                   "Summary format (auto: table on a terminal, else json)")
      ->check(CLI::IsMember({"auto", "table", "json"}));

  return [=]() -> int {
    if (*cmd) return command_sweep(*sweep);
    if (*merge) return command_sweep_merge(*merge_inputs, *merge_output, *merge_format);
    return -1;
  };
}

} // namespace csei

namespace csei {
namespace {

/// Completed runs of a sweep read from its output file or its journals: (ok, failed, where).
struct Progress {
  std::int64_t ok = 0, failed = 0;
  std::string where;
};

Progress count_runs(const std::vector<sweep::RunRecord>& records) {
  Progress p;
  for (const auto& r : records) {
    if (r.status == sweep::RunRecord::Status::ok) ++p.ok;
    if (r.status == sweep::RunRecord::Status::failed) ++p.failed;
  }
  return p;
}

} // namespace

bool is_sweep_file(const std::string& file) {
  try {
    // Only a regular file of bounded size is looked at: a FIFO or a device is reported by the
    // scenario reader, never read here.
    const toml::table t = toml::parse(files::read_text(file, {file, 0, 0, ""}, "file"), file);
    return t.get_as<std::string>("scenario") && (t.contains("parameters") || t.contains("design"));
  } catch (const std::exception&) {
    return false; // not TOML at all: the scenario reader reports it
  }
}

int command_validate_sweep(const std::string& file) {
  try {
    const sweep::SweepSpec spec = sweep::load_sweep(file);
    print_plan(spec, sweep::make_design(spec), Shard{});
    return kExitOk;
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  }
}

int command_info_sweep(const std::string& file) {
  try {
    // A sweep's output (HDF5, kind = "sweep") or the sweep file itself (TOML).
    if (H5Fis_hdf5(file.c_str()) > 0) {
      const SweepFile f = read_sweep_file(file);
      const SweepHeader& h = f.header;
      const Progress p = count_runs(f.records);
      std::printf("file:          %s (sweep results)\n", file.c_str());
      std::printf("sweep:         %s (%s)\n", h.name.c_str(), h.sweep_file.c_str());
      std::printf("base scenario: %s\n", h.scenario_file.c_str());
      std::printf("csei version:  %s\n", h.version.c_str());
      std::printf("design:        %s, %lld points x %lld replicates = %lld runs\n",
                  h.design.c_str(), static_cast<long long>(h.points),
                  static_cast<long long>(h.replicates), static_cast<long long>(h.runs));
      std::printf("completed:     %lld ok, %lld failed, %lld pending%s\n",
                  static_cast<long long>(p.ok), static_cast<long long>(p.failed),
                  static_cast<long long>(h.runs - p.ok - p.failed),
                  f.shard.empty() ? "" : (" (shard " + f.shard + ")").c_str());
      std::printf("%-32s %-8s %s\n", "parameter", "type", "values");
      for (std::size_t j = 0; j < h.keys.size(); ++j) {
        std::string values = h.levels_text[j];
        if (values.empty()) {
          std::ostringstream os;
          os << "[" << h.low[j] << ", " << h.high[j] << "] " << h.distributions[j];
          values = os.str();
        }
        std::printf("%-32s %-8s %s\n", h.keys[j].c_str(), h.types[j].c_str(), values.c_str());
      }
      std::string outs;
      for (const auto& o : h.outcomes)
        outs += (outs.empty() ? "" : ", ") + o;
      std::printf("outcomes (%zu): %s\n", h.outcomes.size(), outs.c_str());
      return kExitOk;
    }
    const sweep::SweepSpec spec = sweep::load_sweep(file);
    const sweep::Design design = sweep::make_design(spec);
    print_plan(spec, design, Shard{});
    // Completed runs: the default output file if it is this sweep's, else its journals.
    const std::filesystem::path out = "output/" + spec.name + ".h5";
    const std::string fingerprint = make_sweep_header(spec, design).fingerprint;
    Progress p;
    if (std::filesystem::exists(out)) {
      const SweepFile f = read_sweep_file(out);
      if (f.header.fingerprint == fingerprint) {
        p = count_runs(f.records);
        p.where = out.string();
      }
    }
    if (p.where.empty()) {
      std::set<std::int64_t> seen;
      for (const auto& j : sweep::find_journals(out)) {
        const auto contents = sweep::read_journal(j);
        if (contents.fingerprint != fingerprint) continue;
        for (const auto& r : contents.records)
          if (seen.insert(r.run).second) {
            p.ok += r.status == sweep::RunRecord::Status::ok;
            p.failed += r.status == sweep::RunRecord::Status::failed;
          }
        p.where = out.string() + ".journal.* (unfinished)";
      }
    }
    if (p.where.empty())
      std::printf("completed: none (no %s of this sweep)\n", out.string().c_str());
    else
      std::printf("completed: %lld ok, %lld failed of %lld runs (%s)\n",
                  static_cast<long long>(p.ok), static_cast<long long>(p.failed),
                  static_cast<long long>(spec.runs()), p.where.c_str());
    return kExitOk;
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  } catch (const OutputError& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitBadInput;
  }
}

} // namespace csei
