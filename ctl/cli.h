// ctl/cli.h: what mqtt-authctl's command handlers share: the parsed command line, exit
// codes, Redis session setup and output helpers. Handlers print; operations never do.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ctl/cli_args.h"
#include "ctl/device_ops.h"
#include "ctl/op_result.h"
#include "ctl/pki.h"
#include "ctl/redis_client.h"

namespace ctl {

enum ExitCode : int { kExitOk = 0, kExitFailed = 1, kExitUsage = 2 };

inline constexpr const char* kDefaultRedisUrl = "redis://127.0.0.1:6379/0";
// The sentinels' password for sentinel:// URLs (redis.sentinel_password in the proxy config).
inline constexpr const char* kSentinelPasswordEnv = "MQTT_AUTHCTL_SENTINEL_PASSWORD";
inline constexpr const char* kDefaultPrefix = "mqttauth:";

struct Cli {
  ParsedArgs args;
  std::vector<std::string> operands;  // positionals after the command words
  bool json = false;
  std::ostream& out;
  std::ostream& err;
};

// exit_code_for: kInvalidArgument is a usage error (2); every other failure is 1.
int exit_code_for(OpStatus status);

// fail prints "mqtt-authctl: <message>" to stderr and returns the exit code for |status|.
int fail(Cli& cli, OpStatus status, const std::string& message);
int usage_error(Cli& cli, const std::string& message);

template <typename T>
int fail(Cli& cli, const OpResult<T>& result) {
  return fail(cli, result.status, result.message);
}

// RedisSession: the connection a command works on, from --redis and --prefix.
struct RedisSession {
  std::unique_ptr<RedisClient> client;
  std::unique_ptr<OpContext> ops;
};

// open_redis connects; returns kExitOk or the exit code after printing why not.
int open_redis(Cli& cli, RedisSession* out_session);

// parse_days: --days as a positive integer, |fallback| when absent; nullopt when malformed.
std::optional<int> parse_days(const Cli& cli, int fallback);

// format_unix_time: "2026-01-31T12:00:00Z" for a decimal unix time, the input otherwise.
std::string format_unix_time(const std::string& unix_seconds);

// print_table prints rows as left-aligned columns separated by two spaces.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

// print_ok prints |message| (human) or {"ok":true,<key>:<id>} (json).
int print_ok(Cli& cli, const std::string& message, const char* key, const std::string& id);

// parse_key_type_option: --key ec|rsa2048 for the PKI commands (ec when absent); nullopt
// for anything else.
std::optional<KeyType> parse_key_type_option(const Cli& cli);

// Command handlers (cli_device.cc, cli_cert.cc, cli_pki.cc).
int run_device_add(Cli& cli);
int run_device_bulk_add(Cli& cli);
int run_device_get(Cli& cli);
int run_device_list(Cli& cli);
int run_device_enable(Cli& cli);
int run_device_disable(Cli& cli);
int run_device_delete(Cli& cli);
int run_device_set_key(Cli& cli);
int run_cert_create(Cli& cli);
int run_cert_import(Cli& cli);
int run_cert_get(Cli& cli);
int run_cert_list(Cli& cli);
int run_cert_enable(Cli& cli);
int run_cert_disable(Cli& cli);
int run_cert_delete(Cli& cli);
int run_cert_bind(Cli& cli);
int run_cert_unbind(Cli& cli);
int run_sessions(Cli& cli);
int run_kick(Cli& cli);
int run_ca_init(Cli& cli);
int run_server_cert(Cli& cli);

}  // namespace ctl
