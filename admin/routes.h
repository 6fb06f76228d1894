// admin/routes.h: the JSON API. route_request dispatches on method and path segments to the
// handlers of each area (routes_devices.cc, routes_certs.cc, routes_live.cc); each handler
// opens one Redis connection, validates its input, and calls the ctl_ops operation that
// mqtt-authctl uses for the same change.
#pragma once

#include "admin/api.h"

namespace admin {

// route_request: |request| is already authenticated. Unknown paths are 404, known paths
// with another method 405.
HttpResponse route_request(const AdminSettings& settings, const HttpRequest& request);

HttpResponse route_devices(const AdminSettings& settings, const HttpRequest& request);
HttpResponse route_certs(const AdminSettings& settings, const HttpRequest& request);
HttpResponse route_sessions(const AdminSettings& settings, const HttpRequest& request);
HttpResponse route_events(const AdminSettings& settings, const HttpRequest& request);

// Validation shared by the areas.
bool valid_label_name(std::string_view name);  // [A-Za-z0-9_.-], 1..64 bytes
HttpResponse method_not_allowed();

}  // namespace admin
