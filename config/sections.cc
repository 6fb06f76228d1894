// config/sections.cc: the top level of the YAML keys of DESIGN.md and its small sections;
// listeners, backend/redis and admin have their own files.
#include "config/sections.h"

#include <arpa/inet.h>

#include <array>

namespace config {
namespace {

constexpr uint64_t kMaxWorkers = 256;
constexpr uint64_t kMinConnectPacket = 16;
constexpr uint64_t kMaxConnectPacket = 268'435'455;  // MQTT's largest Remaining Length
constexpr uint64_t kMaxConnections = 10'000'000;
constexpr size_t kMaxName = 64;
constexpr uint64_t kMaxFailureCount = 1'000'000;
constexpr double kMaxConnectionRate = 1'000'000;
constexpr uint64_t kMaxBurst = 1'000'000;
constexpr uint64_t kMaxEventsLength = 1'000'000'000;
constexpr Duration kMinSessionTtl{1000};

// A literal bind address as bytes, so "::1" and "0:0::1" compare equal.
struct BindAddress {
  int family = 0;   // 0 when |host| is not a literal address
  std::array<uint8_t, 16> bytes{};
  bool is_wildcard() const { return bytes == std::array<uint8_t, 16>{}; }
};

BindAddress bind_address(const std::string& host) {
  BindAddress out;
  if (inet_pton(AF_INET, host.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), out.bytes.data()) == 1) {
    out.family = AF_INET6;
  }
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-' || c == '.';
}

void read_workers(const Field& field, Diagnostics& diag, Config* out) {
  if (field.node.IsScalar() && field.node.Scalar() == "auto") {
    out->workers = 0;
    return;
  }
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return;
  std::string ignored;
  std::optional<uint64_t> n = parse_uint(*text, &ignored);
  if (!n || *n < 1 || *n > kMaxWorkers) {
    diag.error(field.line, field.path,
               "must be \"auto\" or a number from 1 to " + std::to_string(kMaxWorkers));
    return;
  }
  out->workers = static_cast<unsigned>(*n);
}

// node_name is written into session records; ':' is allowed for "host:instance" names.
void read_node_name(const Field& field, Diagnostics& diag, std::string* out) {
  std::optional<std::string> text = read_string(field, diag);
  if (!text) return;
  bool ok = !text->empty() && text->size() <= kMaxName;
  for (char c : *text) ok = ok && (is_name_char(c) || c == ':');
  if (!ok) {
    diag.error(field.line, field.path,
               "\"" + *text + "\" is not a valid node name (use up to 64 letters, digits, "
               "\"_\", \"-\", \".\" or \":\"; leave it out to use the host name)");
    return;
  }
  *out = *text;
}

void read_auth_failures(const Field& field, Diagnostics& diag, AuthFailureLimits* out) {
  MapReader map(field, diag, {"max_per_ip", "max_per_device", "window", "ban"});
  if (!map.ok()) return;
  if (auto f = map.get("max_per_ip")) {
    if (auto v = read_uint_in_range(*f, diag, 1, kMaxFailureCount)) {
      out->max_per_ip = static_cast<uint32_t>(*v);
    }
  }
  if (auto f = map.get("max_per_device")) {
    if (auto v = read_uint_in_range(*f, diag, 1, kMaxFailureCount)) {
      out->max_per_device = static_cast<uint32_t>(*v);
    }
  }
  if (auto f = map.get("window")) {
    if (auto v = read_timeout(*f, diag)) out->window = *v;
  }
  if (auto f = map.get("ban")) {
    if (auto v = read_timeout(*f, diag)) out->ban = *v;
  }
}

void read_connection_rate(const Field& field, Diagnostics& diag, ConnectionRateLimits* out) {
  MapReader map(field, diag, {"per_ip", "burst"});
  if (!map.ok()) return;
  if (auto f = map.get("per_ip")) {
    if (auto v = read_decimal_in_range(*f, diag, 0, kMaxConnectionRate)) out->per_ip = *v;
  }
  if (auto f = map.get("burst")) {
    if (auto v = read_uint_in_range(*f, diag, 1, kMaxBurst)) {
      out->burst = static_cast<uint32_t>(*v);
    }
  }
}

void read_limits(const Field& field, Diagnostics& diag, LimitsConfig* out) {
  MapReader map(field, diag,
                {"connect_timeout", "max_connect_packet", "max_connections", "auth_failures",
                 "connection_rate"});
  if (!map.ok()) return;
  if (auto f = map.get("connect_timeout")) {
    if (auto v = read_timeout(*f, diag)) out->connect_timeout = *v;
  }
  if (auto f = map.get("max_connect_packet")) {
    if (auto v = read_size_in_range(*f, diag, kMinConnectPacket, kMaxConnectPacket)) {
      out->max_connect_packet = static_cast<uint32_t>(*v);
    }
  }
  if (auto f = map.get("max_connections")) {
    if (auto v = read_uint_in_range(*f, diag, 1, kMaxConnections)) {
      out->max_connections = static_cast<uint32_t>(*v);
    }
  }
  if (auto f = map.get("auth_failures")) read_auth_failures(*f, diag, &out->auth_failures);
  if (auto f = map.get("connection_rate")) {
    read_connection_rate(*f, diag, &out->connection_rate);
  }
}

void read_auth(const Field& field, Diagnostics& diag, AuthConfig* out) {
  MapReader map(field, diag, {"plaintext_secrets", "revalidate_interval"});
  if (!map.ok()) return;
  if (auto f = map.get("plaintext_secrets")) {
    if (auto v = read_bool(*f, diag)) out->plaintext_secrets = *v;
  }
  if (auto f = map.get("revalidate_interval")) {
    if (auto v = read_duration(*f, diag)) out->revalidate_interval = *v;
  }
}

void read_sessions(const Field& field, Diagnostics& diag, SessionsConfig* out) {
  MapReader map(field, diag, {"ttl"});
  if (!map.ok()) return;
  if (auto f = map.get("ttl")) {
    if (auto v = read_duration(*f, diag)) {
      if (*v < kMinSessionTtl) {
        diag.error(f->line, f->path, "must be at least 1s");
      } else {
        out->ttl = *v;
      }
    }
  }
}

void read_events(const Field& field, Diagnostics& diag, EventsConfig* out) {
  MapReader map(field, diag, {"enabled", "maxlen"});
  if (!map.ok()) return;
  if (auto f = map.get("enabled")) {
    if (auto v = read_bool(*f, diag)) out->enabled = *v;
  }
  if (auto f = map.get("maxlen")) {
    if (auto v = read_uint_in_range(*f, diag, 1, kMaxEventsLength)) {
      out->maxlen = static_cast<uint32_t>(*v);
    }
  }
}

void read_metrics(const Field& field, const Config& config, Diagnostics& diag,
                  MetricsConfig* out) {
  MapReader map(field, diag, {"bind"});
  if (!map.ok()) return;
  std::optional<Field> f = map.get("bind");
  if (!f) return;
  std::optional<HostPort> bind = read_host_port(*f, diag, HostKind::kAddressOnly);
  if (!bind) return;
  std::string problem = bind_conflict(config, config.listeners.size(), *bind);
  if (!problem.empty()) {
    diag.error(f->line, f->path, problem);
    return;
  }
  out->bind = *bind;
}

void read_log(const Field& field, Diagnostics& diag, LogConfig* out) {
  MapReader map(field, diag, {"level", "format"});
  if (!map.ok()) return;
  if (auto f = map.get("level")) {
    std::initializer_list<std::string_view> levels = {"trace", "debug", "info", "warn",
                                                      "error", "critical", "off"};
    // A bare `off` arrives as YAML 1.1 false; accept it as the level "off".
    bool as_bool = true;
    if (f->node.IsScalar() && f->node.Scalar() != "off" &&
        YAML::convert<bool>::decode(f->node, as_bool) && !as_bool) {
      out->level = "off";
    } else if (auto v = read_choice(*f, diag, levels)) {
      out->level = std::string(*(levels.begin() + *v));
    }
  }
  if (auto f = map.get("format")) {
    if (auto v = read_choice(*f, diag, {"text", "json"})) {
      out->format = *v == 0 ? LogFormat::kText : LogFormat::kJson;
    }
  }
}

}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

