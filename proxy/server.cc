#include "proxy/server.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "proxy/log_event.h"

namespace proxy {
namespace {

std::string node_name(const config::Config& config) {
  if (!config.node_name.empty()) return config.node_name;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

// Listener changes need new sockets: only a restart applies them.
bool same_listeners(const config::Config& a, const config::Config& b, std::string* out_what) {
  if (a.listeners.size() != b.listeners.size()) {
    *out_what = "the number of listeners";
    return false;
  }
  for (size_t i = 0; i < a.listeners.size(); ++i) {
    const auto& x = a.listeners[i];
    const auto& y = b.listeners[i];
    if (x.name != y.name || x.bind.to_string() != y.bind.to_string() || x.auth != y.auth) {
      *out_what = "listener " + x.name + " (name, bind or auth)";
      return false;
    }
  }
  return true;
}

}  // namespace

bool build_runtime(std::shared_ptr<const config::Config> config, Runtime* out,
                   std::vector<std::string>* out_errors) {
  out->config = config;
  out->listeners.clear();
  out->backends.clear();
  std::shared_ptr<const BackendTlsContext> backend_tls;
  if (config->backend.tls.enabled) {
    std::string error;
    backend_tls = BackendTlsContext::create(config->backend.tls, &error);
    if (!backend_tls) out_errors->push_back(config->source + ": backend.tls: " + error);
  }
  for (const auto& listener : config->listeners) {
    std::string error;
    auto tls = TlsContext::create(listener, &error);
    if (!tls) {
      out_errors->push_back(config->source + ": listener " + listener.name + ": " + error);
      continue;
    }
    out->listeners.push_back({config, &listener, std::move(tls), out->listeners.size(), backend_tls});
  }
  std::string error;
  if (!BackendPool::resolve(config->backend.servers, &out->backends, &error)) {
    out_errors->push_back(config->source + ": " + error);
  }
  return out_errors->empty();
}

Server::Server(std::string config_path, Runtime runtime)
    : config_path_(std::move(config_path)), runtime_(std::move(runtime)), loop_(uv_default_loop()) {}

Server::~Server() = default;

int Server::run() {
  // runtime_ is replaced by reloads: keep what is needed after uv_run by value.
  const std::shared_ptr<const config::Config> started_with = runtime_.config;
  const config::Config& config = *started_with;
  abuse_ = std::make_unique<AbuseGuard>(config.limits);
  unsigned count = config.workers != 0 ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::string node = node_name(config);
  for (unsigned i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, runtime_.config, runtime_.listeners,
                                                runtime_.backends, *abuse_, node));
    std::string error;
    if (!workers_.back()->open_listeners(&error)) {
      spdlog::critical("{}", error);
      return 1;
    }
  }
  if (config.metrics.bind) {
    http_ = std::make_unique<HttpEndpoint>(loop_, [this](std::string_view path) { return serve(path); });
    std::string error;
    if (!http_->open(*config.metrics.bind, &error)) {
      spdlog::critical("{}", error);
      return 1;
    }
  }
  if (!config.pid_file.empty()) {
    if (FILE* f = std::fopen(config.pid_file.c_str(), "w")) {
      std::fprintf(f, "%d\n", getpid());
      std::fclose(f);
    } else {
      spdlog::warn("cannot write pid_file {}", config.pid_file);
    }
  }
  for (auto& worker : workers_) worker->start();
  for (const auto& listener : config.listeners) {
    spdlog::info("listening: {} on {} (auth {})", listener.name, listener.bind.to_string(),
                 listener.auth == auth::AuthMethod::kCert ? "cert" : "token");
  }
  spdlog::info("mqtt-auth-proxy started: node {}, {} workers", node, count);

  for (int signum : {SIGINT, SIGTERM, SIGHUP}) {
    UvHandle<uv_signal_t> handle;
    uv_signal_init(loop_, handle.allocate(this));
    uv_signal_start(handle.get(), [](uv_signal_t* h, int sig) {
      auto* self = static_cast<Server*>(h->data);
      if (self == nullptr) return;
      if (sig == SIGHUP) self->reload("SIGHUP");
      else self->begin_drain(sig);
    }, signum);
    signals_.push_back(std::move(handle));
  }
  watch_tls_files();
  // Backends are probed only for /readyz: without a metrics endpoint nobody asks.
  if (http_) start_backend_probe();

