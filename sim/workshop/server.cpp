// Workshop mode: the HTTP server and the JSON API. One thread reads and writes every connection
// (non-blocking sockets, poll), with a deadline for each request's head and body, so clients
// that send slowly or not at all hold no thread; complete requests are answered by
// handle_request (request.hpp), runs and exports on a small pool of handler threads.
#include "workshop/server.hpp"

#include "core/error.hpp"
#include "scenario/load.hpp"
#include "workshop/qr.hpp"
#include "workshop/runner.hpp"
#include "workshop/session_file.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <ifaddrs.h>
#include <list>
#include <map>
#include <net/if.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <random>
#include <set>
#include <sstream>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

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

json by_step_json(const std::vector<std::vector<double>>& rows) {
  json out = json::array();
  for (const auto& row : rows)
    out.push_back(series_json(row));
  return out;
}

json step_or_null(std::int64_t s) {
  return s < 0 ? json(nullptr) : json(s);
}

HttpResponse json_response(const json& body) {
  return {200, "application/json", body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

struct Remembered {
  std::string scenario;
  std::vector<std::string> overrides;
  std::string owner; // the participant's token ("" for a caller without one)
};

/// A token bucket: `rate` per second, at most `burst`.
struct Bucket {
  double tokens = -1; // < 0: full
  Clock::time_point at;
  bool take(double rate, double burst, Clock::time_point now, double& wait_s) {
    if (tokens < 0) {
      tokens = burst;
      at = now;
    }
    tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - at).count());
    at = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    wait_s = rate > 0 ? (1 - tokens) / rate : 60;
    return false;
  }
};

struct Participant {
  std::string name;
  Clock::time_point seen;
  Bucket runs;
};

/// A challenge: a goal (a share adopted within some years) and a policy budget in euros.
struct Challenge {
  double goal_share = 0.5;
  double goal_years = 4;
  double budget = 0;
};

/// A name or group as given: trimmed, 1 to 40 bytes of valid UTF-8 without control characters.
std::string participant_name(const json& body) {
  const auto it = body.find("name");
  if (it == body.end() || !it->is_string())
    throw RequestError(400, "give a name or group: {\"name\": \"Group A\"}");
  std::string name = valid_utf8(it->get_ref<const std::string&>());
  for (auto& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  const auto a = name.find_first_not_of(' ');
  if (a == std::string::npos) throw RequestError(400, "the name is empty: give a name or group");
  name = name.substr(a, name.find_last_not_of(' ') - a + 1);
  if (name.size() > 40) throw RequestError(400, "the name is longer than 40 bytes: shorten it");
  return name;
}

std::string random_token() {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i)
    out += kHex[device() % 16];
  return out;
}

/// A CSV field: quoted where needed; text that a spreadsheet would take for a formula is
/// prefixed with an apostrophe.
std::string csv_field(const std::string& text) {
  std::string t = text;
  if (!t.empty() && std::string_view("=+-@\t\r").find(t.front()) != std::string_view::npos)
    t.insert(t.begin(), '\'');
  if (t.find_first_of(",\"\r\n") == std::string::npos) return t;
  std::string out = "\"";
  for (const char c : t) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

/// The machine's first up, non-loopback IPv4 address; "" if none.
std::string lan_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if ((a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                sizeof text);
    found = text;
    break;
  }
  ::freeifaddrs(list);
  return found;
}

} // namespace

struct Server::Impl {
  ServerOptions opt;
  std::map<std::string, StaticFile> files;
  json catalogue;                                                // GET /api/scenarios
  std::map<std::string, std::map<std::string, double>> defaults; // scenario -> slider -> value
  JobPool pool;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> next_id{0};
  int port = 0;

  std::mutex runs_mutex; // guards runs and order
  std::map<std::string, Remembered> runs;
  std::list<std::string> order;
  // The room (guarded by room_mutex).
  std::mutex room_mutex;
  std::map<std::string, Participant> participants; // by token
  std::map<std::string, Bucket> peer_buckets;      // runs of callers without a name, by address
  std::deque<SessionRun> session;
  std::string room_scenario; // "": every scenario
  std::set<std::string> locked;
  bool reveal = false;
  std::optional<Challenge> challenge;
  std::uint64_t session_number = 1;
  Clock::time_point session_start = Clock::now();
  std::string join_address;         // the host of the join URL
  std::string qr_svg_text;          // of the join URL
  std::mutex h5_mutex;              // HDF5 is used by one run at a time
  std::filesystem::path export_dir; // private (0700) folder for export files, made on first use

  explicit Impl(ServerOptions o)
      : opt(std::move(o)), files(load_static(opt.web_dir)),
        pool(opt.workers > 0 ? opt.workers
                             : std::max<std::size_t>(1, std::thread::hardware_concurrency()),
             opt.max_queued) {
    if (opt.join_code.empty()) opt.join_code = random_code(6);
    if (opt.trainer_code.empty()) opt.trainer_code = random_code(12);
    if (opt.lan) {
      opt.host = "0.0.0.0";
      join_address = lan_address();
    }
    if (join_address.empty()) join_address = "127.0.0.1";
    load_teaching_scenarios(opt.scenario_dir);
    load_catalogue();
  }

