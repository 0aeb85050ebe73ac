// Territories with a parent (regions in countries): the parent column, parent names, addressing
// events, clusters, pioneers, support and legal-form mixes by parent code, and the NUTS-2 table.
#include "core/error.hpp"
#include "helpers.hpp"
#include "scenario/territory_csv.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <numeric>

using namespace csei;
using Catch::Matchers::Contains;
using csei::test::replaced;
using csei::test::scenario_from;

namespace {

// Two countries: XA with regions XA1 (big) and XA2, XB with XB1; ZZ has no parent.
const std::string kRegions = R"(name = "r"
seed = 3
[time]
steps = 12
[territories]
list = [
  { code = "XA1", name = "A one", parent = "XA", population = 300, lat = 48, lon = 2 },
  { code = "XB1", name = "B one", parent = "XB", population = 100, lat = 50, lon = 10 },
  { code = "XA2", name = "A two", parent = "XA", population = 200, lat = 45, lon = 3 },
  { code = "ZZ", name = "Zed", population = 50, lat = 40, lon = 20 },
]
[organisations]
per_territory = 100
[[innovations]]
name = "x"
p = 0.05
q = 0.5
pioneers = 30
pioneer_territory = "XA"
)";

std::string error_of(const std::string& text) {
  return csei::test::input_error_of([&] { return scenario_from(text); });
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path;
}

} // namespace

TEST_CASE("parents are collected in order of first use, named by their code",
          "[scenario][parent]") {
  const Scenario s = scenario_from(kRegions);
  REQUIRE(s.parents.size() == 2);
  CHECK(s.parents[0].code == "XA");
  CHECK(s.parents[0].name == "XA");
  CHECK(s.parents[0].territories == std::vector<int>{0, 2});
  CHECK(s.parents[1].code == "XB");
  CHECK(s.parents[1].territories == std::vector<int>{1});
  CHECK(s.territories[3].parent.empty());
  // A parent code selects its territories, in index order.
  CHECK(s.innovations[0].pioneer_territories == std::vector<int>{0, 2});
}

TEST_CASE("a parent code addresses every territory of the parent", "[scenario][parent]") {
  std::string text = replaced(kRegions, "[[innovations]]",
                              "[policy]\nby_territory = { XA = 0.9, XB1 = 0.2 }\n"
                              "[[clusters]]\nname = \"c\"\nterritory = \"XA\"\n"
                              "territories = [\"XB\", \"XA2\"]\nmembers = { association = 20 }\n"
                              "[[innovations]]");
  text += "[[events]]\nstep = 2\naction = \"raise_support\"\nvalue = 0.1\n"
          "territories = [\"XA\", \"XA1\", \"ZZ\"]\n"
          "[[organisations.territory_mix]]\nterritory = \"XA\"\n"
          "legal_forms = { cooperative = 1 }\n";
  const Scenario s = scenario_from(text);
  CHECK(s.territories[0].support == 0.9);
  CHECK(s.territories[2].support == 0.9);
  CHECK(s.territories[1].support == 0.2);
  CHECK(s.territories[3].support < 0);
  REQUIRE(s.clusters.size() == 1);
  CHECK(s.clusters[0].territory == 0); // the most populous region of XA is its home
  CHECK(s.clusters[0].territories == std::vector<int>{2, 1}); // the rest of XA, then XB; no repeats
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].territories == std::vector<int>{0, 2, 3}); // XA1 once
  REQUIRE(s.organisations.territory_mix.size() == 2);
  CHECK(s.organisations.territory_mix[0].first == 0);
  CHECK(s.organisations.territory_mix[1].first == 2);
}

TEST_CASE("pioneers by parent count the parent's organisations", "[scenario][parent]") {
  CHECK_THAT(error_of(replaced(kRegions, "pioneers = 30", "pioneers = 201")),
             Contains("201 pioneers but only 200 organisations in its territories"));
  CHECK_THAT(
      error_of(replaced(kRegions, "pioneer_territory = \"XA\"", "pioneer_territory = \"XC\"")),
      Contains("unknown territory code 'XC'; did you mean 'XA'?"));
}

TEST_CASE("a found_cluster event needs one territory, not a parent of several",
          "[scenario][parent]") {
  const std::string text = kRegions +
                           "[[events]]\nstep = 1\naction = \"found_cluster\"\ncount = 5\n"
                           "territories = [\"XA\"]\n";
  CHECK_THAT(error_of(text), Contains("found_cluster needs exactly one territory"));
  // XB has a single region: that is one territory.
  CHECK_NOTHROW(scenario_from(replaced(text, "[\"XA\"]", "[\"XB\"]")));
}

TEST_CASE("a code may not be both a territory and a parent", "[scenario][parent]") {
  CHECK_THAT(error_of(replaced(kRegions, "parent = \"XB\"", "parent = \"ZZ\"")),
             Contains("'ZZ' is both a territory code and a parent code"));
}

