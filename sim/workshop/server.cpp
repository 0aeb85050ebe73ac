// Workshop mode: the HTTP server (cpp-httplib) and the JSON API.
#include "workshop/server.hpp"

#include "core/error.hpp"
#include "scenario/load.hpp"
#include "workshop/runner.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <future>
#include <httplib.h>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdlib.h>
#include <thread>
#include <unistd.h>

namespace csei::workshop {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxStaticFiles = 200;
constexpr std::uintmax_t kMaxStaticBytes = 8 * 1024 * 1024;

struct StaticFile {
  std::string content;
  std::string type;
};

const char* mime_type(const std::string& ext) {
  static const std::map<std::string, const char*> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".json", "application/json"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const auto it = types.find(ext);
  return it == types.end() ? nullptr : it->second;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw InputError({p.string(), 0, 0, ""}, "cannot read the file");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

/// The page's files, read once at start: requests are answered from this map only, so no path
/// in a request ever reaches the file system.
std::map<std::string, StaticFile> load_static(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_regular_file(dir / "index.html"))
    throw InputError({dir.string(), 0, 0, ""},
                     "no index.html here: give the page's folder with --web-dir");
  std::map<std::string, StaticFile> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const auto name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const char* type = mime_type(it->path().extension().string());
    if (!type || it->file_size() > kMaxStaticBytes) continue;
    if (files.size() >= kMaxStaticFiles) break;
    const std::string key = std::string("/").append(fs::relative(it->path(), dir).generic_string());
    files[key] = {read_file(it->path()), type};
  }
  return files;
}

json number_or_null(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

json series_json(const std::vector<double>& v) {
  json a = json::array();
  for (const double x : v)
    a.push_back(number_or_null(x));
  return a;
}

json step_or_null(std::int64_t s) {
  return s < 0 ? json(nullptr) : json(s);
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, json{{"error", message}});
}

struct Remembered {
  std::string scenario;
  std::vector<std::string> overrides;
};

} // namespace

struct Server::Impl {
  ServerOptions opt;
  std::map<std::string, StaticFile> files;
  json catalogue;                                                // GET /api/scenarios
  std::map<std::string, std::map<std::string, double>> defaults; // scenario -> slider -> value
  httplib::Server http;
  JobPool pool;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> next_id{0};
  int port = 0;

  std::mutex runs_mutex; // guards runs and order
  std::map<std::string, Remembered> runs;
  std::list<std::string> order;
  std::mutex h5_mutex;              // HDF5 is used by one run at a time
  std::filesystem::path export_dir; // private (0700) folder for export files, made on first use

  explicit Impl(ServerOptions o)
      : opt(std::move(o)), files(load_static(opt.web_dir)),
        pool(opt.workers > 0 ? opt.workers
                             : std::max<std::size_t>(1, std::thread::hardware_concurrency()),
             opt.max_queued) {
    load_catalogue();
    routes();
  }

  void load_catalogue() {
    json list = json::array();
    for (const auto& ts : teaching_scenarios()) {
      const Scenario s = load_scenario(opt.scenario_dir / (ts.id + ".toml"));
      json sl = json::array();
      for (const auto& name : ts.sliders) {
        const Slider& slider = *find_slider(name);
        const double value = slider_default(slider, s);
        defaults[ts.id][name] = value;
        sl.push_back({{"name", slider.name},
                      {"label", slider.label},
                      {"help", slider.help},
                      {"min", slider.min},
                      {"max", slider.max},
                      {"step", slider.step},
                      {"integer", slider.integer},
                      {"value", value}});
      }
      json territories = json::array();
      for (const auto& t : s.territories)
        territories.push_back({{"code", t.code}, {"name", t.name}});
      list.push_back(
          {{"id", ts.id},
           {"title", ts.title},
           {"summary", ts.summary},
           {"seed", s.seed},
           {"steps", s.steps},
           {"steps_per_year", s.steps_per_year},
           {"organisations", s.organisation_count()},
           {"clusters", s.rules.peer_weight || s.generation.density > 0 || !s.clusters.empty()},
           {"territories", territories},
           {"sliders", sl}});
    }
    catalogue = {{"version", CSEI_VERSION},
                 {"limits",
                  {{"max_steps", opt.limits.max_steps},
                   {"max_org_steps", opt.limits.max_org_steps},
                   {"run_seconds", opt.run_seconds}}},
                 {"scenarios", list}};
  }

