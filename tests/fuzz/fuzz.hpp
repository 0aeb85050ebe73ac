// Shared pieces of the fuzz targets (tests/fuzz/fuzz_*.cpp). Each target defines
// LLVMFuzzerInitialize and LLVMFuzzerTestOneInput; built with clang and libFuzzer
// (CSEI_FUZZ=ON, scripts/fuzz.sh) they fuzz, built with replay.cpp (every build) they replay the
// committed corpus in tests/fuzz/corpus/<target>/ as a ctest test.
//
// A finding is a crash, a sanitizer report, or (checked here) an exception that a reader lets
// escape although it is not an input error, or a command that ends in "internal error".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace csei::fuzz {

/// Reads values off the fuzz input; past its end every value is 0 (or empty).
class Bytes {
public:
  Bytes(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  [[nodiscard]] bool empty() const { return n_ == 0; }
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | byte();
    return v;
  }
  /// An index below `n` (n > 0).
  std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(u16() % n); }
  std::uint16_t u16() { return static_cast<std::uint16_t>((byte() << 8) | byte()); }
  /// A string of at most `max` bytes (a length byte, then the bytes).
  std::string text(std::size_t max) {
    std::size_t len = std::min<std::size_t>(byte(), max);
    std::string s;
    while (len-- > 0 && n_ > 0)
      s.push_back(static_cast<char>(byte()));
    return s;
  }

private:
  const std::uint8_t* p_;
  std::size_t n_;
};

/// A private directory for the files a target writes (removed at exit).
const std::filesystem::path& work_dir();
/// Sends standard output to /dev/null (the commands print tables).
void quiet_stdout();
/// Runs `command` with std::cerr captured and returns its exit code; aborts, printing what it
/// said, if it said "internal error" or returned a code other than 0, 1, 2 or 3.
int run_command(const std::function<int()>& command);
/// Aborts with a message: the finding.
[[noreturn]] void finding(const std::string& what);
/// Writes `bytes` to `path`.
void write_file(const std::filesystem::path& path, std::string_view bytes);

} // namespace csei::fuzz
