// Top-level node_name, shutdown_grace, pid_file; auth.revalidate_interval;
// limits.auth_failures and limits.connection_rate; sessions; events.
// kMinimal is 7 lines, so text given to load_with starts on line 8.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

using config::Duration;
using config_test::load_with;

TEST(ConfigRuntime, Defaults) {
  config::LoadResult r = config_test::load(config_test::kMinimal);
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::Config& c = *r.config;
  EXPECT_EQ(c.node_name, "");
  EXPECT_EQ(c.shutdown_grace, Duration(30'000));
  EXPECT_EQ(c.pid_file, "");
  EXPECT_EQ(c.auth.revalidate_interval, Duration(300'000));
  EXPECT_EQ(c.limits.auth_failures.max_per_ip, 20u);
  EXPECT_EQ(c.limits.auth_failures.max_per_device, 20u);
  EXPECT_EQ(c.limits.auth_failures.window, Duration(60'000));
  EXPECT_EQ(c.limits.auth_failures.ban, Duration(300'000));
  EXPECT_EQ(c.limits.connection_rate.per_ip, 0.0);
  EXPECT_EQ(c.limits.connection_rate.burst, 50u);
  EXPECT_EQ(c.sessions.ttl, Duration(90'000));
  EXPECT_TRUE(c.events.enabled);
  EXPECT_EQ(c.events.maxlen, 100'000u);
}

TEST(ConfigRuntime, NodeName) {
  for (const char* good : {"proxy-1", "edge.eu-west:2", "A_b.c-d:e",
                           "0123456789012345678901234567890123456789012345678901234567890123"}) {
    config::LoadResult r = load_with(std::string("node_name: \"") + good + "\"\n");
    ASSERT_TRUE(r.config.has_value()) << good << ": " << config_test::all_errors(r);
    EXPECT_EQ(r.config->node_name, good);
  }
  for (const char* bad : {"\"\"", "\"has space\"", "\"a/b\"", "\"ü\"",
                          "\"01234567890123456789012345678901234567890123456789012345678901234\""}) {
    EXPECT_ONLY_ERROR(load_with(std::string("node_name: ") + bad + "\n"), "node_name", 8,
                      "is not a valid node name");
  }
  EXPECT_ONLY_ERROR(load_with("node_name:\n"), "node_name", 8, "has no value");
  EXPECT_ONLY_ERROR(load_with("node_name: [a]\n"), "node_name", 8, "must be a single value");
}

TEST(ConfigRuntime, ShutdownGraceAndPidFile) {
  config::LoadResult r = load_with("shutdown_grace: 2m\npid_file: run/map.pid\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->shutdown_grace, Duration(120'000));
  EXPECT_EQ(r.config->pid_file, "/etc/map/run/map.pid");   // relative to the config folder
  EXPECT_EQ(load_with("shutdown_grace: 0\n").config->shutdown_grace, Duration(0));
  EXPECT_EQ(load_with("pid_file: /run/map.pid\n").config->pid_file, "/run/map.pid");

  EXPECT_ONLY_ERROR(load_with("shutdown_grace: soon\n"), "shutdown_grace", 8,
                    "is not a duration");
  EXPECT_ONLY_ERROR(load_with("shutdown_grace: 25h\n"), "shutdown_grace", 8, "at most 24h");
  EXPECT_ONLY_ERROR(load_with("pid_file: \"\"\n"), "pid_file", 8, "must not be empty");
  EXPECT_ONLY_ERROR(load_with("pid_file:\n"), "pid_file", 8, "has no value");
}

TEST(ConfigRuntime, RevalidateInterval) {
  EXPECT_EQ(load_with("auth: {revalidate_interval: 30s}\n").config->auth.revalidate_interval,
            Duration(30'000));
  EXPECT_EQ(load_with("auth: {revalidate_interval: 0}\n").config->auth.revalidate_interval,
            Duration(0));
  EXPECT_ONLY_ERROR(load_with("auth:\n  revalidate_interval: often\n"),
                    "auth.revalidate_interval", 9, "is not a duration");
}

TEST(ConfigRuntime, AuthFailures) {
  config::LoadResult r = load_with(R"(
limits:
  auth_failures:
    max_per_ip: 5
    max_per_device: 3
    window: 10m
    ban: 1h
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::AuthFailureLimits& f = r.config->limits.auth_failures;
  EXPECT_EQ(f.max_per_ip, 5u);
  EXPECT_EQ(f.max_per_device, 3u);
  EXPECT_EQ(f.window, Duration(600'000));
  EXPECT_EQ(f.ban, Duration(3'600'000));

  r = load_with(R"(
limits:
  auth_failures:
    max_per_ip: 0
    max_per_device: many
    window: 0s
    ban: 0
    bans: 1
)");
  EXPECT_EQ(r.errors.size(), 5u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "limits.auth_failures.max_per_ip", 10,
                                     "must be from 1 to 1000000"));
  EXPECT_TRUE(config_test::has_error(r, "limits.auth_failures.max_per_device", 11,
                                     "not a non-negative integer"));
  EXPECT_TRUE(config_test::has_error(r, "limits.auth_failures.window", 12, "greater than 0"));
  EXPECT_TRUE(config_test::has_error(r, "limits.auth_failures.ban", 13, "greater than 0"));
  EXPECT_TRUE(config_test::has_error(r, "limits.auth_failures.bans", 14, "unknown key"));
  EXPECT_ONLY_ERROR(load_with("limits: {auth_failures: 5}\n"), "limits.auth_failures", 8,
                    "must be a mapping");
}

TEST(ConfigRuntime, ConnectionRate) {
  config::LoadResult r = load_with("limits:\n  connection_rate: {per_ip: 0.5, burst: 10}\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->limits.connection_rate.per_ip, 0.5);
  EXPECT_EQ(r.config->limits.connection_rate.burst, 10u);
  EXPECT_EQ(load_with("limits: {connection_rate: {per_ip: 20}}\n")
                .config->limits.connection_rate.per_ip,
            20.0);
  EXPECT_EQ(load_with("limits: {connection_rate: {per_ip: 0}}\n")
                .config->limits.connection_rate.per_ip,
            0.0);

  r = load_with(R"(
limits:
  connection_rate:
    per_ip: -1
    burst: 0
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "limits.connection_rate.per_ip", 10,
                                     "\"-1\" is not a non-negative number"));
  EXPECT_TRUE(config_test::has_error(r, "limits.connection_rate.burst", 11,
                                     "must be from 1 to 1000000"));
  EXPECT_ONLY_ERROR(load_with("limits:\n  connection_rate: {per_ip: 2000000}\n"),
                    "limits.connection_rate.per_ip", 9, "must be from 0 to 1000000");
  EXPECT_ONLY_ERROR(load_with("limits:\n  connection_rate: {per_ip: 1e3}\n"),
                    "limits.connection_rate.per_ip", 9, "is not a non-negative number");
  EXPECT_ONLY_ERROR(load_with("limits:\n  connection_rate: {rate: 1}\n"),
                    "limits.connection_rate.rate", 9, "unknown key");
}

TEST(ConfigRuntime, Sessions) {
  EXPECT_EQ(load_with("sessions: {ttl: 5m}\n").config->sessions.ttl, Duration(300'000));
  EXPECT_EQ(load_with("sessions: {ttl: 1s}\n").config->sessions.ttl, Duration(1000));
  EXPECT_EQ(load_with("sessions: {}\n").config->sessions.ttl, Duration(90'000));
  EXPECT_ONLY_ERROR(load_with("sessions:\n  ttl: 999ms\n"), "sessions.ttl", 9, "at least 1s");
  EXPECT_ONLY_ERROR(load_with("sessions:\n  ttl: 0\n"), "sessions.ttl", 9, "at least 1s");
  EXPECT_ONLY_ERROR(load_with("sessions:\n  ttl: x\n"), "sessions.ttl", 9, "not a duration");
  EXPECT_ONLY_ERROR(load_with("sessions:\n  max: 1\n"), "sessions.max", 9, "unknown key");
}

TEST(ConfigRuntime, Events) {
  config::LoadResult r = load_with("events:\n  enabled: false\n  maxlen: 1000\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_FALSE(r.config->events.enabled);
  EXPECT_EQ(r.config->events.maxlen, 1000u);
  EXPECT_TRUE(load_with("events: {enabled: yes}\n").config->events.enabled);

  r = load_with("events:\n  enabled: sometimes\n  maxlen: 0\n");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "events.enabled", 9, "not true or false"));
  EXPECT_TRUE(config_test::has_error(r, "events.maxlen", 10, "must be from 1 to"));
  EXPECT_ONLY_ERROR(load_with("events:\n  stream: x\n"), "events.stream", 9, "unknown key");
}

}  // namespace
