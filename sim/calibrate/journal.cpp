// Calibration journals.
#include "calibrate/journal.hpp"

#include "core/files.hpp"
#include "core/fingerprint.hpp"
#include "core/rng.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace csei::calibrate {
namespace {

constexpr const char* kMagic = "csei calibration journal 1";

std::string hex(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

} // namespace

std::string fingerprint(const CalibrationSpec& spec) {
  Fingerprint fp;
  const auto feed = [&fp](std::string_view s) { fp.feed(s); };

  feed(CSEI_VERSION);
  feed(spec.source);
  feed(spec.scenario_text);
  for (const auto& t : spec.targets)
    for (const auto& o : t.observed)
      feed(std::to_string(o.year) + ":" + hex(o.value));
  return fp.hex();
}

std::filesystem::path journal_path(const std::filesystem::path& output) {
  std::filesystem::path p = output;
  p += ".journal";
  return p;
}

void write_journal(const std::filesystem::path& path, const CalibrationSpec& spec,
                   const Result& r) {
  std::ostringstream os;
  os << kMagic << '\n' << "fingerprint " << fingerprint(spec) << '\n';
  os << "counters " << r.evaluations << ' ' << r.failed << ' ' << hex(r.run_seconds) << '\n';
  std::string failure = r.first_failure;
  for (char& c : failure)
    if (c == '\n' || c == '\r') c = ' ';
  os << "first_failure " << failure << '\n';
  const std::size_t P = spec.parameters.size(), K = spec.targets.size();
  for (const auto& g : r.generations) {
    const std::size_t N = g.weights.size();
    os << "generation " << N << ' ' << hex(g.tolerance) << ' ' << g.proposals << ' '
       << g.evaluations << ' ' << hex(g.acceptance_rate) << ' ' << hex(g.seconds) << '\n';
    for (std::size_t i = 0; i < N; ++i) {
      for (std::size_t a = 0; a < P; ++a)
        os << hex(g.z[i * P + a]) << ' ' << hex(g.particles[i * P + a]) << ' ';
      os << hex(g.weights[i]) << ' ' << hex(g.distances[i]);
      for (std::size_t k = 0; k < K; ++k)
        os << ' ' << hex(g.target_distances[i * K + k]);
      os << '\n';
    }
  }
  os << "end\n";
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  std::filesystem::path temp = path;
  temp += ".partial";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f << os.str();
    f.flush();
    if (!f) throw OutputError(temp.string() + ": cannot write the calibration journal");
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec)
    throw OutputError(path.string() + ": cannot write the calibration journal: " + ec.message());
}

Result read_journal(const std::filesystem::path& path, const CalibrationSpec& spec) {
  const std::string name = path.string();
  const SourceLocation where{name, 0, 0, ""};
  const std::string text =
      files::read_text(path, where, "calibration journal", std::size_t{1} << 30);
  std::istringstream in(text);
  const auto damaged = [&](const std::string& why) {
    throw InputError(where, "damaged calibration journal (" + why +
                                "): delete it to start the calibration again");
  };
  std::string line, word;
  if (!std::getline(in, line) || line != kMagic) damaged("not a calibration journal");
  std::string fp;
  if (!(in >> word >> fp) || word != "fingerprint") damaged("no fingerprint");
  if (fp != fingerprint(spec))
    throw InputError(where, "the journal belongs to a different calibration (the calibration "
                            "file, its base scenario, its observed data or the csei version "
                            "changed since): delete it to start again");
  const auto real = [&]() {
    std::string s;
    if (!(in >> s)) damaged("truncated");
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) damaged("bad number '" + s + "'");
    return v;
  };
  Result r;
  if (!(in >> word >> r.evaluations >> r.failed) || word != "counters") damaged("no counters");
  r.run_seconds = real();
  if (!(in >> word) || word != "first_failure") damaged("no first_failure");
  std::getline(in, line);
  r.first_failure = line.empty() ? "" : line.substr(1);
  const std::size_t P = spec.parameters.size(), K = spec.targets.size();
  const auto N = static_cast<std::size_t>(spec.method.particles);
  bool ended = false;
  while (in >> word) {
    if (word == "end") {
      ended = true;
      break;
    }
    std::size_t n = 0;
    if (word != "generation" || !(in >> n) || n != N) damaged("bad generation header");
    Generation g;
    g.tolerance = real();
    if (!(in >> g.proposals >> g.evaluations)) damaged("bad generation header");
    g.acceptance_rate = real();
    g.seconds = real();
    g.z.resize(N * P);
    g.particles.resize(N * P);
    g.weights.resize(N);
    g.distances.resize(N);
    g.target_distances.resize(N * K);
    for (std::size_t i = 0; i < N; ++i) {
      for (std::size_t a = 0; a < P; ++a) {
        g.z[i * P + a] = real();
        g.particles[i * P + a] = real();
      }
      g.weights[i] = real();
      g.distances[i] = real();
      for (std::size_t k = 0; k < K; ++k)
        g.target_distances[i * K + k] = real();
    }
    r.generations.push_back(std::move(g));
  }
  if (!ended) damaged("truncated");
  return r;
}

} // namespace csei::calibrate
