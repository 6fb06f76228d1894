// workers, backend, redis, limits, auth, metrics, log; unknown keys; many errors at once.
// kMinimal is 7 lines, so text given to load_with starts on line 8.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

using config::Duration;
using config_test::load;
using config_test::load_with;

TEST(ConfigSections, MinimalConfigTakesDefaults) {
  config::LoadResult r = load(config_test::kMinimal);
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::Config& c = *r.config;
  EXPECT_EQ(c.source, "test.yaml");
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.backend.proxy_protocol, config::ProxyProtocol::kOff);
  EXPECT_EQ(c.backend.connect_timeout, Duration(2000));
  EXPECT_EQ(c.backend.rewrite.client_id.source(), "${client_id}");
  EXPECT_EQ(c.backend.rewrite.username.source(), "${device_id}");
  EXPECT_TRUE(c.backend.rewrite.password.empty());
  EXPECT_EQ(c.redis.address.to_string(), "127.0.0.1:6379");
  EXPECT_EQ(c.redis.key_prefix, "mqttauth:");
  EXPECT_EQ(c.redis.timeout, Duration(1000));
  EXPECT_EQ(c.limits.connect_timeout, Duration(10'000));
  EXPECT_EQ(c.limits.max_connect_packet, 65536u);
  EXPECT_EQ(c.limits.max_connections, 100'000u);
  EXPECT_FALSE(c.auth.plaintext_secrets);
  EXPECT_FALSE(c.metrics.bind.has_value());
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, config::LogFormat::kText);
}

TEST(ConfigSections, Workers) {
  EXPECT_EQ(load_with("workers: auto\n").config->workers, 0u);
  EXPECT_EQ(load_with("workers: 1\n").config->workers, 1u);
  EXPECT_EQ(load_with("workers: \"256\"\n").config->workers, 256u);
  for (const char* bad : {"0", "257", "-1", "two", "1.5", "AUTO"}) {
    EXPECT_ONLY_ERROR(load_with(std::string("workers: ") + bad + "\n"), "workers", 8,
                      "must be \"auto\" or a number from 1 to 256");
  }
  EXPECT_ONLY_ERROR(load_with("workers:\n"), "workers", 8, "has no value");
  EXPECT_ONLY_ERROR(load_with("workers: [2]\n"), "workers", 8, "must be a single value");
}

TEST(ConfigSections, BackendServers) {
  config::LoadResult r = load(R"(
listeners:
  - name: token
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: server.crt, key: server.key}
backend:
  servers:
    - "mosquitto:1883"
    - "[fd00::1]:1883"
    - 10.1.2.3:1884
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const auto& s = r.config->backend.servers;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].to_string(), "mosquitto:1883");
  EXPECT_EQ(s[1].to_string(), "[fd00::1]:1883");
  EXPECT_EQ(s[2].to_string(), "10.1.2.3:1884");

  const char* head =
      "listeners:\n  - name: t\n    bind: \"0.0.0.0:1\"\n    auth: token\n"
      "    tls: {cert: c, key: k}\n";
  EXPECT_ONLY_ERROR(load(std::string(head)), "backend", 1, "is required");
  EXPECT_ONLY_ERROR(load(std::string(head) + "backend: {}\n"), "backend.servers", 6,
                    "is required");
  EXPECT_ONLY_ERROR(load(std::string(head) + "backend:\n  servers: []\n"), "backend.servers", 7,
                    "must not be empty");
  EXPECT_ONLY_ERROR(load(std::string(head) + "backend:\n  servers: \"127.0.0.1:1883\"\n"),
                    "backend.servers", 7, "must be a list");
  r = load(std::string(head) + "backend:\n  servers:\n    - \"b:1\"\n    - \"b:0\"\n    - \"b:1\"\n");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "backend.servers[1]", 9, "1 to 65535"));
  EXPECT_TRUE(config_test::has_error(r, "backend.servers[2]", 10, "already backend.servers[0]"));
}

std::string backend_with(std::string_view lines) {
  return "listeners:\n  - name: t\n    bind: \"0.0.0.0:1\"\n    auth: token\n"
         "    tls: {cert: c, key: k}\nbackend:\n  servers: [\"b:1\"]\n" +
         std::string(lines);
}

