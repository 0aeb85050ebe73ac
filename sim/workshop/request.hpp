// Workshop mode: the whitelist of what a participant may change (sliders mapped to scenario key
// paths, with ranges), the teaching scenarios they apply to, and the validation of a run request
// (JSON) into `--set` overrides. Nothing here runs a simulation or touches the network.
#pragma once

#include "scenario/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csei::workshop {

/// A refused request: the HTTP status to answer with and a message for the participant.
class RequestError : public std::runtime_error {
public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  [[nodiscard]] int status() const noexcept { return status_; }

private:
  int status_;
};

/// A parameter participants may set: an API name mapped to scenario values, within a range.
/// Declared in the teaching scenario's `[workshop]` table (scenario.hpp, WorkshopSlider).
struct Slider {
  std::string name;  // API name, e.g. "peer_weight"
  std::string label; // shown next to the control
  std::string help;  // one sentence for the participant
  std::string key;   // the scenario key path it sets ("events.subsidise_cost": see overrides())
  double min = 0.0, max = 1.0, step = 0.1;
  bool integer = false;
};

/// Every slider of the teaching scenarios (the first declaration of each name): the whitelist.
[[nodiscard]] const std::vector<Slider>& sliders();
[[nodiscard]] const Slider* find_slider(std::string_view name);

/// A teaching scenario (<scenario folder>/<id>.toml with a `[workshop]` table) and its sliders.
struct TeachingScenario {
  std::string id;
  std::string title;
  std::string summary;
  std::vector<std::string> sliders; // names, in the file's order
  std::vector<Slider> specs;        // the sliders as this scenario declares them
  [[nodiscard]] const Slider* slider(std::string_view name) const;
};

/// The teaching scenarios, by their `order` then title: those of the folder last given to
/// load_teaching_scenarios, else of the source tree's scenarios/teaching (none if unreadable).
[[nodiscard]] const std::vector<TeachingScenario>& teaching_scenarios();
[[nodiscard]] const TeachingScenario* find_scenario(std::string_view id);
/// Reads every scenario file of `dir` with a `[workshop]` table; throws InputError (file, line,
/// key) for an invalid one, or if none has the table.
void load_teaching_scenarios(const std::filesystem::path& dir);

/// The value a slider has in a loaded scenario (its default on the page).
[[nodiscard]] double slider_default(const Slider& slider, const Scenario& scenario);

/// Bounds on what one request may ask for.
struct Limits {
  std::int64_t max_steps = 240;           // steps a request may ask for
  std::int64_t max_org_steps = 4'000'000; // organisations x (steps + 1) of one run
  std::uint64_t max_seed = 1'000'000'000;
};

/// A validated run request.
struct RunRequest {
  std::string scenario;                               // a teaching scenario id
  std::vector<std::pair<std::string, double>> params; // slider name and value, whitelist order
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> steps;
};

/// Parses and validates the JSON body of POST /api/run:
///   {"scenario": "clusters_matter", "params": {"peer_weight": 3.5}, "seed": 7, "steps": 60}
/// Only "scenario" is required. Throws RequestError(400) naming the first problem.
[[nodiscard]] RunRequest parse_run_request(std::string_view body, const Limits& limits = {});

/// The `--set` overrides that carry out a validated request (key path = TOML value).
[[nodiscard]] std::vector<std::string> overrides(const RunRequest& request);

/// Formats a number as a TOML value: an integer, or a float that reads back exactly.
[[nodiscard]] std::string toml_number(double value, bool integer);

// ---------------------------------------------------------------------------------------------
// Text from clients: every message that quotes a request is valid UTF-8.

/// `text` with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
[[nodiscard]] std::string valid_utf8(std::string_view text);
/// At most `max_bytes` of valid_utf8(text), cut on a code-point boundary.
[[nodiscard]] std::string utf8_prefix(std::string_view text, std::size_t max_bytes);
/// A client's name for messages: quoted, at most 40 bytes (whole code points), "..." if cut.
[[nodiscard]] std::string shown(std::string_view text);

// ---------------------------------------------------------------------------------------------
// HTTP, without a socket: the framing of a request (an incremental parser with limits) and the
// answer to a complete request. The server (server.hpp) only moves bytes.

struct HttpLimits {
  std::size_t max_head = 8 * 1024;  // bytes of the request line and headers together
  std::size_t max_headers = 64;     // header fields
  std::size_t max_body = 16 * 1024; // bytes of a body (decoded, chunked or not)
};

struct HttpRequest {
  std::string method;
  std::string target;                                       // as sent: path and query
  std::vector<std::pair<std::string, std::string>> headers; // names as sent, values trimmed
  std::string body;
  /// The client's address as the server saw it ("127.0.0.2", "::1"); empty: unknown, taken as
  /// loopback (requests built without a socket, in tests and fuzzing).
  std::string peer;
  /// The value of the header `name` (case-insensitive); nullptr if absent.
  [[nodiscard]] const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // extra headers
};

/// The reason phrase of an HTTP status ("Not Found").
[[nodiscard]] const char* reason_phrase(int status);
/// A JSON error answer: {"error": message}, the message made valid UTF-8.
[[nodiscard]] HttpResponse error_response(int status, std::string_view message) noexcept;

/// Reads one request from the bytes of a connection, as they come. feed() takes what it can of
/// `data` (the rest belongs to the next request) and says whether the request is complete or
/// refused; refused requests carry the status and message to answer with (then close).
class HttpParser {
public:
  enum class State { more, done, failed };
  explicit HttpParser(HttpLimits limits = {}) : limits_(limits) {}

