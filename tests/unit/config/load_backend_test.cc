// backend.balance, backend.health_check, backend.tls; redis sentinel:// URLs,
// redis.sentinel_password and redis.read_from. backend_with() appends lines inside
// `backend:`, from line 8; load_with() text starts on line 8 too.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

using config::Duration;
using config_test::load;
using config_test::load_with;

std::string backend_with(std::string_view lines) {
  return "listeners:\n  - name: t\n    bind: \"0.0.0.0:1\"\n    auth: token\n"
         "    tls: {cert: c, key: k}\nbackend:\n  servers: [\"b:1\"]\n" +
         std::string(lines);
}

TEST(ConfigBackendExtras, Defaults) {
  config::LoadResult r = load(backend_with(""));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::BackendConfig& b = r.config->backend;
  EXPECT_EQ(b.balance, config::Balance::kRoundRobin);
  EXPECT_EQ(b.health_check_interval, Duration(0));
  EXPECT_EQ(b.health_check_timeout, Duration(1000));
  EXPECT_FALSE(b.tls.enabled);
  EXPECT_TRUE(b.tls.verify);
  EXPECT_EQ(b.tls.ca_file, "");
  const config::RedisConfig& redis = r.config->redis;
  EXPECT_EQ(redis.mode, config::RedisMode::kDirect);
  EXPECT_TRUE(redis.sentinels.empty());
  EXPECT_EQ(redis.sentinel_master, "");
  EXPECT_EQ(redis.sentinel_password, "");
  EXPECT_EQ(redis.read_from, config::ReadFrom::kMaster);
}

TEST(ConfigBackendExtras, Balance) {
  EXPECT_EQ(load(backend_with("  balance: round_robin\n")).config->backend.balance,
            config::Balance::kRoundRobin);
  EXPECT_EQ(load(backend_with("  balance: least_connections\n")).config->backend.balance,
            config::Balance::kLeastConnections);
  EXPECT_EQ(load(backend_with("  balance: client_id_hash\n")).config->backend.balance,
            config::Balance::kClientIdHash);
  EXPECT_ONLY_ERROR(load(backend_with("  balance: random\n")), "backend.balance", 8,
                    "expected round_robin, least_connections or client_id_hash");
}

TEST(ConfigBackendExtras, HealthCheck) {
  config::LoadResult r = load(backend_with("  health_check: {interval: 5s, timeout: 500ms}\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->backend.health_check_interval, Duration(5000));
  EXPECT_EQ(r.config->backend.health_check_timeout, Duration(500));
  r = load(backend_with("  health_check: {interval: 0}\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->backend.health_check_interval, Duration(0));

  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    interval: 5s\n    timeout: 0\n")),
                    "backend.health_check.timeout", 10, "greater than 0");
  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    interval: 2s\n    timeout: 2s\n")),
                    "backend.health_check.timeout", 10, "shorter than health_check.interval");
  // The default timeout (1s) against a too short interval blames the interval.
  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    interval: 500ms\n")),
                    "backend.health_check.interval", 9, "shorter than health_check.interval");
  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    interval: 500ms\n    timeout: 0\n")),
                    "backend.health_check.timeout", 10, "greater than 0");
  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    interval: often\n")),
                    "backend.health_check.interval", 9, "not a duration");
  EXPECT_ONLY_ERROR(load(backend_with("  health_check:\n    path: /\n")),
                    "backend.health_check.path", 9, "unknown key");
}

