// config/sections_admin.cc: `admin`, the HTTP admin API (bind, TLS, bearer tokens, the CA
// used to issue device certificates).
#include <map>

#include "auth/secret.h"
#include "config/sections.h"

namespace config {
namespace {

void read_admin_tls(const Field& field, LoadContext& ctx, TlsSettings* out) {
  MapReader map(field, ctx.diag, {"cert", "key"});
  if (!map.ok()) return;
  if (auto f = map.require("cert")) {
    if (auto v = read_file_path(*f, ctx)) out->cert_file = *v;
  }
  if (auto f = map.require("key")) {
    if (auto v = read_file_path(*f, ctx)) out->key_file = *v;
  }
}

// A token hash must be one auth::verify_secret can check; plaintext is never accepted.
// Neither message quotes the value.
void read_token_hash(const Field& field, Diagnostics& diag, std::string* out) {
  std::optional<std::string> hash = read_nonempty_string(field, diag);
  if (!hash) return;
  auth::SecretScheme scheme = auth::classify_secret(*hash, /*plaintext_allowed=*/false);
  if (scheme == auth::SecretScheme::kUnsupported || scheme == auth::SecretScheme::kPlaintext) {
    diag.error(field.line, field.path,
               "is not a supported hash (use one made by mqtt-authctl or mosquitto_passwd, "
               "e.g. \"$7$...\"; plain tokens are not accepted)");
    return;
  }
  *out = std::move(*hash);
}

void read_tokens(const Field& field, Diagnostics& diag, std::vector<AdminToken>* out) {
  std::optional<std::vector<Field>> items = read_sequence(field, diag, /*non_empty=*/false);
  if (!items) return;
  std::map<std::string, std::string> names;  // name -> path of its first use
  for (const Field& item : *items) {
    MapReader map(item, diag, {"name", "hash"});
    if (!map.ok()) continue;
    AdminToken token;
    if (auto f = map.require("name")) {
      if (auto v = read_nonempty_string(*f, diag)) {
        if (!is_valid_name(*v)) {
          diag.error(f->line, f->path,
                     "\"" + *v + "\" is not a valid name (use up to 64 letters, digits, "
                     "\"_\", \"-\" or \".\")");
        } else if (auto [it, inserted] = names.emplace(*v, f->path); !inserted) {
          diag.error(f->line, f->path, "\"" + *v + "\" is already the name of " + it->second);
        } else {
          token.name = *v;
        }
      }
    }
    if (auto f = map.require("hash")) read_token_hash(*f, diag, &token.hash);
    if (!token.name.empty() && !token.hash.empty()) out->push_back(std::move(token));
  }
}

}  // namespace

void read_admin(const Field& field, const Config& config, LoadContext& ctx, AdminConfig* out) {
  Diagnostics& diag = ctx.diag;
  MapReader map(field, diag, {"bind", "tls", "tokens", "ca_dir"});
  if (!map.ok()) return;
  std::optional<Field> bind = map.get("bind");
  if (bind) {
    if (auto v = read_host_port(*bind, diag, HostKind::kAddressOnly)) {
      std::string problem = bind_conflict(config, config.listeners.size(), *v);
      if (problem.empty()) {
        out->bind = *v;
      } else {
        diag.error(bind->line, bind->path, problem);
      }
    }
  }
  if (auto f = map.get("tls")) read_admin_tls(*f, ctx, &out->tls);
  std::optional<Field> tokens = map.get("tokens");
  if (tokens) read_tokens(*tokens, diag, &out->tokens);
  if (auto f = map.get("ca_dir")) {
    if (auto v = read_dir_path(*f, ctx)) out->ca_dir = *v;
  }
  if (bind && !tokens) {
    diag.error(map.line(), map.child_path("tokens"),
               "is required when bind is set (the API accepts only these bearer tokens)");
  } else if (bind && tokens && tokens->node.IsSequence() && tokens->node.size() == 0) {
    diag.error(tokens->line, tokens->path,
               "must not be empty when bind is set (the API accepts only these tokens)");
  } else if (!bind && (tokens || map.get("tls") || map.get("ca_dir"))) {
    diag.warning(map.line(), map.path(), "unused: there is no admin API without admin.bind");
  }
}

}  // namespace config
