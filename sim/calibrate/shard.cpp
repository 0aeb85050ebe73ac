// Calibration shard files.
#include "calibrate/shard.hpp"

#include "core/error.hpp"
#include "core/files.hpp"
#include "sweep/journal.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace csei::calibrate {
namespace {

constexpr const char* kMagic = "csei calibration shard 1";

std::string hex(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

} // namespace

std::string Round::describe(std::int64_t batch) const {
  if (predictive) return "the predictive runs (" + std::to_string(runs) + " runs)";
  const std::int64_t last = from + batches * batch - 1;
  return "generation " + std::to_string(generation) + ", proposals " + std::to_string(from) + "-" +
         std::to_string(last) + " (" + std::to_string(batches) + " batch" +
         (batches == 1 ? "" : "es") + ", " + std::to_string(runs) + " runs)";
}

std::filesystem::path shard_path(const std::filesystem::path& output, std::int64_t k,
                                 std::int64_t n) {
  std::filesystem::path p = output;
  p += ".shard-" + std::to_string(k) + "-of-" + std::to_string(n);
  return p;
}

std::vector<std::filesystem::path> find_shard_files(const std::filesystem::path& output) {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir =
      output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
  const std::string prefix = output.filename().string() + ".shard-";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto of = rest.find("-of-");
    if (of == std::string::npos || of == 0 || of + 4 >= rest.size() ||
        rest.find_first_not_of("0123456789") != of ||
        rest.find_first_not_of("0123456789", of + 4) != std::string::npos)
      continue;
    out.push_back(output.has_parent_path() ? output.parent_path() / name
                                           : std::filesystem::path(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_shard_file(const std::filesystem::path& path, const ShardFile& s) {
  std::ostringstream os;
  os << kMagic << '\n'
     << "fingerprint " << s.fingerprint << '\n'
     << "shard " << s.k << ' ' << s.n << '\n'
     << "round " << (s.round.predictive ? "predictive" : "generation") << ' ' << s.round.generation
     << ' ' << s.round.from << ' ' << s.round.batches << ' ' << s.round.runs << '\n'
     << "seconds " << hex(s.seconds) << '\n'
     << "records " << s.records.size() << '\n';
  std::string bytes = os.str();
  for (const auto& r : s.records)
    sweep::append_frame(bytes, r);
  const std::filesystem::path temp = files::begin_partial(path);
  files::write_partial(temp, path, "shard file", [&] {
    std::ofstream f(temp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) throw OutputError("cannot write");
  });
}

ShardFile read_shard_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  const SourceLocation where{name, 0, 0, ""};
  const std::string bytes =
      files::read_text(path, where, "calibration shard file", std::size_t{1} << 32);
  const auto damaged = [&](const std::string& why) {
    throw InputError(where,
                     "not a whole calibration shard file (" + why + "): run its shard again");
  };
  std::size_t pos = 0;
  const auto line = [&]() {
    const auto end = bytes.find('\n', pos);
    if (end == std::string::npos || end - pos > 4096) damaged("truncated header");
    std::string l = bytes.substr(pos, end - pos);
    pos = end + 1;
    return l;
  };
  if (line() != kMagic)
    throw InputError(where, "is not a calibration shard file (csei calibrate --shard writes them)");
  ShardFile s;
  std::string word, phase, rest;
  std::size_t count = 0;
  {
    std::istringstream in(line());
    if (!(in >> word >> s.fingerprint) || word != "fingerprint") damaged("no fingerprint");
  }
  {
    std::istringstream in(line());
    if (!(in >> word >> s.k >> s.n) || word != "shard" || s.n < 1 || s.k < 1 || s.k > s.n)
      damaged("no shard K N");
  }
  {
    std::istringstream in(line());
    Round& r = s.round;
    if (!(in >> word >> phase >> r.generation >> r.from >> r.batches >> r.runs) ||
        word != "round" || (phase != "generation" && phase != "predictive") || r.generation < 0 ||
        r.from < 0 || r.batches < 1 || r.runs < 1)
      damaged("no round");
    r.predictive = phase == "predictive";
  }
  {
    std::istringstream in(line());
    std::string v;
    if (!(in >> word >> v) || word != "seconds") damaged("no seconds");
    char* end = nullptr;
    s.seconds = std::strtod(v.c_str(), &end);
    if (end != v.c_str() + v.size()) damaged("bad seconds");
  }
  {
    std::istringstream in(line());
    if (!(in >> word >> count) || word != "records") damaged("no record count");
  }
  std::size_t good = 0;
  s.records = sweep::decode_frames(std::string_view(bytes).substr(pos), &good);
  if (s.records.size() != count || pos + good != bytes.size())
    damaged("holds " + std::to_string(s.records.size()) + " whole records of " +
            std::to_string(count));
  // The runs of shard K: q = K - 1, K - 1 + N, ... below the round's runs, each once, in order.
  std::int64_t expect = s.k - 1;
  for (const auto& r : s.records) {
    if (r.run != expect || r.run >= s.round.runs || r.status == sweep::RunRecord::Status::pending)
      damaged("run " + std::to_string(r.run) + " where run " + std::to_string(expect) +
              " of shard " + std::to_string(s.k) + "/" + std::to_string(s.n) + " belongs");
    expect += s.n;
  }
  if (expect < s.round.runs) damaged("run " + std::to_string(expect) + " is missing");
  return s;
}

} // namespace csei::calibrate
