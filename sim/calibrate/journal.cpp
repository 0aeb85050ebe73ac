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

constexpr const char* kMagic = "csei calibration journal 2";
constexpr const char* kMagic1 = "csei calibration journal 1"; // no stop line, no pending part

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

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

std::string journal_text(const CalibrationSpec& spec, const Result& r) {
  std::ostringstream os;
  os << kMagic << '\n' << "fingerprint " << fingerprint(spec) << '\n';
  os << "counters " << r.evaluations << ' ' << r.failed << ' ' << hex(r.run_seconds) << '\n';
  os << "first_failure " << one_line(r.first_failure) << '\n';
  os << "stop " << one_line(r.stop_reason) << '\n';
  const std::size_t P = spec.parameters.size(), K = spec.targets.size();
  const auto rows = [&](std::size_t n, const std::vector<double>& z, const std::vector<double>& x,
                        const std::vector<double>* w, const std::vector<double>& d,
                        const std::vector<double>& dk) {
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t a = 0; a < P; ++a)
        os << hex(z[i * P + a]) << ' ' << hex(x[i * P + a]) << ' ';
      if (w) os << hex((*w)[i]) << ' ';
      os << hex(d[i]);
      for (std::size_t k = 0; k < K; ++k)
        os << ' ' << hex(dk[i * K + k]);
      os << '\n';
    }
  };
  for (const auto& g : r.generations) {
    const std::size_t N = g.weights.size();
    os << "generation " << N << ' ' << hex(g.tolerance) << ' ' << g.proposals << ' '
       << g.evaluations << ' ' << hex(g.acceptance_rate) << ' ' << hex(g.seconds) << '\n';
    rows(N, g.z, g.particles, &g.weights, g.distances, g.target_distances);
  }
  const Pending& p = r.pending;
  if (p.drawn > 0) {
    const std::size_t n = p.distances.size();
    os << "pending " << n << ' ' << p.drawn << ' ' << p.used << ' ' << p.evaluations << ' '
       << hex(p.seconds) << '\n';
    rows(n, p.z, p.particles, nullptr, p.distances, p.target_distances);
  }
  os << "end\n";
  return os.str();
}

void write_journal(const std::filesystem::path& path, const CalibrationSpec& spec,
                   const Result& r) {
  const std::string text = journal_text(spec, r);
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  std::filesystem::path temp = path;
  temp += ".partial";
  {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f << text;
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
  return parse_journal(
      files::read_text(path, {name, 0, 0, ""}, "calibration journal", std::size_t{1} << 30), name,
      spec);
}

Result parse_journal(const std::string& text, const std::string& name,
                     const CalibrationSpec& spec) {
  const SourceLocation where{name, 0, 0, ""};
  std::istringstream in(text);
  const auto damaged = [&](const std::string& why) {
    throw InputError(where, "damaged calibration journal (" + why +
                                "): delete it to start the calibration again");
  };
  std::string line, word;
  if (!std::getline(in, line) || (line != kMagic && line != kMagic1))
    damaged("not a calibration journal");
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
  const auto rest_of_line = [&]() {
    std::getline(in, line);
    return line.empty() ? std::string() : line.substr(1);
  };
  Result r;
  if (!(in >> word >> r.evaluations >> r.failed) || word != "counters" || r.evaluations < 0 ||
      r.failed < 0)
    damaged("no counters");
  r.run_seconds = real();
  if (!(in >> word) || word != "first_failure") damaged("no first_failure");
  r.first_failure = rest_of_line();
  const std::size_t P = spec.parameters.size(), K = spec.targets.size();
  const auto N = static_cast<std::size_t>(spec.method.particles);
  const auto rows = [&](std::size_t n, std::vector<double>& z, std::vector<double>& x,
                        std::vector<double>* w, std::vector<double>& d, std::vector<double>& dk) {
    z.resize(n * P);
    x.resize(n * P);
    if (w) w->resize(n);
    d.resize(n);
    dk.resize(n * K);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t a = 0; a < P; ++a) {
        z[i * P + a] = real();
        x[i * P + a] = real();
      }
      if (w) (*w)[i] = real();
      d[i] = real();
      for (std::size_t k = 0; k < K; ++k)
        dk[i * K + k] = real();
    }
  };
  bool ended = false, pending = false;
  while (in >> word) {
    if (word == "end") {
      ended = true;
      break;
    }
    if (word == "stop") {
      r.stop_reason = rest_of_line();
      continue;
    }
    if (word == "pending") {
      std::size_t n = 0;
      Pending& p = r.pending;
      if (pending || !r.stop_reason.empty() || !(in >> n >> p.drawn >> p.used >> p.evaluations) ||
          n >= N || p.drawn <= 0 || p.drawn > spec.method.max_proposals || p.used < 0 ||
          p.used > p.drawn || p.evaluations < 0 || (n == 0) != (p.used == 0) ||
          static_cast<std::int64_t>(n) > p.used)
        damaged("bad pending generation");
      p.seconds = real();
      rows(n, p.z, p.particles, nullptr, p.distances, p.target_distances);
      pending = true;
      continue;
    }
    std::size_t n = 0;
    if (pending || word != "generation" || !(in >> n) || n != N) damaged("bad generation header");
    Generation g;
    g.tolerance = real();
    if (!(in >> g.proposals >> g.evaluations)) damaged("bad generation header");
    g.acceptance_rate = real();
    g.seconds = real();
    rows(N, g.z, g.particles, &g.weights, g.distances, g.target_distances);
    r.generations.push_back(std::move(g));
  }
  if (!ended) damaged("truncated");
  if (r.generations.empty() && !r.stop_reason.empty()) damaged("stopped before generation 0");
  if (pending && !r.stop_reason.empty()) damaged("a generation in progress after the stop");
  if (static_cast<std::int64_t>(r.generations.size()) > spec.method.generations)
    damaged("more generations than method.generations");
  return r;
}

} // namespace csei::calibrate