  /// Runs on the pool and waits; throws RequestError (busy, too long, bad values).
  RunSeries run_queued(const std::string& scenario, const std::vector<std::string>& overrides,
                       const std::filesystem::path* h5, double& queued_s) {
    auto promise = std::make_shared<std::promise<RunSeries>>();
    auto result = promise->get_future();
    const auto enqueued = Clock::now();
    const auto wait = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(opt.wait_seconds));
    const auto run_time =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.run_seconds));
    const auto file = opt.scenario_dir / (scenario + ".toml");
    const std::optional<std::filesystem::path> h5_copy =
        h5 ? std::optional<std::filesystem::path>(*h5) : std::nullopt;
    auto started = std::make_shared<Clock::time_point>();
    const bool queued =
        pool.submit([this, promise, enqueued, wait, run_time, file, overrides, h5_copy, started] {
          try {
            *started = Clock::now();
            if (*started - enqueued > wait)
              throw RequestError(503, "the server is busy: please run again in a few seconds");
            const auto cancelled = [this] { return stopping.load(); };
            if (h5_copy) {
              std::lock_guard lock(h5_mutex);
              promise->set_value(run_series(file, overrides, opt.limits, *started + run_time,
                                            cancelled, &*h5_copy));
            } else {
              promise->set_value(
                  run_series(file, overrides, opt.limits, *started + run_time, cancelled));
            }
          } catch (...) {
            promise->set_exception(std::current_exception());
          }
        });
    if (!queued)
      throw RequestError(503, "the server is busy (" + std::to_string(opt.max_queued) +
                                  " runs waiting): please run again in a few seconds");
    // Every job ends by its deadlines; the margin only guards against the unforeseen.
    if (result.wait_for(wait + run_time + std::chrono::seconds(30)) != std::future_status::ready)
      throw RequestError(503, "the run did not finish in time");
    RunSeries series = result.get();
    queued_s = std::chrono::duration<double>(*started - enqueued).count();
    return series;
  }

  std::string remember(const std::string& scenario, const std::vector<std::string>& overrides) {
    const std::string id = std::string("r").append(std::to_string(++next_id));
    std::lock_guard lock(runs_mutex);
    runs[id] = {scenario, overrides};
    order.push_back(id);
    while (order.size() > opt.remembered_runs) {
      runs.erase(order.front());
      order.pop_front();
    }
    return id;
  }

  void handle_run(const httplib::Request& req, httplib::Response& res) {
    const auto type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0)
      return send_error(res, 415, "send the request as JSON (Content-Type: application/json)");
    const RunRequest request = parse_run_request(req.body, opt.limits);
    const auto ov = overrides(request);
    double queued_s = 0;
    const RunSeries s = run_queued(request.scenario, ov, nullptr, queued_s);
    const std::string id = remember(request.scenario, ov);

    json params = json::object();
    for (const auto& [name, value] : defaults.at(request.scenario))
      params[name] = value;
    for (const auto& [name, value] : request.params)
      params[name] = value;
    json territories = json::array();
    for (std::size_t t = 0; t < s.territory_codes.size(); ++t)
      territories.push_back({{"code", s.territory_codes[t]},
                             {"name", s.territory_names[t]},
                             {"organisations", s.territory_organisations[t]}});
    json innovations = json::array();
    for (const auto& inn : s.innovations) {
      const InnovationSummary& r = inn.summary;
      innovations.push_back(
          {{"name", inn.name},
           {"rule", inn.rule},
           {"share", series_json(inn.share)},
           {"aware", series_json(inn.aware)},
           {"member_share", series_json(inn.member_share)},
           {"nonmember_share", series_json(inn.nonmember_share)},
           {"territory_share", series_json(inn.territory_share)},
           {"summary",
            {{"adopters", r.adopters},
             {"final_share", r.final_share},
             {"steps_to_10", step_or_null(r.steps_to_10)},
             {"steps_to_50", step_or_null(r.steps_to_50)},
             {"steps_to_90", step_or_null(r.steps_to_90)},
             {"peak_step", step_or_null(r.peak_step)},
             {"territories_reached", r.territories_reached},
             {"first_territory_50",
              r.first_territory_50 < 0
                  ? json(nullptr)
                  : json(s.territory_codes[static_cast<std::size_t>(r.first_territory_50)])},
             {"first_step_50", step_or_null(r.first_step_50)},
             {"member_share", number_or_null(r.member_share)},
             {"nonmember_share", number_or_null(r.nonmember_share)},
             {"cluster_advantage", number_or_null(r.cluster_advantage)},
             {"abandoned", r.abandoned}}}});
    }
    send_json(res, 200,
              {{"id", id},
               {"scenario", request.scenario},
               {"params", params},
               {"seed", s.seed},
               {"steps", s.steps},
               {"steps_per_year", s.steps_per_year},
               {"organisations", s.organisations},
               {"members", s.members.empty() ? 0 : s.members.back()},
               {"territories", territories},
               {"innovations", innovations},
               {"export", "/api/export/" + id + ".h5"},
               {"seconds", {{"queued", queued_s}, {"run", s.seconds}}}});
  }

  void handle_export(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    Remembered run;
    {
      std::lock_guard lock(runs_mutex);
      const auto it = runs.find(id);
      if (it == runs.end())
        return send_error(res, 404, "no run '" + id + "' here (only recent runs can be exported)");
      run = it->second;
    }
    const auto path = private_dir() / (id + "-" + std::to_string(++next_id) + ".h5");
    double queued_s = 0;
    try {
      (void)run_queued(run.scenario, run.overrides, &path, queued_s);
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      throw;
    }
    std::string content = read_file(path);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    res.set_header("Content-Disposition",
                   "attachment; filename=\"" + run.scenario + "_" + id + ".h5\"");
    res.set_content(std::move(content), "application/x-hdf5");
  }

  /// A folder only this user can read, for export files (each removed once sent).
  std::filesystem::path private_dir() {
    std::lock_guard lock(runs_mutex);
    if (export_dir.empty()) {
      std::string templ =
          (std::filesystem::temp_directory_path() / "csei-workshop-XXXXXX").string();
      if (!::mkdtemp(templ.data())) throw std::runtime_error("cannot make a temporary folder");
      export_dir = templ;
    }
    return export_dir;
  }

  ~Impl() {
    if (!export_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(export_dir, ec);
    }
  }

  bool local_host(const httplib::Request& req) const {
    const std::string host = req.get_header_value("Host");
    const std::string p = std::string(":").append(std::to_string(port));
    return host == opt.host + p || host == "localhost" + p || host == "127.0.0.1" + p;
  }

  void routes() {
    http.set_payload_max_length(opt.max_body);
    http.set_keep_alive_timeout(2);
    http.set_keep_alive_max_count(1000);
    http.set_read_timeout(5, 0);
    http.set_write_timeout(10, 0);
    const std::size_t threads = std::max<std::size_t>(4, opt.http_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"Cache-Control", "no-store"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Frame-Options", "DENY"}});

    // Guards against pages on other sites reaching this server through the browser (DNS
    // rebinding): only requests addressed to this host and port are answered.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (local_host(req)) return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, 403,
                 "this server answers requests for 127.0.0.1:" + std::to_string(port) + " only");
      return httplib::Server::HandlerResponse::Handled;
    });
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          try {
            std::rethrow_exception(ep);
          } catch (const RequestError& e) {
            if (e.status() == 503) res.set_header("Retry-After", "2");
            send_error(res, e.status(), e.what());
          } catch (const std::bad_alloc&) {
            send_error(res, 503, "out of memory");
          } catch (const std::exception& e) {
            send_error(res, 500, std::string("internal error: ") + e.what());
          } catch (...) {
            send_error(res, 500, "internal error");
          }
        });
    http.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Handled;
          const char* msg = res.status == 404   ? "not found"
                            : res.status == 413 ? "request too large"
                            : res.status == 405 ? "method not allowed"
                                                : "bad request";
          send_error(res, res.status, msg);
          return httplib::Server::HandlerResponse::Handled;
        }));

    http.Get("/api/scenarios", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, catalogue);
    });
    http.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200,
                {{"workers", pool.workers()},
                 {"queued", pool.queued()},
                 {"running", pool.running()},
                 {"max_queued", opt.max_queued}});
    });
    http.Post("/api/run", [this](const httplib::Request& req, httplib::Response& res) {
      handle_run(req, res);
    });
    http.Get(
        R"(/api/export/(r[0-9]{1,18})\.h5)",
        [this](const httplib::Request& req, httplib::Response& res) { handle_export(req, res); });
    http.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      const auto it = files.find(req.path == "/" ? "/index.html" : req.path);
      if (it == files.end()) return send_error(res, 404, "not found");
      if (it->second.type.rfind("text/html", 0) == 0)
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                       "base-uri 'none'; form-action 'none'");
      res.set_content(it->second.content, it->second.type);
    });
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
}

int Server::bind() {
  auto& i = *impl_;
  if (i.opt.port == 0) {
    i.port = i.http.bind_to_any_port(i.opt.host);
    if (i.port <= 0) throw std::runtime_error("cannot listen on " + i.opt.host);
  } else {
    if (!i.http.bind_to_port(i.opt.host, i.opt.port))
      throw std::runtime_error("cannot listen on " + i.opt.host + ":" + std::to_string(i.opt.port) +
                               " (is another server using it? try --port)");
    i.port = i.opt.port;
  }
  return i.port;
}

bool Server::serve() {
  return impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->stopping = true;
  impl_->http.stop();
  impl_->pool.shutdown();
}

std::string Server::url() const {
  return "http://" + impl_->opt.host + ":" + std::to_string(impl_->port) + "/";
}

} // namespace csei::workshop
