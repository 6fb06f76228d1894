// auth/redis_store.h: device and certificate lookups over one asynchronous Redis connection
// (hiredis on the owning worker's libuv loop). One lookup is one pipelined round trip.
//
// Thread: every method runs on the loop thread that owns the store.
// Failure: a command not answered within the timeout drops the connection and fails every
// lookup in flight with kUnavailable; the store reconnects on its own with backoff.
// Callbacks never run inside the call that started the lookup.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/decision.h"
#include "auth/redis_keys.h"
#include "auth/sentinel_resolver.h"

struct redisAsyncContext;

namespace auth {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int database = 0;
  std::string username;  // Redis 6 ACL user; empty = default user
  std::string password;  // empty = no AUTH
  std::chrono::milliseconds timeout{1000};
  // Set in sentinel mode: host/port above are ignored and the master is asked for on every
  // (re)connect, which is how failovers are followed.
  std::optional<SentinelSettings> sentinel;
};

enum class LookupStatus { kOk, kUnavailable };

struct LookupResult {
  LookupStatus status = LookupStatus::kUnavailable;
  DeviceRecord device;
  std::optional<CertRecord> cert;  // set when a cert_id was looked up
};

using LookupCallback = std::function<void(LookupResult&& result)>;

class RedisStore {
 public:
  using Ticket = uint64_t;
  static constexpr Ticket kNoTicket = 0;

  RedisStore(uv_loop_t* loop, RedisEndpoint endpoint, RedisKeys keys);
  ~RedisStore();
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  // start opens the connection; lookups before it completes are queued behind it.
  void start();

  // close drops the connection and stops reconnecting; pending lookups are failed.
  // The store's libuv handles are closed; destroy the store after the loop ran once more.
  void close();

  // lookup reads `device:<device_id>`, and with |cert_id| also `cert:<cert_id>` and the
  // binding of the two. |done| runs exactly once unless the ticket is cancelled first.
  Ticket lookup(std::string_view device_id, const std::string* cert_id, LookupCallback done);

  // cancel guarantees the lookup's callback will not run. Unknown tickets are ignored.
  void cancel(Ticket ticket);

  // execute sends a write whose answer nobody waits for (sessions, events). It never delays
  // lookups beyond their place in the pipeline. False (and counted) when there is no
  // connection to send it on: such writes are dropped, not queued.
  bool execute(const std::vector<std::string>& argv);
  uint64_t dropped_writes() const { return dropped_writes_; }

  // on_connected_change runs (on the loop) whenever connected() flips.
  void set_connected_listener(std::function<void(bool connected)> listener) {
    connected_listener_ = std::move(listener);
  }

  // connected: the connection is up (AUTH/SELECT done). For readiness checks.
  bool connected() const { return state_ == State::kReady; }

  const RedisKeys& keys() const { return keys_; }

 private:
  enum class State { kIdle, kConnecting, kReady, kClosed };
  // What a reply answers; encoded with the ticket in hiredis's privdata. kSetup covers
  // AUTH/SELECT/PING (ticket 0) and fire-and-forget writes (ticket 1, never a lookup).
  enum class Slot : uint8_t { kDevice = 0, kCert = 1, kBinding = 2, kSetup = 3 };
  static constexpr uint64_t kWriteTicket = 1;

  struct Pending {
    LookupResult result;
    LookupCallback done;
    int replies_left = 0;
    bool failed = false;
    std::chrono::steady_clock::time_point deadline;
  };

  void connect();
  void connect_to(const std::string& host, uint16_t port);
  void schedule_reconnect();
  void drop_connection(const char* why);
  void on_reply(Ticket ticket, Slot slot, void* reply);
  void finish(Ticket ticket);
  void fail_later(Ticket ticket);
  void run_deferred();
  void check_timeouts();
  bool send(Ticket ticket, Slot slot, const std::vector<std::string>& argv);

  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_reply_thunk(redisAsyncContext* ctx, void* reply, void* privdata);

  uv_loop_t* loop_;
  RedisEndpoint endpoint_;
  RedisKeys keys_;
  State state_ = State::kIdle;
  redisAsyncContext* ctx_ = nullptr;      // owned by hiredis; freed by it after disconnect
  std::unique_ptr<SentinelResolver> resolver_;  // sentinel mode only
  std::string connected_to_;
  std::chrono::steady_clock::time_point connect_started_{};              // "host:port" of the current connection, for logs
  uint64_t next_ticket_ = 2;  // 0 and 1 are the set-up and write pseudo-tickets
  uint64_t dropped_writes_ = 0;
  std::function<void(bool)> connected_listener_;
  void set_state(State state);
  std::map<Ticket, Pending> pending_;     // ordered: the oldest lookup is first
  std::vector<Ticket> deferred_failures_;
  std::chrono::milliseconds backoff_{100};
  uv_timer_t reconnect_timer_;
  uv_timer_t timeout_timer_;
  uv_timer_t deferred_timer_;
  int open_handles_ = 0;
};

// parse_hash_reply fills |out| from an HGETALL reply; false if the reply is not an array of
// string pairs. Exposed for tests.
bool parse_hash_reply(const void* reply, std::map<std::string, std::string>* out);

}  // namespace auth
