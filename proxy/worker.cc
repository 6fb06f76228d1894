#include "proxy/worker.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include "proxy/client_connection.h"
#include "proxy/log_event.h"
#include "proxy/peer_address.h"

namespace proxy {
namespace {

// endpoint_from: |replica_pick| spreads the workers of every proxy over the replicas when
// lookups are read from one (`redis.read_from: replica`).
auth::RedisEndpoint endpoint_from(const config::RedisConfig& redis, uint64_t replica_pick) {
  auth::RedisEndpoint endpoint;
  endpoint.host = redis.address.host;
  endpoint.port = redis.address.port;
  endpoint.database = redis.database;
  endpoint.username = redis.username;
  endpoint.password = redis.password;
  endpoint.timeout = redis.timeout;
  if (redis.mode == config::RedisMode::kSentinel) {
    auth::SentinelSettings sentinel;
    for (const auto& address : redis.sentinels) sentinel.sentinels.push_back({address.host, address.port});
    sentinel.master = redis.sentinel_master;
    sentinel.password = redis.sentinel_password;
    sentinel.timeout = redis.timeout;
    endpoint.sentinel = std::move(sentinel);
    endpoint.read_from_replica = redis.read_from == config::ReadFrom::kReplica;
    endpoint.replica_pick = replica_pick;
  }
  return endpoint;
}

}  // namespace

std::atomic<uint32_t>& open_connection_count() {
  static std::atomic<uint32_t> count{0};
  return count;
}

Worker::Worker(unsigned index, std::shared_ptr<const config::Config> config,
               const std::vector<ListenerRuntime>& listeners, std::vector<BackendServer> backends,
               AbuseGuard& abuse, const std::string& node)
    : index_(index),
      config_(std::move(config)),
      store_(loop_.uv(),
             endpoint_from(config_->redis, std::hash<std::string>{}(node + ":" + std::to_string(getpid())) + index),
             auth::RedisKeys(config_->redis.key_prefix)),
      backends_(std::move(backends), config_->backend.balance),
      abuse_(abuse),
      journal_(store_, *config_, node),
      // The feed is on the master whatever read_from says: it is what tells live sessions
      // that something changed.
      change_feed_(loop_.uv(), endpoint_from(config_->redis, 0), store_.keys().changes(),
                   [this](auth::ChangeKind kind, const std::string& id) { on_change(kind, id); },
                   [this] { on_resubscribed(); }) {
  conn_id_prefix_ = node + ":" + std::to_string(getpid()) + ":" + std::to_string(index) + ":";
  for (const ListenerRuntime& runtime : listeners) {
    listeners_.push_back(std::make_unique<Listener>(
        runtime, [this](const ListenerRuntime& l, TcpHandle client) { accept(l, std::move(client)); }));
  }
  uv_timer_init(loop_.uv(), bury_timer_.allocate(this));
  uv_timer_init(loop_.uv(), revalidate_timer_.allocate(this));
  uv_timer_init(loop_.uv(), refresh_timer_.allocate(this));
  uv_timer_init(loop_.uv(), status_timer_.allocate(this));
}

Worker::~Worker() = default;

bool Worker::open_listeners(std::string* out_error) {
  for (auto& listener : listeners_) {
    if (!listener->open(loop_.uv(), out_error)) return false;
  }
  return true;
}

void Worker::start() {
  store_.set_connected_listener([this](bool connected) {
    metrics_->redis_connected.store(connected, std::memory_order_relaxed);
  });
  store_.start();
  change_feed_.start();
  sweep_started_ = std::chrono::steady_clock::now();
  arm_revalidation();
  uv_timer_start(status_timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<Worker*>(t->data);
    if (self == nullptr) return;
    self->metrics_->redis_dropped_writes.store(self->store_.dropped_writes(), std::memory_order_relaxed);
    self->metrics_->redis_lookups_master.store(self->store_.lookups_answered_by(auth::RedisNode::kMaster),
                                               std::memory_order_relaxed);
    self->metrics_->redis_lookups_replica.store(self->store_.lookups_answered_by(auth::RedisNode::kReplica),
                                                std::memory_order_relaxed);
  }, 0, 200);
  uint64_t refresh = std::max<uint64_t>(1000, config_->sessions.ttl.count() / 3);
  uv_timer_start(refresh_timer_.get(), [](uv_timer_t* t) {
    if (auto* self = static_cast<Worker*>(t->data)) self->refresh_sessions();
  }, refresh, refresh);
  thread_ = std::thread([this] {
    loop_.run();
    spdlog::debug("worker {} stopped", index_);
  });
}

