// csei workshop: the local server of workshop mode (sim/workshop/server.hpp).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "workshop/qr.hpp"
#include "workshop/server.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace csei {
namespace {

/// Where the page and the teaching scenarios are: <prefix>/share/csei beside an installed
/// program (<prefix>/bin/csei), found from the program's own location; else, for a program in a
/// build tree, the source tree it was built from.
std::filesystem::path data_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto share = exe.parent_path().parent_path() / "share" / "csei";
    if (std::filesystem::exists(share / "web" / "index.html", ec)) return share;
  }
  return CSEI_SOURCE_DIR;
}

/// Opens url in the desktop's browser (xdg-open, no shell); a failure only prints a hint.
void open_browser(const std::string& url) {
  std::string program = "xdg-open";
  std::string arg = url;
  char* argv[] = {program.data(), arg.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv, environ) != 0) {
    std::fprintf(stderr, "could not open a browser: open %s yourself\n", url.c_str());
    return;
  }
  std::thread([pid] {
    int status = 0;
    waitpid(pid, &status, 0);
  }).detach();
}

/// A limit from the environment (CSEI_WORKSHOP_*): a number in [lo, hi], or `fallback` if unset.
double env_number(const char* name, double fallback, double lo, double hi) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) {
    char range[96];
    std::snprintf(range, sizeof range, "must be a number in [%g, %g], got '", lo, hi);
    throw InputError({std::string("environment variable ") + name, 0, 0, ""},
                     std::string(range) + text + "'");
  }
  return v;
}

} // namespace

int command_workshop(const WorkshopOptions& o) {
  try {
    workshop::ServerOptions so;
    so.port = o.port;
    so.workers = o.workers;
    so.max_queued = o.max_queued;
    so.run_seconds = o.run_seconds;
    // Limits of the HTTP side (README, "Workshop mode"); the tests shorten them.
    so.header_seconds = so.body_seconds =
        env_number("CSEI_WORKSHOP_READ_SECONDS", so.header_seconds, 0.1, 3600);
    so.idle_seconds = env_number("CSEI_WORKSHOP_IDLE_SECONDS", so.idle_seconds, 0.1, 3600);
    so.max_connections = static_cast<std::size_t>(env_number(
        "CSEI_WORKSHOP_MAX_CONNECTIONS", static_cast<double>(so.max_connections), 1, 10000));
    so.max_per_client = static_cast<std::size_t>(env_number(
        "CSEI_WORKSHOP_MAX_PER_CLIENT", static_cast<double>(so.max_per_client), 1, 10000));
    so.runs_per_minute =
        env_number("CSEI_WORKSHOP_RUNS_PER_MINUTE", so.runs_per_minute, 0.1, 100000);
    so.run_burst = env_number("CSEI_WORKSHOP_RUN_BURST", so.run_burst, 1, 100000);
    so.connected_seconds =
        env_number("CSEI_WORKSHOP_CONNECTED_SECONDS", so.connected_seconds, 1, 3600);
    so.lan = o.lan;
    const std::filesystem::path data = data_dir();
    so.web_dir = o.web_dir.empty() ? (data / "web").string() : o.web_dir;
    so.scenario_dir =
        o.scenario_dir.empty() ? (data / "scenarios" / "teaching").string() : o.scenario_dir;
    workshop::Server server(so);
    server.bind();
    install_stop_handlers();
    std::atomic<bool> ended{false};
    std::thread serving([&] {
      if (!server.serve()) std::fprintf(stderr, "error: the server stopped unexpectedly\n");
      ended = true;
    });
    std::printf("csei workshop: open %s in a browser (Ctrl-C stops the server)\n",
                server.url().c_str());
    std::printf("csei workshop: the page from %s, the scenarios from %s\n", so.web_dir.c_str(),
                so.scenario_dir.c_str());
    if (o.lan) {
      std::printf("csei workshop: participants join at %s (join code %s)\n",
                  server.join_url().c_str(), server.join_code().c_str());
      try {
        std::fputs(workshop::qr_terminal(workshop::qr_encode(server.join_url())).c_str(), stdout);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "csei workshop: no QR code: %s\n", e.what());
      }
    }
    std::printf("csei workshop: trainer view %s (trainer code %s: keep it to yourself)\n",
                server.trainer_url().c_str(), server.trainer_code().c_str());
    std::fflush(stdout);
    if (o.open) open_browser(server.url());
    while (!stop_requested() && !ended)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
    serving.join();
    std::printf("csei workshop: stopped\n");
    return kExitOk;
  } catch (const InputError& e) {
    for (const auto& p : e.problems())
      std::cerr << "error: " << p.where.describe() << ": " << p.message << '\n';
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitFailure;
  }
}

} // namespace csei
