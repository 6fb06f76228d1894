// proxy/server.h: the process: workers, and on the main thread everything that is not
// device traffic — signals, config reload (SIGHUP, changed TLS files), the metrics and health
// endpoint, the backend readiness probe and graceful drain.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "proxy/abuse_guard.h"
#include "proxy/http_endpoint.h"
#include "proxy/worker.h"

namespace proxy {

// The pieces a config turns into before workers can use it. Built on the main thread.
struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::vector<ListenerRuntime> listeners;
  std::vector<BackendServer> backends;
};

// build_runtime validates what YAML validation cannot (TLS material, backend names).
// False with one message per problem in *out_errors.
bool build_runtime(std::shared_ptr<const config::Config> config, Runtime* out,
                   std::vector<std::string>* out_errors);

class Server {
 public:
  Server(std::string config_path, Runtime runtime);
  ~Server();

  // run starts the workers and serves until SIGTERM/SIGINT and the drain are done.
  // Returns the process exit code.
  int run();

 private:
  void reload(std::string_view why);
  void watch_tls_files();
  void begin_drain(int signum);
  void finish();
  // One TCP connect per backend server per round, 1 s timeout: a backend is reachable when
  // any connect of the last round succeeded.
  struct ProbeSlot {
    Server* server = nullptr;
    TcpHandle tcp;
    TimerHandle timer;
    uv_connect_t request{};
    std::string backend_name;  // the server probed in this round
    bool in_flight = false;
    bool reachable = false;
  };
  void start_backend_probe();
  void probe_backends();
  void finish_probe(ProbeSlot* slot, bool success);
  HttpResponse serve(std::string_view path);
  bool ready() const;

  std::string config_path_;
  Runtime runtime_;
  uv_loop_t* loop_;
  std::unique_ptr<AbuseGuard> abuse_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<HttpEndpoint> http_;
  std::vector<UvHandle<uv_signal_t>> signals_;
  std::vector<UvHandle<uv_fs_poll_t>> file_watches_;
  TimerHandle drain_timer_;
  TimerHandle probe_timer_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool draining_ = false;
  bool finished_ = false;
  std::atomic<bool> backend_reachable_{false};
  std::vector<std::unique_ptr<ProbeSlot>> probes_;
  bool probe_success_ = false;
};

}  // namespace proxy
