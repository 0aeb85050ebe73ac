// The journal of a running calibration (<output>.journal): every complete generation and the
// run counters, rewritten after each generation (under a temporary name, then renamed), so that
// `csei calibrate --resume` continues a killed calibration after its last complete generation,
// to the same result file. Values are written as hexadecimal floats (exact).
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

/// Reads a journal; throws InputError (naming the file) if it is unreadable, damaged or belongs
/// to a different calibration.
[[nodiscard]] Result read_journal(const std::filesystem::path& path, const CalibrationSpec& spec);

} // namespace csei::calibrate
