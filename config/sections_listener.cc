// config/sections_listener.cc: `listeners[]`: bind, auth, TLS, inbound PROXY protocol,
// mountpoint and topic ACL.
#include <map>

#include "config/sections.h"

namespace config {
namespace {

constexpr size_t kMaxTopicLength = 65'535;   // MQTT's UTF-8 string limit

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

void read_trusted_proxies(const Field& field, Diagnostics& diag, std::vector<Cidr>* out) {
  std::optional<std::vector<Field>> items = read_sequence(field, diag, /*non_empty=*/true);
  if (!items) return;
  for (const Field& item : *items) {
    std::optional<std::string> text = read_nonempty_string(item, diag);
    if (!text) continue;
    std::string error;
    if (std::optional<Cidr> cidr = parse_cidr(*text, &error)) {
      out->push_back(*cidr);
    } else {
      diag.error(item.line, item.path, error);
    }
  }
}

// The literal parts of a topic template, with every variable standing in as one plain
// character: what the expanded filter looks like apart from the variables' own text.
std::string topic_shape(const Template& topic) {
  return topic.expand([](std::string_view) -> std::optional<std::string_view> { return "v"; });
}

// check_topic_filter: "" when |filter| obeys MQTT's filter rules ('#' only as the whole last
// level, '+' only as a whole level), else what is wrong.
std::string check_topic_filter(std::string_view filter) {
  if (filter.empty()) return "must not be empty";
  if (filter.size() > kMaxTopicLength) return "is longer than 65535 bytes";
  size_t level_start = 0;
  for (size_t i = 0; i <= filter.size(); ++i) {
    if (i < filter.size() && filter[i] != '/') {
      if (filter[i] == '\0') return "must not contain a NUL character";
      continue;
    }
    std::string_view level = filter.substr(level_start, i - level_start);
    bool is_last = i == filter.size();
    if (level.find('#') != std::string_view::npos && (level != "#" || !is_last)) {
      return "\"#\" may only be the whole last level of a topic filter (\"a/#\")";
    }
    if (level.find('+') != std::string_view::npos && level != "+") {
      return "\"+\" must be a whole level of a topic filter (\"a/+/b\")";
    }
    level_start = i + 1;
  }
  return "";
}

void read_acl_rule(const Field& field, Diagnostics& diag, AclRule* out, bool* out_ok) {
  *out_ok = false;
  MapReader map(field, diag, {"allow", "deny", "topic"});
  if (!map.ok()) return;
  std::optional<Field> allow = map.get("allow");
  std::optional<Field> deny = map.get("deny");
  bool ok = true;
  if (allow && deny) {
    diag.error(deny->line, deny->path, "a rule has either allow or deny, not both");
    ok = false;
  } else if (!allow && !deny) {
    diag.error(map.line(), map.path(),
               "needs allow or deny: {allow: publish|subscribe|all, topic: FILTER}");
    ok = false;
  } else {
    const Field& verb = allow ? *allow : *deny;
    out->action = allow ? AclAction::kAllow : AclAction::kDeny;
    if (auto v = read_choice(verb, diag, {"publish", "subscribe", "all"})) {
      constexpr AclAccess kValues[] = {AclAccess::kPublish, AclAccess::kSubscribe,
                                       AclAccess::kAll};
      out->access = kValues[*v];
    } else {
      ok = false;
    }
  }
  std::optional<Field> topic = map.require("topic");
  if (!topic) return;
  std::optional<Template> parsed = read_template(*topic, diag);
  if (!parsed) return;
  std::string problem = check_topic_filter(topic_shape(*parsed));
  if (!problem.empty()) {
    diag.error(topic->line, topic->path, problem);
    return;
  }
  out->topic = std::move(*parsed);
  *out_ok = ok;
}

void read_acl(const Field& field, Diagnostics& diag, std::vector<AclRule>* out) {
  std::optional<std::vector<Field>> items = read_sequence(field, diag, /*non_empty=*/false);
  if (!items) return;
  for (const Field& item : *items) {
    AclRule rule;
    bool ok = false;
    read_acl_rule(item, diag, &rule, &ok);
    if (ok) out->push_back(std::move(rule));
  }
}

void read_mountpoint(const Field& field, Diagnostics& diag, Template* out) {
  std::optional<Template> parsed = read_template(field, diag);
  if (!parsed) return;
  std::string shape = topic_shape(*parsed);
  if (shape.find_first_of("+#") != std::string::npos) {
    diag.error(field.line, field.path, "must not contain the wildcards \"+\" or \"#\"");
    return;
  }
  if (shape.find('\0') != std::string::npos) {
    diag.error(field.line, field.path, "must not contain a NUL character");
    return;
  }
  *out = std::move(*parsed);
}

void read_listener(const Field& field, LoadContext& ctx, ListenerConfig* out) {
  MapReader map(field, ctx.diag,
                {"name", "bind", "auth", "cert_identity", "tls", "proxy_protocol",
                 "trusted_proxies", "mountpoint", "acl", "acl_default", "acl_deny_v3"});
  if (!map.ok()) return;
  Diagnostics& diag = ctx.diag;
  if (auto f = map.require("name")) {
    if (auto v = read_nonempty_string(*f, diag)) {
      if (is_valid_name(*v)) {
        out->name = *v;
      } else {
        diag.error(f->line, f->path,
                   "\"" + *v + "\" is not a valid name (use up to 64 letters, digits, "
                   "\"_\", \"-\" or \".\")");
      }
    }
  }
  if (auto f = map.require("bind")) {
    if (auto v = read_host_port(*f, diag, HostKind::kAddressOnly)) out->bind = *v;
  }
  bool auth_known = false;
  if (auto f = map.require("auth")) {
    if (auto v = read_choice(*f, diag, {"token", "cert"})) {
      out->auth = *v == 0 ? auth::AuthMethod::kToken : auth::AuthMethod::kCert;
      auth_known = true;
    }
  }
  if (auto f = map.get("cert_identity")) {
    if (auto v = read_choice(*f, diag, {"fingerprint", "cn"})) {
      out->cert_identity = *v == 0 ? CertIdentity::kFingerprint : CertIdentity::kCommonName;
    }
    if (auth_known && out->auth == auth::AuthMethod::kToken) {
      diag.warning(f->line, f->path, "unused: only cert listeners identify certificates");
    }
  }
  if (auto f = map.require("tls")) read_tls(*f, *out, auth_known, ctx, &out->tls);

  std::optional<Field> proxy_protocol = map.get("proxy_protocol");
  bool proxy_protocol_known = true;
  if (proxy_protocol) {
    size_t errors_before = diag.error_count();
    read_proxy_protocol(*proxy_protocol, diag, &out->proxy_protocol);
    proxy_protocol_known = diag.error_count() == errors_before;
  }
  std::optional<Field> trusted = map.get("trusted_proxies");
  if (trusted) read_trusted_proxies(*trusted, diag, &out->trusted_proxies);
  if (proxy_protocol_known && out->proxy_protocol != ProxyProtocol::kOff && !trusted) {
    diag.error(map.line(), map.child_path("trusted_proxies"),
               "is required when proxy_protocol is v1 or v2 (the load balancers' addresses)");
  } else if (proxy_protocol_known && out->proxy_protocol == ProxyProtocol::kOff && trusted) {
    diag.warning(trusted->line, trusted->path, "unused: proxy_protocol is off");
  }

  if (auto f = map.get("mountpoint")) read_mountpoint(*f, diag, &out->mountpoint);
  if (auto f = map.get("acl")) read_acl(*f, diag, &out->acl);
  if (auto f = map.get("acl_default")) {
    if (auto v = read_choice(*f, diag, {"allow", "deny"})) {
      out->acl_default = *v == 0 ? AclAction::kAllow : AclAction::kDeny;
    }
  }
  if (auto f = map.get("acl_deny_v3")) {
    if (auto v = read_choice(*f, diag, {"disconnect", "drop"})) {
      out->acl_deny_v3 = *v == 0 ? AclDenyV3::kDisconnect : AclDenyV3::kDrop;
    }
  }
}

}  // namespace

void read_listeners(const Field& field, LoadContext& ctx, Config* out) {
  std::optional<std::vector<Field>> items = read_sequence(field, ctx.diag, /*non_empty=*/true);
  if (!items) return;
  std::map<std::string, std::string> names;  // name -> path of its first use
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
      std::string problem = bind_conflict(*out, out->listeners.size(), listener.bind);
      if (!problem.empty()) ctx.diag.error(item.line, item.path + ".bind", problem);
    }
    out->listeners.push_back(std::move(listener));
  }
}

}  // namespace config