std::optional<std::string> resolve_path(const Field& field, LoadContext& ctx) {
  std::optional<std::string> text = read_nonempty_string(field, ctx.diag);
  if (!text) return std::nullopt;
  std::filesystem::path path(*text);
  if (path.is_relative()) path = ctx.base_dir / path;
  return path.lexically_normal().string();
}

std::optional<std::string> read_file_path(const Field& field, LoadContext& ctx) {
  std::optional<std::string> resolved = resolve_path(field, ctx);
  if (resolved) ctx.files.push_back(FileReference{*resolved, field.path, field.line, false});
  return resolved;
}

std::optional<std::string> read_dir_path(const Field& field, LoadContext& ctx) {
  std::optional<std::string> resolved = resolve_path(field, ctx);
  if (resolved) ctx.files.push_back(FileReference{*resolved, field.path, field.line, true});
  return resolved;
}

std::string bind_conflict(const Config& config, size_t listener_count, const HostPort& bind) {
  auto check = [&](const HostPort& other, const std::string& where) -> std::string {
    if (other.port != bind.port || other.port == 0) return "";
    BindAddress a = bind_address(bind.host);
    BindAddress b = bind_address(other.host);
    if (a.family == 0 || a.family != b.family) return "";
    if (a.bytes == b.bytes) return bind.to_string() + " is already bound by " + where;
    if (a.is_wildcard() || b.is_wildcard()) {
      return bind.to_string() + " overlaps " + other.to_string() + " of " + where +
             " (a wildcard address takes the port on every address)";
    }
    return "";
  };
  for (size_t i = 0; i < listener_count && i < config.listeners.size(); ++i) {
    std::string problem = check(config.listeners[i].bind, "listeners[" + std::to_string(i) + "]");
    if (!problem.empty()) return problem;
  }
  if (config.metrics.bind) return check(*config.metrics.bind, "metrics.bind");
  return "";
}

