// Fuzz target: the sweep journal reader, on a file (read_journal) and on bytes (decode_frames,
// as the MPI ranks exchange them). A journal that is not one is an OutputError; a damaged tail
// is dropped. Anything else escaping, or a decoded record that breaks its own invariants, is a
// finding. An input whose first byte is odd has the checksums of its frames made right first
// (so that the fuzzer reaches the decoding of payloads); the rest of the input is the journal.
#include "core/error.hpp"
#include "core/rng.hpp"
#include "fuzz.hpp"
#include "sweep/journal.hpp"

#include <cstring>
#include <string>

namespace {

/// The journal's checksum (sim/sweep/journal.cpp), to make the checksums of frames right.
std::uint64_t checksum(std::string_view s) {
  std::uint64_t h = 0x9AE16A3B2F90404FULL ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = csei::mix64(h ^ w) + 0x9E3779B97F4A7C15ULL;
  }
  std::uint64_t tail = 0;
  if (s.size() > i) std::memcpy(&tail, s.data() + i, s.size() - i);
  return csei::mix64(h ^ tail ^ (s.size() - i));
}

void fix_checksums(std::string& j) {
  constexpr std::size_t kOverhead = 4 + 4 + 8 + 8;
  std::size_t pos = 0;
  while (j.size() - pos >= kOverhead) {
    std::uint64_t len = 0;
    std::memcpy(&len, j.data() + pos + 8, 8);
    if (len > j.size() - pos - kOverhead) break;
    const std::uint64_t sum = checksum(std::string_view(j).substr(pos + 16, len));
    std::memcpy(j.data() + pos + 16 + len, &sum, 8);
    pos += kOverhead + len;
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string journal(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2) fix_checksums(journal);
  const std::string_view bytes = journal;
  const auto path = csei::fuzz::work_dir() / "fuzz.journal";
  csei::fuzz::write_file(path, bytes);
  try {
    const auto contents = csei::sweep::read_journal(path);
    (void)contents;
  } catch (const csei::OutputError&) {
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("the journal reader threw ") + e.what());
  }
  try {
    std::size_t good = 0;
    (void)csei::sweep::decode_frames(bytes, &good);
    if (good > bytes.size()) csei::fuzz::finding("decode_frames: good bytes past the end");
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("decode_frames threw ") + e.what());
  }
  return 0;
}
