// Workshop mode: the slider whitelist, the teaching scenarios and request validation.
#include "workshop/request.hpp"

#include "core/error.hpp"
#include "scenario/load.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <cmath>
#include <deque>
#include <mutex>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

namespace csei::workshop {
namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string range_text(const Slider& s) {
  return "[" + toml_number(s.min, s.integer) + ", " + toml_number(s.max, s.integer) + "]";
}

/// Every dump() of text that may hold a client's bytes: invalid UTF-8 becomes U+FFFD.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    if (i >= s.size()) return false;
    const auto c = static_cast<unsigned char>(s[i]);
    return c >= lo && c <= hi;
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0; // length of a valid sequence starting here, 0: invalid
    if (c < 0x80)
      n = 1;
    else if (c >= 0xC2 && c <= 0xDF)
      n = cont(i + 1) ? 2 : 0;
    else if (c == 0xE0)
      n = cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF)
      n = cont(i + 1) && cont(i + 2) ? 3 : 0;
    else if (c == 0xED)
      n = cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0;
    else if (c == 0xF0)
      n = cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c >= 0xF1 && c <= 0xF3)
      n = cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    else if (c == 0xF4)
      n = cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    if (n == 0) {
      out += "\xEF\xBF\xBD"; // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string utf8_prefix(std::string_view s, std::size_t max_bytes) {
  std::string out = valid_utf8(s);
  if (out.size() <= max_bytes) return out;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80)
    --cut;
  out.resize(cut);
  return out;
}

std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 40;
  const std::string all = valid_utf8(s);
  std::string out = utf8_prefix(all, kMax);
  if (out.size() < all.size()) out += "...";
  return "'" + out + "'";
}

namespace {

struct Catalogue {
  std::vector<Slider> sliders;
  std::vector<TeachingScenario> scenarios;
};

Catalogue read_catalogue(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  Catalogue c;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".toml")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<std::int64_t, TeachingScenario>> found;
  for (const auto& file : files) {
    const Scenario s = load_scenario(file);
    if (!s.workshop.present) continue;
    TeachingScenario ts{file.stem().string(), s.workshop.title, s.workshop.summary, {}, {}};
    for (const auto& w : s.workshop.sliders) {
      Slider sl{w.name, w.label, w.help, w.key, w.min, w.max, w.step, w.integer};
      ts.sliders.push_back(w.name);
      ts.specs.push_back(sl);
      if (std::none_of(c.sliders.begin(), c.sliders.end(),
                       [&](const Slider& x) { return x.name == w.name; }))
        c.sliders.push_back(sl);
    }
    found.emplace_back(s.workshop.order, std::move(ts));
  }
  if (found.empty())
    throw InputError({dir.string(), 0, 0, ""},
                     "no teaching scenario here: a scenario file with a [workshop] table");
  std::stable_sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second.title < y.second.title;
  });
  for (auto& [order, ts] : found)
    c.scenarios.push_back(std::move(ts));
  return c;
}

std::mutex catalogue_mutex;
// Every catalogue read stays alive, so references handed out stay valid.
std::deque<Catalogue>& catalogues() {
  static std::deque<Catalogue> all;
  return all;
}

const Catalogue& catalogue() {
  std::lock_guard lock(catalogue_mutex);
  auto& all = catalogues();
  if (all.empty()) {
    try {
      all.push_back(
          read_catalogue(std::filesystem::path(CSEI_SOURCE_DIR) / "scenarios" / "teaching"));
    } catch (const std::exception&) {
      all.emplace_back();
    }
  }
  return all.back();
}

} // namespace

void load_teaching_scenarios(const std::filesystem::path& dir) {
  Catalogue c = read_catalogue(dir);
  std::lock_guard lock(catalogue_mutex);
  catalogues().push_back(std::move(c));
}

const std::vector<Slider>& sliders() {
  return catalogue().sliders;
}

const Slider* find_slider(std::string_view name) {
  for (const auto& s : sliders())
    if (s.name == name) return &s;
  return nullptr;
}

