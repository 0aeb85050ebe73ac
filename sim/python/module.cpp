// The compiled part of the Python package `csei` (analysis/csei): loading scenarios with the
// CLI's validation, running them with the GIL released, and the series as NumPy arrays that
// share the run's memory. The Python side (analysis/csei/__init__.py) builds xarray and pandas
// objects from what this module returns.
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/memory.hpp"
#include "kernel/series.hpp"
#include "kernel/simulation.hpp"
#include "kernel/summary.hpp"
#include "output/export.hpp"
#include "output/run_writer.hpp"
#include "scenario/load.hpp"
#include "sweep/spec.hpp"
#include "world/world.hpp"

#include <Python.h>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <string>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <thread>
#include <vector>

namespace py = pybind11;
using namespace csei;

namespace {

/// A scenario and how it was loaded, so that another seed reloads it exactly as `csei run
/// --seed` does (the seed is an override like any other).
struct PyScenario {
  std::string path;                   // empty when loaded from text
  std::string text, label, base_dir;  // when loaded from text
  std::vector<std::string> overrides; // key.path=value
  std::shared_ptr<const Scenario> scenario;

  [[nodiscard]] std::shared_ptr<const Scenario> load(const std::vector<std::string>& extra) const {
    std::vector<std::string> all = overrides;
    all.insert(all.end(), extra.begin(), extra.end());
    return std::make_shared<const Scenario>(
        path.empty() ? load_scenario_text(text, label, base_dir, all) : load_scenario(path, all));
  }
};

/// The series of one run, [S+1, dims...] each, in kSeries then kPolicySeries order.
struct Storage {
  std::vector<std::vector<std::int64_t>> ints;
  std::vector<std::vector<double>> reals;
};

struct PyResult {
  std::shared_ptr<const Scenario> scenario;
  std::shared_ptr<Storage> storage;
  SeriesExtents extents;
  RunResult result;
  std::int64_t organisations = 0, links = 0;
  std::vector<std::int64_t> territory_organisations;
  int threads = 1;
};

const SeriesDef& series_def(std::size_t i) {
  return i < kSeries.size() ? kSeries[i] : kPolicySeries[i - kSeries.size()];
}
constexpr std::size_t kAllSeries = kSeries.size() + kPolicySeries.size();

py::object problems_list(const InputError& e) {
  py::list out;
  for (const auto& p : e.problems()) {
    py::dict d;
    d["file"] = p.where.file;
    d["line"] = p.where.line;
    d["column"] = p.where.column;
    d["key"] = p.where.key;
    d["message"] = p.message;
    d["text"] = p.where.describe() + ": " + p.message;
    out.append(d);
  }
  return out;
}

std::shared_ptr<const Scenario> with_seed(const PyScenario& s, std::optional<std::uint64_t> seed) {
  if (!seed || *seed == s.scenario->seed) return s.scenario;
  return s.load({"seed=" + std::to_string(*seed)});
}

PyResult run(const PyScenario& ps, std::optional<std::uint64_t> seed, int threads,
             const std::string& output) {
  PyResult r;
  r.scenario = with_seed(ps, seed);
  const Scenario& s = *r.scenario;
  if (threads < 0 || threads > 4096)
    throw InputError(SourceLocation{"", 0, 0, "threads"}, "must be between 0 and 4096");
  r.threads = threads > 0 ? threads : tbb::info::default_concurrency();
  std::optional<std::filesystem::path> target;
  if (!output.empty()) {
    std::vector<files::Input> inputs;
    for (const auto& [path, role] : s.input_files)
      inputs.push_back({path, role});
    target = files::check_output(output, inputs);
  }
  // Between steps (and in world building) the kernel asks whether to stop: Ctrl-C in Python.
  // Only the calling thread runs Python's signal handlers; world building may ask from others.
  std::atomic<bool> interrupted{false};
  const auto caller = std::this_thread::get_id();
  const auto should_stop = [&interrupted, caller] {
    if (interrupted || std::this_thread::get_id() != caller) return interrupted.load();
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) interrupted = true;
    return interrupted.load();
  };
  try {
    py::gil_scoped_release nogil;
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                              static_cast<std::size_t>(r.threads));
    const World world = build_world(s, should_stop);
    r.extents = {s.innovations.size(), s.territories.size(), cluster_slots(s, world),
                 kLegalFormCount, s.events.size()};
    r.organisations = world.organisation_count();
    r.links = world.network.complete ? -1 : world.network.link_count();
    for (std::size_t t = 0; t < s.territories.size(); ++t)
      r.territory_organisations.push_back(world.territory_begin[t + 1] - world.territory_begin[t]);
    auto storage = std::make_shared<Storage>();
    const auto rows = static_cast<std::size_t>(s.steps + 1);
    // The series stay in memory (the arrays of the result): checked before allocating, against
    // what the machine has beside the world.
    double bytes = 0;
    for (std::size_t i = 0; i < kAllSeries; ++i)
      bytes += static_cast<double>(rows) * static_cast<double>(r.extents.cells(series_def(i))) *
               static_cast<double>(value_bytes(series_def(i).type));
    const double have = static_cast<double>(memory_limit_bytes()) / 2;
    if (bytes > have)
      throw InputError(SourceLocation{s.file, 0, 0, "time.steps"},
                       "the run's series need " + format_bytes(bytes) + " in memory (" +
                           std::to_string(rows) + " steps x " + std::to_string(r.extents.clusters) +
                           " cluster slots x " + std::to_string(r.extents.innovations) +
                           " innovations...), more than half the " + format_bytes(have * 2) +
                           " there is: lower time.steps or the cluster slots "
                           "(cluster_rules.emergence.max_new_clusters), or run it with `csei run`, "
                           "which streams the series to its file");
    for (std::size_t i = 0; i < kAllSeries; ++i) {
      const SeriesDef& def = series_def(i);
      if (def.type == SeriesType::int64)
        storage->ints.emplace_back(rows * r.extents.cells(def));
      else
        storage->reals.emplace_back(rows * r.extents.cells(def));
    }
    std::unique_ptr<RunWriter> writer;
    if (target)
      writer = std::make_unique<RunWriter>(*target, s, world,
                                           RunInfo{s.seed, r.threads, CSEI_VERSION, utc_now()});
    const SeriesExtents extents = r.extents;
    r.result = run_simulation(
        s, world,
        [&](const StepCounts& c) {
          if (writer) writer->record(c);
          std::size_t ii = 0, ri = 0;
          const auto row = static_cast<std::size_t>(c.step);
          for (std::size_t i = 0; i < kAllSeries; ++i) {
            const SeriesDef& def = series_def(i);
            const std::size_t n = extents.cells(def);
            if (def.int_row) {
              const auto src = c.*def.int_row;
              std::copy(src.begin(), src.end(), storage->ints[ii++].begin() + row * n);
            } else {
              const auto src = c.*def.real_row;
              std::copy(src.begin(), src.end(), storage->reals[ri++].begin() + row * n);
            }
          }
        },
        should_stop);
    if (writer) writer->commit(r.result);
    r.storage = std::move(storage);
  } catch (const Interrupted&) {
    // The GIL is held again here; the signal handler's exception (KeyboardInterrupt) is set.
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
  }
  return r;
}

