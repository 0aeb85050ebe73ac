// Workshop mode: an HTTP server (127.0.0.1 only; every address with --lan, the join code
// required off loopback) serving the page in web/ and a small JSON API that runs teaching
// scenarios with whitelisted overrides:
//   GET  /api/scenarios        the teaching scenarios, their sliders (ranges, defaults)
//   POST /api/run              {"scenario", "params", "seed", "steps"} -> the run's series
//   GET  /api/export/<id>.h5   the HDF5 file of an earlier run of the caller (run again: exact)
//   GET  /api/status           workers, queued and running jobs, open connections
//   GET  /api/room             the room: joined as whom, scenario, locked sliders, revealed
//   POST /api/join             {"name"}: joins the room (a cookie names the participant)
//   POST /api/keep             {"id", "kept"}: marks one of the caller's runs kept
//   GET  /api/runs             the caller's runs; the class's too once revealed
//   GET  /trainer              the trainer view (trainer code), with its API:
//   GET  /api/trainer/state    participants, every run of the session, the room, the QR code
//   POST /api/trainer/room     {"scenario", "locked", "reveal"}
//   POST /api/trainer/reset    {}: forgets the session's runs, unlocks, hides
//   GET  /api/trainer/export.csv  every run of the session, one a row
// Runs are queued (bounded) for a pool of workers sized to the cores; a full queue is a 503.
// Every request is answered by handle_request (request.hpp); connections are read by one thread
// with deadlines, so slow or idle clients hold no thread.
#pragma once

#include "workshop/request.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace csei::workshop {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8765; // 0: any free port
  std::filesystem::path web_dir;
  std::filesystem::path scenario_dir; // scenarios/teaching
  std::size_t workers = 0;            // 0: every core
  std::size_t max_queued = 32;        // runs waiting for a worker; more is a 503
  double run_seconds = 5.0;           // wall time one run may take
  double wait_seconds = 20.0;         // time a run may wait in the queue
  std::size_t http_threads = 16;      // run and export requests answered at once
  std::size_t remembered_runs = 256;  // runs that can still be exported
  std::size_t max_body = 16 * 1024;   // bytes of a request body (decoded, chunked or not)
  double header_seconds = 10.0;       // time a request's line and headers may take to arrive
  double body_seconds = 10.0;         // time its body may take once the headers are in
  double idle_seconds = 5.0;          // time a kept-alive connection may wait for its next request
  double write_seconds = 30.0;        // time an answer may take to be read by the client
  std::size_t max_connections = 512;  // open connections in all; more are a 503 (or push out an
                                      // idle or slow one waiting for more than a second)
  std::size_t max_per_client = 256;   // open connections from one address, likewise
  Limits limits;
  // The room (csei workshop --lan; request.hpp, Room).
  bool lan = false;                   // listen on every address; the join code off loopback
  std::string join_code;              // empty: a random one (6 characters)
  std::string trainer_code;           // empty: a random one (12 characters)
  double connected_seconds = 20.0;    // a participant seen this recently counts as connected
  double runs_per_minute = 30.0;      // runs one participant (or address) may start, sustained
  double run_burst = 10.0;            // ... and in a burst
  std::size_t max_participants = 200; // names given; more get a 503
  std::size_t session_runs = 5000;    // runs the session keeps for the trainer; older ones go
};

class Server {
public:
  /// Reads the page's files and the teaching scenarios; throws InputError if one is missing or
  /// invalid.
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listening socket; returns the port. Throws std::runtime_error on failure.
  int bind();
  /// Serves until stop() is called (from another thread or a signal-safe loop), then finishes
  /// the queued runs and closes every connection. Returns false on failure.
  bool serve();
  /// Asks serve() to return.
  void stop();
  [[nodiscard]] std::string url() const;
  /// The address participants open (with the join code): the machine's first non-loopback
  /// IPv4 address with --lan (127.0.0.1 if it has none).
  [[nodiscard]] std::string join_url() const;
  /// The trainer view on this machine, with the trainer code.
  [[nodiscard]] std::string trainer_url() const;
  [[nodiscard]] const std::string& join_code() const;
  [[nodiscard]] const std::string& trainer_code() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace csei::workshop
