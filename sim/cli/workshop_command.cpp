// csei workshop: the local server of workshop mode (sim/workshop/server.hpp).
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "workshop/server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>

extern char** environ;

namespace csei {
namespace {

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

} // namespace

int command_workshop(const WorkshopOptions& o) {
  try {
    workshop::ServerOptions so;
    so.port = o.port;
    so.workers = o.workers;
    so.max_queued = o.max_queued;
    so.run_seconds = o.run_seconds;
    so.web_dir = o.web_dir.empty() ? std::string(CSEI_SOURCE_DIR) + "/web" : o.web_dir;
    so.scenario_dir = o.scenario_dir.empty() ? std::string(CSEI_SOURCE_DIR) + "/scenarios/teaching"
                                             : o.scenario_dir;
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
