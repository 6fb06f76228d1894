// admin/event_stream.h: the Server-Sent Events tail of the `events` stream. One EventStream
// per SSE client, owning its own Redis connection, blocking in XREAD on the connection's
// own server thread (the server runs a thread per connection).
#pragma once

#include <memory>
#include <string>

#include "admin/api.h"
#include "ctl/json_out.h"

namespace admin {

// write_event_entry: one stream entry ([id, [field, value, ...]]) as a JSON object with "id".
void write_event_entry(ctl::JsonWriter& json, const redisReply* entry);

class EventStream {
 public:
  // open connects to Redis and starts after |last_event_id| (the SSE Last-Event-ID header)
  // or, when it is empty, after the newest entry. nullptr when Redis is unavailable.
  static std::unique_ptr<EventStream> open(const AdminSettings& settings,
                                           const std::string& last_event_id);

  // next_chunk blocks up to a few seconds and returns the next bytes to send: `id:`/`data:`
  // events, or a keep-alive comment when nothing arrived. Empty means the stream failed.
  std::string next_chunk();

 private:
  EventStream(std::unique_ptr<ctl::RedisClient> redis, std::string key, std::string last_id)
      : redis_(std::move(redis)), key_(std::move(key)), last_id_(std::move(last_id)) {}
  std::unique_ptr<ctl::RedisClient> redis_;
  std::string key_;
  std::string last_id_;
  bool greeted_ = false;
};

}  // namespace admin
