// Workshop mode: request validation (only whitelisted parameters within their ranges, bounded
// run size) and the overrides a request becomes.
#include "helpers.hpp"
#include "workshop/request.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <new>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace csei;
using namespace csei::workshop;

namespace {

/// The status and message of the RequestError that parsing `body` throws.
std::pair<int, std::string> refusal(const std::string& body) {
  try {
    (void)parse_run_request(body);
  } catch (const RequestError& e) {
    return {e.status(), e.what()};
  }
  return {0, ""};
}

bool mentions(const std::string& message, const std::string& fragment) {
  return message.find(fragment) != std::string::npos;
}

} // namespace

TEST_CASE("a valid request becomes overrides in whitelist order", "[workshop]") {
  const RunRequest r = parse_run_request(
      R"({"scenario": "clusters_matter", "seed": 7, "steps": 24,
          "params": {"pioneers": 40, "cost_subsidy": 0.25, "peer_weight": 3, "facilitation": 4}})");
  CHECK(r.scenario == "clusters_matter");
  CHECK(r.seed == 7u);
  CHECK(r.steps == 24);
  const auto o = overrides(r);
  REQUIRE(o.size() == 6);
  CHECK(o[0] == "cluster_rules.peer_weight.weight=3.0");
  CHECK(o[1] == "cluster_rules.facilitation.rate=4.0");
  CHECK(o[2] == R"(events=[{ step = 0, action = "subsidise_cost", value = 0.25 }])");
  CHECK(o[3] == "innovations[0].pioneers=40");
  CHECK(o[4] == "seed=7");
  CHECK(o[5] == "time.steps=24");
}

TEST_CASE("only the scenario is required; a zero subsidy adds no event", "[workshop]") {
  CHECK(overrides(parse_run_request(R"({"scenario": "word_of_mouth"})")).empty());
  CHECK(overrides(
            parse_run_request(R"({"scenario": "clusters_matter", "params": {"cost_subsidy": 0}})"))
            .empty());
}

TEST_CASE("numbers are written so that TOML reads them back exactly", "[workshop]") {
  CHECK(toml_number(3.0, false) == "3.0");
  CHECK(toml_number(0.1, false) == "0.1");
  CHECK(toml_number(1e-7, false) == "1e-07");
  CHECK(toml_number(200.0, true) == "200");
}

TEST_CASE("bad requests are refused with 400 and a message naming the problem", "[workshop]") {
  struct Case {
    const char* body;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"scenario": "word_of_mouth", "params": {"colour": 1}})", "unknown parameter 'colour'"},
      {R"({"scenario": "tipping_points", "params": {"peer_weight": 2}})", "unknown parameter"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": 6.5}})",
       "must be in [1.0, 6.0]"},
      {R"({"scenario": "clusters_matter", "params": {"facilitation": -1}})", "must be in"},
      {R"({"scenario": "clusters_matter", "params": {"pioneers": 1e300}})", "must be in [0, 200]"},
      {R"({"scenario": "clusters_matter", "params": {"pioneers": 1.5}})", "whole number"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": "2"}})", "must be a number"},
      {R"({"scenario": "clusters_matter", "params": {"peer_weight": false}})", "must be a number"},
      {R"({"scenario": "clusters_matter", "params": 3})", "'params' must be an object"},
      {R"({"scenario": "word_of_mouth", "steps": 100000000})", "'steps' must be"},
      {R"({"scenario": "word_of_mouth", "steps": 2.5})", "'steps' must be"},
      {R"({"scenario": "word_of_mouth", "seed": -3})", "'seed' must be"},
      {R"({"scenario": "word_of_mouth", "seed": 18446744073709551615})", "'seed' must be"},
      {R"({"scenario": "word_of_mouth", "organisations": 1})", "unknown field 'organisations'"},
      {R"({"scenario": "../baseline_eu27"})", "unknown scenario '../baseline_eu27'"},
      {R"({"scenario": null})", "'scenario' is required"},
      {R"({})", "'scenario' is required"},
      {R"([1, 2])", "must be a JSON object"},
      {R"({"scenario": "word_of_mouth")", "malformed JSON"},
      {"", "malformed JSON"},
      {R"({"scenario": "word_of_mouth", "params": {"media": NaN}})", "malformed JSON"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto [status, message] = refusal(c.body);
    CHECK(status == 400);
    CHECK(mentions(message, c.fragment));
  }
}