void read_config(const YAML::Node& root, LoadContext& ctx, Config* out) {
  int root_line = line_of(root);
  MapReader map(Field{root, "", root_line ? root_line : 1, 1}, ctx.diag,
                {"workers", "listeners", "backend", "redis", "limits", "auth", "sessions",
                 "events", "metrics", "admin", "log", "node_name", "shutdown_grace",
                 "pid_file"});
  if (!map.ok()) return;
  Diagnostics& diag = ctx.diag;
  if (auto f = map.get("workers")) read_workers(*f, diag, out);
  if (auto f = map.get("node_name")) read_node_name(*f, diag, &out->node_name);
  if (auto f = map.require("listeners")) read_listeners(*f, ctx, out);
  if (auto f = map.require("backend")) read_backend(*f, ctx, &out->backend);
  if (auto f = map.get("redis")) read_redis(*f, diag, &out->redis);
  if (auto f = map.get("limits")) read_limits(*f, diag, &out->limits);
  if (auto f = map.get("auth")) read_auth(*f, diag, &out->auth);
  if (auto f = map.get("sessions")) read_sessions(*f, diag, &out->sessions);
  if (auto f = map.get("events")) read_events(*f, diag, &out->events);
  // metrics, then admin: each bind must differ from those read before it.
  if (auto f = map.get("metrics")) read_metrics(*f, *out, diag, &out->metrics);
  if (auto f = map.get("admin")) read_admin(*f, *out, ctx, &out->admin);
  if (auto f = map.get("log")) read_log(*f, diag, &out->log);
  if (auto f = map.get("shutdown_grace")) {
    if (auto v = read_duration(*f, diag)) out->shutdown_grace = *v;
  }
  if (auto f = map.get("pid_file")) {
    if (auto v = resolve_path(*f, ctx)) out->pid_file = *v;
  }
}

}  // namespace config
