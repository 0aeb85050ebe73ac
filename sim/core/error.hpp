// Typed errors raised at the boundaries (scenario files, data files, HDF5, command line).
// Each carries enough context for a user to find and fix the input that caused it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace csei {

/// Where in an input a problem sits: file, line and column (1-based; 0 = unknown), and the key
/// path.
struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string key;

  [[nodiscard]] std::string describe() const;
};

/// Bad user input: a scenario, a data file or a command-line value. Holds every problem found.
class InputError : public std::runtime_error {
public:
  struct Problem {
    SourceLocation where;
    std::string message;
  };

  explicit InputError(std::vector<Problem> problems);
  InputError(SourceLocation where, std::string message);

  [[nodiscard]] const std::vector<Problem>& problems() const noexcept { return problems_; }

private:
  std::vector<Problem> problems_;
};

/// A failure while writing or reading an output file.
class OutputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The run was interrupted by the user (SIGINT/SIGTERM).
class Interrupted : public std::runtime_error {
public:
  Interrupted() : std::runtime_error("interrupted") {}
};

} // namespace csei
