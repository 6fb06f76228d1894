// config/sections_backend.cc: `backend` (brokers, balancing, health checks, TLS to the
// broker, CONNECT rewrite) and `redis` (direct or sentinel).
#include <map>

#include "config/sections.h"

namespace config {
namespace {

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

void read_health_check(const Field& field, Diagnostics& diag, BackendConfig* out) {
  MapReader map(field, diag, {"interval", "timeout"});
  if (!map.ok()) return;
  size_t errors_before = diag.error_count();
  std::optional<Field> interval = map.get("interval");
  if (interval) {
    if (auto v = read_duration(*interval, diag)) out->health_check_interval = *v;
  }
  std::optional<Field> timeout = map.get("timeout");
  if (timeout) {
    if (auto v = read_timeout(*timeout, diag)) out->health_check_timeout = *v;
  }
  if (diag.error_count() == errors_before && out->health_check_interval.count() > 0 &&
      out->health_check_timeout >= out->health_check_interval) {
    const Field& blame = timeout ? *timeout : *interval;
    diag.error(blame.line, blame.path,
               "health_check.timeout must be shorter than health_check.interval");
  }
}

// The name the broker's certificate must carry: a DNS name or an IP address.
bool is_valid_server_name(const std::string& name) {
  std::string error;
  return parse_host_port(name + ":1", HostKind::kAddressOrName, &error).has_value() ||
         parse_host_port("[" + name + "]:1", HostKind::kAddressOnly, &error).has_value();
}

void read_backend_tls(const Field& field, LoadContext& ctx, BackendTls* out) {
  Diagnostics& diag = ctx.diag;
  MapReader map(field, diag, {"ca", "cert", "key", "server_name", "verify"});
  if (!map.ok()) return;
  out->enabled = true;
  if (auto f = map.require("ca")) {
    if (auto v = read_file_path(*f, ctx)) out->ca_file = *v;
  }
  std::optional<Field> cert = map.get("cert");
  std::optional<Field> key = map.get("key");
  if (cert) {
    if (auto v = read_file_path(*cert, ctx)) out->cert_file = *v;
  }
  if (key) {
    if (auto v = read_file_path(*key, ctx)) out->key_file = *v;
  }
  if (cert && !key) {
    diag.error(map.line(), map.child_path("key"), "is required when cert is set");
  } else if (key && !cert) {
    diag.error(map.line(), map.child_path("cert"), "is required when key is set");
  }
  if (auto f = map.get("server_name")) {
    if (auto v = read_nonempty_string(*f, diag)) {
      if (is_valid_server_name(*v)) {
        out->server_name = *v;
      } else {
        diag.error(f->line, f->path, "\"" + *v + "\" is not a host name or IP address");
      }
    }
  }
  if (auto f = map.get("verify")) {
    if (auto v = read_bool(*f, diag)) {
      out->verify = *v;
      if (!*v) {
        diag.warning(f->line, f->path,
                     "the broker's certificate is not verified: anyone on the path can "
                     "impersonate it");
      }
    }
  }
}

}  // namespace

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

void read_backend(const Field& field, LoadContext& ctx, BackendConfig* out) {
  Diagnostics& diag = ctx.diag;
  MapReader map(field, diag,
                {"servers", "proxy_protocol", "connect_timeout", "rewrite", "balance",
                 "health_check", "tls"});
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
  if (auto f = map.get("balance")) {
    if (auto v = read_choice(*f, diag, {"round_robin", "least_connections", "client_id_hash"})) {
      constexpr Balance kValues[] = {Balance::kRoundRobin, Balance::kLeastConnections,
                                     Balance::kClientIdHash};
      out->balance = kValues[*v];
    }
  }
  if (auto f = map.get("health_check")) read_health_check(*f, diag, out);
  if (auto f = map.get("tls")) read_backend_tls(*f, ctx, &out->tls);
}

void read_redis(const Field& field, Diagnostics& diag, RedisConfig* out) {
  MapReader map(field, diag, {"url", "key_prefix", "timeout", "sentinel_password", "read_from"});
  if (!map.ok()) return;
  bool url_known = true;
  if (auto f = map.get("url")) {
    url_known = false;
    if (auto text = read_nonempty_string(*f, diag)) {
      std::string error;
      if (std::optional<RedisUrl> url = parse_redis_url(*text, &error)) {
        out->url = *text;
        out->mode = url->mode;
        out->address = url->address;
        out->sentinels = url->sentinels;
        out->sentinel_master = url->sentinel_master;
        out->database = url->database;
        out->username = url->username;
        out->password = url->password;
        url_known = true;
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
  bool is_sentinel = out->mode == RedisMode::kSentinel;
  if (auto f = map.get("sentinel_password")) {
    // Never quoted in a message: it is a secret.
    if (auto v = read_nonempty_string(*f, diag)) out->sentinel_password = *v;
    if (url_known && !is_sentinel) {
      diag.warning(f->line, f->path, "unused: the url is not a sentinel:// URL");
    }
  }
  if (auto f = map.get("read_from")) {
    if (auto v = read_choice(*f, diag, {"master", "replica"})) {
      out->read_from = *v == 0 ? ReadFrom::kMaster : ReadFrom::kReplica;
      if (url_known && !is_sentinel && out->read_from == ReadFrom::kReplica) {
        diag.error(f->line, f->path,
                   "replica needs a sentinel:// url (replicas are found through Sentinel)");
      }
    }
  }
}

}  // namespace config