const Slider* TeachingScenario::slider(std::string_view name) const {
  for (const auto& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

const std::vector<TeachingScenario>& teaching_scenarios() {
  return catalogue().scenarios;
}

const TeachingScenario* find_scenario(std::string_view id) {
  for (const auto& s : teaching_scenarios())
    if (s.id == id) return &s;
  return nullptr;
}

double slider_default(const Slider& slider, const Scenario& s) {
  for (const auto& w : s.workshop.sliders)
    if (w.name == slider.name) return w.value;
  return slider.min;
}

std::string toml_number(double value, bool integer) {
  if (integer) return std::to_string(static_cast<long long>(std::llround(value)));
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  std::string out(buf, r.ptr);
  if (out.find_first_of(".eE") == std::string::npos) out += ".0";
  return out;
}

nlohmann::json parse_json_object(std::string_view body) {
  constexpr int kMaxDepth = 32;
  if (body.find('\0') != std::string_view::npos)
    throw RequestError(400, "the request must be JSON in UTF-8 (the body has NUL bytes: "
                            "UTF-16 or binary?)");
  if (body.size() >= 2 &&
      ((body[0] == '\xFF' && body[1] == '\xFE') || (body[0] == '\xFE' && body[1] == '\xFF')))
    throw RequestError(400, "the request must be JSON in UTF-8, not UTF-16");
  // The field being read, for messages about numbers the parser refuses ("params.media").
  std::vector<std::string> path;
  const json::parser_callback_t track = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth)
      throw RequestError(400, "the JSON is nested more than " + std::to_string(kMaxDepth) +
                                  " levels deep");
    if (event == json::parse_event_t::key && depth >= 1) {
      path.resize(static_cast<std::size_t>(depth));
      path.back() = parsed.is_string() ? parsed.get<std::string>() : std::string();
    } else if (event == json::parse_event_t::object_end ||
               event == json::parse_event_t::array_end) {
      if (path.size() > static_cast<std::size_t>(depth))
        path.resize(static_cast<std::size_t>(depth));
    }
    return true;
  };
  const auto field = [&] {
    if (path.empty()) return std::string("the request");
    std::string name;
    for (const auto& p : path)
      name += (name.empty() ? "" : ".") + p;
    return "field " + shown(name);
  };
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), track);
  } catch (const json::out_of_range& e) {
    // A number the parser cannot hold (1e999): say where it is.
    std::string what = e.what();
    const auto at = what.find("number overflow");
    throw RequestError(400, "number out of range in " + field() + ": " +
                                utf8_prefix(at == std::string::npos ? what : what.substr(at), 200));
  } catch (const json::exception& e) {
    std::string what = e.what();
    const auto colon = what.find("parse error");
    throw RequestError(
        400, "malformed JSON: " +
                 utf8_prefix(colon == std::string::npos ? what : what.substr(colon), 300));
  }
  if (!doc.is_object()) throw RequestError(400, "the request must be a JSON object");
  return doc;
}

