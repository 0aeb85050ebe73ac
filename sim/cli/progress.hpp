// A progress bar for long work on a terminal; silent when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace csei {

class ProgressBar {
public:
  ProgressBar(std::string label, std::int64_t total, bool enabled);
  ~ProgressBar();
  void update(std::int64_t done);
  /// Clears the bar's line.
  void finish();

private:
  void draw(std::int64_t done);
  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// Whether the stream (1 = stdout, 2 = stderr) is a terminal.
[[nodiscard]] bool is_terminal(int fd);

} // namespace csei
