// admin/api.h: the request/response types shared by the HTTP server and the API routes, and
// the helpers that turn operation results and validation failures into JSON responses.
// Nothing here knows libmicrohttpd.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/redis_keys.h"
#include "ctl/op_result.h"
#include "ctl/redis_client.h"

namespace admin {

struct HttpRequest {
  std::string method;
  std::vector<std::string> segments;         // percent-decoded path segments
  std::map<std::string, std::string> query;  // percent-decoded; last value wins
  std::string body;
  std::string token_name;                    // the authenticated token's name
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // event_stream: the server answers with a Server-Sent Events tail of the `events` stream
  // instead of |body|.
  bool event_stream = false;
};

// AdminSettings: what the routes need from the configuration; immutable once serving.
struct AdminSettings {
  ctl::RedisUrl redis;
  std::string key_prefix = "mqttauth:";
  std::string ca_dir;  // "" = certificate creation unavailable
};

HttpResponse json_response(unsigned status, std::string body);
// error_response: {"error": message} plus "field" when |field| is not empty.
HttpResponse error_response(unsigned status, std::string_view message, std::string_view field = {});
// op_error maps a failed operation to 404 / 409 / 400 / 503 / 500.
HttpResponse op_error(ctl::OpStatus status, std::string_view message);

// RedisSession: one Redis connection for the duration of one request.
struct RedisSession {
  std::unique_ptr<ctl::RedisClient> client;
  std::string error;
};
RedisSession open_redis(const AdminSettings& settings);

}  // namespace admin
