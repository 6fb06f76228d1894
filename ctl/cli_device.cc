// ctl/cli_device.cc: `mqtt-authctl device ...`, `sessions` and `kick`.
#include <iostream>

#include <charconv>

#include "ctl/cli.h"
#include "ctl/device_bulk.h"
#include "ctl/json_out.h"
#include "ctl/session_ops.h"

namespace ctl {
namespace {

void print_generated_key(Cli& cli, const std::string& id, const std::string& key,
                         const char* verb) {
  if (cli.json) {
    JsonWriter json;
    json.begin_object().field("ok", true).field("device", id);
    if (!key.empty()) json.field("key", key);
    json.end_object();
    cli.out << json.str() << "\n";
    return;
  }
  cli.out << "device " << id << " " << verb << "\n";
  if (!key.empty()) {
    cli.out << "key: " << key << "\n"
            << "(shown once: only its hash is stored)\n";
  }
}

// key_option: --key, where "-" means the first line of stdin (keeps keys out of `ps`).
std::optional<std::string> key_option(Cli& cli) {
  auto key = cli.args.value("key");
  if (key && *key == "-") {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  return key;
}

void write_fields(JsonWriter& json, const Fields& fields) {
  json.begin_object();
  for (const auto& [name, value] : fields) json.field(name, value);
  json.end_object();
}

int set_enabled(Cli& cli, bool enabled) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  const std::string& id = cli.operands[0];
  auto result = device_set_enabled(*session.ops, id, enabled);
  if (!result.ok()) return fail(cli, result);
  return print_ok(cli, "device " + id + (enabled ? " enabled" : " disabled"), "device", id);
}

}  // namespace

int run_device_add(Cli& cli) {
  DeviceAddRequest request;
  request.id = cli.operands[0];
  auto username = cli.args.value("username");
  if (!username) return usage_error(cli, "device add needs --username");
  request.username = *username;
  request.auth = cli.args.value("auth").value_or("token");
  request.key = key_option(cli);
  for (const std::string& label : cli.args.values("label")) {
    size_t equals = label.find('=');
    if (equals == std::string::npos || equals == 0) {
      return usage_error(cli, "--label must be key=value, got '" + label + "'");
    }
    request.labels.emplace_back(label.substr(0, equals), label.substr(equals + 1));
  }
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = device_add(*session.ops, request);
  if (!result.ok()) return fail(cli, result);
  print_generated_key(cli, request.id, result.value.generated_key, "added");
  return kExitOk;
}

int run_device_bulk_add(Cli& cli) {
  BulkAddRequest request;
  auto count = cli.args.value("count");
  if (!count) return usage_error(cli, "device bulk-add needs --count N");
  auto [end, ec] = std::from_chars(count->data(), count->data() + count->size(), request.count);
  if (ec != std::errc() || end != count->data() + count->size()) {
    return usage_error(cli, "--count must be a number, got '" + *count + "'");
  }
  auto id_prefix = cli.args.value("id-prefix");
  if (!id_prefix) return usage_error(cli, "device bulk-add needs --id-prefix P");
  request.id_prefix = *id_prefix;
  request.username_prefix = cli.args.value("username-prefix").value_or("");
  request.key = key_option(cli);
  auto out = cli.args.value("out");
  if (!out) return usage_error(cli, "device bulk-add needs --out FILE (the device list)");
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = device_bulk_add(*session.ops, request);
  if (!result.ok()) return fail(cli, result);
  if (auto written = write_device_list(*out, result.value); !written.ok()) {
    return fail(cli, written);
  }
  const auto& devices = result.value.devices;
  if (cli.json) {
    JsonWriter json;
    json.begin_object()
        .field("ok", true)
        .field("count", static_cast<int64_t>(devices.size()))
        .field("first", devices.front().id)
        .field("last", devices.back().id)
        .field("out", *out)
        .end_object();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  cli.out << devices.size() << " token devices added (" << devices.front().id << " .. "
          << devices.back().id << "), all with the same key\n"
          << "device list (id username key, mode 0600): " << *out << "\n";
  return kExitOk;
}

int run_device_get(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = device_get(*session.ops, cli.operands[0]);
  if (!result.ok()) return fail(cli, result);
  const DeviceRecord& device = result.value;
  if (cli.json) {
    JsonWriter json;
    json.begin_object().field("id", device.id).key("fields");
    write_fields(json, device.fields);
    json.field("secret_set", device.secret_set).key("certs").begin_array();
    for (const std::string& cert : device.certs) json.string(cert);
    json.end_array().end_object();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  cli.out << "id: " << device.id << "\n";
  for (const auto& [name, value] : device.fields) cli.out << name << ": " << value << "\n";
  cli.out << "secret: " << (device.secret_set ? "(set)" : "(none)") << "\n";
  cli.out << "certs:";
  if (device.certs.empty()) cli.out << " (none)";
  for (const std::string& cert : device.certs) cli.out << " " << cert;
  cli.out << "\n";
  return kExitOk;
}

int run_device_list(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = device_list(*session.ops, cli.args.value("match").value_or(""));
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_array();
    for (const DeviceSummary& device : result.value) {
      json.begin_object()
          .field("id", device.id)
          .field("username", device.username)
          .field("auth", device.auth)
          .field("enabled", device.enabled)
          .end_object();
    }
    json.end_array();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "USERNAME", "AUTH", "ENABLED"}};
  for (const DeviceSummary& device : result.value) {
    rows.push_back({device.id, device.username, device.auth, device.enabled ? "yes" : "no"});
  }
  print_table(cli.out, rows);
  return kExitOk;
}

int run_device_enable(Cli& cli) { return set_enabled(cli, true); }
int run_device_disable(Cli& cli) { return set_enabled(cli, false); }

int run_device_delete(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  const std::string& id = cli.operands[0];
  auto result = device_delete(*session.ops, id);
  if (!result.ok()) return fail(cli, result);
  return print_ok(cli, "device " + id + " deleted", "device", id);
}

int run_device_set_key(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  const std::string& id = cli.operands[0];
  auto result = device_set_key(*session.ops, id, key_option(cli));
  if (!result.ok()) return fail(cli, result);
  print_generated_key(cli, id, result.value.generated_key, "key updated");
  return kExitOk;
}

int run_sessions(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  auto result = session_list(*session.ops, cli.args.value("device").value_or(""));
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_array();
    for (const SessionRecord& record : result.value) {
      json.begin_object().field("device", record.device_id).key("fields");
      write_fields(json, record.fields);
      json.end_object();
    }
    json.end_array();
    cli.out << json.str() << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"DEVICE", "NODE", "LISTENER", "PEER", "CONNECTED_AT", "CERT_ID"}};
  for (const SessionRecord& record : result.value) {
    auto field = [&](const char* name) {
      for (const auto& [key, value] : record.fields) {
        if (key == name) return value;
      }
      return std::string("-");
    };
    rows.push_back({record.device_id, field("node"), field("listener"), field("peer"),
                    format_unix_time(field("connected_at")), field("cert_id")});
  }
  print_table(cli.out, rows);
  return kExitOk;
}

int run_kick(Cli& cli) {
  RedisSession session;
  if (int code = open_redis(cli, &session); code != kExitOk) return code;
  const std::string& id = cli.operands[0];
  auto result = kick_device(*session.ops, id);
  if (!result.ok()) return fail(cli, result);
  if (cli.json) {
    JsonWriter json;
    json.begin_object()
        .field("ok", true)
        .field("device", id)
        .field("receivers", static_cast<int64_t>(result.value))
        .end_object();
    cli.out << json.str() << "\n";
  } else {
    cli.out << "kick " << id << " published to " << result.value << " proxy node(s)\n";
  }
  return kExitOk;
}

}  // namespace ctl
