// Journal frames: encoding, appending and reading back.
#include "sweep/journal.hpp"

#include "core/error.hpp"
#include "core/rng.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace csei::sweep {
namespace {

constexpr char kMagic[4] = {'C', 'S', 'J', '1'};
constexpr std::uint32_t kHeader = 1, kRun = 2;
constexpr std::size_t kFrameOverhead = 4 + 4 + 8 + 8;

std::uint64_t checksum(std::string_view s) {
  std::uint64_t h = 0x9AE16A3B2F90404FULL ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w) + 0x9E3779B97F4A7C15ULL;
  }
  std::uint64_t tail = 0;
  if (s.size() > i) std::memcpy(&tail, s.data() + i, s.size() - i);
  return mix64(h ^ tail ^ (s.size() - i));
}

template <class T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<std::uint64_t>(out, s.size());
  out.append(s);
}

/// Bounds-checked reader over a payload.
class Cursor {
public:
  explicit Cursor(std::string_view s) : s_(s) {}
  template <class T>
  bool get(T& v) {
    if (s_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool get_string(std::string& v) {
    std::uint64_t n = 0;
    if (!get(n) || s_.size() - pos_ < n) return false;
    v.assign(s_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <class T>
  bool get_vector(std::vector<T>& v) {
    std::uint64_t n = 0;
    if (!get(n) || (s_.size() - pos_) / sizeof(T) < n) return false;
    v.resize(n);
    if (n) std::memcpy(v.data(), s_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return true;
  }
  [[nodiscard]] bool done() const { return pos_ == s_.size(); }

private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

void frame(std::string& out, std::uint32_t type, std::string_view payload) {
  out.append(kMagic, 4);
  put<std::uint32_t>(out, type);
  put<std::uint64_t>(out, payload.size());
  out.append(payload);
  put<std::uint64_t>(out, checksum(payload));
}

std::string encode(const RunRecord& r) {
  std::string p;
  put<std::int64_t>(p, r.run);
  put<std::int8_t>(p, static_cast<std::int8_t>(r.status));
  put<std::int64_t>(p, r.steps);
  put<std::uint64_t>(p, r.metrics.size());
  p.append(reinterpret_cast<const char*>(r.metrics.data()), r.metrics.size() * sizeof(double));
  put<std::uint64_t>(p, r.series.size());
  p.append(reinterpret_cast<const char*>(r.series.data()), r.series.size() * sizeof(std::int64_t));
  put_string(p, r.error);
  return p;
}

bool decode(std::string_view payload, RunRecord& r) {
  Cursor c(payload);
  std::int8_t status = 0;
  if (!c.get(r.run) || !c.get(status) || !c.get(r.steps) || !c.get_vector(r.metrics) ||
      !c.get_vector(r.series) || !c.get_string(r.error) || !c.done())
    return false;
  if (status < 0 || status > 2) return false;
  r.status = static_cast<RunRecord::Status>(status);
  return true;
}

/// Walks frames; calls f(type, payload) for each good one; returns the bytes of good frames.
template <class F>
std::size_t walk(std::string_view bytes, F&& f) {
  std::size_t pos = 0;
  while (bytes.size() - pos >= kFrameOverhead) {
    if (std::memcmp(bytes.data() + pos, kMagic, 4) != 0) break;
    std::uint32_t type = 0;
    std::uint64_t len = 0, sum = 0;
    std::memcpy(&type, bytes.data() + pos + 4, 4);
    std::memcpy(&len, bytes.data() + pos + 8, 8);
    if (len > bytes.size() - pos - kFrameOverhead) break;
    const std::string_view payload = bytes.substr(pos + 16, len);
    std::memcpy(&sum, bytes.data() + pos + 16 + len, 8);
    if (sum != checksum(payload)) break;
    if (!f(type, payload)) break;
    pos += kFrameOverhead + len;
  }
  return pos;
}

} // namespace

void append_frame(std::string& out, const RunRecord& record) {
  frame(out, kRun, encode(record));
}

std::vector<RunRecord> decode_frames(std::string_view bytes, std::size_t* good_bytes) {
  std::vector<RunRecord> out;
  const std::size_t good = walk(bytes, [&](std::uint32_t type, std::string_view payload) {
    RunRecord r;
    if (type != kRun || !decode(payload, r)) return false;
    out.push_back(std::move(r));
    return true;
  });
  if (good_bytes) *good_bytes = good;
  return out;
}

JournalWriter::JournalWriter(std::filesystem::path path, const std::string& fingerprint)
    : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_)
    throw OutputError(path_.string() +
                      ": cannot create the sweep journal: " + std::strerror(errno));
  std::string header;
  frame(header, kHeader, fingerprint);
  if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() ||
      std::fflush(file_) != 0) {
    const int err = errno;
    std::fclose(file_);
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::remove(path_, ec); // an empty journal would hold up the next sweep
    throw OutputError(path_.string() + ": cannot write the sweep journal: " + std::strerror(err));
  }
}

JournalWriter::~JournalWriter() {
  close();
}

void JournalWriter::append(const RunRecord& record) {
  const std::lock_guard lock(mutex_);
  if (!file_) throw OutputError(path_.string() + ": the sweep journal is closed");
  buffer_.clear();
  append_frame(buffer_, record);
  // One write and a flush per run: a kill loses at most the run being written, which the
  // reader drops by its checksum.
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() ||
      std::fflush(file_) != 0)
    throw OutputError(path_.string() + ": cannot write the sweep journal: " + std::strerror(errno));
}

void JournalWriter::close() {
  const std::lock_guard lock(mutex_);
  if (file_) std::fclose(file_);
  file_ = nullptr;
}

JournalContents read_journal(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OutputError(path.string() + ": cannot read the sweep journal");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string bytes = buf.str();
  JournalContents out;
  bool header = false;
  const std::size_t good = walk(bytes, [&](std::uint32_t type, std::string_view payload) {
    if (!header) {
      if (type != kHeader) return false;
      out.fingerprint = std::string(payload);
      header = true;
      return true;
    }
    RunRecord r;
    if (type != kRun || !decode(payload, r)) return false;
    out.records.push_back(std::move(r));
    return true;
  });
  if (!header) {
    // A journal killed before its header reached the disk holds nothing.
    if (bytes.size() < kFrameOverhead) {
      out.truncated = !bytes.empty();
      return out;
    }
    throw OutputError(path.string() + ": not a csei sweep journal");
  }
  out.truncated = good != bytes.size();
  return out;
}

std::vector<std::filesystem::path> find_journals(const std::filesystem::path& output) {
  std::vector<std::filesystem::path> out;
  const auto dir = output.has_parent_path() ? output.parent_path() : std::filesystem::path(".");
  const std::string prefix = output.filename().string() + ".journal.";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.is_regular_file())
      out.push_back(output.has_parent_path() ? e.path() : e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace csei::sweep