RunRequest parse_run_request(std::string_view body, const Limits& limits) {
  const json doc = parse_json_object(body);

  static const std::vector<std::string> fields = {"scenario", "params", "seed", "steps"};
  for (const auto& [key, value] : doc.items())
    if (std::find(fields.begin(), fields.end(), key) == fields.end())
      throw RequestError(400, "unknown field " + shown(key) + " (fields: " + join(fields) + ")");

  RunRequest req;
  const auto scenario = doc.find("scenario");
  if (scenario == doc.end() || !scenario->is_string())
    throw RequestError(400, "'scenario' is required and must be a string");
  const TeachingScenario* ts = find_scenario(scenario->get_ref<const std::string&>());
  if (!ts) {
    std::vector<std::string> ids;
    for (const auto& t : teaching_scenarios())
      ids.push_back(t.id);
    throw RequestError(400, "unknown scenario " + shown(scenario->get_ref<const std::string&>()) +
                                " (scenarios: " + join(ids) + ")");
  }
  req.scenario = ts->id;

  if (const auto params = doc.find("params"); params != doc.end()) {
    if (!params->is_object()) throw RequestError(400, "'params' must be an object");
    for (const auto& [key, value] : params->items()) {
      const Slider* slider = ts->slider(key);
      if (!slider)
        throw RequestError(400, "unknown parameter " + shown(key) + " for scenario '" + ts->id +
                                    "' (parameters: " + join(ts->sliders) + ")");
      if (!value.is_number()) throw RequestError(400, "parameter '" + key + "' must be a number");
      const double v = value.get<double>();
      if (!std::isfinite(v) || v < slider->min || v > slider->max)
        throw RequestError(400, "parameter '" + key + "' must be in " + range_text(*slider) +
                                    ", got " + dump(value));
      if (slider->integer && v != std::floor(v))
        throw RequestError(400,
                           "parameter '" + key + "' must be a whole number, got " + dump(value));
      req.params.emplace_back(key, v);
    }
    // Whitelist order, so equal requests give equal override lists.
    std::sort(req.params.begin(), req.params.end(), [&](const auto& a, const auto& b) {
      const auto pos = [&](const std::string& n) {
        return std::find(ts->sliders.begin(), ts->sliders.end(), n);
      };
      return pos(a.first) < pos(b.first);
    });
  }

  if (const auto seed = doc.find("seed"); seed != doc.end()) {
    if (!seed->is_number_integer() || seed->get<std::int64_t>() < 0 ||
        seed->get<std::uint64_t>() > limits.max_seed)
      throw RequestError(400, "'seed' must be a whole number in [0, " +
                                  std::to_string(limits.max_seed) + "]");
    req.seed = seed->get<std::uint64_t>();
  }
  if (const auto steps = doc.find("steps"); steps != doc.end()) {
    if (!steps->is_number_integer() || steps->get<std::int64_t>() < 1 ||
        steps->get<std::int64_t>() > limits.max_steps)
      throw RequestError(400, "'steps' must be a whole number in [1, " +
                                  std::to_string(limits.max_steps) + "]");
    req.steps = steps->get<std::int64_t>();
  }
  return req;
}

std::vector<std::string> overrides(const RunRequest& request) {
  std::vector<std::string> out;
  const TeachingScenario* ts = find_scenario(request.scenario);
  for (const auto& [name, value] : request.params) {
    const Slider* found = ts ? ts->slider(name) : nullptr;
    if (!found) found = find_slider(name);
    if (!found) throw RequestError(400, "unknown parameter " + shown(name));
    const Slider& s = *found;
    if (s.key == "events.subsidise_cost") {
      if (value > 0)
        out.push_back("events=[{ step = 0, action = \"subsidise_cost\", value = " +
                      toml_number(value, false) + " }]");
    } else {
      out.push_back(s.key + "=" + toml_number(value, s.integer));
    }
  }
  if (request.seed) out.push_back("seed=" + std::to_string(*request.seed));
  if (request.steps) out.push_back("time.steps=" + std::to_string(*request.steps));
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower(a) == lower(b);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return out;
    s.remove_prefix(p + 1);
  }
}

std::string kib(std::size_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB"
                           : std::to_string(bytes) + " bytes";
}

} // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

const char* reason_phrase(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 417:
    return "Expectation Failed";
  case 422:
    return "Unprocessable Content";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 503:
    return "Service Unavailable";
  case 505:
    return "HTTP Version Not Supported";
  default:
    return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
  }
}

HttpResponse error_response(int status, std::string_view message) noexcept {
  HttpResponse r;
  r.status = status;
  try {
    r.body = dump(json{{"error", valid_utf8(message)}});
  } catch (...) {
    r.body = R"({"error": "out of memory"})";
  }
  return r;
}

HttpParser::State HttpParser::fail(int status, std::string_view message) {
  error_ = error_response(status, message);
  state_ = State::failed;
  return state_;
}

