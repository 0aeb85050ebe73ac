// CSV territory tables: a small RFC 4180 reader (quoted fields, doubled quotes) plus typed columns.
#include "scenario/territory_csv.hpp"

#include "core/error.hpp"
#include "core/files.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_set>

namespace csei {
namespace {

std::vector<std::string> split_csv_line(const std::string& line, const std::string& file,
                                        std::uint32_t line_no) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  if (quoted) throw InputError({file, line_no, 0, ""}, "unterminated quoted field");
  fields.push_back(std::move(cur));
  return fields;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

} // namespace

std::vector<Territory> read_territory_csv(const std::filesystem::path& path,
                                          const SourceLocation& where) {
  const std::string file = path.string();
  std::istringstream in(files::read_text(
      path, where.file.empty() ? SourceLocation{file, 0, 0, ""} : where, "territory file"));

  std::string line;
  std::uint32_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) {
      header = split_csv_line(line, file, line_no);
      break;
    }
  }
  if (header.empty()) throw InputError({file, 1, 0, ""}, "empty file: expected a header row");

  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i)
    col[trim(header[i])] = i;
  for (const char* required : {"code", "name", "lat", "lon"}) {
    if (!col.count(required))
      throw InputError({file, line_no, 0, required},
                       std::string("missing required column '") + required + "' in the header");
  }
  const auto column_of = [&](const char* name) -> std::optional<std::size_t> {
    const auto it = col.find(name);
    return it == col.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  };

  // The parent level: a `parent` column, else a `country` column (NUTS tables carry one).
  const std::optional<std::size_t> parent_column =
      column_of("parent") ? column_of("parent") : column_of("country");

  std::vector<Territory> out;
  std::vector<InputError::Problem> problems;
  std::unordered_set<std::string> seen;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto fields = split_csv_line(line, file, line_no);
    if (fields.size() != header.size()) {
      problems.push_back({{file, line_no, 0, ""},
                          "expected " + std::to_string(header.size()) + " fields, found " +
                              std::to_string(fields.size())});
      continue;
    }
    const auto cell = [&](std::size_t i) { return trim(fields[i]); };
    // Empty optional numbers mean "unknown"; anything else must parse completely.
    const auto number = [&](const char* name, bool required, double missing) -> double {
      const auto c = column_of(name);
      if (!c) return missing;
      const std::string text = cell(*c);
      if (text.empty()) {
        if (required) problems.push_back({{file, line_no, 0, name}, "empty value"});
        return missing;
      }
      double v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) {
        problems.push_back({{file, line_no, 0, name}, "not a number: \"" + text + "\""});
        return missing;
      }
      return v;
    };

    Territory t;
    t.code = cell(col["code"]);
    t.name = cell(col["name"]);
    if (t.code.empty())
      problems.push_back({{file, line_no, 0, "code"}, "empty territory code"});
    else if (!seen.insert(t.code).second)
      problems.push_back({{file, line_no, 0, "code"}, "duplicate territory code '" + t.code + "'"});
    t.lat = number("lat", true, 0.0);
    t.lon = number("lon", true, 0.0);
    if (t.lat < -90 || t.lat > 90)
      problems.push_back({{file, line_no, 0, "lat"}, "must be in [-90, 90]"});
    if (t.lon < -180 || t.lon > 180)
      problems.push_back({{file, line_no, 0, "lon"}, "must be in [-180, 180]"});
    t.population = number("population", false, 0.0);
    t.se_employment = number("se_employment", false, -1.0);
    t.se_entities = number("se_entities", false, -1.0);
    for (const char* name : {"population", "se_employment", "se_entities"}) {
      if (const auto c = column_of(name); c && !cell(*c).empty() && cell(*c)[0] == '-')
        problems.push_back({{file, line_no, 0, name}, "must not be negative"});
    }
    if (parent_column) t.parent = cell(*parent_column);
    if (const auto c = column_of("neighbours")) {
      std::istringstream words(cell(*c));
      for (std::string w; words >> w;)
        t.neighbours.push_back(w);
    }
    out.push_back(std::move(t));
  }
  if (out.empty() && problems.empty())
    problems.push_back({{file, line_no, 0, ""}, "no territories: the file has a header only"});
  if (!problems.empty()) throw InputError(std::move(problems));
  return out;
}

std::vector<std::pair<std::string, std::string>>
read_parent_csv(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path);
  if (!in) throw InputError({file, 0, 0, ""}, "cannot open parent territory file");
  std::string line;
  std::uint32_t line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) header = split_csv_line(line, file, line_no);
  }
  if (header.empty()) throw InputError({file, 1, 0, ""}, "empty file: expected a header row");
  std::optional<std::size_t> code, name;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (trim(header[i]) == "code") code = i;
    if (trim(header[i]) == "name") name = i;
  }
  if (!code || !name)
    throw InputError({file, line_no, 0, code ? "name" : "code"},
                     std::string("missing required column '") + (code ? "name" : "code") +
                         "' in the header");
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<InputError::Problem> problems;
  std::unordered_set<std::string> seen;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const auto fields = split_csv_line(line, file, line_no);
    if (fields.size() != header.size()) {
      problems.push_back({{file, line_no, 0, ""},
                          "expected " + std::to_string(header.size()) + " fields, found " +
                              std::to_string(fields.size())});
      continue;
    }
    std::string c = trim(fields[*code]);
    if (c.empty())
      problems.push_back({{file, line_no, 0, "code"}, "empty territory code"});
    else if (!seen.insert(c).second)
      problems.push_back({{file, line_no, 0, "code"}, "duplicate territory code '" + c + "'"});
    out.emplace_back(std::move(c), trim(fields[*name]));
  }
  if (out.empty() && problems.empty())
    problems.push_back({{file, line_no, 0, ""}, "no territories: the file has a header only"});
  if (!problems.empty()) throw InputError(std::move(problems));
  return out;
}

} // namespace csei
