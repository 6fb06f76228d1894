// The scalar forms, tested on the parsers directly; load_sections_test.cc checks that the
// loader applies them to the right keys.
#include <gtest/gtest.h>

#include "config/values.h"

namespace {

using config::Duration;
using config::HostKind;

std::optional<Duration> duration(std::string_view text) {
  std::string error;
  auto value = config::parse_duration(text, &error);
  EXPECT_EQ(value.has_value(), error.empty()) << text;
  return value;
}

std::optional<uint64_t> size(std::string_view text) {
  std::string error;
  auto value = config::parse_size(text, &error);
  EXPECT_EQ(value.has_value(), error.empty()) << text;
  return value;
}

TEST(ConfigValues, Durations) {
  EXPECT_EQ(duration("500ms"), Duration(500));
  EXPECT_EQ(duration("10s"), Duration(10'000));
  EXPECT_EQ(duration("5m"), Duration(300'000));
  EXPECT_EQ(duration("1h"), Duration(3'600'000));
  EXPECT_EQ(duration("7"), Duration(7'000));
  EXPECT_EQ(duration("0"), Duration(0));
  EXPECT_EQ(duration("24h"), Duration(86'400'000));
}

TEST(ConfigValues, BadDurations) {
  for (std::string_view text : {"", "s", "10 s", "1.5s", "-1s", "10S", "10sec", "1d", "ms",
                                "10ms5", " 10s", "99999999999999999999999s"}) {
    EXPECT_FALSE(duration(text).has_value()) << text;
  }
  std::string error;
  EXPECT_FALSE(config::parse_duration("25h", &error));
  EXPECT_NE(error.find("at most 24h"), std::string::npos) << error;
}

TEST(ConfigValues, Sizes) {
  EXPECT_EQ(size("0"), 0u);
  EXPECT_EQ(size("65536"), 65536u);
  EXPECT_EQ(size("64k"), 65536u);
  EXPECT_EQ(size("64K"), 65536u);
  EXPECT_EQ(size("64KiB"), 65536u);
  EXPECT_EQ(size("2m"), 2u * 1024 * 1024);
  EXPECT_EQ(size("2M"), 2u * 1024 * 1024);
  EXPECT_EQ(size("2MiB"), 2u * 1024 * 1024);
}

TEST(ConfigValues, BadSizes) {
  for (std::string_view text : {"", "k", "64kb", "64KB", "64 KiB", "1G", "1.5M", "-1", "64Ki",
                                "99999999999999999999999", "18014398509481984K"}) {
    EXPECT_FALSE(size(text).has_value()) << text;
  }
}

TEST(ConfigValues, Integers) {
  std::string error;
  EXPECT_EQ(config::parse_uint("0", &error), 0u);
  EXPECT_EQ(config::parse_uint("18446744073709551615", &error), UINT64_MAX);
  EXPECT_FALSE(config::parse_uint("18446744073709551616", &error));
  EXPECT_FALSE(config::parse_uint("+1", &error));
  EXPECT_FALSE(config::parse_uint("1e3", &error));
  EXPECT_FALSE(config::parse_uint("", &error));
}

TEST(ConfigValues, HostPorts) {
  std::string error;
  auto hp = config::parse_host_port("127.0.0.1:1883", HostKind::kAddressOnly, &error);
  ASSERT_TRUE(hp) << error;
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 1883);
  EXPECT_EQ(hp->to_string(), "127.0.0.1:1883");

  hp = config::parse_host_port("[::1]:8883", HostKind::kAddressOnly, &error);
  ASSERT_TRUE(hp) << error;
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->to_string(), "[::1]:8883");

  hp = config::parse_host_port("[::]:65535", HostKind::kAddressOnly, &error);
  ASSERT_TRUE(hp) << error;
  EXPECT_EQ(hp->port, 65535);

  hp = config::parse_host_port("mosquitto.internal:1883", HostKind::kAddressOrName, &error);
  ASSERT_TRUE(hp) << error;
  EXPECT_EQ(hp->host, "mosquitto.internal");
  hp = config::parse_host_port("broker_1:1883", HostKind::kAddressOrName, &error);
  ASSERT_TRUE(hp) << error;
}

TEST(ConfigValues, BadHostPorts) {
  struct Case {
    std::string_view text;
    HostKind kind;
    std::string_view fragment;
  };
  const Case cases[] = {
      {"127.0.0.1", HostKind::kAddressOrName, "no port"},
      {"127.0.0.1:0", HostKind::kAddressOrName, "1 to 65535"},
      {"127.0.0.1:65536", HostKind::kAddressOrName, "1 to 65535"},
      {"127.0.0.1:http", HostKind::kAddressOrName, "1 to 65535"},
      {"127.0.0.1:", HostKind::kAddressOrName, "1 to 65535"},
      {":1883", HostKind::kAddressOrName, "host is missing"},
      {"::1:8883", HostKind::kAddressOnly, "brackets"},
      {"[::1]8883", HostKind::kAddressOnly, "after \"]\""},
      {"[::1:8883", HostKind::kAddressOnly, "missing \"]\""},
      {"[zz::1]:8883", HostKind::kAddressOnly, "not a valid IPv6"},
      {"[127.0.0.1]:8883", HostKind::kAddressOnly, "not a valid IPv6"},
      {"300.1.1.1:8883", HostKind::kAddressOrName, "not a valid IPv4"},
      {"localhost:8883", HostKind::kAddressOnly, "not an IP address"},
      {"bad host:1883", HostKind::kAddressOrName, "not a valid host name"},
      {"a..b:1883", HostKind::kAddressOrName, "not a valid host name"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(config::parse_host_port(c.text, c.kind, &error)) << c.text;
    EXPECT_NE(error.find(c.fragment), std::string::npos) << c.text << ": " << error;
  }
}

TEST(ConfigValues, Decimals) {
  std::string error;
  EXPECT_EQ(config::parse_decimal("0", &error), 0.0);
  EXPECT_EQ(config::parse_decimal("10", &error), 10.0);
  EXPECT_EQ(config::parse_decimal("0.5", &error), 0.5);
  EXPECT_EQ(config::parse_decimal("2.25", &error), 2.25);
  EXPECT_EQ(config::parse_decimal("007.50", &error), 7.5);
  EXPECT_EQ(config::parse_decimal("999999999.999999999", &error).has_value(), true);
  for (std::string_view bad : {"", "-1", "+1", ".5", "5.", "1e3", "1.2.3", "inf", "nan", "1,5",
                               "1000000000", "0.1234567890", " 1"}) {
    EXPECT_FALSE(config::parse_decimal(bad, &error)) << bad;
    EXPECT_NE(error.find("is not a non-negative number"), std::string::npos) << bad;
  }
}

TEST(ConfigValues, RedisUrls) {
  std::string error;
  auto url = config::parse_redis_url("redis://127.0.0.1:6379/0", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.to_string(), "127.0.0.1:6379");
  EXPECT_EQ(url->database, 0);
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "");

  url = config::parse_redis_url("redis://redis", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.host, "redis");
  EXPECT_EQ(url->address.port, 6379);
  EXPECT_EQ(url->database, 0);

  url = config::parse_redis_url("redis://redis.local:7000/5", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.to_string(), "redis.local:7000");
  EXPECT_EQ(url->database, 5);

  url = config::parse_redis_url("redis://h/3", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.port, 6379);
  EXPECT_EQ(url->database, 3);

  url = config::parse_redis_url("redis://[::1]/2", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.to_string(), "[::1]:6379");
  url = config::parse_redis_url("redis://[::1]:6380", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->address.to_string(), "[::1]:6380");

  url = config::parse_redis_url("redis://:s3cret@10.0.0.5:6380/1", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "s3cret");
  EXPECT_EQ(url->address.to_string(), "10.0.0.5:6380");
  EXPECT_EQ(url->database, 1);

  url = config::parse_redis_url("redis://proxy:p%40ss%3Aw0rd@redis/0", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->username, "proxy");
  EXPECT_EQ(url->password, "p@ss:w0rd");

  url = config::parse_redis_url("redis://proxy:p@ss@redis", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->password, "p@ss");
  EXPECT_EQ(url->address.host, "redis");
}

TEST(ConfigValues, BadRedisUrls) {
  struct Case {
    std::string_view url;
    std::string_view fragment;
  };
  const Case cases[] = {
      {"127.0.0.1:6379", "redis://"},
      {"rediss://127.0.0.1:6379", "\"rediss://\" is not supported"},
      {"redis://", "no host"},
      {"redis:///0", "no host"},
      {"redis://h:0", "1 to 65535"},
      {"redis://h:notaport/0", "1 to 65535"},
      {"redis://h/x", "database"},
      {"redis://h/70000", "database"},
      {"redis://h/0/1", "database"},
      {"redis://secretonly@h", "user:password@"},
      {"redis://u:bad%zz@h", "percent-encoding in the password"},
      {"redis://b%d:pw@h", "percent-encoding in the user name"},
      {"redis://u:pw@[::1", "missing \"]\""},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(config::parse_redis_url(c.url, &error)) << c.url;
    EXPECT_NE(error.find(c.fragment), std::string::npos) << c.url << ": " << error;
  }
}

TEST(ConfigValues, RedisUrlErrorsNeverShowThePassword) {
  for (std::string_view url : {"redis://u:hunter2@h:99999", "redis://u:hunter2@/0",
                               "redis://u:hunter2@h/db", "redis://u:hunter2%@h",
                               "rediss://u:hunter2@h"}) {
    std::string error;
    EXPECT_FALSE(config::parse_redis_url(url, &error)) << url;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  }
}

}  // namespace
