// bench/mqtt_auth_bench/worker.cc: see worker.h.
#include "bench/mqtt_auth_bench/worker.h"

#include <openssl/err.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bench {
namespace {

constexpr uint64_t kTickMs = 1;
constexpr uint64_t kMaxPendingPerWorker = 512;  // in-flight handshakes (listen backlogs)
constexpr uint64_t kMaxPublishPerTick = 2000;
constexpr uint64_t kStallResetNs = 1'000'000'000;  // QoS 0 losses must not block the window

// keep_new_session: the client session cache of one worker is its latest session.
int keep_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* connection = static_cast<Connection*>(SSL_get_app_data(ssl));
  connection->worker().keep_session(bssl::UniquePtr<SSL_SESSION>(session));
  return 1;  // we took the reference
}

}  // namespace

Worker::Worker(int index, const Options& options, std::span<const Credential> credentials,
               const sockaddr_storage& address, RunControl& control)
    : index_(index), options_(options), credentials_(credentials), address_(address),
      control_(control) {
  uint64_t threads = static_cast<uint64_t>(options.threads);
  target_ = options.connections / threads +
            (static_cast<uint64_t>(index) < options.connections % threads ? 1 : 0);
  rate_ = options.rate / static_cast<double>(threads);
  payload_.assign(options.payload, 'x');
  topic_ = "bench/" + std::to_string(index) + "/load";
}

Worker::~Worker() { join(); }

bool Worker::init(std::string* out_error) {
  if (!options_.tls) return true;
  ssl_ctx_.reset(SSL_CTX_new(TLS_method()));
  SSL_CTX* ctx = ssl_ctx_.get();
  uint16_t min_version = TLS1_2_VERSION, max_version = TLS1_3_VERSION;
  if (options_.tls_version == "1.2") max_version = TLS1_2_VERSION;
  if (options_.tls_version == "1.3") min_version = TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  if (!options_.ca_file.empty()) {
    if (!SSL_CTX_load_verify_locations(ctx, options_.ca_file.c_str(), nullptr)) {
      *out_error = "cannot load CA " + options_.ca_file;
      return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (options_.resume) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, keep_new_session);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  // Idle connections keep no TLS read/write buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return true;
}

void Worker::start() {
  thread_ = std::thread([this] {
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &tick_timer_);
    tick_timer_.data = this;
    start_ns_ = uv_hrtime();
    uv_timer_start(&tick_timer_, on_tick, 0, kTickMs);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

const Credential* Worker::credential_for(uint64_t attempt) const {
  if (credentials_.empty()) return nullptr;
  // Workers take interleaved credentials so no two live connections share a client ID
  // while the list is at least as long as --connections.
  uint64_t global = attempt * static_cast<uint64_t>(options_.threads) +
                    static_cast<uint64_t>(index_);
  return &credentials_[global % credentials_.size()];
}

void Worker::on_tick(uv_timer_t* timer) { static_cast<Worker*>(timer->data)->tick(); }

void Worker::tick() {
  if (stopping_) return;
  Phase phase = control_.get();
  if (phase == Phase::kStop) {
    stopping_ = true;
    close_all();
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_timer_), nullptr);
    return;
  }
  uint64_t now = uv_hrtime();
  if (phase == Phase::kConnect || options_.churn) open_connections(now);
  if (now - last_expiry_ns_ > 100'000'000) {
    expire_attempts(now);
    last_expiry_ns_ = now;
  }
  if (!options_.churn && attempts_ >= target_ && pending_ == 0) {
    connect_done_.store(true, std::memory_order_release);
  }
  if (phase == Phase::kLoad && options_.publish_rate >= 0) publish(now);
}

void Worker::open_connections(uint64_t now_ns) {
  if (options_.churn && control_.get() != Phase::kConnect) return;
  uint64_t allowed = UINT64_MAX;
  if (rate_ > 0) {
    double due = rate_ * static_cast<double>(now_ns - start_ns_) / 1e9;
    uint64_t due_count = static_cast<uint64_t>(due) + 1;
    allowed = due_count > attempts_ ? due_count - attempts_ : 0;
  }
  while (allowed > 0 && live_ < target_ && pending_ < kMaxPendingPerWorker &&
         (options_.churn || attempts_ < target_)) {
    size_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = slots_.size();
      slots_.emplace_back();
    }
    Connection::Role role = Connection::Role::kIdle;
    if (options_.publish_rate >= 0 && !options_.churn) {
      role = attempts_ == 0 ? Connection::Role::kSubscriber : Connection::Role::kPublisher;
    }
    slots_[slot] = std::make_unique<Connection>(*this, slot, credential_for(attempts_), role);
    ++attempts_;
    ++stats_.attempted;
    ++pending_;
    ++live_;
    live_atomic_.store(live_, std::memory_order_relaxed);
    --allowed;
    slots_[slot]->start(reinterpret_cast<const sockaddr*>(&address_));
  }
}