bool HttpParser::wants_continue() const {
  return expect_continue_ && state_ == State::more && phase_ != Phase::head &&
         phase_ != Phase::complete;
}

void HttpParser::reset() {
  state_ = State::more;
  phase_ = Phase::head;
  head_.clear();
  line_.clear();
  remaining_ = 0;
  trailer_bytes_ = 0;
  keep_alive_ = true;
  expect_continue_ = false;
  request_ = {};
  error_ = {};
}

HttpParser::State HttpParser::parse_head() {
  // head_ ends with the empty line; split the rest into lines at CRLF.
  std::vector<std::string_view> lines;
  {
    std::string_view rest = std::string_view(head_).substr(0, head_.size() - 4);
    while (true) {
      const auto p = rest.find("\r\n");
      lines.push_back(rest.substr(0, p));
      if (p == std::string_view::npos) break;
      rest.remove_prefix(p + 2);
    }
  }
  for (const auto l : lines)
    if (l.find_first_of("\r\n") != std::string_view::npos)
      return fail(400, "malformed request: lines must end with CRLF");
  const auto parts = split(lines.front(), ' ');
  if (parts.size() != 3 || !is_token(parts[0]) || parts[0].size() > 32 || parts[1].empty())
    return fail(400, "malformed request line " + shown(lines.front()));
  for (const char c : parts[1])
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F)
      return fail(400, "malformed request target (control characters or spaces)");
  bool http10 = false;
  if (parts[2] == "HTTP/1.0")
    http10 = true;
  else if (parts[2].rfind("HTTP/", 0) == 0 && parts[2] != "HTTP/1.1")
    return fail(400, "only HTTP/1.1 and HTTP/1.0 are spoken here, not " + shown(parts[2]));
  else if (parts[2] != "HTTP/1.1")
    return fail(400, "malformed request line " + shown(lines.front()));
  request_.method = std::string(parts[0]);
  request_.target = std::string(parts[1]);

  std::optional<std::uint64_t> length;
  bool chunked = false, has_te = false;
  int hosts = 0;
  keep_alive_ = !http10;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty()) return fail(400, "malformed request: an empty header line");
    if (line.front() == ' ' || line.front() == '\t')
      return fail(400, "folded header lines are not accepted");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return fail(400, "malformed header line " + shown(line));
    const std::string_view value = trim(line.substr(colon + 1));
    for (const char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F)
        return fail(400, "header " + shown(line.substr(0, colon)) + " has control characters");
    if (request_.headers.size() >= limits_.max_headers)
      return fail(431, "more than " + std::to_string(limits_.max_headers) + " header fields");
    request_.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    const std::string name = lower(line.substr(0, colon));
    if (name == "host") {
      ++hosts;
    } else if (name == "content-length") {
      if (value.empty() || value.size() > 15 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(400, "malformed Content-Length " + shown(value));
      const std::uint64_t n = std::stoull(std::string(value));
      if (length && *length != n) return fail(400, "conflicting Content-Length headers");
      length = n;
    } else if (name == "transfer-encoding") {
      has_te = true;
      if (!iequals(value, "chunked"))
        return fail(400, "transfer encoding " + shown(value) +
                             " is not supported (send the body as it is, or chunked)");
      if (chunked) return fail(400, "repeated Transfer-Encoding header");
      chunked = true;
    } else if (name == "connection") {
      for (const auto token : split(value, ',')) {
        if (iequals(trim(token), "close"))
          keep_alive_ = false;
        else if (iequals(trim(token), "keep-alive") && http10)
          keep_alive_ = true;
      }
    } else if (name == "expect") {
      if (!iequals(value, "100-continue"))
        return fail(417, "expectation " + shown(value) + " is not supported");
      expect_continue_ = true;
    }
  }
  if (hosts > 1) return fail(400, "more than one Host header");
  if (hosts == 0 && !http10) return fail(400, "a Host header is required");
  if (has_te && length) return fail(400, "both Content-Length and Transfer-Encoding were sent");
  if (has_te && http10) return fail(400, "Transfer-Encoding is not allowed in HTTP/1.0");
  const std::string too_large =
      "the request body is larger than " + kib(limits_.max_body) + " (send less)";
  if (length && *length > limits_.max_body) return fail(413, too_large);
  if (chunked) {
    phase_ = Phase::chunk_size;
  } else if (length && *length > 0) {
    remaining_ = static_cast<std::size_t>(*length);
    request_.body.reserve(remaining_);
    phase_ = Phase::length_body;
  } else {
    phase_ = Phase::complete;
    state_ = State::done;
  }
  return state_;
}