TEST(ConfigSections, BackendProxyProtocol) {
  for (const char* off : {"off", "\"off\"", "false", "no", "Off"}) {
    config::LoadResult r = load(backend_with(std::string("  proxy_protocol: ") + off + "\n"));
    ASSERT_TRUE(r.config.has_value()) << off << ": " << config_test::all_errors(r);
    EXPECT_EQ(r.config->backend.proxy_protocol, config::ProxyProtocol::kOff);
  }
  EXPECT_EQ(load(backend_with("  proxy_protocol: v1\n")).config->backend.proxy_protocol,
            config::ProxyProtocol::kV1);
  EXPECT_EQ(load(backend_with("  proxy_protocol: v2\n")).config->backend.proxy_protocol,
            config::ProxyProtocol::kV2);
  for (const char* bad : {"on", "true", "v3", "2"}) {
    EXPECT_ONLY_ERROR(load(backend_with(std::string("  proxy_protocol: ") + bad + "\n")),
                      "backend.proxy_protocol", 8, "expected off, v1 or v2");
  }
}

TEST(ConfigSections, BackendConnectTimeout) {
  EXPECT_EQ(load(backend_with("  connect_timeout: 500ms\n")).config->backend.connect_timeout,
            Duration(500));
  EXPECT_EQ(load(backend_with("  connect_timeout: 3\n")).config->backend.connect_timeout,
            Duration(3000));
  EXPECT_ONLY_ERROR(load(backend_with("  connect_timeout: 0s\n")), "backend.connect_timeout", 8,
                    "must be greater than 0");
  EXPECT_ONLY_ERROR(load(backend_with("  connect_timeout: 2 seconds\n")),
                    "backend.connect_timeout", 8, "is not a duration");
}

