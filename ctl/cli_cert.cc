// ctl/cli_cert.cc: `mqtt-authctl cert ...`.
#include <charconv>
#include <iostream>

#include "ctl/cert_ops.h"
#include "ctl/cli.h"
#include "ctl/json_out.h"
#include "ctl/pki.h"

namespace ctl {
namespace {

// register_and_print registers |identity| under |name| and prints the cert_id.
int register_and_print(Cli& cli, RedisSession& session, const CertIdentity& identity,
                       const std::string& name, const IssuedFiles* files) {
  CertRegistration registration;
  registration.cert_id = identity.cert_id;
  registration.name = name;
  registration.enabled = !cli.args.has("disabled");
  registration.cn = identity.cn;
  registration.not_after = identity.not_after;
  auto result = cert_register(*session.ops, registration);
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_object()
        .field("ok", true)
        .field("cert_id", identity.cert_id)
        .field("name", name)
        .field("cn", identity.cn)
        .field("not_after", identity.not_after)
        .field("enabled", registration.enabled);
    if (files != nullptr) {
      json.field("cert", files->cert_path)
          .field("key", files->key_path)
          .field("ca", files->ca_copy_path);
    }
    json.end_object();
    cli.out << json.str() << "\n";
  } else {
    cli.out << identity.cert_id << "\n";
    if (files != nullptr) {
      cli.err << "wrote " << files->cert_path << ", " << files->key_path << ", "
              << files->ca_copy_path << "\n";
    }
  }
  return kExitOk;
}

// refuse_taken_name: exit code 1 when a certificate already has |name|, kExitOk otherwise.
int refuse_taken_name(Cli& cli, RedisSession& session, const std::string& name) {
  auto existing = resolve_cert(*session.ops, name);
  if (existing.ok())
    return fail(cli, OpStatus::kAlreadyExists, "a certificate named " + name + " exists");
  if (existing.status != OpStatus::kNotFound) return fail(cli, existing);
  return kExitOk;
}

// write_unix_time: a stored decimal time as a JSON number (a string if it is not one).
void write_unix_time(JsonWriter& json, const std::string& stored) {
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), seconds);
  if (ec == std::errc() && end == stored.data() + stored.size()) {
    json.number(seconds);
  } else {
    json.string(stored);
  }
}

int set_enabled(Cli& cli, bool enabled) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto resolved = resolve_cert(*session.ops, cli.operands[0]);
  if (!resolved.ok()) return fail(cli, resolved);
  auto result = cert_set_enabled(*session.ops, resolved.value, enabled);
  if (!result.ok()) return fail(cli, result);
  return print_ok(cli, "certificate " + resolved.value + (enabled ? " enabled" : " disabled"),
                  "cert_id", resolved.value);
}

int change_bindings(Cli& cli, bool bind) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto resolved = resolve_cert(*session.ops, cli.operands[0]);
  if (!resolved.ok()) return fail(cli, resolved);
  std::vector<std::string> devices(cli.operands.begin() + 1, cli.operands.end());
  auto result = bind ? cert_bind(*session.ops, resolved.value, devices)
                     : cert_unbind(*session.ops, resolved.value, devices);
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_object()
        .field("ok", true)
        .field("cert_id", resolved.value)
        .key("devices")
        .begin_array();
    for (const std::string& device : devices) json.string(device);
    json.end_array().end_object();
    cli.out << json.str() << "\n";
  } else {
    for (const std::string& device : devices) {
      cli.out << "certificate " << resolved.value << (bind ? " bound to " : " unbound from ")
              << device << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

int run_cert_create(Cli& cli) {
  auto ca_dir = cli.args.value("ca");
  auto name = cli.args.value("name");
  auto out_dir = cli.args.value("out");
  if (!ca_dir || !name || !out_dir)
    return usage_error(cli, "cert create needs --ca, --name and --out");
  auto days = parse_days(cli, kClientDays);
  if (!days) return usage_error(cli, "--days must be a positive number of days");
  auto key_type = parse_key_type_option(cli);
  if (!key_type) return usage_error(cli, "--key must be ec or rsa2048");
  if (!valid_file_name(*name)) return usage_error(cli, "--name may hold only A-Z a-z 0-9 . _ -");

  RedisSession session;  // connect first so that a Redis failure leaves no files behind
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  if (int code = refuse_taken_name(cli, session, *name); code != kExitOk) return code;
  auto issued = issue_client_cert(*ca_dir, *name, *key_type, *days, *out_dir);
  if (!issued.ok()) return fail(cli, issued);
  return register_and_print(cli, session, issued.value.identity, *name, &issued.value);
}

int run_cert_import(Cli& cli) {
  auto name = cli.args.value("name");
  if (!name) return usage_error(cli, "cert import needs --name");
  auto identity = identify_cert_file(cli.operands[0]);
  if (!identity.ok()) return fail(cli, identity);
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  if (int code = refuse_taken_name(cli, session, *name); code != kExitOk) return code;
  return register_and_print(cli, session, identity.value, *name, nullptr);
}

int run_cert_get(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = cert_get(*session.ops, cli.operands[0]);
  if (!result.ok()) return fail(cli, result);
  const CertRecord& cert = result.value;
  if (cli.json) {
    JsonWriter json;
    json.begin_object().field("cert_id", cert.cert_id).key("fields").begin_object();
    for (const auto& [name, value] : cert.fields) json.field(name, value);
    json.end_object().key("devices").begin_array();
    for (const std::string& device : cert.devices) json.string(device);
    json.end_array().end_object();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  cli.out << "cert_id: " << cert.cert_id << "\n";
  for (const auto& [name, value] : cert.fields) {
    bool is_time = name == "not_after" || name == "created_at";
    cli.out << name << ": " << (is_time ? format_unix_time(value) : value) << "\n";
  }
  cli.out << "devices:";
  if (cert.devices.empty()) cli.out << " (none)";
  for (const std::string& device : cert.devices) cli.out << " " << device;
  cli.out << "\n";
  return kExitOk;
}

int run_cert_list(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = cert_list(*session.ops);
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_array();
    for (const CertSummary& cert : result.value) {
      json.begin_object()
          .field("cert_id", cert.cert_id)
          .field("name", cert.name)
          .field("enabled", cert.enabled)
          .field("cn", cert.cn)
          .key("not_after");
      write_unix_time(json, cert.not_after);
      json.field("devices", static_cast<int64_t>(cert.device_count)).end_object();
    }
    json.end_array();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"CERT_ID", "NAME", "ENABLED", "CN", "NOT_AFTER", "DEVICES"}};
  for (const CertSummary& cert : result.value) {
    rows.push_back({cert.cert_id, cert.name, cert.enabled ? "yes" : "no", cert.cn,
                    format_unix_time(cert.not_after), std::to_string(cert.device_count)});
  }
  print_table(cli.out, rows);
  return kExitOk;
}

int run_cert_enable(Cli& cli) { return set_enabled(cli, true); }
int run_cert_disable(Cli& cli) { return set_enabled(cli, false); }

int run_cert_delete(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto resolved = resolve_cert(*session.ops, cli.operands[0]);
  if (!resolved.ok()) return fail(cli, resolved);
  auto result = cert_delete(*session.ops, resolved.value);
  if (!result.ok()) return fail(cli, result);
  return print_ok(cli, "certificate " + resolved.value + " deleted", "cert_id", resolved.value);
}

int run_cert_bind(Cli& cli) { return change_bindings(cli, true); }
int run_cert_unbind(Cli& cli) { return change_bindings(cli, false); }

}  // namespace ctl
