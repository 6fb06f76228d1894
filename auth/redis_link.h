// auth/redis_link.h: one asynchronous connection to one Redis data node (hiredis on the
// owning loop). Where to connect is asked of a locator on every (re)connect, which is how a
// failover is followed; AUTH, SELECT and PING set the connection up; it reconnects with
// backoff; a command not answered within the timeout drops the connection, which hands every
// command in flight a null reply. An optional health check (RedisLinkSettings) can refuse a
// node that answers but must not be used (a replica not in sync).
//
// Thread: every method runs on the owning loop. Replies come in the order the commands were
// sent; a reply callback never runs inside the send() that sent its command.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace auth {

struct RedisLinkSettings {
  std::string role;  // "master" or "replica": names the link in logs
  int database = 0;
  std::string username;  // Redis 6 ACL user; empty = default user
  std::string password;  // empty = no AUTH
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds max_backoff{1000};
  // Optional health check: |check_command| is sent during set-up, before the PING, and then
  // every |check_interval| while ready; an answer |healthy| refuses drops the connection
  // (logged with |check_failure|). A replica uses ROLE: it must be in sync with its master.
  std::vector<std::string> check_command;
  std::function<bool(const redisReply* reply)> healthy;
  std::string check_failure;
  std::chrono::milliseconds check_interval{0};
};

class RedisLink {
 public:
  // Found: where to connect; ok = false retries after the backoff.
  using Found = std::function<void(bool ok, const std::string& host, uint16_t port)>;
  // Locator: asked on every (re)connect; calls |found| exactly once, now or later.
  using Locator = std::function<void(Found found)>;
  // ReplyFn: the reply to the command sent with |tag|; null when the connection went away
  // before the reply came.
  using ReplyFn = std::function<void(uint64_t tag, const redisReply* reply)>;
  // ReadyFn: runs whenever ready() flips.
  using ReadyFn = std::function<void(bool ready)>;

  RedisLink(uv_loop_t* loop, RedisLinkSettings settings, Locator locate, ReplyFn on_reply,
            ReadyFn on_ready);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  void start();

  // close drops the connection (commands in flight get their null reply now) and stops
  // reconnecting; the timers are closed: destroy the link after the loop turned once more.
  void close();

  // send queues a command; false when there is no connection to queue it on. Commands sent
  // while the set-up is still running wait behind it.
  bool send(uint64_t tag, const std::vector<std::string>& argv);

  // reconnect drops the current connection (if any) and locates the node again after the
  // backoff. Safe inside a reply callback of this link.
  void reconnect(const char* why);

  // ready: connected, set up, and the health check (if any) passed.
  bool ready() const { return state_ == State::kReady; }

  // address: "host:port" of the current (or last) connection.
  const std::string& address() const { return address_; }

 private:
  enum class State { kIdle, kLocating, kConnecting, kReady, kClosed };

  void connect();
  void connect_to(const std::string& host, uint16_t port);
  void schedule_reconnect();
  void drop_connection(const char* why);
  void set_state(State state);
  void check_timeouts();
  void on_setup_reply(const redisReply* reply, bool is_check);
  void send_setup(const std::vector<std::string>& argv, bool is_check);
  bool queue_command(void (*callback)(redisAsyncContext*, void*, void*), void* privdata,
                     const std::vector<std::string>& argv);

  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_reply_thunk(redisAsyncContext* ctx, void* reply, void* privdata);
  static void on_setup_thunk(redisAsyncContext* ctx, void* reply, void* privdata);

  uv_loop_t* loop_;
  RedisLinkSettings settings_;
  Locator locate_;
  ReplyFn on_reply_;
  ReadyFn on_ready_;
  State state_ = State::kIdle;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis; freed by it after disconnect
  std::string address_;
  // When each command in flight on ctx_ was sent, oldest first (replies come in order).
  std::deque<std::chrono::steady_clock::time_point> sent_at_;
  std::chrono::milliseconds backoff_{100};
  std::chrono::steady_clock::time_point last_check_{};
  uv_timer_t reconnect_timer_;
  uv_timer_t timeout_timer_;
};

}  // namespace auth
