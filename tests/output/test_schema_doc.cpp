// output/SCHEMA.md's series, summary and policy tables are the ones generated from the
// declarations.
#include "helpers.hpp"
#include "output/schema.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

using namespace csei;

namespace {
std::string between_markers(const std::string& doc, const std::string& table) {
  const auto begin = doc.find(begin_marker(table));
  const auto end = doc.find(end_marker(table));
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  const auto from = begin + begin_marker(table).size();
  REQUIRE(from <= end);
  return doc.substr(from, end - from);
}
} // namespace

TEST_CASE("SCHEMA.md lists the declared series and summary metrics", "[output]") {
  std::ifstream in(csei::test::source_dir() / "output" / "SCHEMA.md");
  REQUIRE(in);
  std::stringstream doc;
  doc << in.rdbuf();
  // On a difference: `csei schema` prints the tables to paste between the markers.
  CHECK(between_markers(doc.str(), "series") == series_markdown());
  CHECK(between_markers(doc.str(), "summary") == summary_markdown());
  CHECK(between_markers(doc.str(), "policy") == policy_markdown());
}
