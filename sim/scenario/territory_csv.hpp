// Territory tables in CSV form (the shipped EU-27 table, or a user's NUTS table).
#pragma once

#include "core/error.hpp"
#include "scenario/scenario.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csei {

/// Read territories from a CSV file with a header row. Required columns: code, name, lat, lon;
/// optional: population, se_employment, se_entities, neighbours (space-separated codes), parent
/// (the code of the territory one level up; without a `parent` column a `country` column is
/// used); other columns are ignored. Throws InputError naming the file, line and column on bad
/// content. The file must be a regular file of at most files::kMaxTextBytes; `where` (the key
/// naming the file, if any) is where a file that cannot be read is reported.
[[nodiscard]] std::vector<Territory> read_territory_csv(const std::filesystem::path& file,
                                                        const SourceLocation& where = {});
/// The same, from the file's text already read (`file` names it in messages).
[[nodiscard]] std::vector<Territory> parse_territory_csv(std::string_view text,
                                                         const std::string& file);

/// The (code, name) pairs of parent territories from the text of a CSV file with a header row
/// and at least the columns code and name (e.g. the country table); other columns are ignored.
[[nodiscard]] std::vector<std::pair<std::string, std::string>>
parse_parent_csv(std::string_view text, const std::string& file);

} // namespace csei