HttpParser::State HttpParser::feed(std::string_view data, std::size_t& used) {
  used = 0;
  const std::string too_large =
      "the request body is larger than " + kib(limits_.max_body) + " (send less)";
  constexpr std::size_t kMaxLine = 1024; // a chunk-size or trailer line
  while (state_ == State::more && used < data.size()) {
    const std::string_view rest = data.substr(used);
    switch (phase_) {
    case Phase::head: {
      if (head_.empty() && (rest.front() == '\r' || rest.front() == '\n')) {
        ++used; // empty lines before a request are ignored
        break;
      }
      const std::size_t old = head_.size();
      const std::size_t room = limits_.max_head + 4 - old;
      const std::size_t take = std::min(room, rest.size());
      head_.append(rest.substr(0, take));
      const auto end = head_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
      if (end == std::string::npos) {
        used += take;
        if (head_.size() >= limits_.max_head + 4)
          return fail(431, "the request line and headers are larger than " + kib(limits_.max_head));
        break;
      }
      used += end + 4 - old;
      head_.resize(end + 4);
      parse_head();
      break;
    }
    case Phase::length_body: {
      const std::size_t take = std::min(remaining_, rest.size());
      request_.body.append(rest.substr(0, take));
      remaining_ -= take;
      used += take;
      if (remaining_ == 0) {
        phase_ = Phase::complete;
        state_ = State::done;
      }
      break;
    }
    case Phase::chunk_size:
    case Phase::chunk_crlf:
    case Phase::trailers: {
      const auto nl = rest.find('\n');
      const std::size_t take = nl == std::string_view::npos ? rest.size() : nl + 1;
      if (line_.size() + take > kMaxLine)
        return fail(phase_ == Phase::trailers ? 431 : 400, "a chunk line is too long");
      line_.append(rest.substr(0, take));
      used += take;
      if (nl == std::string_view::npos) break;
      std::string_view line(line_);
      line.remove_suffix(1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (phase_ == Phase::chunk_crlf) {
        if (!line.empty()) return fail(400, "malformed chunked body (no CRLF after a chunk)");
        phase_ = Phase::chunk_size;
      } else if (phase_ == Phase::trailers) {
        trailer_bytes_ += line_.size();
        if (trailer_bytes_ > limits_.max_head)
          return fail(431, "the trailers are larger than " + kib(limits_.max_head));
        if (line.empty()) {
          phase_ = Phase::complete;
          state_ = State::done;
        }
      } else {
        std::size_t digits = 0;
        std::uint64_t size = 0;
        while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]))) {
          if (digits >= 15) return fail(413, too_large);
          const char c = line[digits];
          size = size * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
          ++digits;
        }
        const std::string_view after = trim(line.substr(digits));
        if (digits == 0 || (!after.empty() && after.front() != ';'))
          return fail(400, "malformed chunk size " + shown(line));
        if (size > limits_.max_body - request_.body.size()) return fail(413, too_large);
        if (size == 0) {
          phase_ = Phase::trailers;
        } else {
          remaining_ = static_cast<std::size_t>(size);
          phase_ = Phase::chunk_data;
        }
      }
      line_.clear();
      break;
    }
    case Phase::chunk_data: {
      const std::size_t take = std::min(remaining_, rest.size());
      request_.body.append(rest.substr(0, take));
      remaining_ -= take;
      used += take;
      if (remaining_ == 0) phase_ = Phase::chunk_crlf;
      break;
    }
    case Phase::complete:
      return state_;
    }
  }
  return state_;
}