void Worker::expire_attempts(uint64_t now_ns) {
  uint64_t timeout_ns = static_cast<uint64_t>(options_.timeout * 1e9);
  for (auto& connection : slots_) {
    if (!connection) continue;
    auto state = connection->state();
    bool waiting = state == Connection::State::kTcpConnecting ||
                   state == Connection::State::kTlsHandshake ||
                   state == Connection::State::kAwaitConnack ||
                   state == Connection::State::kSubscribing;
    // Connections opened during this tick started after |now_ns|.
    if (waiting && now_ns > connection->started_ns() &&
        now_ns - connection->started_ns() > timeout_ns) {
      connection->close(Failure::kTimeout);
    }
  }
}

void Worker::on_established(Connection& connection) {
  --pending_;
  if (connection.role() == Connection::Role::kSubscriber) subscriber_ = &connection;
  if (connection.role() == Connection::Role::kPublisher) publishers_.push_back(&connection);
}

void Worker::on_closed(Connection& connection, bool was_established) {
  if (!was_established) {
    --pending_;
  } else if (connection.state() == Connection::State::kClosing &&
             connection.role() == Connection::Role::kSubscriber && subscriber_ == &connection) {
    subscriber_ = nullptr;
  }
  auto found = std::find(publishers_.begin(), publishers_.end(), &connection);
  if (found != publishers_.end()) publishers_.erase(found);
  if (subscriber_ == &connection) subscriber_ = nullptr;
}

void Worker::release(size_t slot) {
  slots_[slot].reset();
  free_slots_.push_back(slot);
  --live_;
  live_atomic_.store(live_, std::memory_order_relaxed);
}

void Worker::on_publish_received(uint64_t sent_ns) {
  if (outstanding_ > 0) --outstanding_;
  last_progress_ns_ = uv_hrtime();
  if (!measuring()) return;
  ++stats_.received;
  stats_.e2e_latency.record((last_progress_ns_ - sent_ns) / 1000);
}

void Worker::publish(uint64_t now_ns) {
  if (subscriber_ == nullptr || publishers_.empty()) return;
  if (load_start_ns_ == 0) {
    load_start_ns_ = now_ns;
    last_progress_ns_ = now_ns;
  }
  if (outstanding_ > 0 && now_ns - last_progress_ns_ > kStallResetNs) {
    outstanding_ = 0;  // lost (QoS 0 under overload); counted as published - received
    last_progress_ns_ = now_ns;
  }
  uint64_t budget = kMaxPublishPerTick;
  if (options_.publish_rate > 0) {
    double rate = options_.publish_rate / static_cast<double>(options_.threads);
    uint64_t due = static_cast<uint64_t>(rate * static_cast<double>(now_ns - load_start_ns_) / 1e9);
    budget = std::min(budget, due > load_sent_ ? due - load_sent_ : 0);
  }
  uint64_t room = options_.window > outstanding_ ? options_.window - outstanding_ : 0;
  budget = std::min(budget, room);
  for (uint64_t i = 0; i < budget && !publishers_.empty(); ++i) {
    Connection* publisher = publishers_[next_publisher_++ % publishers_.size()];
    uint64_t stamp = uv_hrtime();
    std::memcpy(payload_.data(), &stamp, sizeof(stamp));
    uint16_t packet_id = options_.qos > 0 ? publisher->next_packet_id() : 0;
    if (!publisher->send(encode_publish(options_.protocol_level, topic_, options_.qos, packet_id,
                                        payload_))) {
      continue;
    }
    ++load_sent_;
    ++outstanding_;
    if (measuring()) ++stats_.published;
  }
}

void Worker::close_all() {
  for (auto& connection : slots_) {
    if (connection && connection->state() != Connection::State::kClosing) {
      connection->close(std::nullopt);
    }
  }
}

}  // namespace bench
