// Shared pieces of the fuzz targets.
#include "fuzz.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace csei::fuzz {

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("csei-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return dir;
}

void quiet_stdout() {
  std::fflush(stdout);
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) {
    ::dup2(null, 1);
    ::close(null);
  }
}

void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

int run_command(const std::function<int()>& command) {
  std::ostringstream said;
  std::streambuf* old = std::cerr.rdbuf(said.rdbuf());
  int rc = 0;
  try {
    rc = command();
  } catch (...) {
    std::cerr.rdbuf(old);
    finding("the command let an exception escape; it said: " + said.str());
  }
  std::cerr.rdbuf(old);
  const std::string text = said.str();
  if (text.find("internal error") != std::string::npos || rc < 0 || rc > 3 || rc == 1)
    finding("exit " + std::to_string(rc) + ": " + text);
  return rc;
}

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("cannot write " + path.string());
}

} // namespace csei::fuzz
