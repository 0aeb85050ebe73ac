// The sweep journal: finished runs appended one record at a time, so a sweep killed half-way
// can be resumed without redoing them. The same record encoding carries results between MPI
// ranks.
//
// A journal file is a sequence of frames: magic "CSJ1", type (u32: 1 header, 2 run), payload
// length (u64), payload, checksum of the payload (u64); integers little-endian. The header
// holds the sweep's fingerprint. A frame cut short by a kill, or with a bad checksum, ends the
// readable part: everything before it is kept.
#pragma once

#include "sweep/runner.hpp"

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace csei::sweep {

/// Appends one framed run record to `out`.
void append_frame(std::string& out, const RunRecord& record);
/// Decodes a sequence of frames (as append_frame writes them); stops at the first bad frame.
[[nodiscard]] std::vector<RunRecord> decode_frames(std::string_view bytes,
                                                   std::size_t* good_bytes = nullptr);

class JournalWriter {
public:
  /// Creates `path` and writes the header.
  JournalWriter(std::filesystem::path path, const std::string& fingerprint);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  /// Appends one record and hands it to the operating system (thread-safe).
  void append(const RunRecord& record);
  void close();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
  std::string buffer_;
};

struct JournalContents {
  std::string fingerprint;
  std::vector<RunRecord> records;
  bool truncated = false; // a cut-short or damaged frame was dropped
};

/// Reads a journal; throws OutputError if it cannot be read or is not a journal.
[[nodiscard]] JournalContents read_journal(const std::filesystem::path& path);

/// The journals of output file `output`: files named "<output>.journal.*" next to it, sorted.
[[nodiscard]] std::vector<std::filesystem::path> find_journals(const std::filesystem::path& output);

} // namespace csei::sweep
