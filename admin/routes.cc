// admin/routes.cc: see routes.h.
#include "admin/routes.h"

namespace admin {

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

HttpResponse method_not_allowed() { return error_response(405, "method not allowed"); }

HttpResponse route_request(const AdminSettings& settings, const HttpRequest& request) {
  const auto& segments = request.segments;
  if (segments.size() < 2 || segments[0] != "api") return error_response(404, "no such endpoint");
  const std::string& area = segments[1];
  if (area == "devices") return route_devices(settings, request);
  if (area == "certs") return route_certs(settings, request);
  if (area == "sessions") return route_sessions(settings, request);
  if (area == "events") return route_events(settings, request);
  return error_response(404, "no such endpoint");
}

}  // namespace admin
