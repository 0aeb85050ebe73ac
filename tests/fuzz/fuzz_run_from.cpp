// Fuzz target: `csei run --from RUN.h5` (sim/cli), the rerun of a run from the scenario and input
// tables embedded in its file. The input is a list of edits to a valid run file (h5_edit.hpp).
// Findings: a crash, an exception escaping, "internal error", an exit code other than 0 (rerun)
// or 2 (refused as bad input), or a rerun whose output `csei info` cannot read.
#include "cli/commands.hpp"
#include "fuzz.hpp"
#include "h5_edit.hpp"

#include <filesystem>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  csei::fuzz::quiet_stdout();
  (void)csei::fuzz::run_file_editor();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = csei::fuzz::work_dir() / "input.h5";
  const auto out = csei::fuzz::work_dir() / "rerun.h5";
  std::filesystem::remove(out);
  csei::fuzz::run_file_editor().apply(path, csei::fuzz::Bytes(data, size));
  csei::RunOptions o;
  o.from = path.string();
  o.output = out.string();
  o.threads = 1;
  o.progress = false;
  o.format = "table";
  const int rc = csei::fuzz::run_command([&] { return csei::command_run(o); });
  if (rc != 0 && rc != 2) csei::fuzz::finding("csei run --from: exit " + std::to_string(rc));
  if (rc == 0) {
    if (!std::filesystem::exists(out)) csei::fuzz::finding("csei run --from: exit 0, no output");
    const int info = csei::fuzz::run_command([&] { return csei::command_info(out.string()); });
    if (info != 0) csei::fuzz::finding("csei info on the rerun: exit " + std::to_string(info));
  } else if (std::filesystem::exists(out)) {
    csei::fuzz::finding("csei run --from: refused, yet an output file was left");
  }
  return 0;
}