TEST_CASE("long names are shortened in messages", "[workshop]") {
  const std::string name(5000, 'x');
  const auto [status, message] =
      refusal(R"({"scenario": "word_of_mouth", "params": {")" + name + R"(": 1}})");
  CHECK(status == 400);
  CHECK(message.size() < 300);
}

TEST_CASE("every teaching scenario loads and every slider of it applies", "[workshop]") {
  for (const auto& ts : teaching_scenarios()) {
    INFO(ts.id);
    const Scenario s = load_scenario(test::source_dir() / "scenarios/teaching" / (ts.id + ".toml"));
    for (const auto& name : ts.sliders) {
      const Slider* slider = find_slider(name);
      REQUIRE(slider);
      const double v = slider_default(*slider, s);
      CHECK(v >= slider->min);
      CHECK(v <= slider->max);
    }
    // Both ends of every range are accepted by the scenario's own validation.
    for (const bool top : {false, true}) {
      RunRequest r{ts.id, {}, std::nullopt, std::nullopt};
      for (const auto& name : ts.sliders) {
        const Slider* slider = find_slider(name);
        r.params.emplace_back(name, top ? slider->max : slider->min);
      }
      CHECK_NOTHROW(load_scenario(test::source_dir() / "scenarios/teaching" / (ts.id + ".toml"),
                                  overrides(r)));
    }
  }
}

// --- text from clients ----------------------------------------------------------------------

TEST_CASE("messages quote client text as valid UTF-8, cut on character boundaries",
          "[workshop][utf8]") {
  CHECK(valid_utf8("plain") == "plain");
  CHECK(valid_utf8("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(valid_utf8("a\xff"
                   "b") == "a\xef\xbf\xbd"
                           "b");
  CHECK(valid_utf8("\xc3") == "\xef\xbf\xbd"); // a sequence cut short
  CHECK(valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); // a surrogate
  CHECK(valid_utf8("\xc0\xaf").find("\xc0") == std::string::npos);             // overlong
  CHECK(valid_utf8("\xf4\x90\x80\x80").find("\xf4") == std::string::npos);     // above U+10FFFF
  CHECK(utf8_prefix(std::string(39, 'a') + "\xc3\xa9", 40) == std::string(39, 'a'));
  CHECK(utf8_prefix("\xe2\x82\xac\xe2\x82\xac", 4) == "\xe2\x82\xac");
  CHECK(shown(std::string(39, 'a') + "\xc3\xa9") == "'" + std::string(39, 'a') + "...'");
  // The messages of refused requests are valid UTF-8, whatever the request held.
  for (const std::string& body :
       {std::string(R"({"scenario": ")") + std::string(39, 'a') + "\xc3\xa9\"}",
        std::string("{\"\xff\": 1}"), std::string("\xff\xfe{\0\"\0", 6),
        std::string(R"({"scenario": "word_of_mouth", "params": {")") + std::string(39, 'b') +
            "\xe2\x82\xac\": 1}}"}) {
    const auto [status, message] = refusal(body);
    CHECK(status == 400);
    CHECK(valid_utf8(message) == message);
  }
}

TEST_CASE("numbers the JSON parser cannot hold are a 400 naming the field", "[workshop][utf8]") {
  CHECK(mentions(refusal(R"({"scenario": "word_of_mouth", "seed": 1e999})").second, "'seed'"));
  CHECK(mentions(refusal(R"({"scenario": "word_of_mouth", "params": {"media": -1e999}})").second,
                 "'params.media'"));
  CHECK(refusal(R"({"scenario": "word_of_mouth", "params": {"media": 1e999}})").first == 400);
  CHECK(mentions(refusal(std::string(40, '[') + std::string(40, ']')).second, "nested"));
}

// --- HTTP without a socket ------------------------------------------------------------------

namespace {

/// Feeds raw bytes to a parser n bytes at a time; the final state.
HttpParser::State feed_in_pieces(HttpParser& p, const std::string& raw, std::size_t n,
                                 std::string* rest = nullptr) {
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t used = 0;
    const auto piece = std::string_view(raw).substr(pos, n);
    const auto state = p.feed(piece, used);
    pos += used;
    if (state != HttpParser::State::more) {
      if (rest) *rest = raw.substr(pos);
      return state;
    }
    REQUIRE(used == piece.size());
  }
  return p.state();
}

