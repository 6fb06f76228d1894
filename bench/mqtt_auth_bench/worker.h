// bench/mqtt_auth_bench/worker.h: one load-generator thread with its own libuv loop, TLS
// context, session cache, connections and counters. Nothing is shared with other workers
// except the read-only options/credentials and the phase the main thread sets.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <array>
#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/mqtt_auth_bench/connection.h"
#include "bench/mqtt_auth_bench/credentials.h"
#include "bench/mqtt_auth_bench/options.h"
#include "bench/mqtt_auth_bench/stats.h"

namespace bench {

// Phase: set by the main thread, read by every worker on its tick.
enum class Phase : int { kConnect, kLoad, kDrain, kStop };

struct RunControl {
  std::atomic<int> phase{static_cast<int>(Phase::kConnect)};
  Phase get() const { return static_cast<Phase>(phase.load(std::memory_order_acquire)); }
  void set(Phase value) { phase.store(static_cast<int>(value), std::memory_order_release); }
};

class Worker {
 public:
  Worker(int index, const Options& options, std::span<const Credential> credentials,
         const sockaddr_storage& address, RunControl& control);
  ~Worker();

  // init builds the TLS context; false with |out_error| when the CA or options are unusable.
  bool init(std::string* out_error);
  void start();  // runs the loop on a new thread
  void join();

  // Thread-safe progress, read by the main thread.
  bool connect_phase_done() const { return connect_done_.load(std::memory_order_acquire); }
  uint64_t live() const { return live_atomic_.load(std::memory_order_relaxed); }
  // stats: read only after join().
  const Stats& stats() const { return stats_; }

  // For Connection (loop thread only).
  const Options& options() const { return options_; }
  Stats& mutable_stats() { return stats_; }
  SSL_CTX* ssl_ctx() { return ssl_ctx_.get(); }
  SSL_SESSION* resumable_session() { return session_.get(); }
  void keep_session(bssl::UniquePtr<SSL_SESSION> session) { session_ = std::move(session); }
  uv_loop_t* loop() { return &loop_; }
  uv_buf_t read_buffer() { return uv_buf_init(read_buffer_.data(), read_buffer_.size()); }
  std::span<uint8_t> plain_buffer() { return plain_buffer_; }
  bool measuring() const { return control_.get() == Phase::kLoad; }
  void on_established(Connection& connection);
  void on_publish_received(uint64_t sent_ns);
  void on_closed(Connection& connection, bool was_established);
  void release(size_t slot);  // from the handle close callback
  int index() const { return index_; }

 private:
  static void on_tick(uv_timer_t* timer);
  void tick();
  void open_connections(uint64_t now_ns);
  void expire_attempts(uint64_t now_ns);
  void publish(uint64_t now_ns);
  void close_all();
  const Credential* credential_for(uint64_t attempt) const;

  int index_;
  const Options& options_;
  std::span<const Credential> credentials_;
  sockaddr_storage address_;
  RunControl& control_;
  std::thread thread_;

  uv_loop_t loop_{};
  uv_timer_t tick_timer_{};
  bool stopping_ = false;
  bssl::UniquePtr<SSL_CTX> ssl_ctx_;
  bssl::UniquePtr<SSL_SESSION> session_;
  std::array<char, 65536> read_buffer_{};   // shared by all connections of this loop
  std::array<uint8_t, 65536> plain_buffer_{};

  std::vector<std::unique_ptr<Connection>> slots_;
  std::vector<size_t> free_slots_;
  uint64_t target_ = 0;       // this worker's share of --connections
  double rate_ = 0;           // this worker's share of --rate
  uint64_t attempts_ = 0;
  uint64_t pending_ = 0;      // connecting, not yet established or failed
  uint64_t live_ = 0;         // slots in use
  std::atomic<uint64_t> live_atomic_{0};
  std::atomic<bool> connect_done_{false};
  uint64_t start_ns_ = 0;
  uint64_t last_expiry_ns_ = 0;

  // Publishing: one subscriber per worker, every other connection publishes to it.
  Stats stats_;
  Connection* subscriber_ = nullptr;
  std::vector<Connection*> publishers_;
  size_t next_publisher_ = 0;
  std::vector<uint8_t> payload_;
  std::string topic_;
  uint64_t load_start_ns_ = 0;
  uint64_t load_sent_ = 0;     // sent since the load phase began (for the rate)
  uint64_t outstanding_ = 0;   // sent, not yet received by the subscriber
  uint64_t last_progress_ns_ = 0;
};

}  // namespace bench
