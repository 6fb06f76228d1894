// proxy/worker.h: one event-loop thread with its own listeners, Redis connection, backend
// pool and connections. Workers share only immutable state (config, TLS contexts).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auth/change_feed.h"
#include "auth/recent_changes.h"
#include "auth/redis_store.h"
#include "proxy/backend_pool.h"
#include "proxy/event_loop.h"
#include "proxy/listener.h"
#include "proxy/tls_session.h"
#include "proxy/worker_services.h"

namespace proxy {

class Worker final : public WorkerServices {
 public:
  Worker(unsigned index, std::shared_ptr<const config::Config> config,
         const std::vector<ListenerRuntime>& listeners, std::vector<BackendServer> backends,
         AbuseGuard& abuse, const std::string& node);
  ~Worker() override;

  // open_listeners binds every listener; call before start().
  bool open_listeners(std::string* out_error);

  // start runs the loop on a new thread.
  void start();

  // apply hands a reloaded config to the worker: new connections use it, live ones keep
  // theirs. |listeners| matches the running listeners one for one. Any thread.
  // apply_backend_health hands a round of the periodic backend check (server name,
  // reachable) to this worker's pool. Any thread.
  void apply_backend_health(std::vector<std::pair<std::string, bool>> results);
  void apply(std::shared_ptr<const config::Config> config, std::vector<ListenerRuntime> listeners,
             std::vector<BackendServer> backends);

  // stop_accepting closes the listening sockets; sessions go on (graceful drain). Any thread.
  void stop_accepting();

  // stop ends every session (MQTT 5 clients get DISCONNECT 0x8B) and the loop. Any thread.
  void stop();
  void join();

  // WorkerServices
  uv_loop_t* loop() override { return loop_.uv(); }
  const config::Config& config() const override { return *config_; }
  auth::RedisStore& store() override { return store_; }
  BackendPool& backends() override { return backends_; }
  std::span<uint8_t> read_buffer() override { return read_buffer_; }
  std::span<uint8_t> plaintext_buffer() override { return plaintext_buffer_; }
  std::span<uint8_t> ciphertext_buffer() override { return ciphertext_buffer_; }
  void release(ClientConnection* connection) override;
  AbuseGuard& abuse() override { return abuse_; }
  WorkerMetrics& metrics() override { return *metrics_; }
  const WorkerMetrics& metrics_view() const { return *metrics_; }
  SessionJournal& journal() override { return journal_; }
  void session_started(ClientConnection* connection) override;
  void session_ended(ClientConnection* connection) override;
  std::string next_conn_id() override;

 private:
  using SessionIndex = std::unordered_multimap<std::string, ClientConnection*>;

  void accept(const ListenerRuntime& listener, TcpHandle client);
  void on_change(auth::ChangeKind kind, const std::string& id);
  void on_resubscribed();
  void revalidate_tick();
  void arm_revalidation();
  void refresh_sessions();
  template <typename Fn>
  void for_each_session(const SessionIndex& index, const std::string& key, Fn fn);
  void shutdown_on_loop();
  void finish_shutdown();
  void bury_released();

  unsigned index_;
  std::shared_ptr<const config::Config> config_;
  EventLoop loop_;
  auth::RedisStore store_;
  BackendPool backends_;
  AbuseGuard& abuse_;
  std::unique_ptr<WorkerMetrics> metrics_ = std::make_unique<WorkerMetrics>();
  SessionJournal journal_;
  auth::ChangeFeed change_feed_;
  SessionIndex sessions_by_device_;
  SessionIndex sessions_by_cert_;
  // Device and cert changes of the last minute: a session starting after one of them was
  // handled may have been looked up before it (session_started re-checks it).
  auth::RecentChanges recent_changes_{std::chrono::seconds(60), 65536};
  // Revalidation sweep: device IDs still to re-check in this interval, and the pace.
  std::vector<std::string> sweep_;
  size_t sweep_per_tick_ = 1;
  std::chrono::steady_clock::time_point sweep_started_{};
  bool subscribed_before_ = false;
  uint64_t conn_seq_ = 0;
  std::chrono::steady_clock::time_point shutdown_started_{};
  std::string conn_id_prefix_;
  TimerHandle revalidate_timer_;
  TimerHandle refresh_timer_;
  TimerHandle status_timer_;   // publishes Redis state to metrics/readiness
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ClientConnection*, std::unique_ptr<ClientConnection>> connections_;
  std::vector<std::unique_ptr<ClientConnection>> released_;
  TimerHandle bury_timer_;
  std::thread thread_;
  std::array<uint8_t, 64 * 1024> read_buffer_{};
  // Room for several records' plaintext per drain (TlsSession::read_records).
  std::array<uint8_t, 64 * 1024> plaintext_buffer_{};
  static_assert(sizeof(plaintext_buffer_) >= 2 * TlsSession::kMaxRecordPlaintext);
  std::array<uint8_t, 64 * 1024> ciphertext_buffer_{};
};

}  // namespace proxy
