// The commented-out examples of optional keys in the shipped config load once uncommented,
// so the file never documents a form the loader rejects.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

// Made by `mosquitto_passwd`; stands in for the "$7$101$..." placeholder.
constexpr const char kPbkdf2Hash[] =
    "$7$101$VunBjgZnlLeU0Y/J$gyVALv/bvWL05IidF8sRUMaDupE1x9knp7phAw9Zak3bq5g8mfBZKZnYDaOQPQ+"
    "lqB2Hl9n+seh7Pt0bjdJD1g==";

// Uncomments "# key: ..." lines for the listed keys and the deeper-indented comment lines
// right below them (the rest of a block example).
std::string uncomment_examples(std::istream& in) {
  const std::regex example_key(
      R"(^(\s*)# ((node_name|shutdown_grace|pid_file|balance|health_check|tls|)"
      R"(sentinel_password|read_from|auth_failures|connection_rate|revalidate_interval|)"
      R"(sessions|events|admin):.*)$)");
  std::string out;
  std::string line;
  std::string block_prefix;   // "  #   " while inside an uncommented block example
  while (std::getline(in, line)) {
    std::smatch m;
    if (!block_prefix.empty() && line.starts_with(block_prefix)) {
      line = line.substr(0, block_prefix.size() - 4) + line.substr(block_prefix.size() - 2);
    } else if (std::regex_match(line, m, example_key)) {
      block_prefix = m[1].str() + "#   ";
      line = m[1].str() + m[2].str();
    } else {
      block_prefix.clear();
    }
    size_t placeholder = line.find("$7$101$...");
    if (placeholder != std::string::npos) line.replace(placeholder, 10, kPbkdf2Hash);
    out += line + "\n";
  }
  return out;
}

TEST(ConfigDefaultExamples, UncommentedExamplesLoad) {
  std::ifstream in(MAP_DEFAULT_CONFIG);
  ASSERT_TRUE(in) << MAP_DEFAULT_CONFIG;
  std::string text = uncomment_examples(in);
  config::LoadResult r = config::load_config_string(text, "examples.yaml", "/etc/map");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r) << "\n" << text;
  const config::Config& c = *r.config;
  EXPECT_EQ(c.node_name, "proxy-1");
  EXPECT_EQ(c.shutdown_grace, config::Duration(30'000));
  EXPECT_EQ(c.pid_file, "/run/mqtt-auth-proxy.pid");
  EXPECT_EQ(c.backend.balance, config::Balance::kRoundRobin);
  EXPECT_EQ(c.backend.health_check_interval, config::Duration(5000));
  EXPECT_TRUE(c.backend.tls.enabled);
  EXPECT_EQ(c.backend.tls.server_name, "broker.internal");
  EXPECT_EQ(c.limits.auth_failures.ban, config::Duration(300'000));
  EXPECT_EQ(c.limits.connection_rate.burst, 50u);
  EXPECT_EQ(c.auth.revalidate_interval, config::Duration(300'000));
  EXPECT_EQ(c.sessions.ttl, config::Duration(90'000));
  EXPECT_EQ(c.events.maxlen, 100'000u);
  ASSERT_TRUE(c.admin.bind.has_value());
  EXPECT_EQ(c.admin.bind->to_string(), "127.0.0.1:9884");
  ASSERT_EQ(c.admin.tokens.size(), 1u);
  EXPECT_EQ(c.admin.ca_dir, "/etc/map/ca");
  // The only warning: a sentinel password next to the default redis:// url.
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "redis.sentinel_password");
}

}  // namespace
