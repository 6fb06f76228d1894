// admin/routes_live.cc: /api/sessions (list, kick) and /api/events (latest N; the live tail
// is served by the server as Server-Sent Events, see event_stream.h).
#include "admin/event_stream.h"
#include "admin/routes.h"
#include "ctl/json_out.h"
#include "ctl/session_ops.h"

namespace admin {
namespace {

constexpr long long kMaxEvents = 1000;
// A device filter reads this many recent entries and keeps the device's.
constexpr long long kFilterWindow = 5000;

std::string query_value(const HttpRequest& request, const char* name) {
  auto it = request.query.find(name);
  return it == request.query.end() ? std::string() : it->second;
}

}  // namespace

// write_event_entry: one XRANGE/XREAD entry ([id, [field, value, ...]]) as
// {"id": ..., field: value, ...}. Used by the event list and the SSE tail.
void write_event_entry(ctl::JsonWriter& json, const redisReply* entry) {
  json.begin_object();
  if (entry->type == REDIS_REPLY_ARRAY && entry->elements == 2) {
    json.field("id", ctl::element_str(entry->element[0]));
    const redisReply* fields = entry->element[1];
    if (fields->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        std::string_view name = ctl::element_str(fields->element[i]);
        if (name == "id") continue;
        json.field(name, ctl::element_str(fields->element[i + 1]));
      }
    }
  }
  json.end_object();
}

std::string entry_field(const redisReply* entry, std::string_view wanted) {
  if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return {};
  const redisReply* fields = entry->element[1];
  if (fields->type != REDIS_REPLY_ARRAY) return {};
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (ctl::element_str(fields->element[i]) == wanted) {
      return std::string(ctl::element_str(fields->element[i + 1]));
    }
  }
  return {};
}

HttpResponse route_sessions(const AdminSettings& settings, const HttpRequest& request) {
  const auto& segments = request.segments;
  const bool list = segments.size() == 2;
  const bool kick = segments.size() == 4 && segments[3] == "kick";
  if (!list && !kick) return error_response(404, "no such endpoint");
  if (list && request.method != "GET") return method_not_allowed();
  if (kick && request.method != "POST") return method_not_allowed();
  std::string device = kick ? segments[2] : query_value(request, "device");
  if ((kick || !device.empty()) && !ctl::valid_record_id(device)) {
    return error_response(400, "invalid device ID", kick ? "id" : "device");
  }
  RedisSession redis = open_redis(settings);
  if (!redis.client) return error_response(503, "redis unavailable: " + redis.error);
  ctl::OpContext ctx{*redis.client, auth::RedisKeys(settings.key_prefix)};
  auto sessions = ctl::session_list(ctx, device);
  if (!sessions.ok()) return op_error(sessions.status, sessions.message);
  if (kick) {
    if (sessions.value.empty()) return error_response(404, "device " + device + " has no session");
    auto kicked = ctl::kick_device(ctx, device);
    if (!kicked.ok()) return op_error(kicked.status, kicked.message);
    ctl::JsonWriter json;
    json.begin_object().field("kicked", device).field("delivered",
                                                      static_cast<int64_t>(kicked.value));
    json.end_object();
    return json_response(200, json.str());
  }
  ctl::JsonWriter json;
  json.begin_object().key("sessions").begin_array();
  for (const auto& session : sessions.value) {
    json.begin_object().field("device_id", session.device_id);
    for (const auto& [name, value] : session.fields) {
      if (name != "device_id") json.field(name, value);
    }
    json.end_object();
  }
  json.end_array().end_object();
  return json_response(200, json.str());
}

HttpResponse route_events(const AdminSettings& settings, const HttpRequest& request) {
  const auto& segments = request.segments;
  if (request.method != "GET") return method_not_allowed();
  if (segments.size() == 3 && segments[2] == "stream") {
    HttpResponse response;
    response.event_stream = true;
    return response;
  }
  if (segments.size() != 2) return error_response(404, "no such endpoint");
  long long count = 100;
  if (std::string text = query_value(request, "count"); !text.empty()) {
    char* end = nullptr;
    count = std::strtoll(text.c_str(), &end, 10);
    if (*end != '\0' || count < 1 || count > kMaxEvents) {
      return error_response(400, "count must be an integer in 1..1000", "count");
    }
  }
  const std::string device = query_value(request, "device");
  if (!device.empty() && !ctl::valid_record_id(device)) {
    return error_response(400, "invalid device ID", "device");
  }
  RedisSession redis = open_redis(settings);
  if (!redis.client) return error_response(503, "redis unavailable: " + redis.error);
  auth::RedisKeys keys(settings.key_prefix);
  ctl::Reply reply = redis.client->command(
      {"XREVRANGE", keys.events(), "+", "-", "COUNT",
       std::to_string(device.empty() ? count : kFilterWindow)});
  if (reply.is_error()) return error_response(503, "redis: " + std::string(reply.str()));
  ctl::JsonWriter json;
  json.begin_object().key("events").begin_array();
  long long written = 0;
  for (const redisReply* entry : reply.elements()) {
    if (written >= count) break;
    if (!device.empty() && entry_field(entry, "device") != device) continue;
    write_event_entry(json, entry);
    ++written;
  }
  json.end_array().end_object();
  return json_response(200, json.str());
}

}  // namespace admin
