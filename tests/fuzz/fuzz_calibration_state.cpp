// Fuzz target: the calibration journal's parser (parse_journal, against the Bass recovery
// calibration of tests/calibrate/data) and the calibration shard file reader (read_shard_file).
// An input whose first byte is even is a journal's text, odd a shard file (the rest of the
// input). Either is an input error when it is not whole. Anything else escaping is a finding, and
// so is a read that breaks the readers' own promises: a journal's generations of N particles and
// a generation in progress of fewer, the same text when written again and read back; a shard's
// records exactly its own runs of its round, in order.
#include "calibrate/journal.hpp"
#include "calibrate/shard.hpp"
#include "calibrate/spec.hpp"
#include "core/error.hpp"
#include "fuzz.hpp"

#include <memory>
#include <string>

namespace {

std::unique_ptr<csei::calibrate::CalibrationSpec> spec;

void check_journal(const std::string& text) {
  using namespace csei::calibrate;
  Result r;
  try {
    r = parse_journal(text, "fuzz.journal", *spec);
  } catch (const csei::InputError&) {
    return;
  }
  const auto N = static_cast<std::size_t>(spec->method.particles);
  const std::size_t P = spec->parameters.size(), K = spec->targets.size();
  for (const auto& g : r.generations)
    if (g.weights.size() != N || g.particles.size() != N * P || g.z.size() != N * P ||
        g.distances.size() != N || g.target_distances.size() != N * K)
      csei::fuzz::finding("parse_journal: a generation of the wrong size");
  const Pending& p = r.pending;
  if (p.distances.size() >= N || p.particles.size() != p.distances.size() * P ||
      p.target_distances.size() != p.distances.size() * K || p.used > p.drawn)
    csei::fuzz::finding("parse_journal: a generation in progress of the wrong size");
  const std::string again = journal_text(*spec, r);
  try {
    if (journal_text(*spec, parse_journal(again, "again", *spec)) != again)
      csei::fuzz::finding("parse_journal: a journal written again reads differently");
  } catch (const csei::InputError& e) {
    csei::fuzz::finding(std::string("parse_journal refuses what journal_text wrote: ") + e.what());
  }
}

void check_shard(const std::string& bytes) {
  using namespace csei::calibrate;
  const auto path = csei::fuzz::work_dir() / "fuzz.shard";
  csei::fuzz::write_file(path, bytes);
  ShardFile s;
  try {
    s = read_shard_file(path);
  } catch (const csei::InputError&) {
    return;
  }
  std::int64_t expect = s.k - 1;
  for (const auto& r : s.records) {
    if (r.run != expect || r.run >= s.round.runs)
      csei::fuzz::finding("read_shard_file: a record that is not the shard's next run");
    expect += s.n;
  }
  if (expect < s.round.runs) csei::fuzz::finding("read_shard_file: a run missing");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spec = std::make_unique<csei::calibrate::CalibrationSpec>(csei::calibrate::load_calibration(
      std::string(CSEI_SOURCE_DIR) + "/tests/calibrate/data/bass_recovery.toml"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0)
      check_journal(rest);
    else
      check_shard(rest);
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("a calibration state reader threw ") + e.what());
  }
  return 0;
}