/// Series i of a result as an array over the result's memory (no copy).
py::array series_array(const PyResult& r, std::size_t i) {
  const SeriesDef& def = series_def(i);
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(r.scenario->steps + 1)};
  for (const SeriesDim d : def.axes())
    shape.push_back(static_cast<py::ssize_t>(r.extents.of(d)));
  std::size_t ii = 0, ri = 0;
  for (std::size_t j = 0; j < i; ++j)
    (series_def(j).type == SeriesType::int64 ? ii : ri)++;
  // The capsule keeps the storage alive as long as any array does.
  auto* keep = new std::shared_ptr<Storage>(r.storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  py::array a =
      def.type == SeriesType::int64
          ? py::array(py::dtype::of<std::int64_t>(), shape, r.storage->ints[ii].data(), base)
          : py::array(py::dtype::of<double>(), shape, r.storage->reals[ri].data(), base);
  // Read-only: the arrays are the run's record.
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

py::dict scenario_info(const Scenario& s) {
  py::dict d;
  d["name"] = s.name;
  d["file"] = s.file;
  d["seed"] = s.seed;
  d["steps"] = s.steps;
  d["steps_per_year"] = s.steps_per_year;
  d["represents"] = s.organisations.represents;
  d["organisations"] = s.organisation_count();
  d["source"] = s.source;
  py::list codes, names, parents, inn, rules, events;
  for (const auto& t : s.territories) {
    codes.append(t.code);
    names.append(t.name);
    parents.append(t.parent);
  }
  for (const auto& i : s.innovations) {
    inn.append(i.name);
    rules.append(std::string(rule_name(i.rule)));
  }
  for (std::size_t e = 0; e < s.events.size(); ++e)
    events.append(std::to_string(e) + ":" + std::string(action_name(s.events[e].action)));
  d["territory"] = codes;
  d["territory_name"] = names;
  d["territory_parent"] = parents;
  d["innovation"] = inn;
  d["rule"] = rules;
  d["event"] = events;
  return d;
}

} // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "csei's compiled core: scenario loading, runs and export (see the package csei)";
  m.attr("version") = CSEI_VERSION;
  m.attr("legal_forms") = std::vector<std::string>(kLegalFormNames.begin(), kLegalFormNames.end());
  m.def("summary_metrics", [] {
    py::list out;
    for (const MetricDef& def : summary_metrics()) {
      py::dict d;
      d["name"] = std::string(def.name);
      d["units"] = std::string(def.units);
      d["description"] = std::string(def.description);
      d["step"] = def.step;
      d["real"] = def.real;
      out.append(d);
    }
    return out;
  });

  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  static py::exception<OutputError> output_error(m, "OutputError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      std::string text;
      for (const auto& q : e.problems())
        text += (text.empty() ? "" : "\n") + q.where.describe() + ": " + q.message;
      py::object err = py::reinterpret_borrow<py::object>(input_error.ptr())(text);
      err.attr("problems") = problems_list(e);
      PyErr_SetObject(input_error.ptr(), err.ptr());
    } catch (const OutputError& e) {
      output_error(e.what());
    }
  });

  py::class_<PyScenario>(m, "Scenario")
      .def_property_readonly("info", [](const PyScenario& s) { return scenario_info(*s.scenario); })
      .def_readonly("path", &PyScenario::path)
      .def_readonly("overrides", &PyScenario::overrides);

  m.def(
      "load_scenario",
      [](const std::string& path, const std::vector<std::string>& overrides) {
        PyScenario s{path, {}, {}, {}, overrides, nullptr};
        py::gil_scoped_release nogil;
        s.scenario = s.load({});
        return s;
      },
      py::arg("path"), py::arg("overrides") = std::vector<std::string>{});
  m.def(
      "load_scenario_text",
      [](const std::string& text, const std::string& label, const std::string& base_dir,
         const std::vector<std::string>& overrides) {
        PyScenario s{{}, text, label, base_dir, overrides, nullptr};
        py::gil_scoped_release nogil;
        s.scenario = s.load({});
        return s;
      },
      py::arg("text"), py::arg("label"), py::arg("base_dir"),
      py::arg("overrides") = std::vector<std::string>{});

  py::class_<PyResult>(m, "Result")
      .def_property_readonly("scenario",
                             [](const PyResult& r) { return scenario_info(*r.scenario); })
      .def_readonly("organisations", &PyResult::organisations)
      .def_readonly("links", &PyResult::links)
      .def_readonly("threads", &PyResult::threads)
      .def_readonly("territory_organisations", &PyResult::territory_organisations)
      .def_property_readonly("policy_spending",
                             [](const PyResult& r) { return r.result.policy_spending; })
      .def_property_readonly("clusters",
                             [](const PyResult& r) {
                               py::list names;
                               for (std::size_t c = 0; c < r.extents.clusters; ++c)
                                 names.append(c < r.result.clusters.size()
                                                  ? r.result.clusters[c].name
                                                  : "slot-" + std::to_string(c));
                               return names;
                             })
      .def_property_readonly("series",
                             [](const PyResult& r) {
                               py::dict out;
                               for (std::size_t i = 0; i < kAllSeries; ++i) {
                                 const SeriesDef& def = series_def(i);
                                 py::dict d;
                                 d["data"] = series_array(r, i);
                                 py::list dims;
                                 dims.append("step");
                                 for (const SeriesDim x : def.axes())
                                   dims.append(std::string(dim_name(x)));
                                 d["dims"] = dims;
                                 d["units"] = std::string(def.units);
                                 d["description"] = std::string(def.description);
                                 d["group"] = i < kSeries.size() ? "series" : "policy";
                                 out[py::str(std::string(def.name))] = d;
                               }
                               return out;
                             })
      .def_property_readonly("summary", [](const PyResult& r) {
        py::dict out;
        for (const MetricDef& def : summary_metrics()) {
          py::list values;
          for (const auto& s : r.result.summaries)
            values.append(def.value(s));
          py::dict d;
          d["values"] = values;
          d["units"] = std::string(def.units);
          d["description"] = std::string(def.description);
          d["step"] = def.step;
          d["real"] = def.real;
          out[py::str(std::string(def.name))] = d;
        }
        return out;
      });

  m.def(
      "run",
      [](const PyScenario& s, std::optional<std::uint64_t> seed, int threads,
         const std::string& output) { return run(s, seed, threads, output); },
      py::arg("scenario"), py::arg("seed") = py::none(), py::arg("threads") = 0,
      py::arg("output") = "");

  m.def(
      "replicate_seed",
      [](std::uint64_t seed, std::int64_t replicate) {
        return sweep::replicate_seed(seed, -1, replicate);
      },
      py::arg("seed"), py::arg("replicate"),
      "The seed of replicate r of `csei run --replicates` with base seed `seed`");
  m.def(
      "export_csv",
      [](const std::string& run_file, const std::string& out_dir) {
        py::gil_scoped_release nogil;
        const auto written = export_csv(run_file, out_dir);
        std::vector<std::string> out;
        for (const auto& p : written)
          out.push_back(p.string());
        return out;
      },
      py::arg("run_file"), py::arg("out_dir"));
}