  void load_catalogue() {
    json list = json::array();
    for (const auto& ts : teaching_scenarios()) {
      const Scenario s = load_scenario(opt.scenario_dir / (ts.id + ".toml"));
      json sl = json::array();
      for (const auto& slider : ts.specs) {
        const std::string& name = slider.name;
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

  std::string remember(const std::string& scenario, const std::vector<std::string>& overrides,
                       const std::string& owner) {
    const std::string id = std::string("r").append(std::to_string(++next_id));
    std::lock_guard lock(runs_mutex);
    runs[id] = {scenario, overrides, owner};
    order.push_back(id);
    while (order.size() > opt.remembered_runs) {
      runs.erase(order.front());
      order.pop_front();
    }
    return id;
  }

  /// The participant of a caller ("" if it gave no name, or one this session does not know);
  /// marks them seen. Needs room_mutex.
  Participant* known(const Caller& caller) {
    if (caller.participant.empty()) return nullptr;
    const auto it = participants.find(caller.participant);
    if (it == participants.end()) return nullptr;
    it->second.seen = Clock::now();
    return &it->second;
  }

  /// The room's checks of a run before it is queued: joined (with --lan), the rate limit, the
  /// scenario and the locked sliders. Returns the name the run is tagged with.
  std::string admit(const RunRequest& request, const Caller& caller) {
    std::lock_guard lock(room_mutex);
    Participant* p = known(caller);
    if (opt.lan && !p && !caller.trainer)
      throw RequestError(403, "join the workshop first: give your name or group on the page");
    double wait_s = 0;
    // Named participants and other addresses have a rate; this computer without a name
    // (workshop mode without a room) has the queue's bounds only.
    Bucket* bucket = p ? &p->runs : caller.local ? nullptr : &peer_buckets[caller.peer];
    if (bucket && !bucket->take(opt.runs_per_minute / 60.0, opt.run_burst, Clock::now(), wait_s)) {
      char msg[160];
      std::snprintf(msg, sizeof msg,
                    "too many runs: at most %g a minute for each participant; please wait "
                    "%.0f s",
                    opt.runs_per_minute, std::ceil(wait_s));
      throw RequestError(429, msg);
    }
    if (!room_scenario.empty() && request.scenario != room_scenario)
      throw RequestError(403,
                         "the trainer has set the room to the scenario '" + room_scenario + "'");
    for (const auto& [name, value] : request.params) {
      if (!locked.count(name)) continue;
      const double fixed = defaults.at(request.scenario).at(name);
      if (value != fixed)
        throw RequestError(
            403, "the trainer has locked '" + name + "' at " +
                     toml_number(fixed, find_scenario(request.scenario)->slider(name)->integer));
    }
    if (p) return p->name;
    return caller.local ? "this computer" : caller.peer;
  }

  HttpResponse handle_run(const RunRequest& request, const Caller& caller) {
    const std::string who = admit(request, caller);
    const auto ov = overrides(request);
    double queued_s = 0;
    const RunSeries s = run_queued(request.scenario, ov, nullptr, queued_s);
    const std::string id = remember(request.scenario, ov, caller.participant);

    json params = json::object();
    for (const auto& [name, value] : defaults.at(request.scenario))
      params[name] = value;
    for (const auto& [name, value] : request.params)
      params[name] = value;
    json territories = json::array();
    for (std::size_t t = 0; t < s.territory_codes.size(); ++t)
      territories.push_back({{"code", s.territory_codes[t]},
                             {"name", s.territory_names[t]},
                             {"parent", s.territory_parents[t]},
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
           {"territory_share_by_step", by_step_json(inn.territory_share_by_step)},
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
    record(id, who, caller, request, params, s);
    return json_response({{"id", id},
                          {"who", who},
                          {"scenario", request.scenario},
                          {"params", params},
                          {"seed", s.seed},
                          {"steps", s.steps},
                          {"steps_per_year", s.steps_per_year},
                          {"organisations", s.organisations},
                          {"members", s.members.empty() ? 0 : s.members.back()},
                          {"policy_spending", s.policy_spending},
                          {"territories", territories},
                          {"innovations", innovations},
                          {"export", "/api/export/" + id + ".h5"},
                          {"seconds", {{"queued", queued_s}, {"run", s.seconds}}}});
  }

  HttpResponse handle_export(const std::string& id, const Caller& caller) {
    Remembered run;
    {
      std::lock_guard lock(runs_mutex);
      const auto it = runs.find(id);
      if (it == runs.end() || (it->second.owner != caller.participant && !caller.trainer))
        return error_response(404, "no run '" + id + "' here (only recent runs can be exported)");
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
    return {
        200,
        "application/x-hdf5",
        std::move(content),
        {{"Content-Disposition", "attachment; filename=\"" + run.scenario + "_" + id + ".h5\""}}};
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

  [[nodiscard]] std::string join_url() const {
    return "http://" + join_address + ":" + std::to_string(port) + "/?code=" + opt.join_code;
  }

  /// Keeps a run for the trainer (and the class, once revealed).
  void record(const std::string& id, const std::string& who, const Caller& caller,
              const RunRequest& request, const json& params, const RunSeries& s) {
    SessionRun r;
    r.id = id;
    r.owner = caller.participant;
    r.who = who;
    r.scenario = request.scenario;
    r.params = params;
    if (!s.innovations.empty()) {
      r.share = s.innovations.front().share;
      r.final_share = s.innovations.front().summary.final_share;
      r.steps_to_50 = s.innovations.front().summary.steps_to_50;
    }
    r.steps_per_year = s.steps_per_year;
    r.seed = s.seed;
    r.steps = s.steps;
    r.organisations = s.organisations;
    r.policy_spending = s.policy_spending;
    r.territory_codes = s.territory_codes;
    r.territory_names = s.territory_names;
    r.territory_organisations = s.territory_organisations;
    for (const auto& inn : s.innovations)
      r.innovations.push_back({inn.name, inn.share, inn.aware, inn.territory_share_by_step});
    std::lock_guard lock(room_mutex);
    r.at = std::chrono::duration<double>(Clock::now() - session_start).count();
    session.push_back(std::move(r));
    while (session.size() > opt.session_runs)
      session.pop_front();
  }

  static json run_json(const SessionRun& r, bool series) {
    json j = {{"id", r.id},
              {"who", r.who},
              {"scenario", r.scenario},
              {"params", r.params},
              {"seed", r.seed},
              {"steps", r.steps},
              {"steps_per_year", r.steps_per_year},
              {"organisations", r.organisations},
              {"final_share", number_or_null(r.final_share)},
              {"steps_to_50", step_or_null(r.steps_to_50)},
              {"kept", r.kept},
              {"policy_spending", r.policy_spending},
              {"at", r.at}};
    if (series) j["share"] = series_json(r.share);
    return j;
  }

  /// The room as a participant sees it. Needs room_mutex.
  json room_json(const Caller& caller) {
    const Participant* p = known(caller);
    json locked_list = json::array();
    for (const auto& name : locked)
      locked_list.push_back(name);
    return {{"lan", opt.lan},
            {"joined", p != nullptr},
            {"name", p ? json(p->name) : json(nullptr)},
            {"must_join", opt.lan && !p && !caller.trainer},
            {"scenario", room_scenario.empty() ? json(nullptr) : json(room_scenario)},
            {"locked", locked_list},
            {"reveal", reveal},
            {"challenge", challenge_json()},
            {"session", session_number}};
  }

  json challenge_json() const {
    if (!challenge) return nullptr;
    return {{"goal_share", challenge->goal_share},
            {"goal_years", challenge->goal_years},
            {"budget", challenge->budget}};
  }

  /// Every group's best run within the budget, ranked by outcome (the share adopted at the
  /// goal's year) and by return per euro (adopters then per million euros spent). Needs
  /// room_mutex.
  json ranking() const {
    if (!challenge) return nullptr;
    struct Entry {
      const SessionRun* run;
      double share;
      double per_million; // < 0: nothing spent
    };
    std::map<std::string, Entry> best;
    for (const auto& r : session) {
      if (r.share.empty() || r.policy_spending > challenge->budget) continue;
      const auto step = static_cast<std::size_t>(
          std::clamp<double>(std::round(challenge->goal_years * r.steps_per_year), 0,
                             static_cast<double>(r.share.size() - 1)));
      const double share = std::isfinite(r.share[step]) ? r.share[step] : 0;
      const double per_million =
          r.policy_spending > 0
              ? share * static_cast<double>(r.organisations) / (r.policy_spending / 1e6)
              : -1;
      const auto it = best.find(r.who);
      if (it == best.end() || share > it->second.share) best[r.who] = {&r, share, per_million};
    }
    std::vector<Entry> list;
    for (const auto& [who, e] : best)
      list.push_back(e);
    const auto rows = [&](const std::vector<Entry>& v) {
      json out = json::array();
      for (const auto& e : v)
        out.push_back(
            {{"who", e.run->who},
             {"run", e.run->id},
             {"scenario", e.run->scenario},
             {"share_at_goal", e.share},
             {"reached", e.share >= challenge->goal_share},
             {"policy_spending", e.run->policy_spending},
             {"adopters_per_million", e.per_million < 0 ? json(nullptr) : json(e.per_million)}});
      return out;
    };
    std::vector<Entry> by_outcome = list, by_return = list;
    std::stable_sort(by_outcome.begin(), by_outcome.end(),
                     [](const Entry& a, const Entry& b) { return a.share > b.share; });
    std::stable_sort(by_return.begin(), by_return.end(),
                     [](const Entry& a, const Entry& b) { return a.per_million > b.per_million; });
    return {{"by_outcome", rows(by_outcome)}, {"by_return", rows(by_return)}};
  }

  HttpResponse trainer_state() {
    std::lock_guard lock(room_mutex);
    const auto now = Clock::now();
    json people = json::array();
    for (const auto& [token, p] : participants) {
      const double ago = std::chrono::duration<double>(now - p.seen).count();
      std::size_t n = 0;
      for (const auto& r : session)
        n += r.owner == token ? 1 : 0;
      people.push_back({{"name", p.name},
                        {"seen_seconds_ago", ago},
                        {"connected", ago <= opt.connected_seconds},
                        {"runs", n}});
    }
    json list = json::array();
    for (const auto& r : session)
      list.push_back(run_json(r, true));
    Caller none;
    json room = room_json(none);
    return json_response({{"join_url", join_url()},
                          {"join_code", opt.join_code},
                          {"qr_svg", qr_svg_text},
                          {"connected_seconds", opt.connected_seconds},
                          {"participants", people},
                          {"runs", list},
                          {"ranking", ranking()},
                          {"room", room}});
  }

  HttpResponse export_csv() {
    std::ostringstream out;
    out << "run,who,scenario,kept,seed,steps,steps_per_year,organisations,final_share,"
           "steps_to_50,years_to_50,params,at_seconds\r\n";
    std::lock_guard lock(room_mutex);
    for (const auto& r : session) {
      std::string params;
      for (const auto& [k, v] : r.params.items())
        params += (params.empty() ? "" : "; ") + k + "=" + v.dump();
      out << r.id << ',' << csv_field(r.who) << ',' << r.scenario << ','
          << (r.kept ? "true" : "false") << ',' << r.seed << ',' << r.steps << ','
          << csv_number(r.steps_per_year) << ',' << r.organisations << ','
          << csv_number(r.final_share) << ','
          << (r.steps_to_50 < 0 ? std::string() : std::to_string(r.steps_to_50)) << ','
          << (r.steps_to_50 < 0 ? std::string()
                                : csv_number(static_cast<double>(r.steps_to_50) / r.steps_per_year))
          << ',' << csv_field(params) << ',' << csv_number(r.at) << "\r\n";
    }
    return {200,
            "text/csv; charset=utf-8",
            out.str(),
            {{"Content-Disposition", "attachment; filename=\"workshop_session_" +
                                         std::to_string(session_number) + ".csv\""}}};
  }

  /// Every run of the session in one HDF5 file (output/SCHEMA.md "Workshop session files").
  HttpResponse export_h5() {
    std::vector<SessionRun> copy;
    std::uint64_t number = 0;
    {
      std::lock_guard lock(room_mutex);
      copy.assign(session.begin(), session.end());
      number = session_number;
    }
    std::vector<const SessionRun*> list;
    for (const auto& r : copy)
      list.push_back(&r);
    const auto path = private_dir() / ("session-" + std::to_string(number) + "-" +
                                       std::to_string(++next_id) + ".h5");
    std::string content;
    try {
      {
        std::lock_guard lock(h5_mutex);
        write_session_file(path, list, number);
      }
      content = read_file(path);
    } catch (...) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      throw;
    }
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return {200,
            "application/x-hdf5",
            std::move(content),
            {{"Content-Disposition",
              "attachment; filename=\"workshop_session_" + std::to_string(number) + ".h5\""}}};
  }

  /// One run of the session with its map over time, for the trainer's map.
  HttpResponse trainer_run(const std::string& id) {
    std::lock_guard lock(room_mutex);
    for (const auto& r : session) {
      if (r.id != id) continue;
      json j = run_json(r, true);
      json territories = json::array();
      for (std::size_t t = 0; t < r.territory_codes.size(); ++t)
        territories.push_back({{"code", r.territory_codes[t]},
                               {"name", r.territory_names[t]},
                               {"organisations", r.territory_organisations[t]}});
      json innovations = json::array();
      for (const auto& inn : r.innovations)
        innovations.push_back(
            {{"name", inn.name},
             {"share", series_json(inn.share)},
             {"territory_share", inn.territory_share_by_step.empty()
                                     ? json::array()
                                     : series_json(inn.territory_share_by_step.back())},
             {"territory_share_by_step", by_step_json(inn.territory_share_by_step)}});
      j["territories"] = std::move(territories);
      j["innovations"] = std::move(innovations);
      return json_response(j);
    }
    return error_response(404, "no run " + shown(id) + " in this session");
  }

  HttpResponse join(const json& body, const Caller& caller) {
    const std::string name = participant_name(body);
    std::lock_guard lock(room_mutex);
    std::string token = caller.participant;
    auto it = participants.find(token);
    if (it == participants.end()) {
      if (participants.size() >= opt.max_participants)
        throw RequestError(503, "the room is full (" + std::to_string(opt.max_participants) +
                                    " names): ask the trainer");
      token = random_token();
      it = participants.emplace(token, Participant{}).first;
    }
    it->second.name = name;
    it->second.seen = Clock::now();
    HttpResponse r = json_response({{"name", name}});
    r.headers.emplace_back("Set-Cookie",
                           "csei_participant=" + token + "; Path=/; HttpOnly; SameSite=Strict");
    return r;
  }

  HttpResponse keep(const json& body, const Caller& caller) {
    const auto id = body.find("id");
    const auto kept = body.find("kept");
    if (id == body.end() || !id->is_string() || (kept != body.end() && !kept->is_boolean()))
      throw RequestError(400, "send {\"id\": \"r1\", \"kept\": true}");
    std::lock_guard lock(room_mutex);
    known(caller);
    for (auto& r : session)
      if (r.id == id->get_ref<const std::string&>() &&
          (r.owner == caller.participant || caller.trainer)) {
        r.kept = kept == body.end() || kept->get<bool>();
        return json_response({{"id", r.id}, {"kept", r.kept}});
      }
    return error_response(404, "no run " + shown(id->get_ref<const std::string&>()) +
                                   " of yours in this session");
  }

  HttpResponse set_room(const json& body) {
    for (const auto& [key, value] : body.items())
      if (key != "scenario" && key != "locked" && key != "reveal" && key != "challenge")
        throw RequestError(400, "unknown field " + shown(key) +
                                    " (fields: scenario, locked, reveal, challenge)");
    std::optional<std::optional<Challenge>> new_challenge;
    if (const auto it = body.find("challenge"); it != body.end()) {
      if (it->is_null()) {
        new_challenge.emplace(std::nullopt);
      } else {
        if (!it->is_object())
          throw RequestError(400, "'challenge' must be {\"goal_share\", \"goal_years\", "
                                  "\"budget\"} or null");
        Challenge c;
        const auto number = [&](const char* key, double lo, double hi, double& v) {
          const auto f = it->find(key);
          if (f == it->end() || !f->is_number() || !std::isfinite(f->get<double>()) ||
              f->get<double>() < lo || f->get<double>() > hi)
            throw RequestError(400, std::string("'challenge.") + key + "' must be a number in [" +
                                        toml_number(lo, false) + ", " + toml_number(hi, false) +
                                        "]");
          v = f->get<double>();
        };
        for (const auto& [k, v] : it->items())
          if (k != "goal_share" && k != "goal_years" && k != "budget")
            throw RequestError(400, "unknown field " + shown(k) +
                                        " in 'challenge' (goal_share, goal_years, budget)");
        number("goal_share", 0, 1, c.goal_share);
        number("goal_years", 0, 100, c.goal_years);
        number("budget", 0, 1e15, c.budget);
        new_challenge.emplace(c);
      }
    }
    // Everything is checked first, then applied: a request with one bad field changes nothing.
    std::optional<std::string> new_scenario;
    if (const auto it = body.find("scenario"); it != body.end()) {
      if (it->is_null() || (it->is_string() && it->get_ref<const std::string&>().empty()))
        new_scenario.emplace();
      else if (!it->is_string() || !find_scenario(it->get_ref<const std::string&>()))
        throw RequestError(400, "'scenario' must be the id of a teaching scenario, or null");
      else
        new_scenario = it->get<std::string>();
    }
    std::optional<std::set<std::string>> new_locked;
    if (const auto it = body.find("locked"); it != body.end()) {
      if (!it->is_array()) throw RequestError(400, "'locked' must be a list of slider names");
      std::set<std::string> names;
      for (const auto& v : *it) {
        if (!v.is_string() || !find_slider(v.get_ref<const std::string&>()))
          throw RequestError(400, "'locked' must name sliders, not " +
                                      shown(v.is_string() ? v.get<std::string>() : v.dump()));
        names.insert(v.get<std::string>());
      }
      new_locked = std::move(names);
    }
    std::optional<bool> new_reveal;
    if (const auto it = body.find("reveal"); it != body.end()) {
      if (!it->is_boolean()) throw RequestError(400, "'reveal' must be true or false");
      new_reveal = it->get<bool>();
    }
    std::lock_guard lock(room_mutex);
    if (new_scenario) room_scenario = std::move(*new_scenario);
    if (new_locked) locked = std::move(*new_locked);
    if (new_reveal) reveal = *new_reveal;
    if (new_challenge) challenge = *new_challenge;
    Caller none;
    return json_response(room_json(none));
  }

  HttpResponse reset() {
    {
      std::lock_guard lock(room_mutex);
      session.clear();
      locked.clear();
      reveal = false;
      challenge.reset();
      room_scenario.clear();
      ++session_number;
      session_start = Clock::now();
      for (auto& [token, p] : participants)
        p.runs = {};
      peer_buckets.clear();
    }
    {
      std::lock_guard lock(runs_mutex);
      runs.clear();
      order.clear();
    }
    return json_response({{"session", session_number}});
  }

  HttpResponse runs_of(const Caller& caller) {
    std::lock_guard lock(room_mutex);
    known(caller);
    json own = json::array(), all = json::array();
    const bool class_view = reveal || caller.trainer;
    for (const auto& r : session) {
      if (r.owner == caller.participant) own.push_back(run_json(r, false));
      if (class_view) all.push_back(run_json(r, true));
    }
    return json_response(
        {{"own", own}, {"class", class_view ? all : json(nullptr)}, {"reveal", reveal}});
  }

  /// The routes that need the caller (handle_request checked the codes).
  std::optional<HttpResponse> room(const HttpRequest& request, const std::string& path,
                                   const Caller& caller) {
    if (request.method == "POST") {
      const json body = parse_json_object(request.body);
      if (path == "/api/join") return join(body, caller);
      if (path == "/api/keep") return keep(body, caller);
      if (path == "/api/trainer/room") return set_room(body);
      if (path == "/api/trainer/reset") return reset();
      return std::nullopt;
    }
    if (path == "/api/room") {
      std::lock_guard lock(room_mutex);
      return json_response(room_json(caller));
    }
    if (path == "/api/runs") return runs_of(caller);
    if (path == "/api/trainer/state") return trainer_state();
    if (path == "/api/trainer/export.csv") return export_csv();
    if (path == "/api/trainer/export.h5") return export_h5();
    constexpr std::string_view kTrainerRun = "/api/trainer/run/";
    if (path.rfind(kTrainerRun, 0) == 0) return trainer_run(path.substr(kTrainerRun.size()));
    if (path == "/trainer") return get("/trainer.html");
    constexpr std::string_view kExport = "/api/export/";
    if (path.rfind(kExport, 0) == 0) {
      const std::string_view rest = std::string_view(path).substr(kExport.size());
      const bool ok = rest.size() >= 5 && rest.size() <= 22 && rest.front() == 'r' &&
                      rest.substr(rest.size() - 3) == ".h5" &&
                      std::all_of(rest.begin() + 1, rest.end() - 3,
                                  [](char c) { return c >= '0' && c <= '9'; });
      if (ok) return handle_export(std::string(rest.substr(0, rest.size() - 3)), caller);
      return error_response(404, "not found: " + shown(path));
    }
    {
      std::lock_guard lock(room_mutex);
      known(caller);
    }
    return std::nullopt;
  }

  // ---------------------------------------------------------------------------------------------
  // Routes of GET and HEAD (Host, Origin, method and path were checked by handle_request).

  HttpResponse get(const std::string& path) {
    if (path == "/api/scenarios") return json_response(catalogue);
    if (path == "/api/status")
      return json_response({{"workers", pool.workers()},
                            {"queued", pool.queued()},
                            {"running", pool.running()},
                            {"max_queued", opt.max_queued},
                            {"connections", open_connections.load()}});
    const auto it = files.find(path == "/" ? "/index.html" : path);
    if (it == files.end()) return error_response(404, "not found: " + shown(path));
    HttpResponse r{200, it->second.type, it->second.content, {}};
    if (it->second.type.rfind("text/html", 0) == 0)
      r.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                             "base-uri 'none'; form-action 'none'");
    return r;
  }

  HttpResponse answer(const HttpRequest& request) {
    Site site;
    site.port = port;
    site.max_body = opt.max_body;
    site.limits = opt.limits;
    site.room.lan = opt.lan;
    site.room.join_code = opt.join_code;
    site.room.trainer_code = opt.trainer_code;
    Handlers handlers;
    handlers.run_as = [this](const RunRequest& r, const Caller& c) { return handle_run(r, c); };
    handlers.room = [this](const HttpRequest& r, const std::string& path, const Caller& c) {
      return room(r, path, c);
    };
    handlers.get = [this](const std::string& path) { return get(path); };
    return handle_request(request, site, handlers);
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  enum class Phase { waiting, busy, writing, draining };

  struct Connection {
    int fd = -1;
    std::string peer; // the client's address
    HttpParser parser;
    Phase phase = Phase::waiting;
    Clock::time_point since;    // start of the phase (waiting: of the request, once a byte came)
    Clock::time_point deadline; // the phase must end by then
    bool started = false;       // a byte of the current request has come
    bool continued = false;     // "100 Continue" was sent
    bool close_after = false;   // close once the answer is written
    bool head = false;          // the request was HEAD
    std::string pending;        // bytes read after the current request (pipelined)
    std::string out;            // the answer being written
    std::size_t out_pos = 0;
    std::size_t drained = 0; // bytes read and dropped after a refused request
    std::size_t served = 0;  // requests answered on this connection
  };

  int listen_fd = -1;
  int wake_fd = -1;
  std::unordered_map<std::uint64_t, Connection> conns;
  std::map<std::string, std::size_t> per_peer;
  std::uint64_t next_conn = 0;
  std::atomic<std::size_t> open_connections{0};

  // Handler threads: run and export requests, answered back to the I/O thread.
  std::mutex handler_mutex;
  std::condition_variable handler_cv;
  std::deque<std::pair<std::uint64_t, HttpRequest>> handler_jobs;
  std::deque<std::pair<std::uint64_t, HttpResponse>> handler_done;
  std::vector<std::thread> handlers_threads;
  bool handlers_stopping = false;

  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  void start_handlers() {
    const std::size_t n = std::max<std::size_t>(1, opt.http_threads);
    for (std::size_t i = 0; i < n; ++i)
      handlers_threads.emplace_back([this] {
        while (true) {
          std::pair<std::uint64_t, HttpRequest> job;
          {
            std::unique_lock lock(handler_mutex);
            handler_cv.wait(lock, [this] { return handlers_stopping || !handler_jobs.empty(); });
            if (handler_jobs.empty()) return;
            job = std::move(handler_jobs.front());
            handler_jobs.pop_front();
          }
          HttpResponse r = answer(job.second);
          {
            std::lock_guard lock(handler_mutex);
            handler_done.emplace_back(job.first, std::move(r));
          }
          wake();
        }
      });
  }

  void stop_handlers() {
    {
      std::lock_guard lock(handler_mutex);
      handlers_stopping = true;
    }
    handler_cv.notify_all();
    for (auto& t : handlers_threads)
      if (t.joinable()) t.join();
    handlers_threads.clear();
  }

  void wake() const {
    if (wake_fd < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof one);
  }

  std::string serialise(const HttpResponse& r, bool head, bool keep_alive) const {
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) +
                      "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) +
                      "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") +
                      "\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store"
                      "\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n";
    for (const auto& [k, v] : r.headers) {
      std::string value = v;
      value.erase(
          std::remove_if(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n'; }),
          value.end());
      out += k + ": " + value + "\r\n";
    }
    out += "\r\n";
    if (!head) out += r.body;
    return out;
  }

  /// Starts writing an answer on c.
  void respond(Connection& c, const HttpResponse& r, bool close) {
    ++c.served;
    c.close_after =
        close || !c.parser.keep_alive() || c.served >= kMaxRequestsPerConnection || stopping;
    c.out = serialise(r, c.head, !c.close_after);
    c.out_pos = 0;
    c.phase = Phase::writing;
    c.since = Clock::now();
    c.deadline = c.since + seconds(opt.write_seconds);
  }

  void close_conn(std::uint64_t id) {
    const auto it = conns.find(id);
    if (it == conns.end()) return;
    ::close(it->second.fd);
    if (auto p = per_peer.find(it->second.peer); p != per_peer.end() && --p->second == 0)
      per_peer.erase(p);
    conns.erase(it);
    open_connections = conns.size();
  }

  /// A connection that is waiting for a request, either idle or with a request that started
  /// more than a second ago: the first to go when the server is full.
  bool evict(const std::string* peer, Clock::time_point now) {
    std::uint64_t victim = 0;
    bool found = false;
    bool victim_idle = false;
    Clock::time_point oldest = now;
    for (auto& [id, c] : conns) {
      if (c.phase != Phase::waiting || (peer && c.peer != *peer)) continue;
      const bool idle = !c.started;
      if (now - c.since < std::chrono::seconds(1)) continue; // it may be about to send
      // Idle connections go before slow ones, the oldest first.
      if (!found || (idle && !victim_idle) || (idle == victim_idle && c.since < oldest)) {
        victim = id;
        victim_idle = idle;
        oldest = c.since;
        found = true;
      }
    }
    if (!found) return false;
    Connection& c = conns.at(victim);
    if (c.started) {
      const std::string out = serialise(
          error_response(408, "the server is full and this request came too slowly"), false, false);
      [[maybe_unused]] const auto n = ::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
    }
    close_conn(victim);
    return true;
  }

  /// Answers 503 on a connection the server has no room for, and closes it.
  void refuse(int fd, const std::string& why) {
    char sink[4096];
    while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    HttpResponse r = error_response(503, why);
    r.headers.emplace_back("Retry-After", "2");
    const std::string out = serialise(r, false, false);
    [[maybe_unused]] const auto n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  void accept_all() {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return; // EAGAIN, or out of descriptors: try again on the next round
      }
      char text[INET6_ADDRSTRLEN] = "?";
      if (addr.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
      else if (addr.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text,
                    sizeof text);
      const std::string peer = text;
      const auto now = Clock::now();
      if (per_peer[peer] >= opt.max_per_client && !evict(&peer, now)) {
        refuse(fd, "too many connections from " + peer + " (" + std::to_string(opt.max_per_client) +
                       "): please try again in a moment");
        if (per_peer[peer] == 0) per_peer.erase(peer);
        continue;
      }
      if (conns.size() >= opt.max_connections && !evict(nullptr, now)) {
        refuse(fd, "the server is full (" + std::to_string(opt.max_connections) +
                       " connections): please try again in a moment");
        if (per_peer[peer] == 0) per_peer.erase(peer);
        continue;
      }
      Connection c;
      c.fd = fd;
      c.peer = peer;
      c.parser = HttpParser(http_limits());
      c.since = now;
      c.deadline = now + seconds(opt.header_seconds);
      conns.emplace(++next_conn, std::move(c));
      ++per_peer[peer];
      open_connections = conns.size();
    }
  }

  [[nodiscard]] HttpLimits http_limits() const {
    HttpLimits l;
    l.max_body = opt.max_body;
    return l;
  }

  /// Feeds c's unread bytes to its parser; dispatches a complete request or answers a refused one.
  void advance(std::uint64_t id, Connection& c, std::string_view data) {
    const auto now = Clock::now();
    if (!data.empty() && !c.started) {
      c.started = true;
      c.since = now;
      c.deadline = now + seconds(opt.header_seconds);
    }
    const bool had_head = c.parser.head_done();
    std::size_t used = 0;
    const auto state = c.parser.feed(data, used);
    if (!had_head && c.parser.head_done()) c.deadline = now + seconds(opt.body_seconds);
    if (state == HttpParser::State::more) {
      if (c.parser.wants_continue() && !c.continued) {
        c.continued = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] const auto n =
            ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
      }
      return;
    }
    c.pending.assign(data.substr(used));
    if (state == HttpParser::State::failed) {
      c.head = false;
      respond(c, c.parser.error(), true);
      return;
    }
    HttpRequest request = c.parser.take_request();
    request.peer = c.peer;
    c.head = request.method == "HEAD";
    // Runs, exports and the answers that list a session's runs go to the handler threads.
    const bool slow = (request.method == "POST") || request.target.rfind("/api/export/", 0) == 0 ||
                      request.target.rfind("/api/trainer/", 0) == 0 ||
                      request.target.rfind("/api/runs", 0) == 0;
    if (!slow) {
      respond(c, answer(request), false);
      return;
    }
    c.phase = Phase::busy;
    c.since = now;
    {
      std::lock_guard lock(handler_mutex);
      handler_jobs.emplace_back(id, std::move(request));
    }
    handler_cv.notify_one();
  }

  /// After an answer: close, drain (a refused request's body may still come), or wait for the
  /// next request.
  void answered(std::uint64_t id, Connection& c) {
    if (c.close_after) {
      if (c.parser.state() == HttpParser::State::failed && !stopping) {
        // Reading what the client still sends lets it read the answer before the close.
        ::shutdown(c.fd, SHUT_WR);
        c.phase = Phase::draining;
        c.deadline = Clock::now() + std::chrono::seconds(1);
        return;
      }
      close_conn(id);
      return;
    }
    c.parser.reset();
    c.phase = Phase::waiting;
    c.started = false;
    c.continued = false;
    c.since = Clock::now();
    c.deadline = c.since + seconds(opt.idle_seconds);
    const std::string pending = std::move(c.pending);
    c.pending.clear();
    if (!pending.empty()) advance(id, c, pending);
  }

  void on_readable(std::uint64_t id, Connection& c) {
    char buf[16 * 1024];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close_conn(id);
      return;
    }
    if (n < 0) return;
    if (c.phase == Phase::draining) {
      c.drained += static_cast<std::size_t>(n);
      if (c.drained > kMaxDrained) close_conn(id);
      return;
    }
    advance(id, c, std::string_view(buf, static_cast<std::size_t>(n)));
  }

  void on_writable(std::uint64_t id, Connection& c) {
    while (c.out_pos < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        close_conn(id);
        return;
      }
      c.out_pos += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out.shrink_to_fit();
    answered(id, c);
  }

  void on_deadline(std::uint64_t id, Connection& c) {
    if (c.phase != Phase::waiting || !c.started) {
      close_conn(id); // idle, slow to read its answer, or done draining
      return;
    }
    const bool body = c.parser.head_done();
    const double s = body ? opt.body_seconds : opt.header_seconds;
    std::ostringstream msg;
    msg << "the request's " << (body ? "body" : "headers") << " did not arrive within " << s
        << " s";
    c.head = false;
    respond(c, error_response(408, msg.str()), true);
    c.parser = HttpParser(http_limits());
    c.pending.clear();
  }

  bool io_loop() {
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    while (!stopping) {
      const auto now = Clock::now();
      fds.clear();
      ids.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      auto next = now + std::chrono::milliseconds(500);
      for (auto& [id, c] : conns) {
        short events = 0;
        if (c.phase == Phase::waiting || c.phase == Phase::draining) events = POLLIN;
        if (c.phase == Phase::writing) events = POLLOUT;
        if (c.phase != Phase::busy) next = std::min(next, c.deadline);
        fds.push_back({c.fd, events, 0});
        ids.push_back(id);
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
      const int ready =
          ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait)) + 1);
      if (ready < 0 && errno != EINTR) return false;
      if (fds[0].revents & POLLIN) {
        std::uint64_t count = 0;
        [[maybe_unused]] const auto n = ::read(wake_fd, &count, sizeof count);
      }
      std::deque<std::pair<std::uint64_t, HttpResponse>> done;
      {
        std::lock_guard lock(handler_mutex);
        done.swap(handler_done);
      }
      for (auto& [id, r] : done) {
        const auto it = conns.find(id);
        if (it == conns.end() || it->second.phase != Phase::busy) continue;
        try {
          respond(it->second, r, false);
        } catch (const std::exception&) {
          close_conn(id);
        }
      }
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto it = conns.find(ids[i]);
        if (it == conns.end()) continue;
        Connection& c = it->second;
        const short rev = fds[i + 2].revents;
        if ((rev & (POLLERR | POLLNVAL)) || ((rev & POLLHUP) && !(rev & POLLIN))) {
          if (c.phase != Phase::busy) {
            close_conn(ids[i]);
            continue;
          }
        }
        try {
          if ((rev & POLLIN) && (c.phase == Phase::waiting || c.phase == Phase::draining))
            on_readable(ids[i], c);
          else if ((rev & POLLOUT) && c.phase == Phase::writing)
            on_writable(ids[i], c);
        } catch (const std::exception&) {
          close_conn(ids[i]); // out of memory for this connection: the others go on
        }
      }
      // Answers dispatched this round (from pipelined or inline requests) are written at once.
      const auto later = Clock::now();
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const auto it = conns.find(ids[i]);
        if (it == conns.end()) continue;
        try {
          if (it->second.phase == Phase::writing && it->second.out_pos == 0)
            on_writable(ids[i], it->second);
          else if (it->second.phase != Phase::busy && later >= it->second.deadline)
            on_deadline(ids[i], it->second);
        } catch (const std::exception&) {
          close_conn(ids[i]);
        }
      }
      if (fds[1].revents & POLLIN) {
        try {
          accept_all();
        } catch (const std::exception&) {
          // Out of memory: the connection waits in the backlog for the next round.
        }
      }
    }
    return true;
  }

  static constexpr std::size_t kMaxRequestsPerConnection = 1000;
  static constexpr std::size_t kMaxDrained = 1024 * 1024;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

