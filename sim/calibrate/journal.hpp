// The journal of a running calibration (<output>.journal): every complete generation, the run
// counters, the stop reason once the generations are over and, between the rounds of a sharded
// calibration, the generation in progress; rewritten after each generation or round (under a
// temporary name, then renamed), so that `csei calibrate --resume` continues a killed
// calibration, and the next round of shards starts, from the state it holds, to the same result
// file. Values are written as hexadecimal floats (exact).
#pragma once

#include "calibrate/abc.hpp"
#include "calibrate/spec.hpp"

#include <filesystem>
#include <string>

namespace csei::calibrate {

/// Hex digest of everything that determines the result: the calibration text, the base
/// scenario's text, the observed points, the csei version.
[[nodiscard]] std::string fingerprint(const CalibrationSpec& spec);

[[nodiscard]] std::filesystem::path journal_path(const std::filesystem::path& output);

void write_journal(const std::filesystem::path& path, const CalibrationSpec& spec,
                   const Result& result);

/// The journal's text (as write_journal writes it).
[[nodiscard]] std::string journal_text(const CalibrationSpec& spec, const Result& result);

/// Reads a journal; throws InputError (naming the file) if it is unreadable, damaged or belongs
/// to a different calibration.
[[nodiscard]] Result read_journal(const std::filesystem::path& path, const CalibrationSpec& spec);
/// The same from the journal's text; `name` names it in errors.
[[nodiscard]] Result parse_journal(const std::string& text, const std::string& name,
                                   const CalibrationSpec& spec);

} // namespace csei::calibrate
