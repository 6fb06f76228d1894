// config/values.cc: scalar value parsers shared by the config loader and the CLI tools.
#include "config/values.h"

#include <arpa/inet.h>

#include <limits>

namespace config {
namespace {

constexpr uint64_t kMaxDurationMs = 24ull * 3600 * 1000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits "123abc" into the leading digits and the rest.
void split_number(std::string_view text, std::string_view* out_digits,
                  std::string_view* out_rest) {
  size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  *out_digits = text.substr(0, n);
  *out_rest = text.substr(n);
}

std::optional<uint64_t> digits_to_uint(std::string_view digits, std::string* out_error) {
  if (digits.empty()) {
    if (out_error) *out_error = "expected a number";
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : digits) {
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      if (out_error) *out_error = "number is too large";
      return std::nullopt;
    }
    value = value * 10 + digit;
  }
  return value;
}

bool is_ipv4_literal(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// A DNS name (RFC 1123 labels, underscores tolerated for container names).
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label_len = 0;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    if (c == '.') {
      if (label_len == 0) return false;
      label_len = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
              c == '_';
    if (!ok || ++label_len > 63) return false;
  }
  return label_len > 0 || host.size() > 1;  // a trailing dot is allowed, "." alone is not
}

bool all_digits_and_dots(std::string_view s) {
  for (char c : s) {
    if (!is_digit(c) && c != '.') return false;
  }
  return !s.empty();
}

std::optional<uint16_t> parse_port(std::string_view text, std::string* out_error) {
  std::string ignored;
  std::optional<uint64_t> port = parse_uint(text, &ignored);
  if (!port || *port == 0 || *port > 65535) {
    if (out_error) *out_error = "port must be a number from 1 to 65535";
    return std::nullopt;
  }
  return static_cast<uint16_t>(*port);
}

// Validates |host| (without brackets) for |kind|; |bracketed| says it was written "[..]".
bool check_host(const std::string& host, bool bracketed, HostKind kind, std::string* out_error) {
  auto fail = [&](std::string message) {
    if (out_error) *out_error = std::move(message);
    return false;
  };
  if (host.empty()) return fail("host is missing (expected \"host:port\")");
  if (bracketed) {
    if (!is_ipv6_literal(host)) return fail("\"[" + host + "]\" is not a valid IPv6 address");
    return true;
  }
  if (host.find(':') != std::string::npos) {
    return fail("IPv6 addresses must be written in brackets, e.g. \"[::1]:8883\"");
  }
  if (all_digits_and_dots(host)) {
    if (!is_ipv4_literal(host)) return fail("\"" + host + "\" is not a valid IPv4 address");
    return true;
  }
  if (kind == HostKind::kAddressOnly) {
    return fail("\"" + host + "\" is not an IP address (bind to a literal IPv4 or IPv6 "
                "address, e.g. 0.0.0.0 or [::])");
  }
  if (!is_host_name(host)) return fail("\"" + host + "\" is not a valid host name");
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex_value(text[i + 1]);
    int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parse_uint(std::string_view text, std::string* out_error) {
  std::string_view digits, rest;
  split_number(text, &digits, &rest);
  if (digits.empty() || !rest.empty()) {
    if (out_error) *out_error = "\"" + std::string(text) + "\" is not a non-negative integer";
    return std::nullopt;
  }
  return digits_to_uint(digits, out_error);
}

std::optional<Duration> parse_duration(std::string_view text, std::string* out_error) {
  std::string_view digits, unit;
  split_number(text, &digits, &unit);
  auto fail = [&] {
    if (out_error) {
      *out_error = "\"" + std::string(text) +
                   "\" is not a duration (use e.g. 500ms, 10s, 5m, 1h, or a number of seconds)";
    }
    return std::nullopt;
  };
  if (digits.empty()) return fail();
  std::optional<uint64_t> number = digits_to_uint(digits, nullptr);
  if (!number) return fail();
  uint64_t scale_ms = 0;
  if (unit.empty() || unit == "s") {
    scale_ms = 1000;
  } else if (unit == "ms") {
    scale_ms = 1;
  } else if (unit == "m") {
    scale_ms = 60'000;
  } else if (unit == "h") {
    scale_ms = 3'600'000;
  } else {
    return fail();
  }
  if (*number > kMaxDurationMs / scale_ms) {
    if (out_error) *out_error = "duration must be at most 24h";
    return std::nullopt;
  }
  return Duration(static_cast<Duration::rep>(*number * scale_ms));
}

std::optional<uint64_t> parse_size(std::string_view text, std::string* out_error) {
  std::string_view digits, suffix;
  split_number(text, &digits, &suffix);
  auto fail = [&] {
    if (out_error) {
      *out_error = "\"" + std::string(text) +
                   "\" is not a size (use a number of bytes, optionally with k, K, KiB, m, M "
                   "or MiB)";
    }
    return std::nullopt;
  };
  if (digits.empty()) return fail();
  std::optional<uint64_t> number = digits_to_uint(digits, nullptr);
  if (!number) return fail();
  uint64_t scale = 0;
  if (suffix.empty()) {
    scale = 1;
  } else if (suffix == "k" || suffix == "K" || suffix == "KiB") {
    scale = 1024;
  } else if (suffix == "m" || suffix == "M" || suffix == "MiB") {
    scale = 1024 * 1024;
  } else {
    return fail();
  }
  if (*number > std::numeric_limits<uint64_t>::max() / scale) {
    if (out_error) *out_error = "size is too large";
    return std::nullopt;
  }
  return *number * scale;
}

std::optional<HostPort> parse_host_port(std::string_view text, HostKind kind,
                                        std::string* out_error) {
  HostPort out;
  std::string_view port_text;
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      if (out_error) *out_error = "missing \"]\" after IPv6 address";
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    std::string_view after = text.substr(close + 1);
    if (after.empty() || after.front() != ':') {
      if (out_error) *out_error = "expected \":port\" after \"]\"";
      return std::nullopt;
    }
    port_text = after.substr(1);
    bracketed = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      if (out_error) *out_error = "\"" + std::string(text) + "\" has no port (expected \"host:port\")";
      return std::nullopt;
    }
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (!check_host(out.host, bracketed, kind, out_error)) return std::nullopt;
  std::optional<uint16_t> port = parse_port(port_text, out_error);
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

std::optional<double> parse_decimal(std::string_view text, std::string* out_error) {
  std::string_view whole, rest;
  split_number(text, &whole, &rest);
  std::string_view fraction;
  bool ok = !whole.empty() && whole.size() <= 9;
  if (ok && !rest.empty()) {
    std::string_view after_point;
    ok = rest.front() == '.';
    if (ok) split_number(rest.substr(1), &fraction, &after_point);
    ok = ok && !fraction.empty() && fraction.size() <= 9 && after_point.empty();
  }
  if (!ok) {
    if (out_error) *out_error = "\"" + std::string(text) + "\" is not a non-negative number";
    return std::nullopt;
  }
  // Both parts have at most 9 digits, so they are exact as integers and the result is
  // rounded once.
  double value = static_cast<double>(*digits_to_uint(whole, nullptr));
  if (!fraction.empty()) {
    double scale = 1;
    for (size_t i = 0; i < fraction.size(); ++i) scale *= 10;
    value += static_cast<double>(*digits_to_uint(fraction, nullptr)) / scale;
  }
  return value;
}

namespace {

// Splits "[user:password@]rest" off the front of |*rest|; false with *out_error set on a
// malformed or badly encoded userinfo. Never quotes the credentials.
bool take_userinfo(std::string_view* rest, RedisUrl* out, std::string* out_error) {
  // Userinfo ends at the last "@": hosts and paths never contain one, so an unencoded "@"
  // in a password still works.
  size_t at = rest->rfind('@');
  if (at == std::string_view::npos) return true;
  std::string_view userinfo = rest->substr(0, at);
  *rest = rest->substr(at + 1);
  size_t colon = userinfo.find(':');
  const char* problem = nullptr;
  std::optional<std::string> user, password;
  if (colon == std::string_view::npos) {
    problem = "credentials in a Redis URL must be written \"user:password@\" or \":password@\"";
  } else if (!(user = percent_decode(userinfo.substr(0, colon)))) {
    problem = "invalid percent-encoding in the user name";
  } else if (!(password = percent_decode(userinfo.substr(colon + 1)))) {
    problem = "invalid percent-encoding in the password";
  }
  if (problem) {
    if (out_error) *out_error = problem;
    return false;
  }
  out->username = std::move(*user);
  out->password = std::move(*password);
  return true;
}

// "host[:port]" with |default_port| when the port is left out.
std::optional<HostPort> parse_url_host(std::string_view authority, uint16_t default_port,
                                       std::string* out_error) {
  std::string with_port(authority);
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    has_port = close != std::string_view::npos && close + 1 < authority.size();
  } else {
    has_port = authority.find(':') != std::string_view::npos;
  }
  if (!has_port) with_port += ":" + std::to_string(default_port);
  std::string host_error;
  std::optional<HostPort> address =
      parse_host_port(with_port, HostKind::kAddressOrName, &host_error);
  if (!address && out_error) *out_error = "in the Redis URL: " + host_error;
  return address;
}

std::optional<int> parse_database(std::string_view text, std::string* out_error) {
  std::optional<uint64_t> db = parse_uint(text, nullptr);
  if (!db || *db > 65535) {
    if (out_error) *out_error = "the database after \"/\" must be a number from 0 to 65535";
    return std::nullopt;
  }
  return static_cast<int>(*db);
}

constexpr std::string_view kRedisScheme = "redis://";
constexpr std::string_view kSentinelScheme = "sentinel://";
constexpr uint16_t kRedisPort = 6379;
constexpr uint16_t kSentinelPort = 26379;

std::optional<RedisUrl> parse_direct_url(std::string_view rest, std::string* out_error) {
  RedisUrl out;
  if (!take_userinfo(&rest, &out, out_error)) return std::nullopt;
  std::string_view authority = rest;
  std::string_view path;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (authority.empty()) {
    if (out_error) *out_error = "the Redis URL has no host";
    return std::nullopt;
  }
  std::optional<HostPort> address = parse_url_host(authority, kRedisPort, out_error);
  if (!address) return std::nullopt;
  out.address = *address;
  if (!path.empty()) {
    std::optional<int> db = parse_database(path, out_error);
    if (!db) return std::nullopt;
    out.database = *db;
  }
  return out;
}

bool is_master_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
         c == '-' || c == '.';
}

std::optional<RedisUrl> parse_sentinel_url(std::string_view rest, std::string* out_error) {
  auto fail = [&](std::string message) -> std::optional<RedisUrl> {
    if (out_error) *out_error = std::move(message);
    return std::nullopt;
  };
  RedisUrl out;
  out.mode = RedisMode::kSentinel;
  if (!take_userinfo(&rest, &out, out_error)) return std::nullopt;
  size_t slash = rest.find('/');
  std::string_view hosts = rest.substr(0, slash);
  if (hosts.empty()) return fail("the sentinel URL has no sentinel host");
  while (true) {
    size_t comma = hosts.find(',');
    std::string_view one = hosts.substr(0, comma);
    if (one.empty()) return fail("the sentinel URL has an empty host between commas");
    std::optional<HostPort> sentinel = parse_url_host(one, kSentinelPort, out_error);
    if (!sentinel) return std::nullopt;
    for (const HostPort& seen : out.sentinels) {
      if (seen.to_string() == sentinel->to_string()) {
        return fail("sentinel " + seen.to_string() + " is listed twice");
      }
    }
    out.sentinels.push_back(*sentinel);
    if (comma == std::string_view::npos) break;
    hosts = hosts.substr(comma + 1);
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  size_t db_slash = path.find('/');
  std::string_view master = path.substr(0, db_slash);
  if (master.empty()) {
    return fail("the sentinel URL needs the master's name: sentinel://host:26379/MASTER[/db]");
  }
  for (char c : master) {
    if (!is_master_name_char(c)) {
      return fail("the master name \"" + std::string(master) +
                  "\" may only hold letters, digits, \"_\", \"-\" and \".\"");
    }
  }
  out.sentinel_master = std::string(master);
  if (db_slash != std::string_view::npos) {
    std::optional<int> db = parse_database(path.substr(db_slash + 1), out_error);
    if (!db) return std::nullopt;
    out.database = *db;
  }
  return out;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view url, std::string* out_error) {
  if (url.starts_with(kRedisScheme)) return parse_direct_url(url.substr(kRedisScheme.size()), out_error);
  if (url.starts_with(kSentinelScheme)) {
    return parse_sentinel_url(url.substr(kSentinelScheme.size()), out_error);
  }
  if (out_error) {
    size_t sep = url.find("://");
    if (sep == std::string_view::npos) {
      *out_error = "expected a URL of the form redis://[[user]:password@]host[:port][/db] or "
                   "sentinel://[[user]:password@]host[:port][,host[:port]]/master[/db]";
    } else {
      *out_error = "scheme \"" + std::string(url.substr(0, sep)) +
                   "://\" is not supported; use redis:// or sentinel://";
    }
  }
  return std::nullopt;
}

}  // namespace config