void Worker::arm_revalidation() {
  uv_timer_stop(revalidate_timer_.get());
  auto interval = config_->auth.revalidate_interval;
  if (interval.count() <= 0) return;
  // Twenty ticks an interval spread the re-checks instead of bursting them at Redis.
  uint64_t tick = std::max<uint64_t>(50, interval.count() / 20);
  uv_timer_start(revalidate_timer_.get(), [](uv_timer_t* t) {
    if (auto* self = static_cast<Worker*>(t->data)) self->revalidate_tick();
  }, tick, tick);
}

void Worker::apply(std::shared_ptr<const config::Config> config, std::vector<ListenerRuntime> listeners,
                   std::vector<BackendServer> backends) {
  loop_.post([this, config = std::move(config), listeners = std::move(listeners),
              backends = std::move(backends)]() mutable {
    bool interval_changed = config->auth.revalidate_interval != config_->auth.revalidate_interval;
    config_ = std::move(config);
    for (size_t i = 0; i < listeners_.size() && i < listeners.size(); ++i) {
      listeners_[i]->set_runtime(std::move(listeners[i]));
    }
    backends_ = BackendPool(std::move(backends), config_->backend.balance);
    journal_.reconfigure(*config_);
    if (interval_changed) arm_revalidation();
  });
}

void Worker::apply_backend_health(std::vector<std::pair<std::string, bool>> results) {
  loop_.post([this, results = std::move(results)] {
    for (const auto& [name, reachable] : results) backends_.probe_result(name, reachable);
  });
}

void Worker::stop_accepting() {
  loop_.post([this] {
    for (auto& listener : listeners_) listener->close();
  });
}

