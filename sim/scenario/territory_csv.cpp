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

/// A CSV table: the header's columns (trimmed name -> index) and every non-blank row that has
/// the header's width, with its line number; rows of another width are problems. Throws when
/// the file has no header or lacks a `required` column.
struct CsvTable {
  std::map<std::string, std::size_t> col;
  std::uint32_t last_line = 0;
  std::vector<std::pair<std::uint32_t, std::vector<std::string>>> rows;
};

CsvTable read_table(std::string_view text, const std::string& file,
                    std::initializer_list<const char*> required,
                    std::vector<InputError::Problem>& problems) {
  std::istringstream in{std::string(text)};
  CsvTable t;
  std::string line;
  std::uint32_t line_no = 0;
  std::vector<std::string> header;
  while (header.empty() && std::getline(in, line)) {
    ++line_no;
    if (!trim(line).empty()) header = split_csv_line(line, file, line_no);
  }
  if (header.empty()) throw InputError({file, 1, 0, ""}, "empty file: expected a header row");
  for (std::size_t i = 0; i < header.size(); ++i)
    t.col[trim(header[i])] = i;
  for (const char* name : required)
    if (!t.col.count(name))
      throw InputError({file, line_no, 0, name},
                       std::string("missing required column '") + name + "' in the header");
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    auto fields = split_csv_line(line, file, line_no);
    if (fields.size() != header.size()) {
      problems.push_back({{file, line_no, 0, ""},
                          "expected " + std::to_string(header.size()) + " fields, found " +
                              std::to_string(fields.size())});
      continue;
    }
    t.rows.emplace_back(line_no, std::move(fields));
  }
  t.last_line = line_no;
  return t;
}

/// Checks a row's territory code: not empty, not seen before.
void check_code(const std::string& code, const std::string& file, std::uint32_t line_no,
                std::unordered_set<std::string>& seen, std::vector<InputError::Problem>& problems) {
  if (code.empty())
    problems.push_back({{file, line_no, 0, "code"}, "empty territory code"});
  else if (!seen.insert(code).second)
    problems.push_back({{file, line_no, 0, "code"}, "duplicate territory code '" + code + "'"});
}

} // namespace

std::vector<Territory> parse_territory_csv(std::string_view text, const std::string& file) {
  std::vector<InputError::Problem> problems;
  const CsvTable table = read_table(text, file, {"code", "name", "lat", "lon"}, problems);
  const auto& col = table.col;
  const auto column_of = [&](const char* name) -> std::optional<std::size_t> {
    const auto it = col.find(name);
    return it == col.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  };

  // The parent level: a `parent` column, else a `country` column (NUTS tables carry one).
  const std::optional<std::size_t> parent_column =
      column_of("parent") ? column_of("parent") : column_of("country");

  std::vector<Territory> out;
  std::unordered_set<std::string> seen;
  for (const auto& row : table.rows) {
    // (not a structured binding: clang 14 cannot capture one in the lambdas below)
    const auto& line_no = row.first;
    const auto& fields = row.second;
    const auto cell = [&](std::size_t i) { return trim(fields[i]); };
    // Empty optional numbers mean "unknown"; anything else must parse completely.
    const auto number = [&](const char* name, bool required, double missing) -> double {
      const auto c = column_of(name);
      if (!c) return missing;
      const std::string value = cell(*c);
      if (value.empty()) {
        if (required) problems.push_back({{file, line_no, 0, name}, "empty value"});
        return missing;
      }
      double v = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || ptr != value.data() + value.size() || !std::isfinite(v)) {
        problems.push_back({{file, line_no, 0, name}, "not a number: \"" + value + "\""});
        return missing;
      }
      return v;
    };

    Territory t;
    t.code = cell(col.at("code"));
    t.name = cell(col.at("name"));
    check_code(t.code, file, line_no, seen, problems);
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
    problems.push_back(
        {{file, table.last_line, 0, ""}, "no territories: the file has a header only"});
  if (!problems.empty()) throw InputError(std::move(problems));
  return out;
}

std::vector<Territory> read_territory_csv(const std::filesystem::path& path,
                                          const SourceLocation& where) {
  const std::string file = path.string();
  return parse_territory_csv(
      files::read_text(path, where.file.empty() ? SourceLocation{file, 0, 0, ""} : where,
                       "territory file"),
      file);
}

std::vector<std::pair<std::string, std::string>> parse_parent_csv(std::string_view text,
                                                                  const std::string& file) {
  std::vector<InputError::Problem> problems;
  const CsvTable table = read_table(text, file, {"code", "name"}, problems);
  const std::size_t code = table.col.at("code"), name = table.col.at("name");
  std::vector<std::pair<std::string, std::string>> out;
  std::unordered_set<std::string> seen;
  for (const auto& [line_no, fields] : table.rows) {
    std::string c = trim(fields[code]);
    check_code(c, file, line_no, seen, problems);
    out.emplace_back(std::move(c), trim(fields[name]));
  }
  if (out.empty() && problems.empty())
    problems.push_back(
        {{file, table.last_line, 0, ""}, "no territories: the file has a header only"});
  if (!problems.empty()) throw InputError(std::move(problems));
  return out;
}

} // namespace csei
