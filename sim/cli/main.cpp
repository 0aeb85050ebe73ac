// The csei command-line program: parses arguments and dispatches to the subcommands.
#include "cli/calibrate_command.hpp"
#include "cli/commands.hpp"
#include "cli/sweep_command.hpp"
#include "output/run_writer.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  using namespace csei;
  CLI::App app{"csei: diffusion of social and ecological innovations through clusters (CSEI)"};
  app.set_version_flag("--version", std::string("csei ") + CSEI_VERSION);
  app.require_subcommand(1);

  RunOptions run;
  std::uint64_t seed = 0;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario and write its time series to HDF5");
  auto* scenario_opt = run_cmd->add_option("scenario", run.scenario, "Scenario file (TOML)")
                           ->check(CLI::ExistingFile);
  run_cmd
      ->add_option("--from", run.from,
                   "Rerun the run stored in this run file (its scenario and embedded inputs)")
      ->check(CLI::ExistingFile)
      ->excludes(scenario_opt);
  run_cmd->add_option("-o,--output", run.output,
                      "Output file (default: output/<scenario name>.h5)");
  auto* seed_opt = run_cmd->add_option("--seed", seed, "Random seed (overrides the scenario's)");
  std::int64_t replicates = 1;
  auto* replicates_opt =
      run_cmd
          ->add_option("--replicates", replicates,
                       "Runs of seeds derived from the base seed, in one file (default 1; "
                       "with --from, the file's)")
          ->check(CLI::Range(std::int64_t{1}, kMaxReplicates));
  run_cmd->add_option("--threads", run.threads, "Worker threads (0: every core)")
      ->check(CLI::Range(0, 4096));
  run_cmd->add_option("--set", run.overrides, "Override a scenario value: key.path=value")
      ->allow_extra_args(false);
  run_cmd
      ->add_option("--format", run.format, "Summary format (auto: table on a terminal, else json)")
      ->check(CLI::IsMember({"auto", "table", "json"}));
  run_cmd->add_flag("!--no-progress", run.progress, "Never show a progress bar");

  std::string validate_file;
  std::vector<std::string> validate_overrides;
  auto* validate_cmd =
      app.add_subcommand("validate", "Check a scenario or a sweep file without running it");
  validate_cmd->add_option("scenario", validate_file, "Scenario file (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  validate_cmd->add_option("--set", validate_overrides, "Override a scenario value: key.path=value")
      ->allow_extra_args(false);

  std::string info_file;
  auto* info_cmd = app.add_subcommand("info", "Summarise a run file, a sweep file or its results");
  info_cmd->add_option("file", info_file, "Run file (HDF5)")->required()->check(CLI::ExistingFile);

  std::string export_file, export_dir, export_format = "csv";
  auto* export_cmd = app.add_subcommand(
      "export", "Write a run file as tidy tables: <run>_series.csv (one row per value) and "
                "<run>_summary.csv");
  export_cmd->add_option("file", export_file, "Run file (HDF5)")
      ->required()
      ->check(CLI::ExistingFile);
  export_cmd->add_option("--format", export_format, "Table format")->check(CLI::IsMember({"csv"}));
  export_cmd->add_option("-o,--output", export_dir,
                         "Folder to write into (default: the run file's folder)");

  std::string schema_table = "all";
  auto* schema_cmd = app.add_subcommand(
      "schema", "Print output/SCHEMA.md's series and summary tables from their declarations");
  schema_cmd->group(""); // hidden: for maintaining the documentation
  schema_cmd->add_option("table", schema_table, "Which table: series, summary, policy or all")
      ->check(CLI::IsMember({"series", "summary", "all"}));

  const auto run_sweep_command = add_sweep_commands(app);
  const auto run_calibrate_command = add_calibrate_command(app);
  WorkshopOptions workshop;
  auto* workshop_cmd =
      app.add_subcommand("workshop", "Serve the workshop page on 127.0.0.1 (teaching scenarios)");
  workshop_cmd->add_option("--port", workshop.port, "Port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  workshop_cmd->add_option("--web-dir", workshop.web_dir, "The page's folder (default: web/)")
      ->check(CLI::ExistingDirectory);
  workshop_cmd
      ->add_option("--scenarios", workshop.scenario_dir,
                   "Teaching scenarios' folder (default: scenarios/teaching/)")
      ->check(CLI::ExistingDirectory);
  workshop_cmd->add_option("--workers", workshop.workers, "Runs at once (0: every core)")
      ->check(CLI::Range(0, 256));
  workshop_cmd->add_option("--queue", workshop.max_queued, "Runs that may wait; more get a 503")
      ->check(CLI::Range(1, 10000));
  workshop_cmd->add_option("--max-run-seconds", workshop.run_seconds, "Wall time one run may take")
      ->check(CLI::Range(0.001, 600.0));
  workshop_cmd->add_flag("--open", workshop.open, "Open the page in the desktop's browser");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitBadInput;
  }

  if (*run_cmd) {
    if (run.scenario.empty() && run.from.empty()) {
      std::cerr << "run: give a scenario file or --from RUN.h5\n";
      return kExitBadInput;
    }
    if (*seed_opt) run.seed = seed;
    if (*replicates_opt) run.replicates = replicates;
    install_stop_handlers();
    return command_run(run);
  }
  if (const int code = run_sweep_command(); code >= 0) return code;
  if (const int code = run_calibrate_command(); code >= 0) return code;
  if (*workshop_cmd) return command_workshop(workshop);
  if (*validate_cmd) return command_validate(validate_file, validate_overrides);
  if (*schema_cmd) return command_schema(schema_table);
  if (*export_cmd) return command_export(export_file, export_dir);
  return command_info(info_file);
}