std::string random_code(std::size_t length) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < length; ++i)
    out += kAlphabet[pick(device)];
  return out;
}

bool trainer_path(std::string_view path) {
  return path == "/trainer" || path == "/trainer.html" || path == "/trainer.js" ||
         path.rfind("/api/trainer/", 0) == 0;
}

bool loopback_peer(std::string_view peer) {
  return peer.empty() || peer == "127.0.0.1" || peer == "::1" || peer == "::ffff:127.0.0.1";
}

std::string cookie(const HttpRequest& request, std::string_view name) {
  for (const auto& [k, v] : request.headers) {
    if (!iequals(k, "Cookie")) continue;
    for (const auto part : split(v, ';')) {
      const std::string_view item = trim(part);
      const auto eq = item.find('=');
      if (eq != std::string_view::npos && trim(item.substr(0, eq)) == name)
        return std::string(trim(item.substr(eq + 1)));
    }
  }
  return {};
}

const std::vector<std::string>& room_post_paths() {
  static const std::vector<std::string> paths = {"/api/join", "/api/keep", "/api/trainer/room",
                                                 "/api/trainer/reset"};
  return paths;
}

namespace {

/// The host part of a Host header or an origin ("127.0.0.1", "[::1]"), lower case, and its port.
bool split_host(std::string_view hostport, std::string& host, int& port) {
  std::string_view h = hostport, p;
  if (!h.empty() && h.front() == '[') {
    const auto close = h.find(']');
    if (close == std::string_view::npos) return false;
    p = h.substr(close + 1);
    h = h.substr(0, close + 1);
    if (!p.empty()) {
      if (p.front() != ':') return false;
      p.remove_prefix(1);
    }
  } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
    p = h.substr(colon + 1);
    h = h.substr(0, colon);
  }
  host = lower(h);
  if (p.empty()) {
    port = 80;
    return true;
  }
  if (p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  port = std::stoi(std::string(p));
  return true;
}

bool loopback_name(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

std::string served_hosts(const Site& site) {
  const std::string p = std::to_string(site.port);
  return "127.0.0.1:" + p + ", localhost:" + p + " or [::1]:" + p;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `text` ('+' as a space in a query); nullopt if malformed or with NUL.
std::optional<std::string> decode(std::string_view text, bool query) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (query && text[i] == '+') {
      out += ' ';
      continue;
    }
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    const char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out += c;
    i += 2;
  }
  return out;
}

/// Compares a presented code with the room's in time independent of where they differ.
bool same_code(std::string_view given, std::string_view code) {
  if (code.empty() || given.size() != code.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < code.size(); ++i)
    diff |= static_cast<unsigned>(static_cast<unsigned char>(given[i]) ^
                                  static_cast<unsigned char>(code[i]));
  return diff == 0;
}

bool is_ip_literal(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr a6{};
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6) == 1;
  }
  in_addr a4{};
  return ::inet_pton(AF_INET, host.c_str(), &a4) == 1;
}

/// The page answered to a request without the code, where a page was asked for.
HttpResponse code_page(int status, std::string_view message, bool trainer) {
  std::string text;
  for (const char c : valid_utf8(message)) {
    if (c == '<')
      text += "&lt;";
    else if (c == '>')
      text += "&gt;";
    else if (c == '&')
      text += "&amp;";
    else
      text += c;
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::string("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width\">"
                       "<title>csei workshop</title></head><body style=\"font-family:sans-serif;"
                       "max-width:30em;margin:3em auto\"><h1>csei workshop</h1><p>") +
           text + "</p><form method=\"get\"><label>" + (trainer ? "Trainer code" : "Join code") +
           " <input name=\"code\" autocomplete=\"off\" autofocus></label> "
           "<button>Enter</button></form></body></html>";
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; form-action 'self'; frame-ancestors 'none'; "
                         "base-uri 'none'");
  return r;
}

