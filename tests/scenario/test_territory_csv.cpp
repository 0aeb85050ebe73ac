// Territory CSV tables: the shipped EU-27 table, and errors naming file, line and column.
#include "core/error.hpp"
#include "helpers.hpp"
#include "scenario/territory_csv.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace csei;
using Catch::Matchers::Contains;

namespace {
std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path;
}
std::string error_of(const std::filesystem::path& p) {
  return csei::test::input_error_of([&] { return read_territory_csv(p); });
}
} // namespace

TEST_CASE("the shipped EU-27 table", "[scenario][csv]") {
  const auto t = read_territory_csv(csei::test::source_dir() / "scenarios/data/eu27.csv");
  REQUIRE(t.size() == 27);
  double pop = 0;
  for (const auto& x : t)
    pop += x.population;
  CHECK(pop == 448387872.0); // Eurostat, 1 Jan 2023, July-2023 release
  CHECK(t[7].code == "EL");
  CHECK(t[4].se_employment == 2635980.0);
  CHECK(t[6].neighbours.empty()); // Ireland: no EU land border
  CHECK(t[0].neighbours == std::vector<std::string>{"DE", "FR", "LU", "NL"});
  for (const auto& x : t)
    CHECK(x.se_entities < 0); // unknown in the data
}

TEST_CASE("bad territory tables are reported with file, line and column", "[scenario][csv]") {
  const auto p1 = write_temp("csei_bad1.csv", "code,name,lat,lon\nAA,Alpha,45,abc\n");
  CHECK(error_of(p1) == p1.string() + ":2: lon: not a number: \"abc\"");
  const auto p2 = write_temp("csei_bad2.csv", "code,name,lat\nAA,Alpha,45\n");
  CHECK_THAT(error_of(p2), Contains(":1: lon: missing required column 'lon'"));
  const auto p3 = write_temp("csei_bad3.csv", "code,name,lat,lon\nAA,A,1,2\nAA,B,1,2\nBB,C,1\n");
  const auto m3 = error_of(p3);
  CHECK_THAT(m3, Contains(":3: code: duplicate territory code 'AA'"));
  CHECK_THAT(m3, Contains(":4: expected 4 fields, found 3"));
  const auto p4 = write_temp("csei_bad4.csv", "code,name,lat,lon\n\"AA,Alpha,1,2\n");
  CHECK_THAT(error_of(p4), Contains(":2: unterminated quoted field"));
}

TEST_CASE("a scenario naming a missing territory file fails cleanly", "[scenario][csv]") {
  try {
    (void)csei::test::scenario_from(
        "[time]\nsteps=1\n[territories]\ncsv = \"nowhere.csv\"\n[organisations]\nper_territory=1\n"
        "[[innovations]]\nname=\"x\"\n");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains("test.toml:4:7: territories.csv: territory file not found"));
  }
}
