// auth/redis_store.h: device and certificate lookups, and the session/event writes, over
// asynchronous Redis connections (hiredis on the owning worker's libuv loop). One lookup is
// one pipelined round trip.
//
// Which node serves what (`redis.read_from`):
//   master always   writes: session HSET/EXPIRE/EVAL (delete if ours), events XADD; and every
//                   lookup asked for with ReadPreference::kMaster (revalidations). The change
//                   feed's SUBSCRIBE is on the master too (auth/change_feed.h).
//   replica if any  lookups asked for with ReadPreference::kReplicaOk (CONNECT): HGETALL
//                   device:<id>, HGETALL cert:<cert_id>, SISMEMBER cert:<cert_id>:devices.
//                   All three are reads; nothing with a side effect is ever sent to a replica.
// With read_from: replica the store keeps a second connection, to a replica named by the
// Sentinels (usable_replicas, one per worker by `replica_pick`). A lookup goes to the master
// instead when that connection is not up, and is re-sent to the master when the replica fails
// it (connection lost, timeout, error reply): a missing replica never refuses a device.
// A replica is read from only while its own ROLE says it is in sync with its master (checked
// when connecting and every kReplicaRecheck): Sentinel's view of it can be seconds old.
// Replicas are asked for again when the replica connection fails, every kReplicaRecheck
// (the current one is left when Sentinel no longer lists it as usable), and when the master
// moved (failover: roles changed).
//
// Thread: every method runs on the loop thread that owns the store.
// Failure: a command not answered within the timeout drops its connection; lookups in flight
// on the master fail with kUnavailable, those on a replica go to the master. Connections come
// back on their own with backoff. Callbacks never run inside the call that started the lookup.
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
#include "auth/redis_link.h"
#include "auth/sentinel_resolver.h"

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
  // Sentinel mode only: CONNECT lookups from a replica (`redis.read_from: replica`).
  bool read_from_replica = false;
  // Which usable replica this store reads from (choose_replica): differs between workers.
  uint64_t replica_pick = 0;
};

enum class LookupStatus { kOk, kUnavailable };

// ReadPreference: where a lookup may be answered from.
//   kReplicaOk  a replica when read_from: replica and one is connected; its data may lag the
//               master by the replication delay. For CONNECT-time lookups.
//   kMaster     the master. For re-checks of live sessions: they run because something
//               changed (or may have), and must see that change.
enum class ReadPreference { kReplicaOk, kMaster };

// RedisNode: which node answered a lookup.
enum class RedisNode { kMaster, kReplica };

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
  // How often a store reading from a replica asks the Sentinels whether it still should.
  static constexpr std::chrono::milliseconds kReplicaRecheck{5000};

  RedisStore(uv_loop_t* loop, RedisEndpoint endpoint, RedisKeys keys);
  ~RedisStore();
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  // start opens the connections; lookups before the master is set up are queued behind it.
  void start();

  // close drops the connections and stops reconnecting; pending lookups are failed.
  // The store's libuv handles are closed; destroy the store after the loop ran once more.
  void close();

  // lookup reads `device:<device_id>`, and with |cert_id| also `cert:<cert_id>` and the
  // binding of the two. |done| runs exactly once unless the ticket is cancelled first.
  Ticket lookup(std::string_view device_id, const std::string* cert_id, LookupCallback done,
                ReadPreference where = ReadPreference::kMaster);

  // cancel guarantees the lookup's callback will not run. Unknown tickets are ignored.
  void cancel(Ticket ticket);

  // execute sends a write, always to the master, whose answer nobody waits for (sessions,
  // events). It never delays lookups beyond their place in the pipeline. False (and counted)
  // when there is no connection to send it on: such writes are dropped, not queued.
  bool execute(const std::vector<std::string>& argv);
  uint64_t dropped_writes() const { return dropped_writes_; }

  // lookups_answered_by: lookups answered (not failed) by the master or by a replica.
  uint64_t lookups_answered_by(RedisNode node) const {
    return node == RedisNode::kMaster ? answered_by_master_ : answered_by_replica_;
  }

  // on_connected_change runs (on the loop) whenever connected() flips.
  void set_connected_listener(std::function<void(bool connected)> listener) {
    connected_listener_ = std::move(listener);
  }

  // connected: the master connection is up (AUTH/SELECT done). For readiness checks: the
  // replica is an optimisation, its absence is not a fault.
  bool connected() const { return master_.ready(); }

  const RedisKeys& keys() const { return keys_; }

 private:
  // What a reply answers; encoded with the ticket in the link's reply tag. Writes use
  // kWriteTicket (never a lookup's ticket).
  enum class Slot : uint8_t { kDevice = 0, kCert = 1, kBinding = 2 };
  static constexpr uint64_t kWriteTicket = 1;

  struct Pending {
    std::string device_id;
    std::optional<std::string> cert_id;
    LookupResult result;
    LookupCallback done;
    RedisNode node = RedisNode::kMaster;  // where the commands went; replies from elsewhere are stale
    int replies_left = 0;
    bool failed = false;
  };

  bool send_lookup(Ticket ticket, Pending& p, RedisNode node);
  void fall_back_to_master(Ticket ticket, Pending& p);
  void on_reply(RedisNode node, uint64_t tag, const redisReply* reply);
  void on_write_reply(const redisReply* reply);
  void on_master_ready(bool ready);
  void locate_master(RedisLink::Found found);
  void locate_replica(RedisLink::Found found);
  void recheck_replica();
  void finish(Ticket ticket);
  void fail_later(Ticket ticket);
  void run_deferred();

  uv_loop_t* loop_;
  RedisEndpoint endpoint_;
  RedisKeys keys_;
  std::unique_ptr<SentinelResolver> master_resolver_;   // sentinel mode only
  std::unique_ptr<SentinelResolver> replica_locator_;   // read_from: replica only
  std::unique_ptr<SentinelResolver> replica_checker_;   // the periodic re-check; never
                                                        // abandons a locate in progress
  RedisLink master_;
  std::unique_ptr<RedisLink> replica_;                  // read_from: replica only
  std::string master_address_;                          // where the master was last set up
  bool replica_missing_logged_ = false;
  bool closed_ = false;
  uint64_t next_ticket_ = 2;  // 0 = kNoTicket, 1 = kWriteTicket
  uint64_t dropped_writes_ = 0;
  uint64_t answered_by_master_ = 0;
  uint64_t answered_by_replica_ = 0;
  std::function<void(bool)> connected_listener_;
  std::map<Ticket, Pending> pending_;
  std::vector<Ticket> deferred_failures_;
  uv_timer_t deferred_timer_;
  uv_timer_t recheck_timer_;
};

// parse_hash_reply fills |out| from an HGETALL reply; false if the reply is not an array of
// string pairs. Exposed for tests.
bool parse_hash_reply(const void* reply, std::map<std::string, std::string>* out);

// parse_role_reply fills |out| from a ROLE reply, integers in decimal; false if the reply is
// not an array (an error, say). Nested arrays (a master's replica list) become "". For tests.
bool parse_role_reply(const void* reply, std::vector<std::string>* out);

}  // namespace auth
