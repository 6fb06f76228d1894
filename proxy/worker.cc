#include "proxy/worker.h"

#include <spdlog/spdlog.h>

#include "proxy/client_connection.h"

namespace proxy {
namespace {

auth::RedisEndpoint endpoint_from(const config::RedisConfig& redis) {
  auth::RedisEndpoint endpoint;
  endpoint.host = redis.address.host;
  endpoint.port = redis.address.port;
  endpoint.database = redis.database;
  endpoint.username = redis.username;
  endpoint.password = redis.password;
  endpoint.timeout = redis.timeout;
  return endpoint;
}

}  // namespace

std::atomic<uint32_t>& open_connection_count() {
  static std::atomic<uint32_t> count{0};
  return count;
}

Worker::Worker(unsigned index, std::shared_ptr<const config::Config> config,
               const std::vector<ListenerRuntime>& listeners, std::vector<BackendServer> backends)
    : index_(index),
      config_(std::move(config)),
      store_(loop_.uv(), endpoint_from(config_->redis), auth::RedisKeys(config_->redis.key_prefix)),
      backends_(std::move(backends)) {
  for (const ListenerRuntime& runtime : listeners) {
    listeners_.push_back(std::make_unique<Listener>(
        runtime, [this](const ListenerRuntime& l, TcpHandle client) { accept(l, std::move(client)); }));
  }
  uv_timer_init(loop_.uv(), bury_timer_.allocate(this));
}

Worker::~Worker() = default;

bool Worker::open_listeners(std::string* out_error) {
  for (auto& listener : listeners_) {
    if (!listener->open(loop_.uv(), out_error)) return false;
  }
  return true;
}

void Worker::start() {
  store_.start();
  thread_ = std::thread([this] {
    loop_.run();
    spdlog::debug("worker {} stopped", index_);
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
  if (open_connection_count().load(std::memory_order_relaxed) >= config_->limits.max_connections) {
    spdlog::warn("listener {}: max_connections ({}) reached, connection dropped",
                 listener.config->name, config_->limits.max_connections);
    return;  // |client| closes itself
  }
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

void Worker::shutdown_on_loop() {
  for (auto& listener : listeners_) listener->close();
  std::vector<ClientConnection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, owned] : connections_) open.push_back(raw);
  for (ClientConnection* connection : open) connection->close("shutdown");
  // Connections released above are destroyed now; the rest linger at most their close timer.
  released_.clear();
  connections_.clear();
  store_.close();
  bury_timer_.reset();
}

}  // namespace proxy