  uv_run(loop_, UV_RUN_DEFAULT);
  for (auto& worker : workers_) worker->join();
  if (!config.pid_file.empty()) unlink(config.pid_file.c_str());
  spdlog::info("mqtt-auth-proxy stopped");
  return 0;
}

void Server::reload(std::string_view why) {
  if (draining_) return;
  spdlog::info("reload ({}): reading {}", why, config_path_);
  config::LoadResult loaded = config::load_config_file(config_path_);
  for (const auto& warning : loaded.warnings) spdlog::warn("reload: {}", warning.to_string());
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors) spdlog::error("reload refused: {}", error.to_string());
    return;
  }
  auto config = std::make_shared<const config::Config>(std::move(*loaded.config));
  const config::Config& old = *runtime_.config;
  std::string what;
  if (!same_listeners(old, *config, &what)) {
    spdlog::error("reload refused: {} changed; that needs a restart", what);
    return;
  }
  Runtime fresh;
  std::vector<std::string> errors;
  if (!build_runtime(config, &fresh, &errors)) {
    for (const auto& error : errors) spdlog::error("reload refused: {}", error);
    return;
  }
  if (config->workers != old.workers) spdlog::warn("reload: workers changed; needs a restart");
  if (config->redis.url != old.redis.url || config->redis.key_prefix != old.redis.key_prefix ||
      config->redis.read_from != old.redis.read_from) {
    spdlog::warn("reload: redis url/key_prefix/read_from changed; needs a restart");
  }
  if (config->metrics.bind.has_value() != old.metrics.bind.has_value() ||
      (config->metrics.bind && config->metrics.bind->to_string() != old.metrics.bind->to_string())) {
    spdlog::warn("reload: metrics.bind changed; needs a restart");
  }
  spdlog::set_level(spdlog::level::from_str(config->log.level));
  abuse_->reconfigure(config->limits);
  for (auto& worker : workers_) worker->apply(fresh.config, fresh.listeners, fresh.backends);
  runtime_ = std::move(fresh);
  watch_tls_files();
  spdlog::info("reload ({}): applied to new connections", why);
}

void Server::watch_tls_files() {
  std::set<std::string> paths;
  for (const auto& listener : runtime_.config->listeners) {
    for (const std::string* path : {&listener.tls.cert_file, &listener.tls.key_file,
                                    &listener.tls.client_ca_file, &listener.tls.crl_file}) {
      if (!path->empty()) paths.insert(*path);
    }
  }
  const config::BackendTls& backend_tls = runtime_.config->backend.tls;
  if (backend_tls.enabled) {
    for (const std::string* path : {&backend_tls.ca_file, &backend_tls.cert_file, &backend_tls.key_file}) {
      if (!path->empty()) paths.insert(*path);
    }
  }
  file_watches_.clear();
  for (const std::string& path : paths) {
    UvHandle<uv_fs_poll_t> watch;
    uv_fs_poll_init(loop_, watch.allocate(this));
    uv_fs_poll_start(watch.get(), [](uv_fs_poll_t* h, int status, const uv_stat_t*, const uv_stat_t*) {
      auto* self = static_cast<Server*>(h->data);
      if (self == nullptr || status < 0) return;
      char path[4096];
      size_t len = sizeof path;
      uv_fs_poll_getpath(h, path, &len);
      self->reload("changed " + std::string(path, len));
    }, path.c_str(), 1000);
    file_watches_.push_back(std::move(watch));
  }
}

void Server::begin_drain(int signum) {
  const char* name = signum == SIGINT ? "SIGINT" : "SIGTERM";
  if (draining_) {
    spdlog::info("{} again: closing the remaining sessions now", name);
    finish();
    return;
  }
  draining_ = true;
  auto grace = runtime_.config->shutdown_grace;
  spdlog::info("{}: draining; no new connections, sessions get {} ms to finish", name, grace.count());
  for (auto& worker : workers_) worker->stop_accepting();
  if (http_) http_->close();
  file_watches_.clear();
  drain_deadline_ = std::chrono::steady_clock::now() + grace;
  uv_timer_init(loop_, drain_timer_.allocate(this));
  uv_timer_start(drain_timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<Server*>(t->data);
    if (self == nullptr) return;
    if (open_connection_count().load() == 0 || std::chrono::steady_clock::now() >= self->drain_deadline_) {
      self->finish();
    }
  }, 0, 100);
}

