// tests/unit/ctl/redis_url_test.cc: parse_redis_url and the JSON writer.
#include <gtest/gtest.h>

#include "ctl/json_out.h"
#include "ctl/redis_client.h"

namespace {

TEST(CtlRedisUrl, HostPortDb) {
  auto url = ctl::parse_redis_url("redis://10.0.0.5:6380/3");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "10.0.0.5");
  EXPECT_EQ(url->port, 6380);
  EXPECT_EQ(url->db, 3);
  EXPECT_TRUE(url->user.empty());
  EXPECT_TRUE(url->password.empty());
}

TEST(CtlRedisUrl, Defaults) {
  auto url = ctl::parse_redis_url("redis://cache");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "cache");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(url->db, 0);
}

TEST(CtlRedisUrl, PasswordOnlyAndUserPassword) {
  auto password_only = ctl::parse_redis_url("redis://:s%40cret@h:1/0");
  ASSERT_TRUE(password_only);
  EXPECT_EQ(password_only->user, "");
  EXPECT_EQ(password_only->password, "s@cret");
  auto both = ctl::parse_redis_url("redis://admin:pw@h");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->user, "admin");
  EXPECT_EQ(both->password, "pw");
}

TEST(CtlRedisUrl, Ipv6) {
  auto url = ctl::parse_redis_url("redis://[::1]:7000/2");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 7000);
  EXPECT_EQ(url->db, 2);
}

TEST(CtlRedisUrl, Rejects) {
  for (const char* bad : {"http://h", "redis://", "redis://h:", "redis://h:99999", "redis://h/x",
                          "redis://user@h", "redis://h:0", "redis://:%zz@h", "redis://[::1"}) {
    EXPECT_FALSE(ctl::parse_redis_url(bad)) << bad;
  }
}

TEST(CtlJson, WritesNestedValuesAndEscapes) {
  ctl::JsonWriter json;
  json.begin_object()
      .field("a", "x\"y\n")
      .field("n", int64_t{-3})
      .field("b", true)
      .key("list")
      .begin_array()
      .string("p")
      .number(1)
      .null()
      .end_array()
      .key("o")
      .begin_object()
      .end_object()
      .end_object();
  EXPECT_EQ(json.str(), R"({"a":"x\"y\n","n":-3,"b":true,"list":["p",1,null],"o":{}})");
}

}  // namespace
