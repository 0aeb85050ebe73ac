// The HDF5 run file: written in one scope, reopened read-only, checked on disk.
#include "core/error.hpp"
#include "helpers.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace csei;

namespace {
const std::string kSmall = R"(name = "w"
seed = 9
[time]
steps = 6
[territories]
list = [{ code = "AA", name = "Alpha" }, { code = "BB", name = "Bêta" }]
[organisations]
per_territory = 500
[[innovations]]
name = "one"
p = 0.5
q = 3.0
[[innovations]]
name = "two"
rule = "threshold"
threshold = { kind = "fixed", value = 0.2 }
pioneers = 20
)";

std::filesystem::path fresh(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove(p);
  return p;
}

bool partial_left(const std::filesystem::path& p) {
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path()))
    if (e.path().filename().string().rfind(p.filename().string() + ".partial", 0) == 0) return true;
  return false;
}
} // namespace

TEST_CASE("a run file holds the series, tables and provenance", "[output]") {
  const Scenario s = csei::test::scenario_from(kSmall);
  const World w = build_world(s);
  const auto path = fresh("csei_writer_test.h5");
  const auto expected = csei::test::run(s);
  {
    RunWriter writer(path, s, w, {9, 3, "test-version", "2026-01-01T00:00:00Z"});
    const RunResult result = run_simulation(s, w, [&](const StepCounts& c) { writer.record(c); });
    CHECK_FALSE(std::filesystem::exists(path)); // only the temporary exists until commit
    writer.commit(result);
  }
  REQUIRE(std::filesystem::exists(path));
  CHECK_FALSE(partial_left(path));

  const h5::File f(path.string(), h5::File::Mode::read);
  CHECK(f.int_attribute("schema_version") == kSchemaVersion);
  CHECK(f.int_attribute("seed") == 9);
  CHECK(f.int_attribute("threads") == 3);
  CHECK(f.string_attribute("version") == "test-version");
  CHECK(f.string_attribute("scenario") == s.source);
  CHECK(f.int_attribute("steps") == 6);
  CHECK(f.double_attribute("steps_per_year") == 12.0);
  CHECK(f.int_attribute("complete") == 1);

  const h5::Group terr(f, "territories", false), inn(f, "innovations", false),
      series(f, "series", false);
  CHECK(h5::read_strings(terr, "code") == std::vector<std::string>{"AA", "BB"});
  CHECK(h5::read_strings(terr, "name") == std::vector<std::string>{"Alpha", "Bêta"});
  CHECK(h5::read_int64(terr, "organisations") == std::vector<std::int64_t>{500, 500});
  CHECK(h5::read_strings(inn, "name") == std::vector<std::string>{"one", "two"});
  CHECK(h5::read_strings(inn, "rule") == std::vector<std::string>{"bass", "threshold"});

  std::vector<hsize_t> dims;
  const auto adopters = h5::read_int64(series, "adopters", &dims);
  CHECK(dims == std::vector<hsize_t>{7, 2, 2});
  const auto fresh_adopters = h5::read_int64(series, "new_adopters", &dims);
  CHECK(dims == std::vector<hsize_t>{7, 2, 2});
  for (std::size_t step = 0; step < 7; ++step)
    for (std::size_t x = 0; x < 4; ++x) {
      REQUIRE(adopters[step * 4 + x] == expected.adopters[step][x]);
      REQUIRE(fresh_adopters[step * 4 + x] == expected.new_adopters[step][x]);
    }
}

TEST_CASE("a run that never commits leaves no file behind", "[output]") {
  const Scenario s = csei::test::scenario_from(kSmall);
  const World w = build_world(s);
  const auto path = fresh("csei_writer_abandoned.h5");
  {
    RunWriter writer(path, s, w, {9, 1, "v", "now"});
    Simulation sim(s, w);
    sim.initialise();
    writer.record(sim.counts());
    CHECK(partial_left(path));
  } // as when an exception or an interrupt unwinds the run
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(partial_left(path));
}

TEST_CASE("HDF5 misuse raises typed errors", "[output]") {
  CHECK_THROWS_AS(h5::File("/nonexistent-dir/x.h5", h5::File::Mode::create), OutputError);
  const auto txt = fresh("csei_not_hdf5.h5");
  std::ofstream(txt) << "plain text";
  CHECK_THROWS_AS(h5::File(txt.string(), h5::File::Mode::read), OutputError);
}