int Server::bind() {
  auto& i = *impl_;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(i.opt.port));
  if (::inet_pton(AF_INET, i.opt.host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error("cannot listen on " + i.opt.host + " (not an IPv4 address)");
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("cannot make a socket");
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on " + i.opt.host + ":" + std::to_string(i.opt.port) +
                             " (is another server using it? try --port)");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  i.listen_fd = fd;
  i.port = ntohs(addr.sin_port);
  i.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (i.wake_fd < 0) throw std::runtime_error("cannot make an eventfd");
  i.qr_svg_text = qr_svg(qr_encode(i.join_url()));
  return i.port;
}

bool Server::serve() {
  auto& i = *impl_;
  if (i.listen_fd < 0) return false;
  i.start_handlers();
  const bool ok = i.io_loop();
  i.stopping = true;
  i.pool.shutdown();
  i.stop_handlers();
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : i.conns)
    ids.push_back(id);
  for (const auto id : ids)
    i.close_conn(id);
  return ok;
}

void Server::stop() {
  impl_->stopping = true;
  impl_->wake();
}

std::string Server::url() const {
  const std::string host = impl_->opt.host == "0.0.0.0" ? "127.0.0.1" : impl_->opt.host;
  return "http://" + host + ":" + std::to_string(impl_->port) + "/";
}

std::string Server::join_url() const {
  return impl_->join_url();
}

std::string Server::trainer_url() const {
  return url() + "trainer?code=" + impl_->opt.trainer_code;
}

const std::string& Server::join_code() const {
  return impl_->opt.join_code;
}
const std::string& Server::trainer_code() const {
  return impl_->opt.trainer_code;
}

} // namespace csei::workshop
