// ctl/cli_pki.cc: `mqtt-authctl ca init` and `server-cert` (files only, no Redis).
#include <iostream>

#include "ctl/cli.h"
#include "ctl/json_out.h"
#include "ctl/pki.h"

namespace ctl {
namespace {

void print_issued(Cli& cli, const IssuedFiles& files) {
  if (cli.json) {
    JsonWriter json;
    json.begin_object()
        .field("ok", true)
        .field("cert", files.cert_path)
        .field("key", files.key_path)
        .field("cert_id", files.identity.cert_id)
        .field("cn", files.identity.cn)
        .field("not_after", files.identity.not_after)
        .end_object();
    cli.out << json.str() << "\n";
    return;
  }
  cli.out << "wrote " << files.cert_path << " and " << files.key_path << "\n"
          << "cn: " << files.identity.cn << "\n"
          << "not_after: " << format_unix_time(std::to_string(files.identity.not_after)) << "\n"
          << "sha256: " << files.identity.cert_id << "\n";
}

}  // namespace

std::optional<KeyType> parse_key_type_option(const Cli& cli) {
  std::string name = cli.args.value("key").value_or("ec");
  if (name == "ec" || name == "ecdsa" || name == "p256") return KeyType::kEcP256;
  if (name == "rsa2048" || name == "rsa") return KeyType::kRsa2048;
  return std::nullopt;
}

int run_ca_init(Cli& cli) {
  auto out_dir = cli.args.value("out");
  if (!out_dir) return usage_error(cli, "ca init needs --out DIR");
  auto days = parse_days(cli, kCaDays);
  if (!days) return usage_error(cli, "--days must be a positive number of days");
  std::string cn = cli.args.value("cn").value_or("mqtt-auth-proxy device CA");
  if (cn.empty()) return usage_error(cli, "--cn must not be empty");
  auto issued = ca_init(*out_dir, cn, *days);
  if (!issued.ok()) return fail(cli, issued);
  print_issued(cli, issued.value);
  return kExitOk;
}

int run_server_cert(Cli& cli) {
  auto ca_dir = cli.args.value("ca");
  auto cn = cli.args.value("cn");
  auto out_dir = cli.args.value("out");
  if (!ca_dir || !cn || !out_dir) return usage_error(cli, "server-cert needs --ca, --cn and --out");
  auto days = parse_days(cli, kServerDays);
  if (!days) return usage_error(cli, "--days must be a positive number of days");
  auto key_type = parse_key_type_option(cli);
  if (!key_type) return usage_error(cli, "--key must be ec or rsa2048");
  auto issued = issue_server_cert(*ca_dir, *cn, cli.args.values("san"), *key_type, *days, *out_dir);
  if (!issued.ok()) return fail(cli, issued);
  print_issued(cli, issued.value);
  return kExitOk;
}

}  // namespace ctl