TEST(ConfigSections, BackendRewrite) {
  config::LoadResult r = load(backend_with(R"(  rewrite:
    client_id: "${device.tenant}/${client_id}"
    username: "${username}"
    password: "$${cert_id}"
)"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::RewriteConfig& rw = r.config->backend.rewrite;
  EXPECT_EQ(rw.client_id.source(), "${device.tenant}/${client_id}");
  EXPECT_EQ(rw.password.expand(nullptr), "${cert_id}");

  r = load(backend_with("  rewrite: {password: }\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_TRUE(r.config->backend.rewrite.password.empty());

  r = load(backend_with(R"(  rewrite:
    client_id: ""
    username: "${user}"
    password: "${cert_id"
    topic: x
)"));
  EXPECT_EQ(r.errors.size(), 4u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "backend.rewrite.client_id", 9, "must not be empty"));
  EXPECT_TRUE(config_test::has_error(r, "backend.rewrite.username", 10,
                                     "unknown variable \"${user}\""));
  EXPECT_TRUE(config_test::has_error(r, "backend.rewrite.password", 11, "unterminated"));
  EXPECT_TRUE(config_test::has_error(r, "backend.rewrite.topic", 12, "unknown key"));
}

TEST(ConfigSections, Redis) {
  config::LoadResult r = load_with(R"(
redis:
  url: "redis://proxy:pw@redis.internal:6380/4"
  key_prefix: "tenant1:"
  timeout: 250ms
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::RedisConfig& redis = r.config->redis;
  EXPECT_EQ(redis.url, "redis://proxy:pw@redis.internal:6380/4");
  EXPECT_EQ(redis.address.to_string(), "redis.internal:6380");
  EXPECT_EQ(redis.database, 4);
  EXPECT_EQ(redis.username, "proxy");
  EXPECT_EQ(redis.password, "pw");
  EXPECT_EQ(redis.key_prefix, "tenant1:");
  EXPECT_EQ(redis.timeout, Duration(250));

  r = load_with("redis: {url: \"redis://h\", key_prefix: \"\"}\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->redis.address.to_string(), "h:6379");
  EXPECT_EQ(r.config->redis.database, 0);
  EXPECT_EQ(r.config->redis.key_prefix, "");
}

TEST(ConfigSections, BadRedis) {
  config::LoadResult r = load_with(R"(
redis:
  url: "rediss://u:topsecret@h1:6379/0"
  timeout: 0
  db: 1
)");
  EXPECT_EQ(r.errors.size(), 3u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "redis.url", 9, "use redis:// or sentinel://"));
  EXPECT_TRUE(config_test::has_error(r, "redis.timeout", 10, "greater than 0"));
  EXPECT_TRUE(config_test::has_error(r, "redis.db", 11, "unknown key"));
  EXPECT_EQ(config_test::all_errors(r).find("topsecret"), std::string::npos);

  EXPECT_ONLY_ERROR(load_with("redis:\n  url: \"redis://:pw@h:6379/x\"\n"), "redis.url", 9,
                    "database");
  EXPECT_ONLY_ERROR(load_with("redis:\n  url: \"\"\n"), "redis.url", 9, "must not be empty");
}

TEST(ConfigSections, Limits) {
  config::LoadResult r = load_with(R"(
limits:
  connect_timeout: 5m
  max_connect_packet: 1MiB
  max_connections: 10000000
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->limits.connect_timeout, Duration(300'000));
  EXPECT_EQ(r.config->limits.max_connect_packet, 1048576u);
  EXPECT_EQ(r.config->limits.max_connections, 10'000'000u);

  EXPECT_EQ(load_with("limits: {max_connect_packet: 16}\n").config->limits.max_connect_packet,
            16u);
  EXPECT_EQ(load_with("limits: {max_connect_packet: 268435455}\n")
                .config->limits.max_connect_packet,
            268435455u);
  EXPECT_EQ(load_with("limits: {max_connect_packet: 8k}\n").config->limits.max_connect_packet,
            8192u);
  EXPECT_EQ(load_with("limits: {max_connect_packet: 2M}\n").config->limits.max_connect_packet,
            2097152u);
  EXPECT_EQ(load_with("limits: {connect_timeout: 1h}\n").config->limits.connect_timeout,
            Duration(3'600'000));
}

TEST(ConfigSections, BadLimits) {
  config::LoadResult r = load_with(R"(
limits:
  connect_timeout: 10x
  max_connect_packet: 256MiB
  max_connections: 0
)");
  EXPECT_EQ(r.errors.size(), 3u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "limits.connect_timeout", 9, "not a duration"));
  EXPECT_TRUE(config_test::has_error(r, "limits.max_connect_packet", 10,
                                     "must be from 16 to 268435455 bytes"));
  EXPECT_TRUE(config_test::has_error(r, "limits.max_connections", 11,
                                     "must be from 1 to 10000000"));
  EXPECT_ONLY_ERROR(load_with("limits: {max_connect_packet: 15}\n"), "limits.max_connect_packet",
                    8, "from 16");
  EXPECT_ONLY_ERROR(load_with("limits: {max_connect_packet: 64kB}\n"),
                    "limits.max_connect_packet", 8, "is not a size");
  EXPECT_ONLY_ERROR(load_with("limits: {max_connections: 10000001}\n"), "limits.max_connections",
                    8, "from 1 to");
  EXPECT_ONLY_ERROR(load_with("limits: {max_connections: lots}\n"), "limits.max_connections", 8,
                    "not a non-negative integer");
  EXPECT_ONLY_ERROR(load_with("limits: 5\n"), "limits", 8, "must be a mapping");
}

TEST(ConfigSections, Auth) {
  EXPECT_TRUE(load_with("auth: {plaintext_secrets: true}\n").config->auth.plaintext_secrets);
  EXPECT_FALSE(load_with("auth: {plaintext_secrets: false}\n").config->auth.plaintext_secrets);
  EXPECT_ONLY_ERROR(load_with("auth:\n  plaintext_secrets: maybe\n"), "auth.plaintext_secrets", 9,
                    "not true or false");
  EXPECT_ONLY_ERROR(load_with("auth:\n  plain_secrets: true\n"), "auth.plain_secrets", 9,
                    "unknown key");
}

TEST(ConfigSections, Metrics) {
  config::LoadResult r = load_with("metrics:\n  bind: \"[::1]:9883\"\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->metrics.bind->to_string(), "[::1]:9883");
  EXPECT_FALSE(load_with("metrics: {}\n").config->metrics.bind.has_value());
  EXPECT_ONLY_ERROR(load_with("metrics:\n  bind: \"localhost:9883\"\n"), "metrics.bind", 9,
                    "not an IP address");
  EXPECT_ONLY_ERROR(load_with("metrics:\n  bind: \"0.0.0.0:8883\"\n"), "metrics.bind", 9,
                    "already bound by listeners[0]");
}

TEST(ConfigSections, Log) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    config::LoadResult r = load_with(std::string("log: {level: ") + level + "}\n");
    ASSERT_TRUE(r.config.has_value()) << level << ": " << config_test::all_errors(r);
    EXPECT_EQ(r.config->log.level, level);
  }
  EXPECT_EQ(load_with("log: {level: \"off\"}\n").config->log.level, "off");
  EXPECT_EQ(load_with("log: {format: json}\n").config->log.format, config::LogFormat::kJson);
  config::LoadResult r = load_with("log:\n  level: verbose\n  format: xml\n");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "log.level", 9, "\"verbose\" is not valid (expected "
                                     "trace, debug, info, warn, error, critical or off)"));
  EXPECT_TRUE(config_test::has_error(r, "log.format", 10, "expected text or json"));
}

TEST(ConfigSections, UnknownTopLevelKey) {
  config::LoadResult r = load_with("listener: []\n");
  EXPECT_ONLY_ERROR(r, "listener", 8, "unknown key");
  EXPECT_NE(r.errors[0].message.find("workers, listeners, backend"), std::string::npos);
  EXPECT_EQ(r.errors[0].to_string().substr(0, 25), "test.yaml:8: listener: un");
}

TEST(ConfigSections, UnknownNestedKeys) {
  config::LoadResult r = load_with(R"(
redis:
  url: "redis://h"
  sentinel:
    master: x
log:
  colour: true
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "redis.sentinel", 10, "unknown key"));
  EXPECT_TRUE(config_test::has_error(r, "log.colour", 13, "unknown key"));
}

TEST(ConfigSections, DuplicateKey) {
  EXPECT_ONLY_ERROR(load_with("workers: 2\nworkers: 3\n"), "workers", 9, "duplicate key");
}

TEST(ConfigSections, DocumentMustBeAMapping) {
  EXPECT_ONLY_ERROR(load("- a\n- b\n"), "", 1, "must be a mapping");
  config::LoadResult r = load("");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("empty"), std::string::npos);
}

