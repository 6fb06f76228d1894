// admin/event_stream.cc: see event_stream.h.
#include "admin/event_stream.h"

namespace admin {
namespace {

constexpr const char* kBlockMillis = "5000";
constexpr const char* kBatch = "100";

bool valid_stream_id(const std::string& id) {
  if (id.empty() || id.size() > 41) return false;
  size_t dash = id.find('-');
  if (dash == std::string::npos) return false;
  return id.find_first_not_of("0123456789-") == std::string::npos &&
         id.find('-', dash + 1) == std::string::npos;
}

}  // namespace

std::unique_ptr<EventStream> EventStream::open(const AdminSettings& settings,
                                               const std::string& last_event_id) {
  RedisSession session = open_redis(settings);
  if (!session.client) return nullptr;
  auth::RedisKeys keys(settings.key_prefix);
  std::string last_id = "0-0";
  if (valid_stream_id(last_event_id)) {
    last_id = last_event_id;
  } else {
    ctl::Reply newest = session.client->command({"XREVRANGE", keys.events(), "+", "-", "COUNT", "1"});
    if (newest.is_error()) return nullptr;
    auto entries = newest.elements();
    if (!entries.empty() && entries[0]->type == REDIS_REPLY_ARRAY && entries[0]->elements == 2) {
      last_id = std::string(ctl::element_str(entries[0]->element[0]));
    }
  }
  return std::unique_ptr<EventStream>(
      new EventStream(std::move(session.client), keys.events(), std::move(last_id)));
}

std::string EventStream::next_chunk() {
  if (!greeted_) {
    greeted_ = true;
    return "retry: 2000\n: connected\n\n";
  }
  ctl::Reply reply = redis_->command(
      {"XREAD", "COUNT", kBatch, "BLOCK", kBlockMillis, "STREAMS", key_, last_id_});
  if (reply.is_error()) return {};
  if (reply.is_nil()) return ": keep-alive\n\n";
  std::string out;
  for (const redisReply* stream : reply.elements()) {
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
    const redisReply* entries = stream->element[1];
    for (size_t i = 0; i < entries->elements; ++i) {
      const redisReply* entry = entries->element[i];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      last_id_ = std::string(ctl::element_str(entry->element[0]));
      ctl::JsonWriter json;
      write_event_entry(json, entry);
      out += "id: " + last_id_ + "\nevent: event\ndata: " + json.str() + "\n\n";
    }
  }
  return out.empty() ? ": keep-alive\n\n" : out;
}

}  // namespace admin
