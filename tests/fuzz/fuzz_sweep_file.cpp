// Fuzz target: `csei info` on a sweep file (sim/cli), the reader of what csei wrote. The input
// is a list of edits to a valid sweep file (h5_edit.hpp). Findings: a crash, an exception escaping,
// "internal error", an exit code other than 0 (read) or 2 (refused as bad input).
#include "cli/commands.hpp"
#include "fuzz.hpp"
#include "h5_edit.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  csei::fuzz::quiet_stdout();
  (void)csei::fuzz::sweep_file_editor();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = csei::fuzz::work_dir() / "input.h5";
  csei::fuzz::sweep_file_editor().apply(path, csei::fuzz::Bytes(data, size));
  const int rc = csei::fuzz::run_command([&] { return csei::command_info(path.string()); });
  if (rc != 0 && rc != 2) csei::fuzz::finding("csei info: exit " + std::to_string(rc));
  return 0;
}
