// auth/change_feed.h: the subscription to the `changes` channel. Messages are
// "device <id>", "cert <cert_id>" or "kick <device_id>"; each is handed to the owner.
//
// Thread: the owning worker's loop. Reconnects with backoff when Redis goes away; on every
// (re)subscription the owner is told, since changes published while we were away are lost
// and live sessions may need a full re-check.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/redis_store.h"

struct redisAsyncContext;

namespace auth {

enum class ChangeKind { kDevice, kCert, kKick };

// parse_change: "device abc" → {kDevice, "abc"}. False for anything else.
bool parse_change(std::string_view message, ChangeKind* out_kind, std::string* out_id);

class ChangeFeed {
 public:
  using ChangeFn = std::function<void(ChangeKind kind, const std::string& id)>;
  using SubscribedFn = std::function<void()>;

  ChangeFeed(uv_loop_t* loop, RedisEndpoint endpoint, std::string channel, ChangeFn on_change,
             SubscribedFn on_subscribed);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  void start();
  // close drops the subscription for good and closes the timer handle.
  void close();

 private:
  void connect();
  void connect_to(const std::string& host, uint16_t port);
  void schedule_reconnect();
  static void on_connect(const redisAsyncContext* ctx, int status);
  static void on_disconnect(const redisAsyncContext* ctx, int status);
  static void on_message(redisAsyncContext* ctx, void* reply, void* privdata);

  uv_loop_t* loop_;
  RedisEndpoint endpoint_;
  std::string channel_;
  ChangeFn on_change_;
  SubscribedFn on_subscribed_;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis
  std::unique_ptr<SentinelResolver> resolver_;  // sentinel mode only
  bool closed_ = false;
  bool subscribed_ = false;
  std::chrono::milliseconds backoff_{100};
  uv_timer_t reconnect_timer_;
};

}  // namespace auth