  /// Consumes bytes of `data`; `used` says how many.
  State feed(std::string_view data, std::size_t& used);
  [[nodiscard]] State state() const { return state_; }
  /// True once the head is read (the body, if any, may still come).
  [[nodiscard]] bool head_done() const { return phase_ > Phase::head; }
  /// True if nothing of a request has arrived yet.
  [[nodiscard]] bool empty() const { return phase_ == Phase::head && head_.empty(); }
  /// The head asked for "Expect: 100-continue" and the body is still to come.
  [[nodiscard]] bool wants_continue() const;
  /// The request (valid once done).
  [[nodiscard]] const HttpRequest& request() const { return request_; }
  [[nodiscard]] HttpRequest take_request() { return std::move(request_); }
  /// Whether the connection may carry another request after this one (HTTP/1.1 without
  /// "Connection: close", or HTTP/1.0 with "keep-alive").
  [[nodiscard]] bool keep_alive() const { return keep_alive_; }
  /// The answer to a refused request (valid once failed).
  [[nodiscard]] const HttpResponse& error() const { return error_; }
  /// Forgets the request, for the next one on the connection.
  void reset();

private:
  enum class Phase { head, length_body, chunk_size, chunk_data, chunk_crlf, trailers, complete };
  State fail(int status, std::string_view message);
  State parse_head();

  HttpLimits limits_;
  State state_ = State::more;
  Phase phase_ = Phase::head;
  std::string head_;          // bytes of the head so far
  std::string line_;          // a chunk-size or trailer line so far
  std::size_t remaining_ = 0; // body or chunk bytes still to come
  std::size_t trailer_bytes_ = 0;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  HttpRequest request_;
  HttpResponse error_;
};

/// The room of a workshop: who may come in. Off loopback (a peer other than 127.0.0.1 or ::1)
/// every request must carry the join code (or the trainer code): `?code=` in the address, the
/// cookie `csei_code` (set by an answer to a page asked for with a valid `?code=`) or the header
/// `X-Csei-Code`. The trainer's routes (/trainer, /api/trainer/...) need the trainer code from
/// everyone, loopback included: `?code=`, the cookie `csei_trainer` or the header
/// `X-Csei-Trainer`. Empty codes open nothing.
struct Room {
  bool lan = false; // listening on every address: Host and Origin may also be IP literals
  std::string join_code;
  std::string trainer_code;
};

/// Who sent a request, once handle_request has let it in.
struct Caller {
  bool local = true;       // from 127.0.0.1 or ::1 (or an unknown address)
  bool trainer = false;    // carried the trainer code
  std::string participant; // the cookie `csei_participant` or header `X-Csei-Participant`
  std::string peer;        // the client's address (for rate limits of callers without a name)
};

/// A random code of `length` characters from an alphabet without look-alikes (no 0/O, 1/I/L).
[[nodiscard]] std::string random_code(std::size_t length);
/// Whether `path` is one of the trainer's routes.
[[nodiscard]] bool trainer_path(std::string_view path);
/// Whether a peer address is loopback in the room's sense (127.0.0.1, ::1, ::ffff:127.0.0.1, "").
[[nodiscard]] bool loopback_peer(std::string_view peer);
/// The value of the cookie `name` in the request's Cookie headers ("" if absent).
[[nodiscard]] std::string cookie(const HttpRequest& request, std::string_view name);
/// The value of `name` in the query of a target ("/?code=AB12&x=1"), percent-decoded ("" if
/// absent or malformed).
[[nodiscard]] std::string query_value(std::string_view target, std::string_view name);

/// Parses the JSON object of a POST body with the checks of parse_run_request (UTF-8, depth,
/// numbers in range); throws RequestError(400).
[[nodiscard]] nlohmann::json parse_json_object(std::string_view body);

/// Where the server listens, for the checks of Host and Origin.
struct Site {
  int port = 0;
  std::size_t max_body = 16 * 1024; // for the message of a 413
  Limits limits;
  Room room;
};

/// The paths that take a POST with a JSON body besides /api/run (answered by Handlers::room).
[[nodiscard]] const std::vector<std::string>& room_post_paths();

/// What a valid request turns into. Empty functions give answers without running anything (for
/// tests and fuzzing): run echoes the overrides, get answers 404.
struct Handlers {
  std::function<HttpResponse(const RunRequest&)> run;       // POST /api/run
  std::function<HttpResponse(const std::string& path)> get; // GET or HEAD, path decoded
  /// POST /api/run with the caller; used instead of `run` when set.
  std::function<HttpResponse(const RunRequest&, const Caller&)> run_as;
  /// Every other request with the caller (the POSTs of room_post_paths() and every GET or
  /// HEAD), before `get`: nullopt passes the request on to `get`.
  std::function<std::optional<HttpResponse>(const HttpRequest&, const std::string& path,
                                            const Caller&)>
      room;
};

/// Answers one complete request; never throws. Every request is checked here, in this order:
/// Host must name this server on a loopback address (127.0.0.1, localhost, [::1]; with
/// site.room.lan also any IP literal) and its port,
/// an Origin header must be http:// with such a host (403 otherwise; DNS rebinding, cross-site
/// posts); the target must be an absolute path (percent-decoding valid, no NUL; 400); then the
/// room (Room above): off loopback without the join code, or on a trainer route without the
/// trainer code, 401 (a page asking for the code where a page was asked for; a valid `?code=`
/// sets its cookie in the answer); POST only on /api/run and room_post_paths(), GET and HEAD on
/// everything else (405); a POST needs Content-Type application/json with optional parameters,
/// charset only utf-8 (415), and /api/run a body that parse_run_request accepts (400). Exceptions
/// of the handlers become their RequestError status, 503 when out of memory, 500 otherwise; every
/// non-2xx answer is {"error": message}.
[[nodiscard]] HttpResponse handle_request(const HttpRequest& request, const Site& site,
                                          const Handlers& handlers = {}) noexcept;

} // namespace csei::workshop