Site test_site() {
  Site site;
  site.port = 8765;
  return site;
}

HttpRequest request(std::string method, std::string target, std::string body = "",
                    std::string type = "application/json") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = {{"Host", "127.0.0.1:8765"}};
  if (!type.empty()) r.headers.emplace_back("Content-Type", type);
  r.body = std::move(body);
  return r;
}

} // namespace

TEST_CASE("the HTTP parser reads requests however the bytes come", "[workshop][http]") {
  const std::string body = R"({"scenario": "word_of_mouth"})";
  const std::string chunked =
      "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nTransfer-Encoding: "
      "chunked\r\n\r\n5\r\n" +
      body.substr(0, 5) + "\r\n" + "18;ext=1\r\n" + body.substr(5) +
      "\r\n0\r\nTrailer: x\r\n\r\nGET / HTTP/1.1\r\n";
  for (const std::size_t n : {std::size_t(1), std::size_t(3), std::size_t(4096)}) {
    HttpParser p;
    std::string rest;
    REQUIRE(feed_in_pieces(p, chunked, n, &rest) == HttpParser::State::done);
    CHECK(p.request().method == "POST");
    CHECK(p.request().body == body);
    CHECK(*p.request().header("host") == "127.0.0.1:8765");
    CHECK(p.keep_alive());
    CHECK(rest == "GET / HTTP/1.1\r\n"); // the next request, pipelined
  }
  HttpParser p;
  REQUIRE(feed_in_pieces(p, "GET / HTTP/1.0\r\nHost: h\r\n\r\n", 7) == HttpParser::State::done);
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("the HTTP parser refuses oversized and malformed requests early", "[workshop][http]") {
  const auto refused = [](const std::string& raw) {
    HttpParser p;
    const auto state = feed_in_pieces(p, raw, 512);
    return state == HttpParser::State::failed ? p.error().status : 0;
  };
  const std::string head = "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:8765\r\n";
  // A body over 16 KiB is refused on its Content-Length or its first chunk, before it comes.
  CHECK(refused(head + "Content-Length: 16385\r\n\r\n") == 413);
  CHECK(refused(head + "Transfer-Encoding: chunked\r\n\r\n4001\r\n") == 413);
  CHECK(refused(head + "Transfer-Encoding: chunked\r\n\r\n" + "3000\r\n" +
                std::string(0x3000, ' ') + "\r\n1001\r\n") == 413);
  CHECK(refused(head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n") == 413);
  CHECK(refused(head + "Transfer-Encoding: chunked\r\n\r\nxyz\r\n") == 400);
  CHECK(refused(head + "Transfer-Encoding: gzip\r\n\r\n") == 400);
  CHECK(refused(head + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(refused(head + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  CHECK(refused(head + "Content-Length: +1\r\n\r\n") == 400);
  CHECK(refused(head + "X: " + std::string(9000, 'x') + "\r\n\r\n") == 431);
  CHECK(refused(head + "X: " + std::string(9000, 'x')) == 431); // never ends: refused anyway
  CHECK(refused("GET / HTTP/1.1\r\n\r\n") == 400);              // no Host
  CHECK(refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == 400);
  CHECK(refused("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n") == 400);
  CHECK(refused("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n") == 400);
  CHECK(refused("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n") == 400);
  HttpParser p;
  (void)feed_in_pieces(p, "\xff\xfe garbage\r\n\r\n", 3);
  REQUIRE(p.state() == HttpParser::State::failed);
  CHECK(valid_utf8(p.error().body) == p.error().body);
}

TEST_CASE("handle_request checks host, origin, method, path and media type", "[workshop][http]") {
  const Site site = test_site();
  const std::string body = R"({"scenario": "word_of_mouth", "params": {"media": 0.2}})";
  const auto run = handle_request(request("POST", "/api/run?x=1", body), site);
  CHECK(run.status == 200);
  CHECK(mentions(run.body, "innovations[0].p=0.2"));
  CHECK(handle_request(request("POST", "/api/run", body, "application/json; charset=UTF-8"), site)
            .status == 200);
  CHECK(handle_request(request("POST", "/api/run", body, "application/jsonx"), site).status == 415);
  CHECK(handle_request(request("POST", "/api/run", body, "application/json; charset=latin1"), site)
            .status == 415);
  CHECK(handle_request(request("POST", "/api/run", body, ""), site).status == 415);
  CHECK(handle_request(request("PUT", "/api/run", body), site).status == 405);
  CHECK(handle_request(request("GET", "/%zz"), site).status == 400);
  CHECK(handle_request(request("GET", "/a%00b"), site).status == 400);
  CHECK(handle_request(request("GET", "*"), site).status == 400);
  CHECK(handle_request(request("GET", "/index.html"), site).status == 404); // no get handler

  for (const auto& [name, value, status] : std::vector<std::tuple<std::string, std::string, int>>{
           {"Host", "evil.example:8765", 403},
           {"Host", "127.0.0.1", 403},
           {"Host", "localhost:8765", 200},
           {"Host", "[::1]:8765", 200},
           {"Origin", "http://evil.example", 403},
           {"Origin", "null", 403},
           {"Origin", "http://localhost:8765", 200},
           {"Origin", "http://127.0.0.1:8766", 403}}) {
    HttpRequest r = request("POST", "/api/run", body);
    if (name == "Host")
      r.headers.front().second = value;
    else
      r.headers.emplace_back(name, value);
    CHECK(handle_request(r, site).status == status);
  }
  HttpRequest no_host = request("GET", "/");
  no_host.headers.erase(no_host.headers.begin());
  CHECK(handle_request(no_host, site).status == 400);
}

TEST_CASE("handle_request never throws and answers 4xx with a JSON message", "[workshop][http]") {
  const Site site = test_site();
  std::mt19937 rng(11);
  const auto junk = [&](std::size_t max) {
    std::string s(rng() % max, ' ');
    for (auto& c : s)
      c = static_cast<char>(rng() % 256);
    return s;
  };
  // Handlers that fail: their RequestError status, or 503 when out of memory.
  Handlers failing;
  failing.run = [](const RunRequest&) -> HttpResponse { throw std::bad_alloc(); };
  failing.get = [](const std::string&) -> HttpResponse { throw RequestError(404, "gone \xff"); };
  CHECK(
      handle_request(request("POST", "/api/run", R"({"scenario": "word_of_mouth"})"), site, failing)
          .status == 503);
  CHECK(handle_request(request("GET", "/x"), site, failing).status == 404);
  for (int i = 0; i < 3000; ++i) {
    std::string target = "/";
    target.append(junk(40));
    HttpRequest r = request(i % 3 == 0 ? "POST" : "GET", target, junk(300),
                            i % 2 ? std::string("application/json") : junk(20));
    if (i % 3 == 0) r.target = "/api/run";
    if (i % 7 == 0) r.headers.emplace_back("Origin", junk(30));
    const HttpResponse res = handle_request(r, site);
    CHECK(res.status >= 200);
    CHECK(res.status < 500);
    CHECK(valid_utf8(res.body) == res.body);
    if (res.status >= 400) CHECK(mentions(res.body, "\"error\""));
  }
}

TEST_CASE("the room: the join code off loopback, the trainer code on the trainer's routes",
          "[workshop][http][room]") {
  Site site = test_site();
  site.room.lan = true;
  site.room.join_code = "K7M2QX";
  site.room.trainer_code = "ADKPQVUFVJXP";
  Caller seen;
  Handlers handlers;
  handlers.room = [&](const HttpRequest&, const std::string& path,
                      const Caller& c) -> std::optional<HttpResponse> {
    seen = c;
    return HttpResponse{200, "text/plain", path, {}};
  };
  const auto get = [&](const std::string& target, const std::string& peer,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
    HttpRequest r = request("GET", target);
    r.peer = peer;
    for (auto& h : extra)
      r.headers.push_back(h);
    return handle_request(r, site, handlers);
  };
  // Loopback (and a request without a peer, as in fuzzing) needs no join code.
  CHECK(get("/", "127.0.0.1").status == 200);
  CHECK(get("/", "::1").status == 200);
  CHECK(get("/", "").status == 200);
  CHECK(seen.local);
  // Another address: 401 without the code, a page asking for it where a page was asked for.
  const HttpResponse page = get("/", "127.0.0.2");
  CHECK(page.status == 401);
  CHECK(page.content_type.rfind("text/html", 0) == 0);
  CHECK(mentions(page.body, "<form"));
  CHECK(get("/api/scenarios", "10.0.0.5").status == 401);
  CHECK(get("/api/scenarios?code=k7m2qx", "10.0.0.5").status == 401);
  CHECK(get("/api/scenarios?code=K7M2Q", "10.0.0.5").status == 401);
  CHECK(get("/api/scenarios", "10.0.0.5", {{"Cookie", "csei_code=WRONG1"}}).status == 401);
  // With the code: in the query (the answer sets the cookie), a cookie or a header.
  const HttpResponse in = get("/?code=K7M2QX", "10.0.0.5");
  CHECK(in.status == 200);
  CHECK(std::any_of(in.headers.begin(), in.headers.end(), [](const auto& h) {
    return h.first == "Set-Cookie" && h.second.rfind("csei_code=K7M2QX;", 0) == 0 &&
           mentions(h.second, "HttpOnly") && mentions(h.second, "SameSite=Strict");
  }));
  CHECK(get("/api/scenarios", "10.0.0.5", {{"Cookie", "a=b; csei_code=K7M2QX"}}).status == 200);
  CHECK(get("/api/scenarios", "10.0.0.5", {{"X-Csei-Code", "K7M2QX"}}).status == 200);
  CHECK(!seen.local);
  CHECK(seen.peer == "10.0.0.5");
  CHECK(!seen.trainer);
  // The trainer's routes: the trainer code, from everyone; the join code is not enough.
  CHECK(get("/trainer", "127.0.0.1").status == 401);
  CHECK(get("/api/trainer/state", "10.0.0.5", {{"X-Csei-Code", "K7M2QX"}}).status == 401);
  CHECK(get("/trainer?code=K7M2QX", "127.0.0.1").status == 401);
  CHECK(get("/trainer?code=ADKPQVUFVJXP", "127.0.0.1").status == 200);
  CHECK(seen.trainer);
  CHECK(get("/api/trainer/state", "10.0.0.5", {{"X-Csei-Trainer", "ADKPQVUFVJXP"}}).status == 200);
  // A participant's token: hex only.
  get("/", "127.0.0.1", {{"Cookie", "csei_participant=00ff"}});
  CHECK(seen.participant == "00ff");
  get("/", "127.0.0.1", {{"Cookie", "csei_participant=../x"}});
  CHECK(seen.participant.empty());
  // Hosts: IP literals with --lan, names still refused.
  CHECK(get("/", "127.0.0.1", {}).status == 200);
  HttpRequest r = request("GET", "/");
  r.headers.front().second = "192.168.1.20:8765";
  CHECK(handle_request(r, site, handlers).status == 200);
  r.headers.front().second = "evil.example:8765";
  CHECK(handle_request(r, site, handlers).status == 403);
  site.room.lan = false;
  r.headers.front().second = "192.168.1.20:8765";
  CHECK(handle_request(r, site, handlers).status == 403);
  // Empty codes open nothing.
  site.room = {};
  CHECK(get("/?code=", "10.0.0.5").status == 401);
  CHECK(get("/trainer?code=", "127.0.0.1").status == 401);
}

TEST_CASE("room helpers: codes, query values, cookies", "[workshop][room]") {
  const std::string code = random_code(12);
  CHECK(code.size() == 12);
  CHECK(code.find_first_not_of("ABCDEFGHJKMNPQRSTUVWXYZ23456789") == std::string::npos);
  CHECK(random_code(12) != code);
  CHECK(query_value("/?code=AB%2012&x=1", "code") == "AB 12");
  CHECK(query_value("/?x=1&code=A+B", "code") == "A B");
  CHECK(query_value("/?codex=1", "code").empty());
  CHECK(query_value("/?code=%zz", "code").empty());
  CHECK(query_value("/?code=a%00", "code").empty());
  CHECK(query_value("/path", "code").empty());
  CHECK(loopback_peer("127.0.0.1"));
  CHECK(loopback_peer("::ffff:127.0.0.1"));
  CHECK(!loopback_peer("127.0.0.2"));
  CHECK(trainer_path("/api/trainer/state"));
  CHECK(!trainer_path("/trainers"));
  HttpRequest r;
  r.headers = {{"Cookie", "a=1; csei_code = X2 "}, {"cookie", "b=2"}};
  CHECK(cookie(r, "csei_code") == "X2");
  CHECK(cookie(r, "b") == "2");
  CHECK(cookie(r, "c").empty());
}