TEST(ConfigSections, InvalidYaml) {
  config::LoadResult r = load("workers: 2\nlog: {level: info\n");
  ASSERT_EQ(r.errors.size(), 1u) << config_test::all_errors(r);
  EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos);
  EXPECT_GT(r.errors[0].line, 1);
}

TEST(ConfigSections, ManyErrorsAreReportedTogether) {
  config::LoadResult r = load(R"(
workers: many
listeners:
  - name: a
    bind: "0.0.0.0:99999"
    auth: token
    tls: {cert: s.crt, key: s.key}
backend:
  servers: ["b"]
  proxy_protocol: v9
redis:
  url: "http://h"
limits:
  max_connections: -5
metrics:
  bind: nowhere
log:
  level: loud
  format: json
extra: 1
)");
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(r.errors.size(), 9u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "workers", 1));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].bind", 4, "1 to 65535"));
  EXPECT_TRUE(config_test::has_error(r, "backend.servers[0]", 8, "no port"));
  EXPECT_TRUE(config_test::has_error(r, "backend.proxy_protocol", 9));
  EXPECT_TRUE(config_test::has_error(r, "redis.url", 11, "\"http://\" is not supported"));
  EXPECT_TRUE(config_test::has_error(r, "limits.max_connections", 13));
  EXPECT_TRUE(config_test::has_error(r, "metrics.bind", 15, "no port"));
  EXPECT_TRUE(config_test::has_error(r, "log.level", 17));
  EXPECT_TRUE(config_test::has_error(r, "extra", 19, "unknown key"));
}

}  // namespace
