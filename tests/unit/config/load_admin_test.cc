// admin: bind, tls, tokens (hash formats, unique names), ca_dir (resolved, must be a folder).
// load_with() text starts on line 8.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

namespace fs = std::filesystem;
using config_test::load_with;

// Made by `mosquitto_passwd` (password "s3cret-token").
constexpr const char kPbkdf2Hash[] =
    "$7$101$VunBjgZnlLeU0Y/J$gyVALv/bvWL05IidF8sRUMaDupE1x9knp7phAw9Zak3bq5g8mfBZKZnYDaOQPQ+"
    "lqB2Hl9n+seh7Pt0bjdJD1g==";

std::string admin_with(std::string_view tokens_and_more) {
  return "admin:\n  bind: \"127.0.0.1:9884\"\n" + std::string(tokens_and_more);
}

std::string one_token(std::string_view name = "ops") {
  return "  tokens:\n    - name: " + std::string(name) + "\n      hash: \"" + kPbkdf2Hash +
         "\"\n";
}

TEST(ConfigAdmin, AbsentMeansNoAdminApi) {
  config::LoadResult r = config_test::load(config_test::kMinimal);
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::AdminConfig& admin = r.config->admin;
  EXPECT_FALSE(admin.bind.has_value());
  EXPECT_TRUE(admin.tokens.empty());
  EXPECT_EQ(admin.tls.cert_file, "");
  EXPECT_EQ(admin.ca_dir, "");
}

