// csei calibrate.
#include "cli/calibrate_command.hpp"

#include "calibrate/abc.hpp"
#include "calibrate/journal.hpp"
#include "calibrate/spec.hpp"
#include "calibrate/writer.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
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

int calibrate_body(const CalibrateOptions& o) {
  const bool json = o.format == "json" || (o.format == "auto" && !is_terminal(1));
  calibrate::CalibrationSpec spec;
  std::string out;
  try {
    spec = calibrate::load_calibration(o.file);
    std::vector<files::Input> inputs{{spec.file, "the calibration file"}};
    for (const auto& [path, role] : spec.base.input_files)
      inputs.push_back({path, role});
    for (const auto& t : spec.targets)
      inputs.push_back({t.file, "an observed series file"});
    out = files::check_output(o.output.empty() ? "output/" + spec.name + ".h5" : o.output, inputs)
              .string();
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  }
  if (o.dry_run) {
    print_plan(spec);
    return kExitOk;
  }
  // An unfinished calibration left a journal: continue it with --resume, never overwrite it.
  const std::filesystem::path journal = calibrate::journal_path(out);
  std::unique_ptr<calibrate::Result> resumed;
  try {
    std::error_code ec;
    if (std::filesystem::exists(journal, ec)) {
      if (!o.resume) {
        std::cerr << "error: " << out << ": an unfinished calibration left its journal ("
                  << journal.string()
                  << "): add --resume to continue it, or delete it to start again\n";
        return kExitBadInput;
      }
      resumed = std::make_unique<calibrate::Result>(calibrate::read_journal(journal, spec));
    }
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  }
  const int threads = o.threads > 0 ? o.threads : std::max(1, tbb::info::default_concurrency());
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  const bool show = o.progress && is_terminal(2);
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
  calibrate::Result res;
  try {
    res = calibrate::run_abc_smc(
        spec, threads, progress, stop_requested, resumed.get(),
        [&](const calibrate::Result& r) { calibrate::write_journal(journal, spec, r); });
  } catch (const Interrupted&) {
    if (show) std::fprintf(stderr, "\r\033[K");
    std::error_code ec;
    std::cerr << "interrupted: no calibration file written"
              << (std::filesystem::exists(journal, ec)
                      ? "; the complete generations are in " + journal.string() +
                            ": continue with --resume"
                      : std::string())
              << '\n';
    return kExitInterrupted;
  }
  if (show) std::fprintf(stderr, "\r\033[K");
  calibrate::write_calibration_file(out, spec, res, {utc_now(), threads});
  {
    std::error_code ec;
    std::filesystem::remove(journal, ec);
  }
  if (resumed && !json)
    std::printf("resumed: %zu generations from %s\n", resumed->generations.size(),
                journal.string().c_str());

  const double rate =
      res.run_seconds > 0 ? static_cast<double>(res.evaluations) / res.run_seconds : 0.0;
  if (json) {
    std::cout.precision(17);
    std::cout << "{\"output\": " << quote_text(out)
              << ", \"calibration\": " << quote_text(spec.name)
              << ", \"generations\": " << res.generations.size()
              << ", \"stop_reason\": " << quote_text(res.stop_reason)
              << ", \"evaluations\": " << res.evaluations << ", \"failed\": " << res.failed
              << ", \"threads\": " << threads << ", \"seconds\": " << res.seconds
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
    std::printf("speed:  %lld runs in %.2f s, %.2f runs/s on %d thread%s\n",
                static_cast<long long>(res.evaluations), res.run_seconds, rate, threads,
                threads == 1 ? "" : "s");
    std::printf("output: %s (%.2f s in all)\n", out.c_str(), res.seconds);
  }
  if (res.failed > 0)
    std::cerr << "warning: " << res.failed
              << " runs failed (their particles were never accepted); the first: "
              << res.first_failure << '\n';
  return kExitOk;
}

} // namespace

int command_calibrate(const CalibrateOptions& o) {
  try {
    return calibrate_body(o);
  } catch (const InputError& e) {
    print_problems(e);
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << (dynamic_cast<const OutputError*>(&e) ? "error: " : "error: calibration failed: ")
              << e.what() << '\n';
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
                   "docs/calibration-format.md)");
  cmd->add_option("file", o->file, "Calibration file (TOML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Result file (default: output/<calibration name>.h5)");
  cmd->add_option("--threads", o->threads, "Worker threads (0: every core)")
      ->check(CLI::Range(0, 4096));
  cmd->add_flag("--resume", o->resume,
                "Continue an interrupted calibration from its journal (<output>.journal) after "
                "its last complete generation, to the same result");
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