TEST(ConfigBackendExtras, Tls) {
  config::LoadResult r = load(backend_with(R"(  tls:
    ca: broker_ca.crt
    cert: /pki/proxy.crt
    key: proxy.key
    server_name: broker.internal
)"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::BackendTls& tls = r.config->backend.tls;
  EXPECT_TRUE(tls.enabled);
  EXPECT_EQ(tls.ca_file, "/etc/map/broker_ca.crt");
  EXPECT_EQ(tls.cert_file, "/pki/proxy.crt");
  EXPECT_EQ(tls.key_file, "/etc/map/proxy.key");
  EXPECT_EQ(tls.server_name, "broker.internal");
  EXPECT_TRUE(tls.verify);
  EXPECT_TRUE(r.warnings.empty());

  r = load(backend_with("  tls: {ca: ca.crt, server_name: \"10.0.0.5\"}\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->backend.tls.cert_file, "");
  EXPECT_EQ(r.config->backend.tls.server_name, "10.0.0.5");
  EXPECT_EQ(load(backend_with("  tls: {ca: ca.crt, server_name: \"fd00::5\"}\n"))
                .config->backend.tls.server_name,
            "fd00::5");
}

TEST(ConfigBackendExtras, TlsVerifyFalseIsAWarning) {
  config::LoadResult r = load(backend_with("  tls:\n    ca: ca.crt\n    verify: false\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_FALSE(r.config->backend.tls.verify);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "backend.tls.verify");
  EXPECT_EQ(r.warnings[0].line, 10);
  EXPECT_NE(r.warnings[0].message.find("not verified"), std::string::npos);
}

TEST(ConfigBackendExtras, BadTls) {
  EXPECT_ONLY_ERROR(load(backend_with("  tls:\n    server_name: b\n")), "backend.tls.ca", 8,
                    "is required");
  EXPECT_ONLY_ERROR(load(backend_with("  tls: {ca: ca.crt, cert: c.crt}\n")), "backend.tls.key",
                    8, "is required when cert is set");
  EXPECT_ONLY_ERROR(load(backend_with("  tls: {ca: ca.crt, key: c.key}\n")), "backend.tls.cert",
                    8, "is required when key is set");
  EXPECT_ONLY_ERROR(load(backend_with("  tls:\n    ca: ca.crt\n    server_name: \"a b\"\n")),
                    "backend.tls.server_name", 10, "is not a host name or IP address");
  EXPECT_ONLY_ERROR(load(backend_with("  tls:\n    ca: ca.crt\n    verify: maybe\n")),
                    "backend.tls.verify", 10, "not true or false");
  EXPECT_ONLY_ERROR(load(backend_with("  tls:\n    ca: \"\"\n")), "backend.tls.ca", 9,
                    "must not be empty");
  EXPECT_ONLY_ERROR(load(backend_with("  tls:\n    client_ca: x\n    ca: y\n")),
                    "backend.tls.client_ca", 9, "unknown key");
  EXPECT_ONLY_ERROR(load(backend_with("  tls: true\n")), "backend.tls", 8, "must be a mapping");
}

TEST(ConfigRedisSentinel, SentinelUrlFillsTheSentinelFields) {
  config::LoadResult r = load_with(R"(
redis:
  url: "sentinel://proxy:pw@h1:26379,h2/mymaster/2"
  sentinel_password: "s-pass"
  read_from: replica
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::RedisConfig& redis = r.config->redis;
  EXPECT_EQ(redis.mode, config::RedisMode::kSentinel);
  ASSERT_EQ(redis.sentinels.size(), 2u);
  EXPECT_EQ(redis.sentinels[0].to_string(), "h1:26379");
  EXPECT_EQ(redis.sentinels[1].to_string(), "h2:26379");
  EXPECT_EQ(redis.sentinel_master, "mymaster");
  EXPECT_EQ(redis.database, 2);
  EXPECT_EQ(redis.username, "proxy");
  EXPECT_EQ(redis.password, "pw");
  EXPECT_EQ(redis.sentinel_password, "s-pass");
  EXPECT_EQ(redis.read_from, config::ReadFrom::kReplica);
  EXPECT_TRUE(r.warnings.empty());

  r = load_with("redis: {url: \"sentinel://h1/m\", read_from: master}\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->redis.read_from, config::ReadFrom::kMaster);
}

TEST(ConfigRedisSentinel, Errors) {
  config::LoadResult r = load_with(R"(
redis:
  url: "sentinel://u:topsecret@h1:26379"
  sentinel_password: ""
  read_from: slave
)");
  EXPECT_EQ(r.errors.size(), 3u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "redis.url", 9, "needs the master's name"));
  EXPECT_TRUE(config_test::has_error(r, "redis.sentinel_password", 10, "must not be empty"));
  EXPECT_TRUE(config_test::has_error(r, "redis.read_from", 11, "expected master or replica"));
  EXPECT_EQ(config_test::all_errors(r).find("topsecret"), std::string::npos);

  EXPECT_ONLY_ERROR(load_with("redis:\n  url: \"redis://h\"\n  read_from: replica\n"),
                    "redis.read_from", 10, "needs a sentinel:// url");
  // Without a url the default is a direct redis:// one.
  EXPECT_ONLY_ERROR(load_with("redis:\n  read_from: replica\n"), "redis.read_from", 9,
                    "needs a sentinel:// url");
}

TEST(ConfigRedisSentinel, SentinelPasswordOnADirectUrlIsAWarning) {
  config::LoadResult r = load_with("redis:\n  url: \"redis://h\"\n  sentinel_password: hunter2\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "redis.sentinel_password");
  EXPECT_EQ(r.warnings[0].line, 10);
  EXPECT_EQ(r.warnings[0].to_string().find("hunter2"), std::string::npos);
}

}  // namespace
