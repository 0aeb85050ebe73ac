// Fuzz target: the workshop server's request handling without a socket. The input is the bytes
// a client sends on one connection: they go through the HTTP parser (whole, and again in small
// pieces: both must read the same requests), every complete request through handle_request, and
// the input itself through parse_run_request as a body. A valid run request's overrides must
// load on its teaching scenario. Findings: a 5xx answer, an answer that is not valid UTF-8 JSON,
// pieces and whole disagreeing, an exception escaping.
#include "core/error.hpp"
#include "fuzz.hpp"
#include "scenario/load.hpp"
#include "workshop/request.hpp"

#include <nlohmann/json.hpp>
#include <vector>

namespace {

using namespace csei::workshop;

constexpr int kPort = 8765;

struct Read {
  std::vector<HttpRequest> requests;
  std::vector<int> refused; // statuses of a refused request (then the connection closes)
};

Read read_all(std::string_view bytes, std::size_t piece) {
  Read out;
  HttpParser parser;
  std::size_t at = 0;
  std::string pending;
  while (at < bytes.size() || !pending.empty()) {
    if (pending.empty()) {
      const std::size_t n = std::min(piece, bytes.size() - at);
      pending.assign(bytes.substr(at, n));
      at += n;
    }
    std::size_t used = 0;
    const auto state = parser.feed(pending, used);
    if (used > pending.size()) csei::fuzz::finding("the parser used more bytes than it got");
    pending.erase(0, used);
    if (state == HttpParser::State::more) {
      if (used == 0 && !pending.empty()) csei::fuzz::finding("the parser took nothing");
      continue;
    }
    if (state == HttpParser::State::failed) {
      out.refused.push_back(parser.error().status);
      return out;
    }
    out.requests.push_back(parser.take_request());
    parser.reset();
  }
  return out;
}

void check_answer(const HttpResponse& r, bool body_json) {
  if (r.status < 200 || r.status > 599) csei::fuzz::finding("status " + std::to_string(r.status));
  if (r.status >= 500 && r.status != 503)
    csei::fuzz::finding("status " + std::to_string(r.status) + ": " + r.body);
  if (valid_utf8(r.body) != r.body) csei::fuzz::finding("an answer that is not UTF-8: " + r.body);
  if (body_json && !nlohmann::json::accept(r.body))
    csei::fuzz::finding("an answer that is not JSON: " + r.body);
}

HttpResponse run_handler(const RunRequest& run) {
  const auto file =
      std::filesystem::path(CSEI_SOURCE_DIR) / "scenarios" / "teaching" / (run.scenario + ".toml");
  try {
    (void)csei::load_scenario(file, overrides(run));
  } catch (const csei::InputError& e) {
    csei::fuzz::finding(std::string("a valid request does not load: ") + e.what());
  }
  return {200, "application/json", "{}", {}};
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The input as the body of a run request.
  try {
    (void)parse_run_request(bytes);
  } catch (const RequestError& e) {
    if (e.status() != 400) csei::fuzz::finding("parse_run_request: " + std::to_string(e.status()));
    if (valid_utf8(e.what()) != e.what()) csei::fuzz::finding("a message that is not UTF-8");
  } catch (const std::exception& e) {
    csei::fuzz::finding(std::string("parse_run_request threw ") + e.what());
  }
  const std::string prefix = utf8_prefix(bytes, size % 50);
  if (prefix.size() > size % 50 || valid_utf8(prefix) != prefix)
    csei::fuzz::finding("utf8_prefix: not a valid prefix");

  // The input as the bytes of a connection.
  const Read whole = read_all(bytes, bytes.size() + 1);
  const Read pieces = read_all(bytes, 1 + size % 7);
  if (whole.requests.size() != pieces.requests.size() || whole.refused != pieces.refused)
    csei::fuzz::finding("the parser reads differently in pieces");
  for (std::size_t i = 0; i < whole.requests.size(); ++i) {
    const auto &a = whole.requests[i], &b = pieces.requests[i];
    if (a.method != b.method || a.target != b.target || a.headers != b.headers || a.body != b.body)
      csei::fuzz::finding("the parser reads a request differently in pieces");
  }
  Site site;
  site.port = kPort;
  Handlers handlers;
  handlers.run = run_handler;
  for (const auto& req : whole.requests) {
    check_answer(handle_request(req, site), true);
    const HttpResponse r = handle_request(req, site, handlers);
    check_answer(r, true);
  }
  return 0;
}
