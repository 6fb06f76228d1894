// proxy/session_journal.h: what the proxy writes to Redis about connections: the
// `session:<device_id>` hashes of live sessions and the `events` stream. Every write is
// fire-and-forget on the worker's store: it never delays a CONNACK, and when Redis is down
// it is counted and dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/redis_store.h"
#include "config/config.h"

namespace proxy {

// One live session as recorded in Redis.
struct SessionFacts {
  std::string_view device_id;
  std::string_view listener;
  std::string_view peer;
  std::string_view cert_id;     // empty on token listeners
  std::string_view conn_id;     // unique per connection; guards the delete on close
  int64_t connected_at = 0;     // unix seconds
};

class SessionJournal {
 public:
  SessionJournal(auth::RedisStore& store, const config::Config& config, std::string node);

  void opened(const SessionFacts& session);
  void closed(const SessionFacts& session, std::string_view reason, uint64_t bytes_in,
              uint64_t bytes_out, double duration_seconds);
  void kicked(const SessionFacts& session, std::string_view reason);
  void auth_failed(std::string_view device_id, std::string_view listener, std::string_view peer,
                   std::string_view reason);
  // refresh extends the expiry of a live session's record.
  void refresh(std::string_view device_id);

  // reconfigure takes the events and sessions settings of a reloaded config.
  void reconfigure(const config::Config& config);

  const std::string& node() const { return node_; }

 private:
  void event(std::vector<std::string> fields);

  auth::RedisStore& store_;
  config::EventsConfig events_;
  std::string node_;
  std::string ttl_seconds_;
};

}  // namespace proxy
