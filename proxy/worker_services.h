// proxy/worker_services.h: what a connection borrows from the worker that owns it. Everything
// here outlives every connection of the worker and is used only on the worker's thread.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <span>

#include "auth/redis_store.h"
#include "config/config.h"
#include "proxy/abuse_guard.h"
#include "proxy/backend_pool.h"
#include "proxy/backend_tls.h"
#include "proxy/metrics.h"
#include "proxy/session_journal.h"
#include "proxy/tls_context.h"

namespace proxy {

class ClientConnection;

// A listener as its connections see it. A connection copies it at accept, so a reload that
// swaps config or TLS contexts never changes what a live connection runs with.
struct ListenerRuntime {
  std::shared_ptr<const config::Config> config_owner;  // keeps |config| alive
  const config::ListenerConfig* config = nullptr;      // points into *config_owner
  std::shared_ptr<const TlsContext> tls;
  size_t index = 0;                                    // position in config.listeners
  std::shared_ptr<const BackendTlsContext> backend_tls;  // the same config's; null: plaintext brokers
};

class WorkerServices {
 public:
  virtual ~WorkerServices() = default;

  virtual uv_loop_t* loop() = 0;
  virtual const config::Config& config() const = 0;
  virtual auth::RedisStore& store() = 0;
  virtual BackendPool& backends() = 0;

  // Scratch space shared by the worker's connections. Valid only until the caller returns
  // to the loop: nothing may keep a view into it.
  virtual std::span<uint8_t> read_buffer() = 0;
  virtual std::span<uint8_t> plaintext_buffer() = 0;
  virtual std::span<uint8_t> ciphertext_buffer() = 0;

  virtual WorkerMetrics& metrics() = 0;

  // Shared by all workers; thread-safe.
  virtual AbuseGuard& abuse() = 0;
  virtual SessionJournal& journal() = 0;

  // session_started / session_ended bracket the relaying phase: the worker indexes the
  // connection by device and certificate for revocation, and records the session.
  virtual void session_started(ClientConnection* connection) = 0;
  virtual void session_ended(ClientConnection* connection) = 0;

  // next_conn_id: an identifier unique across nodes, workers and time, for session records.
  virtual std::string next_conn_id() = 0;

  // release destroys |connection| once the current callback has returned.
  virtual void release(ClientConnection* connection) = 0;
};

// Process-wide count of open device connections, for limits.max_connections.
std::atomic<uint32_t>& open_connection_count();

}  // namespace proxy
