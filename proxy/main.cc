// mqtt-auth-proxy: the daemon. Loads and validates the config, builds the shared TLS
// contexts, starts one worker per core, and turns signals into shutdown.
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/config.h"
#include "proxy/logging.h"
#include "proxy/tls_context.h"
#include "proxy/worker.h"

namespace {

constexpr const char* kUsage =
    "usage: mqtt-auth-proxy --config FILE\n"
    "       mqtt-auth-proxy --check-config FILE\n"
    "       mqtt-auth-proxy --version\n";

struct Options {
  std::string config_path;
  bool check_only = false;
};

bool parse_args(int argc, char** argv, Options* out) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--config" || arg == "-c" || arg == "--check-config") && i + 1 < argc) {
      out->check_only |= arg == "--check-config";
      out->config_path = argv[++i];
    } else if (arg == "--version") {
      std::printf("mqtt-auth-proxy 0.1.0\n");
      std::exit(0);
    } else {
      return false;
    }
  }
  return !out->config_path.empty();
}

// build_tls_contexts: one shared TLS context per listener; false (errors printed) if any fails.
bool build_listeners(const config::Config& config, std::vector<proxy::ListenerRuntime>* out) {
  bool ok = true;
  for (const auto& listener : config.listeners) {
    std::string error;
    auto tls = proxy::TlsContext::create(listener, &error);
    if (!tls) {
      std::fprintf(stderr, "%s: listener %s: %s\n", config.source.c_str(), listener.name.c_str(),
                   error.c_str());
      ok = false;
      continue;
    }
    out->push_back({&listener, std::move(tls)});
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_args(argc, argv, &options)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  config::LoadResult loaded = config::load_config_file(options.config_path);
  for (const auto& warning : loaded.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.to_string().c_str());
  }
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
    return 1;
  }
  auto config = std::make_shared<const config::Config>(std::move(*loaded.config));

  std::vector<proxy::ListenerRuntime> listeners;
  std::vector<proxy::BackendServer> backends;
  std::string error;
  bool ok = build_listeners(*config, &listeners);
  if (!proxy::BackendPool::resolve(config->backend.servers, &backends, &error)) {
    std::fprintf(stderr, "%s: %s\n", config->source.c_str(), error.c_str());
    ok = false;
  }
  if (!ok) return 1;
  if (options.check_only) {
    std::printf("%s: OK\n", options.config_path.c_str());
    return 0;
  }

  proxy::configure_logging(config->log);
  signal(SIGPIPE, SIG_IGN);

  unsigned worker_count = config->workers != 0 ? config->workers
                                                : std::max(1u, std::thread::hardware_concurrency());
  std::string node = config->node_name;
  if (node.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    node = host;
  }
  proxy::AbuseGuard abuse(config->limits);
  std::vector<std::unique_ptr<proxy::Worker>> workers;
  for (unsigned i = 0; i < worker_count; ++i) {
    workers.push_back(std::make_unique<proxy::Worker>(i, config, listeners, backends, abuse, node));
    if (!workers.back()->open_listeners(&error)) {
      spdlog::critical("{}", error);
      return 1;
    }
  }
  for (auto& worker : workers) worker->start();
  for (const auto& listener : config->listeners) {
    spdlog::info("listening: {} on {} (auth {})", listener.name, listener.bind.to_string(),
                 listener.auth == auth::AuthMethod::kCert ? "cert" : "token");
  }
  spdlog::info("mqtt-auth-proxy started: {} workers, backend {}", worker_count,
               config->backend.servers.front().to_string());

  // The main thread only waits for signals.
  uv_loop_t* main_loop = uv_default_loop();
  uv_signal_t sigint, sigterm;
  auto on_stop = [](uv_signal_t* handle, int signum) {
    spdlog::info("signal {}: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_close(reinterpret_cast<uv_handle_t*>(handle->data), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
  };
  uv_signal_init(main_loop, &sigint);
  uv_signal_init(main_loop, &sigterm);
  sigint.data = &sigterm;
  sigterm.data = &sigint;
  uv_signal_start(&sigint, on_stop, SIGINT);
  uv_signal_start(&sigterm, on_stop, SIGTERM);
  uv_run(main_loop, UV_RUN_DEFAULT);

  for (auto& worker : workers) worker->stop();
  for (auto& worker : workers) worker->join();
  spdlog::info("mqtt-auth-proxy stopped");
  return 0;
}