/// The media type check of POST /api/run: application/json, parameters allowed, charset utf-8.
bool json_content_type(std::string_view value) {
  const auto parts = split(value, ';');
  if (lower(trim(parts.front())) != "application/json") return false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view param = trim(parts[i]);
    if (param.empty()) continue;
    const auto eq = param.find('=');
    if (eq == std::string_view::npos || !is_token(trim(param.substr(0, eq)))) return false;
    if (lower(trim(param.substr(0, eq))) != "charset") continue;
    std::string_view v = trim(param.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    if (lower(v) != "utf-8") return false;
  }
  return true;
}

HttpResponse route(const HttpRequest& req, const std::string& path, const Site& site,
                   const Handlers& handlers, const Caller& caller) {
  const bool get = req.method == "GET" || req.method == "HEAD";
  const auto& posts = room_post_paths();
  const bool room_post = std::find(posts.begin(), posts.end(), path) != posts.end();
  if ((path == "/api/run" || room_post) && req.method == "POST") {
    const std::string* type = req.header("Content-Type");
    if (!type || !json_content_type(*type))
      throw RequestError(415, "send the request as JSON (Content-Type: application/json, "
                              "charset utf-8 if any), not " +
                                  (type ? shown(*type) : std::string("without a Content-Type")));
    if (room_post) {
      if (handlers.room)
        if (auto r = handlers.room(req, path, caller)) return std::move(*r);
      (void)parse_json_object(req.body);
      return error_response(404, "not found: " + shown(path));
    }
    const RunRequest run = parse_run_request(req.body, site.limits);
    if (handlers.run_as) return handlers.run_as(run, caller);
    if (handlers.run) return handlers.run(run);
    json echo = {{"scenario", run.scenario}, {"overrides", overrides(run)}};
    return {200, "application/json", dump(echo), {}};
  }
  if (!get) {
    const bool post = path == "/api/run" || room_post;
    HttpResponse r = error_response(405, "method " + shown(req.method) + " is not allowed here (" +
                                             (post ? "POST" : "GET") + " is)");
    r.headers.emplace_back("Allow", post ? "POST" : "GET, HEAD");
    return r;
  }
  if (handlers.room)
    if (auto r = handlers.room(req, path, caller)) return std::move(*r);
  if (handlers.get) return handlers.get(path);
  return error_response(404, "not found: " + shown(path));
}

