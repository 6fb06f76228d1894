// config/config.h: the proxy's configuration, translated once from YAML into immutable,
// validated structs shared by every worker. Only this module includes yaml-cpp.
#pragma once

#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/decision.h"
#include "config/template.h"

namespace config {

using Duration = std::chrono::milliseconds;

struct HostPort {
  std::string host;   // literal IPv4/IPv6 address or host name ("0.0.0.0", "::1", "redis")
  uint16_t port = 0;
  std::string to_string() const;  // "host:port", IPv6 in brackets
};

enum class CertIdentity { kFingerprint, kCommonName };
enum class ProxyProtocol { kOff, kV1, kV2 };
enum class LogFormat { kText, kJson };

struct TlsSettings {
  std::string cert_file;       // PEM chain; paths are resolved against the config's folder
  std::string key_file;
  std::string client_ca_file;  // required for auth: cert listeners
  std::string crl_file;        // optional
};

// Cidr: a parsed network, IPv4 or IPv6 ("10.0.0.0/8", "::1/128"; a bare address is a /32
// or /128). Host bits below prefix_len are zero.
struct Cidr {
  int family = 0;                      // AF_INET or AF_INET6
  std::array<uint8_t, 16> address{};   // network byte order; only the first 4 used for v4
  int prefix_len = 0;
  // contains: whether |addr| (AF_INET or AF_INET6 sockaddr; other families never match) is
  // inside this network. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched against
  // IPv4 networks as a.b.c.d. |addr| is not retained.
  bool contains(const sockaddr* addr) const;
  std::string to_string() const;       // "10.0.0.0/8", "2001:db8::/32"
};

enum class AclAction { kAllow, kDeny };
enum class AclAccess { kPublish, kSubscribe, kAll };

// AclRule: one `acl` entry, `{allow: publish, topic: "x/${device_id}/#"}` or
// `{deny: all, topic: "$SYS/#"}`. topic expands (per connection) to a topic filter; its
// literal parts were checked at load: '#' only as the whole last level, '+' as a whole level.
struct AclRule {
  AclAction action = AclAction::kAllow;
  AclAccess access = AclAccess::kAll;
  Template topic;
};

// What a 3.1/3.1.1 client gets for a denied PUBLISH (it has no negative PUBACK).
enum class AclDenyV3 { kDisconnect, kDrop };

struct ListenerConfig {
  using Cidr = config::Cidr;
  using AclAction = config::AclAction;
  using AclAccess = config::AclAccess;
  using AclRule = config::AclRule;
  using AclDenyV3 = config::AclDenyV3;

  std::string name;
  HostPort bind;
  auth::AuthMethod auth = auth::AuthMethod::kToken;
  CertIdentity cert_identity = CertIdentity::kFingerprint;
  TlsSettings tls;
  // Inbound PROXY protocol header from a load balancer; accepted only from trusted_proxies
  // (non-empty whenever proxy_protocol != kOff).
  ProxyProtocol proxy_protocol = ProxyProtocol::kOff;
  std::vector<Cidr> trusted_proxies;
  Template mountpoint;                 // prefix for topics of this listener; empty = off
  std::vector<AclRule> acl;            // evaluated in order, first match wins
  AclAction acl_default = AclAction::kAllow;   // when no rule matches
  AclDenyV3 acl_deny_v3 = AclDenyV3::kDisconnect;
};

struct RewriteConfig {
  Template client_id = Template::variable("client_id");
  Template username = Template::variable("device_id");
  Template password;   // default "": the forwarded CONNECT carries no password
};

enum class Balance { kRoundRobin, kLeastConnections, kClientIdHash };

// backend.tls: TLS from the proxy to the broker; enabled when the map is present.
struct BackendTls {
  bool enabled = false;
  std::string ca_file;       // `ca`, required when enabled; resolved like other TLS paths
  std::string cert_file;     // optional client certificate: both cert and key, or neither
  std::string key_file;
  std::string server_name;   // SNI and name to verify; default: the server's host
  bool verify = true;        // `verify: false` skips verification (warned at load)
};

struct BackendConfig {
  using Balance = config::Balance;
  using BackendTls = config::BackendTls;

  std::vector<HostPort> servers;
  ProxyProtocol proxy_protocol = ProxyProtocol::kOff;
  RewriteConfig rewrite;
  Duration connect_timeout{2000};
  Balance balance = Balance::kRoundRobin;   // round_robin|least_connections|client_id_hash
  Duration health_check_interval{0};        // backend.health_check.interval; 0 = off
  Duration health_check_timeout{1000};      // backend.health_check.timeout
  BackendTls tls;
};

enum class RedisMode { kDirect, kSentinel };
enum class ReadFrom { kMaster, kReplica };

struct RedisConfig {
  using RedisMode = config::RedisMode;
  using ReadFrom = config::ReadFrom;

