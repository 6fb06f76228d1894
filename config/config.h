// config/config.h: the proxy's configuration, translated once from YAML into immutable,
// validated structs shared by every worker. Only this module includes yaml-cpp.
#pragma once

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

struct ListenerConfig {
  std::string name;
  HostPort bind;
  auth::AuthMethod auth = auth::AuthMethod::kToken;
  CertIdentity cert_identity = CertIdentity::kFingerprint;
  TlsSettings tls;
};

struct RewriteConfig {
  Template client_id = Template::variable("client_id");
  Template username = Template::variable("device_id");
  Template password;   // default "": the forwarded CONNECT carries no password
};

struct BackendConfig {
  std::vector<HostPort> servers;
  ProxyProtocol proxy_protocol = ProxyProtocol::kOff;
  RewriteConfig rewrite;
  Duration connect_timeout{2000};
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  // Parsed from url (redis://[[user]:password@]host:port/db).
  HostPort address{"127.0.0.1", 6379};
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

struct Config {
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
  LogConfig log;
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
