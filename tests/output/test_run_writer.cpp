// The HDF5 run file: written in one scope, reopened read-only, checked on disk: series, scales,
// attributes and chunking against their declarations.
#include "core/error.hpp"
#include "helpers.hpp"
#include "kernel/series.hpp"
#include "output/h5.hpp"
#include "output/run_writer.hpp"

#include <H5DSpublic.h>
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
  CHECK(f.int_attribute("schema_version") == kSingleRunSchemaVersion);
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

namespace {
/// Writes a whole run of `s` to `path`.
void write_run(const Scenario& s, const std::filesystem::path& path) {
  const World w = build_world(s);
  RunWriter writer(path, s, w, {1, 1, "v", "now"});
  writer.commit(run_simulation(s, w, [&](const StepCounts& c) { writer.record(c); }));
}

std::vector<hsize_t> chunk_of(hid_t ds) {
  h5::Handle plist(H5Dget_create_plist(ds), H5Pclose, "creation properties");
  REQUIRE(H5Pget_layout(plist.id()) == H5D_CHUNKED);
  std::vector<hsize_t> chunk(SeriesDef::kMaxRank + 1, 0);
  const int rank = H5Pget_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data());
  REQUIRE(rank > 0);
  chunk.resize(static_cast<std::size_t>(rank));
  return chunk;
}

std::size_t cache_bytes_of(hid_t ds) {
  h5::Handle plist(H5Dget_access_plist(ds), H5Pclose, "access properties");
  std::size_t slots = 0, bytes = 0;
  double w0 = 0;
  h5::check(H5Pget_chunk_cache(plist.id(), &slots, &bytes, &w0), "chunk cache");
  return bytes;
}
} // namespace

TEST_CASE("every series has the shape, attributes and dimension scales of its declaration",
          "[output]") {
  const Scenario s = csei::test::scenario_from(kSmall);
  const auto path = fresh("csei_writer_scales.h5");
  write_run(s, path);
  const h5::File f(path.string(), h5::File::Mode::read);
  const h5::Group g(f, "series", false);
  CHECK(h5::read_int64(g, "step") == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(h5::read_double(g, "year")[6] == 0.5);
  CHECK(h5::read_strings(g, "innovation") == std::vector<std::string>{"one", "two"});
  CHECK(h5::read_strings(g, "territory") == std::vector<std::string>{"AA", "BB"});
  CHECK(h5::read_strings(g, "territory_name") == std::vector<std::string>{"Alpha", "Bêta"});
  CHECK(h5::read_strings(g, "legal_form").size() == kLegalFormCount);
  for (const std::string scale : {"step", "innovation", "territory", "cluster", "legal_form"}) {
    const h5::Dataset ds(g, scale);
    CHECK(H5DSis_scale(ds.id()) > 0);
    char name[32] = {};
    REQUIRE(H5DSget_scale_name(ds.id(), name, sizeof name) > 0);
    CHECK(std::string(name) == scale);
  }
  for (const SeriesDef& def : kSeries) {
    INFO(def.name);
    const h5::Dataset ds(g, std::string(def.name));
    const auto dims = ds.dims();
    REQUIRE(dims.size() == def.rank + 1);
    CHECK(dims[0] == 7);
    CHECK(ds.string_attribute("units") == def.units);
    CHECK(ds.string_attribute("description") == def.description);
    CHECK(ds.string_attribute("coordinates").rfind("year", 0) == 0);
    CHECK(H5DSis_attached(ds.id(), h5::Dataset(g, "step").id(), 0) > 0);
    for (std::size_t a = 0; a < def.rank; ++a)
      CHECK(H5DSis_attached(ds.id(), h5::Dataset(g, std::string(dim_name(def.dims[a]))).id(),
                            static_cast<unsigned>(a + 1)) > 0);
  }
  const h5::Group summary(f, "summary", false);
  for (const MetricDef& m : summary_metrics()) {
    const h5::Dataset ds(summary, std::string(m.name));
    CHECK(ds.string_attribute("units") == m.units);
    CHECK(ds.dims() == std::vector<hsize_t>{2});
  }
}

TEST_CASE("chunk shapes stay within the byte budget", "[output]") {
  using V = std::vector<hsize_t>;
  CHECK(h5::chunk_shape({121, 3, 27}, 8, 256 * 1024) == V{121, 3, 27}); // whole dataset fits
  CHECK(h5::chunk_shape({1000, 3, 1200}, 8, 256 * 1024) == V{9, 3, 1200});
  CHECK(h5::chunk_shape({10, 4, 100000}, 8, 256 * 1024) == V{1, 1, 32768}); // one row too big
  CHECK(h5::chunk_shape({10, 0}, 8, 1024) == V{10, 1});
  CHECK(h5::chunk_shape({5}, 8, 1) == V{1});
}

TEST_CASE("every series chunk fits the byte budget and the chunk cache", "[output]") {
  // Small, and wide: many territories and cluster slots (emergence slots), so that one row of
  // the cluster series alone is over the budget.
  const std::string wide = R"(name = "wide"
seed = 3
[time]
steps = 40
[territories]
grid = { count = 300, spacing_km = 50.0 }
[organisations]
per_territory = 20
[cluster_generation]
density = 50.0
size = { kind = "uniform", min = 3.0, max = 6.0 }
[cluster_rules]
emergence = { rate = 0.5, min_founders = 3, max_new_clusters = 40000 }
[[innovations]]
name = "one"
[[innovations]]
name = "two"
)";
  for (const std::string& text : {kSmall, wide}) {
    const Scenario s = csei::test::scenario_from(text);
    const auto path = fresh("csei_writer_chunks.h5");
    write_run(s, path);
    const h5::File f(path.string(), h5::File::Mode::read);
    const h5::Group g(f, "series", false);
    bool split_row = false;
    for (const SeriesDef& def : kSeries) {
      INFO(s.name << ": " << def.name);
      const h5::Dataset ds(g, std::string(def.name));
      const auto chunk = chunk_of(ds.id());
      const auto dims = ds.dims();
      REQUIRE(chunk.size() == dims.size());
      std::size_t bytes = value_bytes(def.type);
      for (std::size_t a = 0; a < chunk.size(); ++a) {
        bytes *= chunk[a];
        CHECK(chunk[a] >= 1);
        if (dims[a] > 0) CHECK(chunk[a] <= dims[a]);
        if (a > 0 && chunk[a] < dims[a]) split_row = true;
      }
      CHECK(bytes <= kChunkBudgetBytes);
      CHECK(bytes <= cache_bytes_of(ds.id())); // a reader's default cache
      CHECK(bytes <= kChunkCacheBytes);        // the writer's
    }
    if (s.name == "wide") CHECK(split_row);
  }
}
