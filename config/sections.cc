// config/sections.cc: the YAML keys of DESIGN.md, section by section.
#include "config/sections.h"

#include <map>

namespace config {
namespace {

constexpr uint64_t kMaxWorkers = 256;
constexpr uint64_t kMinConnectPacket = 16;
constexpr uint64_t kMaxConnectPacket = 268'435'455;  // MQTT's largest Remaining Length
constexpr uint64_t kMaxConnections = 10'000'000;
constexpr size_t kMaxListenerName = 64;

// Listener names appear in metrics labels, logs and Redis session records.
bool is_valid_listener_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxListenerName) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> read_file_path(const Field& field, LoadContext& ctx) {
  std::optional<std::string> text = read_nonempty_string(field, ctx.diag);
  if (!text) return std::nullopt;
  std::filesystem::path path(*text);
  if (path.is_relative()) path = ctx.base_dir / path;
  std::string resolved = path.lexically_normal().string();
  ctx.files.push_back(FileReference{resolved, field.path, field.line});
  return resolved;
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

void read_tls(const Field& field, const ListenerConfig& listener, bool auth_known,
              LoadContext& ctx, TlsSettings* out) {
  MapReader map(field, ctx.diag, {"cert", "key", "client_ca", "crl"});
  if (!map.ok()) return;
  if (auto f = map.require("cert")) {
    if (auto v = read_file_path(*f, ctx)) out->cert_file = *v;
  }
  if (auto f = map.require("key")) {
    if (auto v = read_file_path(*f, ctx)) out->key_file = *v;
  }
  bool is_cert = listener.auth == auth::AuthMethod::kCert;
  std::optional<Field> client_ca = map.get("client_ca");
  if (client_ca) {
    if (auto v = read_file_path(*client_ca, ctx)) out->client_ca_file = *v;
    if (auth_known && !is_cert) {
      ctx.diag.warning(client_ca->line, client_ca->path,
                       "unused: token listeners do not ask for client certificates");
    }
  } else if (auth_known && is_cert) {
    ctx.diag.error(map.line(), map.child_path("client_ca"),
                   "is required when auth is cert (the CA that issues device certificates)");
  }
  if (auto f = map.get("crl")) {
    if (auto v = read_file_path(*f, ctx)) out->crl_file = *v;
    if (auth_known && !is_cert) {
      ctx.diag.warning(f->line, f->path, "unused: token listeners do not check certificates");
    }
  }
}

void read_listener(const Field& field, LoadContext& ctx, ListenerConfig* out) {
  MapReader map(field, ctx.diag, {"name", "bind", "auth", "cert_identity", "tls"});
  if (!map.ok()) return;
  if (auto f = map.require("name")) {
    if (auto v = read_nonempty_string(*f, ctx.diag)) {
      if (is_valid_listener_name(*v)) {
        out->name = *v;
      } else {
        ctx.diag.error(f->line, f->path,
                       "\"" + *v + "\" is not a valid name (use up to 64 letters, digits, "
                       "\"_\", \"-\" or \".\")");
      }
    }
  }
  if (auto f = map.require("bind")) {
    if (auto v = read_host_port(*f, ctx.diag, HostKind::kAddressOnly)) out->bind = *v;
  }
  bool auth_known = false;
  if (auto f = map.require("auth")) {
    if (auto v = read_choice(*f, ctx.diag, {"token", "cert"})) {
      out->auth = *v == 0 ? auth::AuthMethod::kToken : auth::AuthMethod::kCert;
      auth_known = true;
    }
  }
  if (auto f = map.get("cert_identity")) {
    if (auto v = read_choice(*f, ctx.diag, {"fingerprint", "cn"})) {
      out->cert_identity = *v == 0 ? CertIdentity::kFingerprint : CertIdentity::kCommonName;
    }
    if (auth_known && out->auth == auth::AuthMethod::kToken) {
      ctx.diag.warning(f->line, f->path, "unused: only cert listeners identify certificates");
    }
  }
  if (auto f = map.require("tls")) read_tls(*f, *out, auth_known, ctx, &out->tls);
}

void read_listeners(const Field& field, LoadContext& ctx, Config* out) {
  std::optional<std::vector<Field>> items = read_sequence(field, ctx.diag, /*non_empty=*/true);
  if (!items) return;
  std::map<std::string, std::string> names;  // name -> path of its first use
  std::map<std::string, std::string> binds;
  for (const Field& item : *items) {
    ListenerConfig listener;
    read_listener(item, ctx, &listener);
    if (!listener.name.empty()) {
      auto [it, inserted] = names.emplace(listener.name, item.path);
      if (!inserted) {
        ctx.diag.error(item.line, item.path + ".name",
                       "\"" + listener.name + "\" is already the name of " + it->second);
      }
    }
    if (listener.bind.port != 0) {
      auto [it, inserted] = binds.emplace(listener.bind.to_string(), item.path);
      if (!inserted) {
        ctx.diag.error(item.line, item.path + ".bind",
                       listener.bind.to_string() + " is already bound by " + it->second);
      }
    }
    out->listeners.push_back(std::move(listener));
  }
}

void read_rewrite(const Field& field, Diagnostics& diag, RewriteConfig* out) {
  MapReader map(field, diag, {"client_id", "username", "password"});
  if (!map.ok()) return;
  if (auto f = map.get("client_id")) {
    if (auto v = read_template(*f, diag)) {
      if (v->empty()) {
        diag.error(f->line, f->path, "must not be empty: the broker needs a client ID");
      } else {
        out->client_id = std::move(*v);
      }
    }
  }
  if (auto f = map.get("username")) {
    if (auto v = read_template(*f, diag)) out->username = std::move(*v);
  }
  if (auto f = map.get("password")) {
    if (auto v = read_template(*f, diag)) out->password = std::move(*v);
  }
}

void read_proxy_protocol(const Field& field, Diagnostics& diag, ProxyProtocol* out) {
  // YAML 1.1 reads a bare `off` as the boolean false; both mean the same here.
  bool as_bool = true;
  if (field.node.IsScalar() && YAML::convert<bool>::decode(field.node, as_bool) && !as_bool) {
    *out = ProxyProtocol::kOff;
    return;
  }
  if (auto v = read_choice(field, diag, {"off", "v1", "v2"})) {
    constexpr ProxyProtocol kValues[] = {ProxyProtocol::kOff, ProxyProtocol::kV1,
                                         ProxyProtocol::kV2};
    *out = kValues[*v];
  }
}

void read_backend(const Field& field, Diagnostics& diag, BackendConfig* out) {
  MapReader map(field, diag, {"servers", "proxy_protocol", "connect_timeout", "rewrite"});
  if (!map.ok()) return;
  if (auto f = map.require("servers")) {
    if (auto items = read_sequence(*f, diag, /*non_empty=*/true)) {
      std::map<std::string, std::string> seen;
      for (const Field& item : *items) {
        std::optional<HostPort> server = read_host_port(item, diag, HostKind::kAddressOrName);
        if (!server) continue;
        auto [it, inserted] = seen.emplace(server->to_string(), item.path);
        if (!inserted) {
          diag.error(item.line, item.path, server->to_string() + " is already " + it->second);
          continue;
        }
        out->servers.push_back(*server);
      }
    }
  }
  if (auto f = map.get("proxy_protocol")) read_proxy_protocol(*f, diag, &out->proxy_protocol);
  if (auto f = map.get("connect_timeout")) {
    if (auto v = read_timeout(*f, diag)) out->connect_timeout = *v;
  }
  if (auto f = map.get("rewrite")) read_rewrite(*f, diag, &out->rewrite);
}

void read_redis(const Field& field, Diagnostics& diag, RedisConfig* out) {
  MapReader map(field, diag, {"url", "key_prefix", "timeout"});
  if (!map.ok()) return;
  if (auto f = map.get("url")) {
    if (auto text = read_nonempty_string(*f, diag)) {
      std::string error;
      if (std::optional<RedisUrl> url = parse_redis_url(*text, &error)) {
        out->url = *text;
        out->address = url->address;
        out->database = url->database;
        out->username = url->username;
        out->password = url->password;
      } else {
        diag.error(f->line, f->path, error);  // never echoes the URL: it may hold a password
      }
    }
  }
  if (auto f = map.get("key_prefix")) {
    if (f->node.IsNull()) {
      out->key_prefix.clear();
    } else if (auto v = read_string(*f, diag)) {
      out->key_prefix = *v;
    }
  }
  if (auto f = map.get("timeout")) {
    if (auto v = read_timeout(*f, diag)) out->timeout = *v;
  }
}

void read_limits(const Field& field, Diagnostics& diag, LimitsConfig* out) {
  MapReader map(field, diag, {"connect_timeout", "max_connect_packet", "max_connections"});
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
}

void read_auth(const Field& field, Diagnostics& diag, AuthConfig* out) {
  MapReader map(field, diag, {"plaintext_secrets"});
  if (!map.ok()) return;
  if (auto f = map.get("plaintext_secrets")) {
    if (auto v = read_bool(*f, diag)) out->plaintext_secrets = *v;
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
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    if (config.listeners[i].bind.port != 0 &&
        config.listeners[i].bind.to_string() == bind->to_string()) {
      diag.error(f->line, f->path,
                 bind->to_string() + " is already bound by listeners[" + std::to_string(i) + "]");
      return;
    }
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

void read_config(const YAML::Node& root, LoadContext& ctx, Config* out) {
  int root_line = line_of(root);
  MapReader map(Field{root, "", root_line ? root_line : 1, 1}, ctx.diag,
                {"workers", "listeners", "backend", "redis", "limits", "auth", "metrics", "log"});
  if (!map.ok()) return;
  Diagnostics& diag = ctx.diag;
  if (auto f = map.get("workers")) read_workers(*f, diag, out);
  if (auto f = map.require("listeners")) read_listeners(*f, ctx, out);
  if (auto f = map.require("backend")) read_backend(*f, diag, &out->backend);
  if (auto f = map.get("redis")) read_redis(*f, diag, &out->redis);
  if (auto f = map.get("limits")) read_limits(*f, diag, &out->limits);
  if (auto f = map.get("auth")) read_auth(*f, diag, &out->auth);
  if (auto f = map.get("metrics")) read_metrics(*f, *out, diag, &out->metrics);
  if (auto f = map.get("log")) read_log(*f, diag, &out->log);
}

}  // namespace config
