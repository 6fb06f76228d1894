// admin/routes_devices.cc: /api/devices — list, get, create, update, set key, delete.
#include <algorithm>

#include "admin/json_body.h"
#include "admin/routes.h"
#include "ctl/device_ops.h"
#include "ctl/json_out.h"
#include "ctl/session_ops.h"

namespace admin {
namespace {

constexpr size_t kMaxLabels = 32;
constexpr size_t kMaxLabelValue = 1024;
constexpr size_t kMaxUsername = 256;
constexpr size_t kMaxKey = 1024;
constexpr int64_t kDefaultPage = 100;
constexpr int64_t kMaxPage = 1000;

bool is_label(const std::string& field) {
  return field != "username" && field != "auth" && field != "enabled" && field != "secret";
}

void write_fields(ctl::JsonWriter& json, const ctl::Fields& fields) {
  json.begin_object();
  for (const auto& [name, value] : fields) json.field(name, value);
  json.end_object();
}

// parse_labels reads `labels` (an object of strings; null values only when |allow_null|,
// meaning "remove") into |out_set| and |out_remove|.
bool parse_labels(JsonBody& body, bool allow_null, ctl::Fields* out_set,
                  std::vector<std::string>* out_remove) {
  const nlohmann::json* labels = body.member("labels");
  if (labels == nullptr) return true;
  if (!labels->is_object() || labels->size() > kMaxLabels) {
    body.fail("labels must be an object of at most 32 string values", "labels");
    return false;
  }
  for (const auto& [name, value] : labels->items()) {
    if (!valid_label_name(name) || !is_label(name)) {
      body.fail("label name not allowed: " + name, "labels");
      return false;
    }
    if (value.is_null() && allow_null) {
      out_remove->push_back(name);
    } else if (value.is_string() && value.get_ref<const std::string&>().size() <= kMaxLabelValue) {
      out_set->emplace_back(name, value.get<std::string>());
    } else {
      body.fail("label " + name + " must be a string of at most 1024 bytes", "labels");
      return false;
    }
  }
  return true;
}

HttpResponse list_devices(ctl::OpContext& ctx, const HttpRequest& request) {
  auto query = [&](const char* name) {
    auto it = request.query.find(name);
    return it == request.query.end() ? std::string() : it->second;
  };
  const std::string prefix = query("prefix");
  const std::string cursor = query("cursor");
  int64_t limit = kDefaultPage;
  if (std::string text = query("limit"); !text.empty()) {
    char* end = nullptr;
    limit = std::strtoll(text.c_str(), &end, 10);
    if (*end != '\0' || limit < 1 || limit > kMaxPage) {
      return error_response(400, "limit must be an integer in 1..1000", "limit");
    }
  }
  if (prefix.size() > 256) return error_response(400, "prefix is too long", "prefix");
  auto listed = ctl::device_list(ctx, prefix);
  if (!listed.ok()) return op_error(listed.status, listed.message);
  // The list is sorted by ID: the cursor is the last ID of the previous page.
  auto begin = std::upper_bound(listed.value.begin(), listed.value.end(), cursor,
                                [](const std::string& c, const ctl::DeviceSummary& device) {
                                  return c < device.id;
                                });
  ctl::JsonWriter json;
  json.begin_object().key("devices").begin_array();
  int64_t count = 0;
  auto it = begin;
  for (; it != listed.value.end() && count < limit; ++it, ++count) {
    json.begin_object()
        .field("id", it->id)
        .field("username", it->username)
        .field("auth", it->auth)
        .field("enabled", it->enabled)
        .end_object();
  }
  json.end_array().key("next_cursor");
  if (it != listed.value.end() && count > 0) {
    json.string(std::prev(it)->id);
  } else {
    json.null();
  }
  json.end_object();
  return json_response(200, json.str());
}

HttpResponse get_device(ctl::OpContext& ctx, const std::string& id) {
  auto device = ctl::device_get(ctx, id);
  if (!device.ok()) return op_error(device.status, device.message);
  auto sessions = ctl::session_list(ctx, id);
  if (!sessions.ok()) return op_error(sessions.status, sessions.message);
  ctl::JsonWriter json;
  json.begin_object().field("id", device.value.id);
  std::string username, auth_type;
  bool enabled = true;
  ctl::Fields labels;
  for (const auto& [name, value] : device.value.fields) {
    if (name == "username") username = value;
    else if (name == "auth") auth_type = value;
    else if (name == "enabled") enabled = value != "0";
    else if (is_label(name)) labels.emplace_back(name, value);
  }
  json.field("username", username).field("auth", auth_type).field("enabled", enabled);
  json.field("secret_set", device.value.secret_set).key("labels");
  write_fields(json, labels);
  json.key("certs").begin_array();
  for (const auto& cert : device.value.certs) json.string(cert);
  json.end_array().key("session");
  if (sessions.value.empty()) {
    json.null();
  } else {
    write_fields(json, sessions.value.front().fields);
  }
  json.end_object();
  return json_response(200, json.str());
}

HttpResponse create_device(ctl::OpContext& ctx, const HttpRequest& request) {
  JsonBody body(request.body);
  ctl::DeviceAddRequest add;
  auto id = body.string("id", true, 256);
  if (id && !ctl::valid_record_id(*id)) body.fail("id: 1..256 bytes, no spaces or control characters", "id");
  auto username = body.string("username", true, kMaxUsername);
  auto auth_type = body.string("auth", false, 8);
  if (auth_type && *auth_type != "token" && *auth_type != "cert") {
    body.fail("auth must be token or cert", "auth");
  }
  auto key = body.string("key", false, kMaxKey);
  if (key && auth_type && *auth_type == "cert") body.fail("a cert device has no key", "key");
  std::vector<std::string> unused;
  parse_labels(body, false, &add.labels, &unused);
  if (!body.ok()) return body.error();
  add.id = *id;
  add.username = *username;
  if (auth_type) add.auth = *auth_type;
  add.key = key;
  auto added = ctl::device_add(ctx, add);
  if (!added.ok()) return op_error(added.status, added.message);
  ctl::JsonWriter json;
  json.begin_object().field("id", add.id).field("auth", add.auth);
  if (!added.value.generated_key.empty()) json.field("key", added.value.generated_key);
  json.end_object();
  HttpResponse response = json_response(201, json.str());
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse update_device(ctl::OpContext& ctx, const std::string& id, const HttpRequest& request) {
  JsonBody body(request.body);
  ctl::DeviceUpdate update;
  update.username = body.string("username", false, kMaxUsername);
  auto enabled = body.boolean("enabled", false);
  parse_labels(body, true, &update.set_labels, &update.remove_labels);
  if (body.ok() && !body.has("username") && !body.has("labels") && !body.has("enabled")) {
    body.fail("nothing to change: give username, labels or enabled", "body");
  }
  if (!body.ok()) return body.error();
  if (update.username || body.has("labels")) {
    auto updated = ctl::device_update(ctx, id, update);
    if (!updated.ok()) return op_error(updated.status, updated.message);
  }
  if (enabled) {
    auto changed = ctl::device_set_enabled(ctx, id, *enabled);
    if (!changed.ok()) return op_error(changed.status, changed.message);
  }
  return get_device(ctx, id);
}

HttpResponse set_device_key(ctl::OpContext& ctx, const std::string& id,
                            const HttpRequest& request) {
  std::optional<std::string> key;
  if (!request.body.empty()) {
    JsonBody body(request.body);
    key = body.string("key", false, kMaxKey);
    if (!body.ok()) return body.error();
  }
  auto set = ctl::device_set_key(ctx, id, key);
  if (!set.ok()) return op_error(set.status, set.message);
  ctl::JsonWriter json;
  json.begin_object().field("id", id);
  if (!set.value.generated_key.empty()) json.field("key", set.value.generated_key);
  json.end_object();
  HttpResponse response = json_response(200, json.str());
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace

HttpResponse route_devices(const AdminSettings& settings, const HttpRequest& request) {
  const auto& segments = request.segments;
  const std::string& method = request.method;
  if (segments.size() > 4) return error_response(404, "no such endpoint");
  if (segments.size() >= 3 && !ctl::valid_record_id(segments[2])) {
    return error_response(400, "invalid device ID", "id");
  }
  if (segments.size() == 4 && segments[3] != "key") return error_response(404, "no such endpoint");
  RedisSession redis = open_redis(settings);
  if (!redis.client) return error_response(503, "redis unavailable: " + redis.error);
  ctl::OpContext ctx{*redis.client, auth::RedisKeys(settings.key_prefix)};

  if (segments.size() == 2) {
    if (method == "GET") return list_devices(ctx, request);
    if (method == "POST") return create_device(ctx, request);
    return method_not_allowed();
  }
  const std::string& id = segments[2];
  if (segments.size() == 4) {
    return method == "POST" ? set_device_key(ctx, id, request) : method_not_allowed();
  }
  if (method == "GET") return get_device(ctx, id);
  if (method == "PATCH") return update_device(ctx, id, request);
  if (method == "DELETE") {
    auto deleted = ctl::device_delete(ctx, id);
    if (!deleted.ok()) return op_error(deleted.status, deleted.message);
    return json_response(200, "{\"deleted\":true}");
  }
  return method_not_allowed();
}

}  // namespace admin
