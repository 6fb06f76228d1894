// ctl/cli_output.cc: the helpers of cli.h.
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "ctl/cli.h"
#include "ctl/json_out.h"

namespace ctl {

int exit_code_for(OpStatus status) {
  switch (status) {
    case OpStatus::kOk:
      return kExitOk;
    case OpStatus::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitFailed;
  }
}

int fail(Cli& cli, OpStatus status, const std::string& message) {
  cli.err << "mqtt-authctl: " << message << "\n";
  return exit_code_for(status);
}

int usage_error(Cli& cli, const std::string& message) {
  cli.err << "mqtt-authctl: " << message << "\n(run mqtt-authctl --help for usage)\n";
  return kExitUsage;
}

int open_redis(Cli& cli, RedisSession* out_session) {
  std::string url_text = cli.args.value("redis").value_or(kDefaultRedisUrl);
  auto url = parse_redis_url(url_text);
  if (!url) {
    return usage_error(cli, "--redis must look like redis://[[user]:password@]host[:port][/db] "
                            "or sentinel://[[user]:password@]host[:port][,host[:port]]/master[/db]");
  }
  // Kept out of argv, where other users could read it.
  if (const char* password = std::getenv(kSentinelPasswordEnv)) url->sentinel_password = password;
  std::string error;
  if (RedisClient::connect(*url, &out_session->client, &error) != RedisClient::ConnectStatus::kOk) {
    return fail(cli, OpStatus::kRedisError, error);
  }
  out_session->ops = std::make_unique<OpContext>(OpContext{
      *out_session->client, auth::RedisKeys(cli.args.value("prefix").value_or(kDefaultPrefix))});
  return kExitOk;
}

std::optional<int> parse_days(const Cli& cli, int fallback) {
  auto text = cli.args.value("days");
  if (!text) return fallback;
  int days = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), days);
  if (ec != std::errc() || end != text->data() + text->size() || days <= 0 || days > 36500) {
    return std::nullopt;
  }
  return days;
}

std::string format_unix_time(const std::string& unix_seconds) {
  long long seconds = 0;
  auto [end, ec] =
      std::from_chars(unix_seconds.data(), unix_seconds.data() + unix_seconds.size(), seconds);
  if (ec != std::errc() || end != unix_seconds.data() + unix_seconds.size()) return unix_seconds;
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  if (gmtime_r(&time, &utc) == nullptr) return unix_seconds;
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

int print_ok(Cli& cli, const std::string& message, const char* key, const std::string& id) {
  if (cli.json) {
    JsonWriter json;
    json.begin_object().field("ok", true).field(key, id).end_object();
    cli.out << json.str() << "\n";
  } else {
    cli.out << message << "\n";
  }
  return kExitOk;
}

}  // namespace ctl