  std::string url = "redis://127.0.0.1:6379/0";
  // Parsed from url: redis://[[user]:password@]host:port/db (kDirect: address) or
  // sentinel://[[user]:password@]h1:26379,h2:26379/master[/db] (kSentinel: sentinels and
  // sentinel_master; user and password are for the data nodes).
  RedisMode mode = RedisMode::kDirect;
  HostPort address{"127.0.0.1", 6379};
  std::vector<HostPort> sentinels;
  std::string sentinel_master;
  std::string sentinel_password;   // `redis.sentinel_password`: AUTH to the sentinels
  ReadFrom read_from = ReadFrom::kMaster;   // `redis.read_from: master|replica`
  int database = 0;
  std::string username;
  std::string password;
  std::string key_prefix = "mqttauth:";
  Duration timeout{1000};   // a command not answered by then drops the connection
};

// limits.auth_failures: failed authentications per peer IP and per device ID over `window`;
// reaching a max bans that IP or device for `ban` (CONNACK 5 / 0x8A, no lookup, no hashing).
struct AuthFailureLimits {
  uint32_t max_per_ip = 20;
  uint32_t max_per_device = 20;
  Duration window{60'000};
  Duration ban{300'000};
};

// limits.connection_rate: new connections per second per peer IP (token bucket); 0 = off.
struct ConnectionRateLimits {
  double per_ip = 0;
  uint32_t burst = 50;
};

struct LimitsConfig {
  Duration connect_timeout{10'000};   // accept → whole CONNECT read
  uint32_t max_connect_packet = 65'536;
  uint32_t max_connections = 100'000;
  AuthFailureLimits auth_failures;
  ConnectionRateLimits connection_rate;
};

struct AuthConfig {
  bool plaintext_secrets = false;
  // auth.revalidate_interval: every live session is re-checked against Redis once per
  // interval (for writers that do not publish on `changes`); 0 = off.
  Duration revalidate_interval{300'000};
};

// sessions.ttl: expiry of `session:<device_id>`, refreshed while connected, so entries of a
// proxy that died disappear on their own.
struct SessionsConfig {
  Duration ttl{90'000};
};

// events: the `events` stream (XADD ... MAXLEN ~ maxlen).
struct EventsConfig {
  bool enabled = true;
  uint32_t maxlen = 100'000;
};

struct MetricsConfig {
  std::optional<HostPort> bind;  // absent: no metrics endpoint
};

struct LogConfig {
  std::string level = "info";    // trace|debug|info|warn|error|critical|off
  LogFormat format = LogFormat::kText;
};

// admin.tokens entry: a bearer token for the admin API, stored as a hash in any format
// auth::verify_secret accepts except plaintext.
struct AdminToken {
  std::string name;
  std::string hash;
};

struct AdminConfig {
  std::optional<HostPort> bind;    // absent: no admin API
  TlsSettings tls;                 // `admin.tls: {cert, key}`; empty cert_file = plain HTTP
  std::vector<AdminToken> tokens;  // non-empty when bind is set; names unique
  std::string ca_dir;              // resolved folder holding root_ca.crt/root_ca.key; "" = none
};

struct Config {
  using AdminToken = config::AdminToken;
  using AdminConfig = config::AdminConfig;

  unsigned workers = 0;           // 0 = auto (one per core)
  std::vector<ListenerConfig> listeners;
  BackendConfig backend;
  RedisConfig redis;
  LimitsConfig limits;
  AuthConfig auth;
  SessionsConfig sessions;
  EventsConfig events;
  std::string node_name;          // `node` of session records; default: the host name
  MetricsConfig metrics;
  AdminConfig admin;
  LogConfig log;
  Duration shutdown_grace{30'000};   // SIGTERM: time to drain connections; 0 = close at once
  std::string pid_file;           // resolved path; "" = none
  std::string source;             // the file it was read from
};

struct ConfigError {
  std::string file;
  int line = 0;                   // 1-based; 0 when unknown
  std::string key;                // dotted path, e.g. "listeners[1].tls.cert"
  std::string message;
  // "file:line: key: message"; ":line" is left out when 0 and "key: " when empty.
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;   // set only when errors is empty
  std::vector<ConfigError> errors;
  // Settings that are valid but have no effect (e.g. tls.client_ca on a token listener);
  // worth printing, never fatal.
  std::vector<ConfigError> warnings;
};

// load_config_file reads and validates |path|. Referenced files (TLS) must exist.
LoadResult load_config_file(const std::string& path);

// load_config_string validates YAML |text| as if read from |name|; relative paths are
// resolved against |base_dir|.
LoadResult load_config_string(const std::string& text, const std::string& name,
                              const std::string& base_dir);

}  // namespace config