TEST(ConfigAdmin, FullSection) {
  config::LoadResult r = load_with(admin_with(std::string("  tls: {cert: admin.crt, key: admin.key}\n") +
                                              one_token() + "    - {name: ci.deploy, hash: \"" +
                                              kPbkdf2Hash + "\"}\n  ca_dir: pki/ca\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::AdminConfig& admin = r.config->admin;
  ASSERT_TRUE(admin.bind.has_value());
  EXPECT_EQ(admin.bind->to_string(), "127.0.0.1:9884");
  EXPECT_EQ(admin.tls.cert_file, "/etc/map/admin.crt");
  EXPECT_EQ(admin.tls.key_file, "/etc/map/admin.key");
  ASSERT_EQ(admin.tokens.size(), 2u);
  EXPECT_EQ(admin.tokens[0].name, "ops");
  EXPECT_EQ(admin.tokens[0].hash, kPbkdf2Hash);
  EXPECT_EQ(admin.tokens[1].name, "ci.deploy");
  EXPECT_EQ(admin.ca_dir, "/etc/map/pki/ca");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigAdmin, TokensAreRequiredWithBind) {
  EXPECT_ONLY_ERROR(load_with(admin_with("")), "admin.tokens", 8, "is required when bind is set");
  EXPECT_ONLY_ERROR(load_with(admin_with("  tokens: []\n")), "admin.tokens", 10,
                    "must not be empty when bind is set");
}

TEST(ConfigAdmin, BadTokens) {
  config::LoadResult r = load_with(admin_with(std::string(R"(  tokens:
    - {name: ops, hash: "plain-token"}
    - {name: ops, hash: ")") + kPbkdf2Hash + R"("}
    - {name: "bad name", hash: "$7$1$x$y"}
    - {hash: "$6$abc"}
    - {name: x, secret: y}
)"));
  EXPECT_EQ(r.errors.size(), 8u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[0].hash", 11, "is not a supported hash"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[1].name", 12,
                                     "\"ops\" is already the name of admin.tokens[0].name"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[2].name", 13, "is not a valid name"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[2].hash", 13, "is not a supported hash"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[3].name", 14, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[3].hash", 14, "is not a supported hash"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[4].secret", 15, "unknown key"));
  EXPECT_TRUE(config_test::has_error(r, "admin.tokens[4].hash", 15, "is required"));
  // A rejected hash is never quoted back.
  EXPECT_EQ(config_test::all_errors(r).find("plain-token"), std::string::npos);
}

TEST(ConfigAdmin, BindMustBeFreeAndAnAddress) {
  EXPECT_ONLY_ERROR(load_with("admin:\n  bind: \"0.0.0.0:8883\"\n" + one_token()), "admin.bind",
                    9, "already bound by listeners[0]");
  EXPECT_ONLY_ERROR(
      load_with("metrics: {bind: \"127.0.0.1:9884\"}\n" + admin_with(one_token())),
      "admin.bind", 10, "already bound by metrics.bind");
  EXPECT_ONLY_ERROR(load_with("admin:\n  bind: \"localhost:9884\"\n" + one_token()),
                    "admin.bind", 9, "not an IP address");
  EXPECT_ONLY_ERROR(load_with("admin:\n  bind: \"127.0.0.1:8883\"\n" + one_token()),
                    "admin.bind", 9, "overlaps 0.0.0.0:8883 of listeners[0]");
  EXPECT_ONLY_ERROR(load_with("metrics: {bind: \"0.0.0.0:9884\"}\n" + admin_with(one_token())),
                    "admin.bind", 10, "overlaps 0.0.0.0:9884 of metrics.bind");
  // A different port on the same address is fine.
  EXPECT_LOADS(load_with("metrics: {bind: \"127.0.0.1:9883\"}\n" + admin_with(one_token())));
}

TEST(ConfigAdmin, BadTlsAndUnknownKeys) {
  EXPECT_ONLY_ERROR(load_with(admin_with("  tls: {cert: a.crt}\n" + one_token())),
                    "admin.tls.key", 10, "is required");
  EXPECT_ONLY_ERROR(load_with(admin_with("  tls: {cert: a.crt, key: a.key, client_ca: c}\n" +
                                         one_token())),
                    "admin.tls.client_ca", 10, "unknown key");
  EXPECT_ONLY_ERROR(load_with(admin_with(one_token() + "  port: 1\n")), "admin.port", 13,
                    "unknown key");
  EXPECT_ONLY_ERROR(load_with(admin_with(one_token() + "  ca_dir: \"\"\n")), "admin.ca_dir", 13,
                    "must not be empty");
}

TEST(ConfigAdmin, SettingsWithoutBindAreAWarning) {
  config::LoadResult r = load_with("admin:\n" + one_token());
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_FALSE(r.config->admin.bind.has_value());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "admin");
  EXPECT_EQ(r.warnings[0].line, 8);
  EXPECT_NE(r.warnings[0].message.find("without admin.bind"), std::string::npos);
}

class ConfigAdminFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "config_admin_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    for (const char* name : {"server.crt", "server.key"}) {
      std::ofstream(dir_ / name) << "PEM\n";
    }
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  config::LoadResult load_file(const std::string& extra) {
    std::ofstream(dir_ / "c.yaml") << config_test::kMinimal << extra;
    return config::load_config_file((dir_ / "c.yaml").string());
  }
  fs::path dir_;
};

TEST_F(ConfigAdminFiles, CaDirMustBeAnExistingFolder) {
  fs::create_directory(dir_ / "ca");
  std::ofstream(dir_ / "file") << "x";
  config::LoadResult r = load_file(admin_with(one_token() + "  ca_dir: ca\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->admin.ca_dir, (dir_ / "ca").string());

  EXPECT_ONLY_ERROR(load_file(admin_with(one_token() + "  ca_dir: missing\n")), "admin.ca_dir",
                    13, "not found");
  EXPECT_ONLY_ERROR(load_file(admin_with(one_token() + "  ca_dir: file\n")), "admin.ca_dir", 13,
                    "not a folder");
}

TEST_F(ConfigAdminFiles, PidFileIsNotChecked) {
  config::LoadResult r = load_file("pid_file: run/none/map.pid\n");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_EQ(r.config->pid_file, (dir_ / "run/none/map.pid").string());
}

}  // namespace
