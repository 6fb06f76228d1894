// parse_redis_url with sentinel:// URLs, and the mode of redis:// URLs.
#include <gtest/gtest.h>

#include "config/values.h"

namespace {

using config::RedisMode;

std::vector<std::string> sentinel_list(const config::RedisUrl& url) {
  std::vector<std::string> out;
  for (const config::HostPort& s : url.sentinels) out.push_back(s.to_string());
  return out;
}

TEST(ConfigSentinelUrl, DirectUrlsAreDirect) {
  std::string error;
  auto url = config::parse_redis_url("redis://h:1/2", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->mode, RedisMode::kDirect);
  EXPECT_TRUE(url->sentinels.empty());
  EXPECT_EQ(url->sentinel_master, "");
}

TEST(ConfigSentinelUrl, DesignExample) {
  std::string error;
  auto url = config::parse_redis_url("sentinel://h1:26379,h2:26379/mymaster/0", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->mode, RedisMode::kSentinel);
  EXPECT_EQ(sentinel_list(*url), (std::vector<std::string>{"h1:26379", "h2:26379"}));
  EXPECT_EQ(url->sentinel_master, "mymaster");
  EXPECT_EQ(url->database, 0);
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "");
}

TEST(ConfigSentinelUrl, DefaultsPortsDatabaseAndMixedHosts) {
  std::string error;
  auto url = config::parse_redis_url("sentinel://s1,10.0.0.2:5000,[fd00::3]/cache", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(sentinel_list(*url),
            (std::vector<std::string>{"s1:26379", "10.0.0.2:5000", "[fd00::3]:26379"}));
  EXPECT_EQ(url->sentinel_master, "cache");
  EXPECT_EQ(url->database, 0);

  url = config::parse_redis_url("sentinel://one/m.a-s_ter/7", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(sentinel_list(*url), (std::vector<std::string>{"one:26379"}));
  EXPECT_EQ(url->sentinel_master, "m.a-s_ter");
  EXPECT_EQ(url->database, 7);

  url = config::parse_redis_url("sentinel://[::1]:26380/m", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(sentinel_list(*url), (std::vector<std::string>{"[::1]:26380"}));
}

TEST(ConfigSentinelUrl, CredentialsAreForTheDataNodes) {
  std::string error;
  auto url = config::parse_redis_url("sentinel://proxy:p%40ss@h1,h2/mymaster/3", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->username, "proxy");
  EXPECT_EQ(url->password, "p@ss");
  EXPECT_EQ(sentinel_list(*url), (std::vector<std::string>{"h1:26379", "h2:26379"}));
  EXPECT_EQ(url->database, 3);

  url = config::parse_redis_url("sentinel://:only@h1/m", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->username, "");
  EXPECT_EQ(url->password, "only");

  // An unencoded "@" in the password: the last "@" ends the credentials.
  url = config::parse_redis_url("sentinel://u:a@b@h1/m", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->password, "a@b");
  EXPECT_EQ(sentinel_list(*url), (std::vector<std::string>{"h1:26379"}));
}

TEST(ConfigSentinelUrl, BadSentinelUrls) {
  struct Case {
    std::string_view url;
    std::string_view fragment;
  };
  const Case cases[] = {
      {"sentinel://", "no sentinel host"},
      {"sentinel:///m", "no sentinel host"},
      {"sentinel://h1:26379", "needs the master's name"},
      {"sentinel://h1:26379/", "needs the master's name"},
      {"sentinel://h1//0", "needs the master's name"},
      {"sentinel://h1,,h2/m", "empty host between commas"},
      {"sentinel://h1,/m", "empty host between commas"},
      {"sentinel://,h1/m", "empty host between commas"},
      {"sentinel://h1:0/m", "1 to 65535"},
      {"sentinel://h1,h1:26379/m", "h1:26379 is listed twice"},
      {"sentinel://h1/m/x", "database"},
      {"sentinel://h1/m/70000", "database"},
      {"sentinel://h1/m/0/1", "database"},
      {"sentinel://h1/m%20x/0", "master name"},
      {"sentinel://[::1/m", "missing \"]\""},
      {"sentinel://nopass@h1/m", "user:password@"},
      {"sentinel://u:bad%zz@h1/m", "percent-encoding in the password"},
      {"sentinels://h1/m", "\"sentinels://\" is not supported"},
      {"h1:26379", "sentinel://"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(config::parse_redis_url(c.url, &error)) << c.url;
    EXPECT_NE(error.find(c.fragment), std::string::npos) << c.url << ": " << error;
  }
}

TEST(ConfigSentinelUrl, ErrorsNeverShowThePassword) {
  for (std::string_view url :
       {"sentinel://u:hunter2@h1:99999/m", "sentinel://u:hunter2@/m", "sentinel://u:hunter2@h1",
        "sentinel://u:hunter2@h1/m/db", "sentinel://u:hunter2%@h1/m",
        "sentinel://u:hunter2@h1,h1/m"}) {
    std::string error;
    EXPECT_FALSE(config::parse_redis_url(url, &error)) << url;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  }
}

}  // namespace