void Worker::stop() {
  loop_.post([this] { shutdown_on_loop(); });
  loop_.stop();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::accept(const ListenerRuntime& listener, TcpHandle client) {
  sockaddr_storage address{};
  int length = sizeof address;
  uv_tcp_getpeername(client.get(), reinterpret_cast<sockaddr*>(&address), &length);
  if (listener.config->proxy_protocol != config::ProxyProtocol::kOff) {
    bool trusted = false;
    for (const auto& cidr : listener.config->trusted_proxies) {
      trusted = trusted || cidr.contains(reinterpret_cast<const sockaddr*>(&address));
    }
    if (!trusted) {
      log_event(spdlog::level::warn, "untrusted_proxy_protocol_peer",
                {{"listener", listener.config->name},
                 {"peer", format_address(reinterpret_cast<const sockaddr*>(&address))}},
                LogLimit::kLimited);
      return;  // closed before reading anything
    }
  }
  std::string peer = format_address(reinterpret_cast<const sockaddr*>(&address));
  // Behind a PROXY-protocol load balancer the TCP peer is the balancer: the rate limit then
  // applies once the real address is known (ClientConnection::handle_proxy_header).
  if (listener.config->proxy_protocol == config::ProxyProtocol::kOff &&
      !abuse_.admit_connection(ip_of(peer))) {
    spdlog::debug("listener {}: connection rate limit for {}", listener.config->name, peer);
    return;  // closed before any TLS work is spent
  }
  if (open_connection_count().load(std::memory_order_relaxed) >= config_->limits.max_connections) {
    spdlog::warn("listener {}: max_connections ({}) reached, connection dropped",
                 listener.config->name, config_->limits.max_connections);
    return;  // |client| closes itself
  }
  if (listener.index < kMaxListeners) bump(metrics_->listeners[listener.index].accepted);
  auto connection = std::make_unique<ClientConnection>(*this, listener, std::move(client));
  ClientConnection* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  raw->start();
}

void Worker::release(ClientConnection* connection) {
  auto node = connections_.extract(connection);
  if (node.empty()) return;
  released_.push_back(std::move(node.mapped()));
  // Destroy on a fresh loop turn: the caller is still inside the connection's own code.
  uv_timer_start(bury_timer_.get(), [](uv_timer_t* t) {
    if (auto* self = static_cast<Worker*>(t->data)) self->bury_released();
  }, 0, 0);
}

void Worker::bury_released() { released_.clear(); }

std::string Worker::next_conn_id() { return conn_id_prefix_ + std::to_string(++conn_seq_); }

void Worker::session_started(ClientConnection* connection) {
  sessions_by_device_.emplace(connection->device_id(), connection);
  if (!connection->cert_id().empty()) sessions_by_cert_.emplace(connection->cert_id(), connection);
  // A change handled between this session's lookup and now found no session to re-check,
  // and the lookup may not have seen it (read before it, or from a lagging replica).
  auto now = std::chrono::steady_clock::now();
  if (recent_changes_.contains("device " + connection->device_id(), now) ||
      (!connection->cert_id().empty() && recent_changes_.contains("cert " + connection->cert_id(), now))) {
    connection->revalidate();
  }
}

void Worker::session_ended(ClientConnection* connection) {
  auto forget = [connection](SessionIndex& index, const std::string& key) {
    auto [first, last] = index.equal_range(key);
    for (auto it = first; it != last; ++it) {
      if (it->second == connection) {
        index.erase(it);
        return;
      }
    }
  };
  forget(sessions_by_device_, connection->device_id());
  if (!connection->cert_id().empty()) forget(sessions_by_cert_, connection->cert_id());
}

template <typename Fn>
void Worker::for_each_session(const SessionIndex& index, const std::string& key, Fn fn) {
  // Collected first: acting on a session (a kick) removes it from the index.
  std::vector<ClientConnection*> matches;
  auto [first, last] = index.equal_range(key);
  for (auto it = first; it != last; ++it) matches.push_back(it->second);
  for (ClientConnection* connection : matches) fn(connection);
}

void Worker::on_change(auth::ChangeKind kind, const std::string& id) {
  switch (kind) {
    case auth::ChangeKind::kDevice:
      recent_changes_.add("device " + id, std::chrono::steady_clock::now());
      for_each_session(sessions_by_device_, id, [](ClientConnection* c) { c->revalidate(); });
      break;
    case auth::ChangeKind::kCert:
      recent_changes_.add("cert " + id, std::chrono::steady_clock::now());
      for_each_session(sessions_by_cert_, id, [](ClientConnection* c) { c->revalidate(); });
      break;
    case auth::ChangeKind::kKick:
      for_each_session(sessions_by_device_, id,
                       [](ClientConnection* c) { c->kick("kicked", 0x98); });
      break;
  }
}

void Worker::on_resubscribed() {
  // Changes published while the feed was down are lost: re-check everyone, at sweep pace.
  if (subscribed_before_) sweep_started_ = {};
  subscribed_before_ = true;
}

void Worker::revalidate_tick() {
  auto now = std::chrono::steady_clock::now();
  if (sweep_.empty()) {
    if (now - sweep_started_ < config_->auth.revalidate_interval) return;
    sweep_started_ = now;
    sweep_.reserve(sessions_by_device_.size());
    for (const auto& [device_id, connection] : sessions_by_device_) sweep_.push_back(device_id);
    sweep_per_tick_ = std::max<size_t>(1, (sweep_.size() + 19) / 20);
  }
  for (size_t i = 0; i < sweep_per_tick_ && !sweep_.empty(); ++i) {
    std::string device_id = std::move(sweep_.back());
    sweep_.pop_back();
    for_each_session(sessions_by_device_, device_id, [](ClientConnection* c) { c->revalidate(); });
  }
  abuse_.purge();
}

void Worker::refresh_sessions() {
  metrics_->redis_dropped_writes.store(store_.dropped_writes(), std::memory_order_relaxed);
  std::string_view previous;
  for (const auto& [device_id, connection] : sessions_by_device_) {
    if (device_id == previous) continue;
    journal_.refresh(device_id);
    previous = device_id;
  }
}

void Worker::shutdown_on_loop() {
  for (auto& listener : listeners_) listener->close();
  std::vector<ClientConnection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, owned] : connections_) open.push_back(raw);
  for (ClientConnection* connection : open) connection->end_for_shutdown();
  // Connections flush their last bytes (at most their 2 s linger) before the Redis
  // connection and the timers go; then the loop has nothing left and returns.
  shutdown_started_ = std::chrono::steady_clock::now();
  uv_timer_start(status_timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<Worker*>(t->data);
    if (self == nullptr) return;
    bool waited_enough = std::chrono::steady_clock::now() - self->shutdown_started_ > std::chrono::milliseconds(2500);
    if (self->connections_.empty() || waited_enough) self->finish_shutdown();
  }, 20, 20);
}

void Worker::finish_shutdown() {
  released_.clear();
  connections_.clear();
  change_feed_.close();
  store_.close();
  bury_timer_.reset();
  revalidate_timer_.reset();
  refresh_timer_.reset();
  status_timer_.reset();
}

}  // namespace proxy
