// admin/api.cc: see api.h.
#include "admin/api.h"

#include "ctl/json_out.h"

namespace admin {

HttpResponse json_response(unsigned status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

HttpResponse error_response(unsigned status, std::string_view message, std::string_view field) {
  ctl::JsonWriter json;
  json.begin_object().field("error", message);
  if (!field.empty()) json.field("field", field);
  json.end_object();
  return json_response(status, json.str());
}

HttpResponse op_error(ctl::OpStatus status, std::string_view message) {
  switch (status) {
    case ctl::OpStatus::kNotFound:
      return error_response(404, message);
    case ctl::OpStatus::kAlreadyExists:
    case ctl::OpStatus::kRefused:
      return error_response(409, message);
    case ctl::OpStatus::kInvalidArgument:
      return error_response(400, message);
    case ctl::OpStatus::kRedisError:
      return error_response(503, message);
    case ctl::OpStatus::kOk:
    case ctl::OpStatus::kIoError:
      break;
  }
  return error_response(500, message);
}

RedisSession open_redis(const AdminSettings& settings) {
  RedisSession session;
  ctl::RedisClient::connect(settings.redis, &session.client, &session.error);
  return session;
}

}  // namespace admin