TEST_CASE("parent names come from territories.parents", "[scenario][parent]") {
  const auto names =
      write_temp("csei_parents.csv", "code,name,extra\nXA,Country A,1\nXB,\"B, land\",2\n");
  const Scenario s = scenario_from(replaced(
      kRegions, "[territories]\n", "[territories]\nparents = \"" + names.string() + "\"\n"));
  CHECK(s.parents[0].name == "Country A");
  CHECK(s.parents[1].name == "B, land");

  const auto partial = write_temp("csei_parents2.csv", "code,name\nXA,Country A\n");
  CHECK_THAT(error_of(replaced(kRegions, "[territories]\n",
                               "[territories]\nparents = \"" + partial.string() + "\"\n")),
             Contains("territories.parents: parent code 'XB' (of territory 'XB1') is not in"));
  const auto bad = write_temp("csei_parents3.csv", "code\nXA\n");
  CHECK_THAT(error_of(replaced(kRegions, "[territories]\n",
                               "[territories]\nparents = \"" + bad.string() + "\"\n")),
             Contains(bad.string() + ":1: name: missing required column 'name'"));
  CHECK_THAT(error_of(replaced(kRegions, "[territories]\n",
                               "[territories]\nparents = \"/nonexistent/p.csv\"\n")),
             Contains("territories.parents: parent territory file not found"));
  // Names without any parent are refused, not ignored.
  std::string flat = kRegions;
  for (const char* p : {"parent = \"XA\", ", "parent = \"XB\", ", "parent = \"XA\", "})
    flat = replaced(flat, p, "");
  flat = replaced(flat, "pioneer_territory = \"XA\"", "");
  CHECK_THAT(error_of(replaced(flat, "[territories]\n",
                               "[territories]\nparents = \"" + names.string() + "\"\n")),
             Contains("no territory has a parent"));
}

TEST_CASE("CSV tables: a parent column, else the country column", "[scenario][parent][csv]") {
  const auto a = write_temp("csei_par_a.csv", "code,name,lat,lon,parent,country\nR1,r,1,2,P,C\n");
  CHECK(read_territory_csv(a)[0].parent == "P");
  const auto b = write_temp("csei_par_b.csv", "code,name,lat,lon,country\nR1,r,1,2,C\nR2,s,1,2,\n");
  const auto tb = read_territory_csv(b);
  CHECK(tb[0].parent == "C");
  CHECK(tb[1].parent.empty());
  const auto c = write_temp("csei_par_c.csv", "code,name,lat,lon\nR1,r,1,2\n");
  CHECK(read_territory_csv(c)[0].parent.empty());
}

TEST_CASE("the shipped NUTS-2 table", "[scenario][parent][csv]") {
  const auto dir = csei::test::source_dir() / "scenarios" / "data";
  const auto regions = read_territory_csv(dir / "nuts2_eu27.csv");
  REQUIRE(regions.size() == 240);
  const auto countries = read_territory_csv(dir / "eu27.csv");
  std::map<std::string, double> jobs, count;
  for (const auto& r : regions) {
    REQUIRE(r.parent.size() == 2);
    CHECK(r.code.rfind(r.parent, 0) == 0); // NUTS codes start with the country code
    jobs[r.parent] += r.se_employment;
    ++count[r.parent];
  }
  REQUIRE(jobs.size() == 27);
  // Each country's regions add up exactly to its social-economy employment.
  for (const auto& c : countries)
    CHECK(jobs.at(c.code) == c.se_employment);
  CHECK(count.at("DE") == 38);
  CHECK(count.at("FR") == 27); // including the five outermost regions
  CHECK(count.at("MT") == 1);
  double pop = 0;
  for (const auto& r : regions)
    pop += r.population;
  CHECK(pop == 446824564.0); // Eurostat tgs00096, 1 January 2019 (= tps00001 country totals)
}

TEST_CASE("pioneers addressed by parent are drawn from all its territories", "[kernel][parent]") {
  const Scenario s = scenario_from(replaced(replaced(kRegions, "pioneers = 30", "pioneers = 200"),
                                            "p = 0.05\nq = 0.5", "p = 0\nq = 0"));
  const auto series = csei::test::run(s);
  // Territories in scenario order: XA1, XB1, XA2, ZZ.
  CHECK(series.adopters[0][0] == 100);
  CHECK(series.adopters[0][1] == 0);
  CHECK(series.adopters[0][2] == 100);
  CHECK(series.adopters[0][3] == 0);
}

TEST_CASE("the NUTS-2 baseline and the EU teaching scenario", "[scenario][parent]") {
  const auto dir = csei::test::source_dir() / "scenarios";
  const Scenario s = load_scenario(dir / "baseline_nuts2.toml");
  CHECK(s.territories.size() == 240);
  REQUIRE(s.parents.size() == 27);
  CHECK(s.parents[0].code == "AT");
  CHECK(s.parents[0].name == "Austria");
  // 1:10 of the countries' social-economy jobs (11.93 million), rounded region by region.
  CHECK(s.organisation_count() == 1192701);
  CHECK(s.network.remote == NetworkSpec::Remote::distance);
  CHECK(s.innovations[0].pioneer_territories.size() == 38); // Germany's regions
  // Support by country reaches every region of the country.
  for (const auto& t : s.territories)
    if (t.parent == "FR") CHECK(t.support == 0.8);
  const Scenario eu = load_scenario(dir / "teaching" / "eu_clusters.toml");
  const auto smallest = *std::min_element(eu.organisations_per_territory.begin(),
                                          eu.organisations_per_territory.end());
  CHECK(smallest >= 40); // no country of a handful of organisations
}
