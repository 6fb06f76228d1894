// config/values.h: parsers for the scalar forms used in the config file (durations, sizes,
// host:port, Redis URLs). Pure code without yaml-cpp, so the CLI tools can accept the same
// forms on their command lines. Each returns nullopt with *out_error set on bad input;
// error messages never repeat a password.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace config {

// parse_duration: "500ms", "10s", "5m", "1h", or a bare integer meaning seconds. Accepts
// 0; callers that need a positive timeout check for it. At most 24h.
std::optional<Duration> parse_duration(std::string_view text, std::string* out_error);

// parse_size: a plain integer number of bytes, or one with a 1024-based suffix:
// k, K, KiB (x1024) or m, M, MiB (x1048576). The result must fit 64 bits.
std::optional<uint64_t> parse_size(std::string_view text, std::string* out_error);

// parse_uint: decimal digits only, no sign, no suffix.
std::optional<uint64_t> parse_uint(std::string_view text, std::string* out_error);

enum class HostKind {
  kAddressOrName,   // something to connect to: an IP address or a DNS name
  kAddressOnly,     // something to bind: a literal IPv4 or IPv6 address
};

// parse_host_port: "host:port" or "[v6]:port"; port 1..65535. The brackets are not kept in
// HostPort::host.
std::optional<HostPort> parse_host_port(std::string_view text, HostKind kind,
                                        std::string* out_error);

// parse_decimal: a non-negative decimal number such as "10", "0.5" or "2.25" (no sign,
// exponent, "inf" or "nan"); at most 9 digits before the point.
std::optional<double> parse_decimal(std::string_view text, std::string* out_error);

struct RedisUrl {
  RedisMode mode = RedisMode::kDirect;
  HostPort address;                  // kDirect: the server
  std::vector<HostPort> sentinels;   // kSentinel: at least one, no duplicates
  std::string sentinel_master;       // kSentinel: the monitored master's name
  int database = 0;
  std::string username;              // for the data nodes in both modes
  std::string password;
};

// parse_redis_url accepts two forms; user and password may be percent-encoded:
//   redis://[[user]:password@]host[:port][/db]      default port 6379, db 0
//   sentinel://[[user]:password@]host[:port][,host[:port]]...[/master[/db]]
//                                                   default port 26379, db 0; master required
std::optional<RedisUrl> parse_redis_url(std::string_view url, std::string* out_error);

// parse_cidr: "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits
// set below the prefix are an error ("10.0.0.1/8"), since they usually hide a typo.
std::optional<Cidr> parse_cidr(std::string_view text, std::string* out_error);

}  // namespace config
