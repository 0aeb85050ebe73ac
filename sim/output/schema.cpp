// Markdown tables of the series and summary metrics, from their declarations.
#include "output/schema.hpp"

#include "kernel/series.hpp"
#include "kernel/summary.hpp"

namespace csei {
namespace {

std::string code(std::string_view s) {
  std::string out(1, '`');
  out.append(s);
  out.push_back('`');
  return out;
}

std::string series_table(std::span<const SeriesDef> table) {
  std::string out = "| dataset | type | dimensions | shape | units | meaning |\n"
                    "|---|---|---|---|---|---|\n";
  for (const SeriesDef& s : table) {
    std::string dims = "step", shape = "S+1";
    for (const SeriesDim d : s.axes()) {
      dims += ", " + std::string(dim_name(d));
      shape += ", " + std::string(kSeriesDimLetters[static_cast<std::size_t>(d)]);
    }
    out += "| " + code(s.name) + " | " + (s.type == SeriesType::int64 ? "int64" : "float64") +
           " | " + dims + " | [" + shape + "] | " + std::string(s.units) + " | " +
           std::string(s.description) + " |\n";
  }
  return out;
}

} // namespace

std::string series_markdown() {
  return series_table(kSeries);
}

std::string policy_markdown() {
  return series_table(kPolicySeries);
}

std::string summary_markdown() {
  std::string out = "| dataset | units | meaning |\n"
                    "|---|---|---|\n";
  for (const MetricDef& m : summary_metrics())
    out += "| " + code(m.name) + " | " + std::string(m.units) + " | " + std::string(m.description) +
           " |\n";
  return out;
}

std::string begin_marker(const std::string& table) {
  return "<!-- " + table + " table: generated from the declaration by `csei schema " + table +
         "`, do not edit -->\n";
}

std::string end_marker(const std::string& table) {
  return "<!-- end of " + table + " table -->\n";
}

} // namespace csei
