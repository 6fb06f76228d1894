// tests/unit/ctl/redis_url_test.cc: parse_redis_url and the JSON writer.
#include <gtest/gtest.h>

#include "ctl/json_out.h"
#include "ctl/redis_client.h"
#include "redis_test_server.h"

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

TEST(CtlRedisUrl, SentinelListsTheSentinelsInOrder) {
  auto url = ctl::parse_redis_url("sentinel://app:pw@s1:26380,10.0.0.2/mymaster/4");
  ASSERT_TRUE(url);
  ASSERT_EQ(url->sentinels.size(), 2u);
  EXPECT_EQ(url->sentinels[0], std::make_pair(std::string("s1"), uint16_t{26380}));
  EXPECT_EQ(url->sentinels[1], std::make_pair(std::string("10.0.0.2"), uint16_t{26379}));
  EXPECT_EQ(url->sentinel_master, "mymaster");
  EXPECT_EQ(url->db, 4);
  EXPECT_EQ(url->user, "app");
  EXPECT_EQ(url->password, "pw");
  EXPECT_TRUE(url->sentinel_password.empty());
  // A direct URL has no sentinels.
  EXPECT_TRUE(ctl::parse_redis_url("redis://h")->sentinels.empty());
}

TEST(CtlRedisUrl, Rejects) {
  for (const char* bad : {"http://h", "redis://", "redis://h:", "redis://h:99999", "redis://h/x",
                          "redis://user@h", "redis://h:0", "redis://:%zz@h", "redis://[::1",
                          "sentinel://s1:26379", "sentinel:///m"}) {
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

namespace ctl_test {
namespace {

// A server with a password and an ACL user: AUTH (both forms) and SELECT from the URL.
class CtlRedisAuth : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    server_ = std::make_unique<RedisTestServer>();
    server_->start(
        {"--requirepass", "top secret", "--user", "ops", "on", ">ops-pw", "~*", "&*", "+@all"});
  }
  static void TearDownTestSuite() { server_.reset(); }

 protected:
  static ctl::RedisClient::ConnectStatus connect(const std::string& userinfo, int db,
                                                 std::unique_ptr<ctl::RedisClient>* out) {
    std::string url = "redis://" + userinfo + "127.0.0.1:" + std::to_string(server_->port()) + "/" +
                      std::to_string(db);
    auto parsed = ctl::parse_redis_url(url);
    EXPECT_TRUE(parsed) << url;
    std::string error;
    auto status = ctl::RedisClient::connect(*parsed, out, &error);
    EXPECT_EQ(error.find("secret"), std::string::npos) << error;
    return status;
  }
  static std::unique_ptr<RedisTestServer> server_;
};

std::unique_ptr<RedisTestServer> CtlRedisAuth::server_;

TEST_F(CtlRedisAuth, AuthenticatesAndSelectsDatabase) {
  std::unique_ptr<ctl::RedisClient> client;
  ASSERT_EQ(connect(":top%20secret@", 5, &client), ctl::RedisClient::ConnectStatus::kOk);
  client->command({"SET", "k", "in-db-5"});
  std::unique_ptr<ctl::RedisClient> acl_user;
  ASSERT_EQ(connect("ops:ops-pw@", 5, &acl_user), ctl::RedisClient::ConnectStatus::kOk);
  EXPECT_EQ(acl_user->command({"GET", "k"}).str(), "in-db-5");
  std::unique_ptr<ctl::RedisClient> db0;
  ASSERT_EQ(connect(":top%20secret@", 0, &db0), ctl::RedisClient::ConnectStatus::kOk);
  EXPECT_TRUE(db0->command({"GET", "k"}).is_nil());
}

TEST_F(CtlRedisAuth, WrongPasswordFailsWithoutEchoingIt) {
  std::unique_ptr<ctl::RedisClient> client;
  EXPECT_EQ(connect(":wrong-secret@", 0, &client), ctl::RedisClient::ConnectStatus::kAuthFailed);
  EXPECT_EQ(client, nullptr);
}

}  // namespace
}  // namespace ctl_test
