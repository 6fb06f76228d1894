// ctl/main.cc: mqtt-authctl, the management CLI. Finds the command, checks its options and
// operand count, and runs its handler. Exit codes: 0 ok, 1 refused / not found / failed,
// 2 usage error.
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "ctl/cli.h"

namespace {

using ctl::Cli;

struct Command {
  const char* words;              // "device add", "sessions", ...
  std::set<std::string> options;  // accepted besides --redis, --prefix, --json
  size_t min_operands;
  size_t max_operands;
  int (*run)(Cli&);
};

constexpr size_t kMany = static_cast<size_t>(-1);

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"device add", {"username", "auth", "key", "label"}, 1, 1, ctl::run_device_add},
      {"device bulk-add", {"count", "id-prefix", "username-prefix", "key", "out"}, 0, 0,
       ctl::run_device_bulk_add},
      {"device get", {}, 1, 1, ctl::run_device_get},
      {"device list", {"match"}, 0, 0, ctl::run_device_list},
      {"device enable", {}, 1, 1, ctl::run_device_enable},
      {"device disable", {}, 1, 1, ctl::run_device_disable},
      {"device delete", {}, 1, 1, ctl::run_device_delete},
      {"device set-key", {"key"}, 1, 1, ctl::run_device_set_key},
      {"ca init", {"out", "cn", "days"}, 0, 0, ctl::run_ca_init},
      {"server-cert", {"ca", "cn", "san", "out", "key", "days"}, 0, 0, ctl::run_server_cert},
      {"cert create", {"ca", "name", "disabled", "days", "key", "out"}, 0, 0, ctl::run_cert_create},
      {"cert import", {"name", "disabled"}, 1, 1, ctl::run_cert_import},
      {"cert get", {}, 1, 1, ctl::run_cert_get},
      {"cert list", {}, 0, 0, ctl::run_cert_list},
      {"cert enable", {}, 1, 1, ctl::run_cert_enable},
      {"cert disable", {}, 1, 1, ctl::run_cert_disable},
      {"cert delete", {}, 1, 1, ctl::run_cert_delete},
      {"cert bind", {}, 2, kMany, ctl::run_cert_bind},
      {"cert unbind", {}, 2, kMany, ctl::run_cert_unbind},
      {"sessions", {"device"}, 0, 0, ctl::run_sessions},
      {"kick", {}, 1, 1, ctl::run_kick},
  };
  return table;
}

constexpr ctl::OptionSpec kOptions[] = {
    {"redis", true},     {"prefix", true}, {"json", false}, {"help", false}, {"username", true},
    {"auth", true},      {"key", true},    {"label", true}, {"match", true}, {"out", true},
    {"cn", true},        {"days", true},   {"ca", true},    {"san", true},   {"name", true},
    {"disabled", false}, {"device", true}, {"count", true}, {"id-prefix", true},
    {"username-prefix", true},
};

constexpr const char* kUsage =
    R"(usage: mqtt-authctl [--redis URL] [--prefix P] [--json] COMMAND ...

  device add ID --username U [--auth token|cert] [--key K] [--label k=v]...
  device bulk-add --count N --id-prefix P [--username-prefix U] [--key K] --out FILE
      (load-test fixture: N token devices P0..P<N-1> sharing ONE key and ONE stored hash;
       FILE gets "id username key" per line, mode 0600)
  device get ID | device list [--match PREFIX]
  device enable ID | device disable ID | device delete ID | device set-key ID [--key K]
  ca init --out DIR [--cn NAME] [--days N]
  server-cert --ca DIR --cn HOST [--san NAME|IP]... [--key ec|rsa2048] [--days N] --out DIR
  cert create --ca DIR --name NAME [--disabled] [--days N] [--key ec|rsa2048] --out DIR
  cert import FILE --name NAME [--disabled]
  cert get|list|enable|disable|delete CERT      (CERT: cert_id or name)
  cert bind CERT DEVICE... | cert unbind CERT DEVICE...
  sessions [--device ID] | kick ID

  --redis URL   redis://[[user]:password@]host[:port][/db] (default redis://127.0.0.1:6379/0)
                or sentinel://[[user]:password@]h1[:port],h2[:port]/master[/db]: the master
                is asked of the sentinels (their password: $MQTT_AUTHCTL_SENTINEL_PASSWORD)
  --prefix P    key prefix (default mqttauth:)
  --json        machine-readable output
exit codes: 0 ok, 1 refused or not found, 2 usage error
)";

const Command* find_command(const std::vector<std::string>& positionals, size_t* out_words) {
  for (const Command& command : commands()) {
    std::string words = command.words;
    size_t space = words.find(' ');
    if (space == std::string::npos) {
      if (!positionals.empty() && positionals[0] == words) {
        *out_words = 1;
        return &command;
      }
    } else if (positionals.size() >= 2 && positionals[0] == words.substr(0, space) &&
               positionals[1] == words.substr(space + 1)) {
      *out_words = 2;
      return &command;
    }
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli{{}, {}, false, std::cout, std::cerr};
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  if (!ctl::parse_args(args, kOptions, &cli.args, &error)) return ctl::usage_error(cli, error);
  if (cli.args.has("help") || cli.args.positionals.empty()) {
    (cli.args.has("help") ? std::cout : std::cerr) << kUsage;
    return cli.args.has("help") ? ctl::kExitOk : ctl::kExitUsage;
  }
  size_t words = 0;
  const Command* command = find_command(cli.args.positionals, &words);
  if (command == nullptr) {
    std::string typed = cli.args.positionals[0];
    if (cli.args.positionals.size() > 1) typed += " " + cli.args.positionals[1];
    return ctl::usage_error(cli, "unknown command '" + typed + "'");
  }
  static const std::set<std::string> kGlobal = {"redis", "prefix", "json"};
  for (const std::string& name : cli.args.option_names()) {
    if (!kGlobal.count(name) && !command->options.count(name)) {
      return ctl::usage_error(cli, std::string(command->words) + " does not take --" + name);
    }
  }
  cli.operands.assign(cli.args.positionals.begin() + static_cast<long>(words),
                      cli.args.positionals.end());
  if (cli.operands.size() < command->min_operands || cli.operands.size() > command->max_operands) {
    return ctl::usage_error(cli, std::string("wrong number of arguments for ") + command->words);
  }
  cli.json = cli.args.has("json");
  return command->run(cli);
}