void Server::finish() {
  if (finished_) return;
  finished_ = true;
  for (auto& worker : workers_) worker->stop();
  // The main loop returns once its own handles are closed.
  signals_.clear();
  file_watches_.clear();
  drain_timer_.reset();
  probe_timer_.reset();
  probes_.clear();
  http_.reset();
}

void Server::start_backend_probe() {
  const config::Config& config = *runtime_.config;
  uv_timer_init(loop_, probe_timer_.allocate(this));
  uint64_t probe_every = config.backend.health_check_interval.count() > 0
                             ? static_cast<uint64_t>(config.backend.health_check_interval.count())
                             : 2000;
  uv_timer_start(probe_timer_.get(), [](uv_timer_t* t) {
    if (auto* self = static_cast<Server*>(t->data)) self->probe_backends();
  }, 0, probe_every);
}

void Server::probe_backends() {
  for (const auto& slot : probes_) {
    if (slot->in_flight) return;  // the previous round is still waiting
  }
  probes_.resize(runtime_.backends.size());
  probe_success_ = false;
  const config::Config& config = *runtime_.config;
  const uint64_t probe_timeout = config.backend.health_check_interval.count() > 0
                                     ? static_cast<uint64_t>(config.backend.health_check_timeout.count())
                                     : 1000;
  for (size_t i = 0; i < runtime_.backends.size(); ++i) {
    if (!probes_[i]) probes_[i] = std::make_unique<ProbeSlot>();
    ProbeSlot* slot = probes_[i].get();
    slot->server = this;
    slot->backend_name = runtime_.backends[i].name;
    slot->in_flight = true;
    uv_tcp_init(loop_, slot->tcp.allocate(slot));
    uv_timer_init(loop_, slot->timer.allocate(slot));
    int rc = uv_tcp_connect(&slot->request, slot->tcp.get(),
                            reinterpret_cast<const sockaddr*>(&runtime_.backends[i].address),
                            [](uv_connect_t* req, int status) {
                              if (auto* s = static_cast<ProbeSlot*>(req->handle->data)) {
                                s->server->finish_probe(s, status == 0);
                              }
                            });
    if (rc != 0) {
      finish_probe(slot, false);
      continue;
    }
    uv_timer_start(slot->timer.get(), [](uv_timer_t* t) {
      if (auto* s = static_cast<ProbeSlot*>(t->data)) s->server->finish_probe(s, false);
    }, probe_timeout, 0);
  }
}

void Server::finish_probe(ProbeSlot* slot, bool success) {
  slot->in_flight = false;
  slot->reachable = success;
  slot->tcp.reset();
  slot->timer.reset();
  probe_success_ |= success;
  for (const auto& other : probes_) {
    if (other && other->in_flight) return;
  }
  backend_reachable_.store(probe_success_);
  // Without backend.health_check the probe only answers /readyz; with it, the workers skip
  // a server the check cannot reach instead of each finding out with a failed connect.
  if (runtime_.config->backend.health_check_interval.count() <= 0) return;
  std::vector<std::pair<std::string, bool>> results;
  for (const auto& probe : probes_) {
    if (probe) results.emplace_back(probe->backend_name, probe->reachable);
  }
  for (auto& worker : workers_) worker->apply_backend_health(results);
}

bool Server::ready() const {
  if (draining_ || !backend_reachable_.load()) return false;
  for (const auto& worker : workers_) {
    if (!worker->metrics_view().redis_connected.load(std::memory_order_relaxed)) return false;
  }
  return true;
}

HttpResponse Server::serve(std::string_view path) {
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/readyz") {
    bool ok = ready();
    return {ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ready\n" : "not ready\n"};
  }
  if (path == "/metrics") {
    std::vector<const WorkerMetrics*> metrics;
    for (const auto& worker : workers_) metrics.push_back(&worker->metrics_view());
    std::vector<std::string> backend_names;
    for (const auto& server : runtime_.backends) backend_names.push_back(server.name);
    ProcessGauges gauges;
    read_process_gauges(&gauges);
    gauges.bans = abuse_->bans_started();
    gauges.ready = ready();
    return {200, "text/plain; version=0.0.4; charset=utf-8",
            render_metrics(*runtime_.config, metrics, backend_names, gauges)};
  }
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace proxy
