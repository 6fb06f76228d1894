// auth/sentinel_resolver.h: finds the current Redis master (or its usable replicas) through
// Redis Sentinel, without blocking the loop: each sentinel in turn is asked
// SENTINEL get-master-addr-by-name (or SENTINEL REPLICAS) over its own short-lived async
// connection; the first answer wins.
//
// Thread: the owning loop. At most one resolution runs at a time.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "auth/replica_choice.h"

struct redisAsyncContext;

namespace auth {

struct SentinelSettings {
  struct Address {
    std::string host;
    uint16_t port = 26379;
  };
  std::vector<Address> sentinels;
  std::string master;
  std::string password;                      // AUTH to the sentinels; empty = none
  std::chrono::milliseconds timeout{1000};   // per sentinel asked
};

class SentinelResolver {
 public:
  // ok = false when no sentinel named a master.
  using Done = std::function<void(bool ok, const std::string& host, uint16_t port)>;
  // Empty when no sentinel named a usable replica.
  using ReplicasDone = std::function<void(std::vector<ReplicaAddress> usable)>;

  SentinelResolver(uv_loop_t* loop, SentinelSettings settings);
  ~SentinelResolver();
  SentinelResolver(const SentinelResolver&) = delete;
  SentinelResolver& operator=(const SentinelResolver&) = delete;

  // resolve starts a resolution; |done| runs later, on the loop, exactly once unless close()
  // runs first. A resolution already running is abandoned.
  void resolve(Done done);

  // resolve_replicas is resolve for SENTINEL REPLICAS: |done| gets the usable replicas (see
  // usable_replicas). A sentinel naming none is not taken at its word (it may be the one cut
  // off): the next is asked.
  void resolve_replicas(ReplicasDone done);

  // close abandons any resolution and closes the timer; destroy after the loop turned.
  void close();

 private:
  void ask(size_t index);
  void give_up_on_current();
  void finish(bool ok, const std::string& host, uint16_t port);
  void finish_replicas(std::vector<ReplicaAddress> usable);
  void ask_next_later();
  static void on_reply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void on_connect(const redisAsyncContext* ctx, int status);

  uv_loop_t* loop_;
  SentinelSettings settings_;
  Done done_;                    // set while a master resolution runs
  ReplicasDone replicas_done_;   // set while a replica resolution runs
  size_t index_ = 0;
  redisAsyncContext* ctx_ = nullptr;  // owned by hiredis
  uv_timer_t timer_;
  bool closed_ = false;
};

// parse_sentinel_entries: the elements of a SENTINEL REPLICAS reply (a hiredis redisReply),
// each as its field/value map; false if it is not an array of flat string pairs. For tests.
bool parse_sentinel_entries(const void* reply, std::vector<SentinelEntry>* out);

}  // namespace auth
