// Formatting of input errors as "file:line:column: key: message".
#include "core/error.hpp"

namespace csei {

std::string SourceLocation::describe() const {
  std::string out = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  if (!key.empty()) out += ": " + key;
  return out;
}

namespace {
std::string join(const std::vector<InputError::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += p.where.describe() + ": " + p.message;
  }
  return out;
}
} // namespace

InputError::InputError(std::vector<Problem> problems)
    : std::runtime_error(join(problems)), problems_(std::move(problems)) {}

InputError::InputError(SourceLocation where, std::string message)
    : InputError(std::vector<Problem>{{std::move(where), std::move(message)}}) {}

} // namespace csei