HttpResponse answer(const HttpRequest& req, const Site& site, const Handlers& handlers) {
  // Host and Origin: only this server, addressed by a loopback name.
  const std::string* host_header = req.header("Host");
  if (!host_header) throw RequestError(400, "a Host header is required");
  std::string host;
  int port = 0;
  const auto known_host = [&](const std::string& h) {
    return loopback_name(h) || (site.room.lan && is_ip_literal(h));
  };
  if (!split_host(*host_header, host, port) || !known_host(host) || port != site.port)
    throw RequestError(403, "this server answers requests for " + served_hosts(site) +
                                " only, not for Host " + shown(*host_header));
  if (const std::string* origin = req.header("Origin")) {
    std::string ohost;
    int oport = 0;
    const std::string_view o = *origin;
    const bool ok = o.rfind("http://", 0) == 0 && split_host(o.substr(7), ohost, oport) &&
                    known_host(ohost) && oport == site.port;
    if (!ok)
      throw RequestError(403, "requests from other sites are refused (Origin " + shown(o) +
                                  "; this server is http://" + served_hosts(site) + ")");
  }

  // The target: an absolute path; the query only carries a code.
  std::string_view target = req.target;
  if (target.empty() || target.front() != '/')
    throw RequestError(400,
                       "the request target must be a path starting with '/', not " + shown(target));
  target = target.substr(0, target.find_first_of("?#"));
  if (target.find('\0') != std::string_view::npos)
    throw RequestError(400, "the path has a NUL byte");
  const std::optional<std::string> decoded = decode(target, false);
  if (!decoded) {
    for (std::size_t i = 0; i < target.size(); ++i)
      if (target[i] == '%' &&
          (i + 2 >= target.size() || hex_value(target[i + 1]) < 0 || hex_value(target[i + 2]) < 0))
        throw RequestError(400, "malformed percent-encoding in the path " + shown(target));
    throw RequestError(400, "the path has a NUL byte");
  }
  const std::string& path = *decoded;

  // The room: the join code off loopback, the trainer code on the trainer's routes.
  Caller caller;
  caller.peer = req.peer;
  caller.local = loopback_peer(req.peer);
  const std::string query_code = query_value(req.target, "code");
  const auto header_or = [&](const char* name) {
    const std::string* h = req.header(name);
    return h ? *h : std::string();
  };
  const bool query_join = same_code(query_code, site.room.join_code);
  const bool query_trainer = same_code(query_code, site.room.trainer_code);
  caller.trainer = query_trainer ||
                   same_code(header_or("X-Csei-Trainer"), site.room.trainer_code) ||
                   same_code(cookie(req, "csei_trainer"), site.room.trainer_code);
  const bool joined = caller.trainer || query_join ||
                      same_code(header_or("X-Csei-Code"), site.room.join_code) ||
                      same_code(cookie(req, "csei_code"), site.room.join_code);
  const bool page = path.rfind("/api/", 0) != 0;
  if (!caller.local && !joined) {
    const std::string why =
        query_code.empty() && header_or("X-Csei-Code").empty() && cookie(req, "csei_code").empty()
            ? "This workshop needs its join code: open the join address the "
              "trainer shows (it ends in ?code=...), or type the code here."
            : "That join code is not right: ask the trainer for the code.";
    if (page && req.method == "GET") return code_page(401, why, false);
    throw RequestError(401, why);
  }
  if (trainer_path(path) && !caller.trainer) {
    const std::string why = "The trainer view needs the trainer code (printed in the trainer's "
                            "terminal only).";
    if (page && req.method == "GET") return code_page(401, why, true);
    throw RequestError(401, why);
  }
  std::string participant = cookie(req, "csei_participant");
  if (participant.empty()) participant = header_or("X-Csei-Participant");
  if (participant.size() <= 64 &&
      std::all_of(participant.begin(), participant.end(), [](char c) { return hex_value(c) >= 0; }))
    caller.participant = participant;

  HttpResponse response = route(req, path, site, handlers, caller);
  if (query_trainer && response.status < 400)
    response.headers.emplace_back("Set-Cookie", "csei_trainer=" + site.room.trainer_code +
                                                    "; Path=/; HttpOnly; SameSite=Strict");
  else if (query_join && response.status < 400)
    response.headers.emplace_back("Set-Cookie", "csei_code=" + site.room.join_code +
                                                    "; Path=/; HttpOnly; SameSite=Strict");
  return response;
}

} // namespace

std::string query_value(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  for (const auto item : split(query, '&')) {
    const auto eq = item.find('=');
    if (item.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return {};
    return decode(item.substr(eq + 1), true).value_or(std::string());
  }
  return {};
}

HttpResponse handle_request(const HttpRequest& request, const Site& site,
                            const Handlers& handlers) noexcept {
  try {
    try {
      return answer(request, site, handlers);
    } catch (const RequestError& e) {
      HttpResponse r = error_response(e.status(), e.what());
      if (e.status() == 503) r.headers.emplace_back("Retry-After", "2");
      return r;
    } catch (const std::bad_alloc&) {
      HttpResponse r = error_response(503, "the server is out of memory: please run again later");
      r.headers.emplace_back("Retry-After", "2");
      return r;
    } catch (const std::exception& e) {
      return error_response(500, std::string("internal error: ") + e.what());
    }
  } catch (...) {
    return error_response(500, "internal error");
  }
}

} // namespace csei::workshop
