// load_config_file on real files: the shipped default config, TLS file checks, unreadable
// or malformed files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

namespace fs = std::filesystem;

// The 1-based line of the first uncommented line of |path| containing |needle|.
int line_containing(const char* path, std::string_view needle) {
  std::ifstream in(path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos && line.find('#') == std::string::npos) return n;
  }
  return -1;
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "config_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << text;
  }
  void write_certs() {
    for (const char* name : {"server.crt", "server.key", "root_ca.crt"}) write(name, "PEM\n");
  }

  fs::path dir_;
};

TEST_F(ConfigFile, DefaultConfigLoadsNextToItsCertificates) {
  fs::copy_file(MAP_DEFAULT_CONFIG, dir_ / "mqtt-auth-proxy.yaml");
  write_certs();
  std::string path = (dir_ / "mqtt-auth-proxy.yaml").string();
  config::LoadResult r = config::load_config_file(path);
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  EXPECT_TRUE(r.warnings.empty());
  const config::Config& c = *r.config;

  EXPECT_EQ(c.source, path);
  EXPECT_EQ(c.workers, 0u);
  ASSERT_EQ(c.listeners.size(), 2u);
  const config::ListenerConfig& token = c.listeners[0];
  EXPECT_EQ(token.name, "token");
  EXPECT_EQ(token.bind.to_string(), "0.0.0.0:8883");
  EXPECT_EQ(token.auth, auth::AuthMethod::kToken);
  EXPECT_EQ(token.tls.cert_file, (dir_ / "server.crt").string());
  EXPECT_EQ(token.tls.key_file, (dir_ / "server.key").string());
  EXPECT_EQ(token.tls.client_ca_file, "");
  const config::ListenerConfig& cert = c.listeners[1];
  EXPECT_EQ(cert.name, "cert");
  EXPECT_EQ(cert.bind.to_string(), "0.0.0.0:8884");
  EXPECT_EQ(cert.auth, auth::AuthMethod::kCert);
  EXPECT_EQ(cert.cert_identity, config::CertIdentity::kFingerprint);
  EXPECT_EQ(cert.tls.client_ca_file, (dir_ / "root_ca.crt").string());
  EXPECT_EQ(cert.tls.crl_file, "");

  ASSERT_EQ(c.backend.servers.size(), 1u);
  EXPECT_EQ(c.backend.servers[0].to_string(), "127.0.0.1:1883");
  EXPECT_EQ(c.backend.proxy_protocol, config::ProxyProtocol::kOff);
  EXPECT_EQ(c.backend.connect_timeout, config::Duration(2000));
  EXPECT_EQ(c.backend.rewrite.client_id.source(), "${client_id}");
  EXPECT_EQ(c.backend.rewrite.username.source(), "${device_id}");
  EXPECT_TRUE(c.backend.rewrite.password.empty());

  EXPECT_EQ(c.redis.url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(c.redis.address.to_string(), "127.0.0.1:6379");
  EXPECT_EQ(c.redis.database, 0);
  EXPECT_EQ(c.redis.key_prefix, "mqttauth:");
  EXPECT_EQ(c.redis.timeout, config::Duration(1000));

  EXPECT_EQ(c.limits.connect_timeout, config::Duration(10'000));
  EXPECT_EQ(c.limits.max_connect_packet, 65536u);
  EXPECT_EQ(c.limits.max_connections, 100'000u);
  EXPECT_FALSE(c.auth.plaintext_secrets);
  ASSERT_TRUE(c.metrics.bind.has_value());
  EXPECT_EQ(c.metrics.bind->to_string(), "127.0.0.1:9883");
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, config::LogFormat::kText);
}

TEST_F(ConfigFile, DefaultConfigWithoutCertificatesNamesEachMissingFile) {
  fs::copy_file(MAP_DEFAULT_CONFIG, dir_ / "proxy.yaml");
  config::LoadResult r = config::load_config_file((dir_ / "proxy.yaml").string());
  EXPECT_FALSE(r.config.has_value());
  // server.crt and server.key twice (both listeners) and root_ca.crt once.
  EXPECT_EQ(r.errors.size(), 5u) << config_test::all_errors(r);
  for (const config::ConfigError& e : r.errors) {
    EXPECT_NE(e.message.find("file not found: " + dir_.string() + "/"), std::string::npos)
        << e.to_string();
    EXPECT_GT(e.line, 0);
  }
  int client_ca_line = line_containing(MAP_DEFAULT_CONFIG, "client_ca: root_ca.crt");
  EXPECT_TRUE(config_test::has_error(r, "listeners[1].tls.client_ca", client_ca_line,
                                     "root_ca.crt"))
      << config_test::all_errors(r);
}

constexpr char kRelativeAndAbsolute[] = R"(listeners:
  - name: cert
    bind: "[::]:8884"
    auth: cert
    tls:
      cert: certs/server.crt
      key: ../outside.key
      client_ca: /nonexistent/ca.crt
      crl: certs
backend:
  servers: ["127.0.0.1:1883"]
)";

TEST_F(ConfigFile, ChecksFilesOnTheKeysLine) {
  fs::create_directory(dir_ / "sub");
  fs::create_directory(dir_ / "sub" / "certs");
  std::ofstream(dir_ / "sub" / "certs" / "server.crt") << "x";
  std::ofstream(dir_ / "outside.key") << "x";
  std::ofstream(dir_ / "sub" / "p.yaml") << kRelativeAndAbsolute;
  config::LoadResult r = config::load_config_file((dir_ / "sub" / "p.yaml").string());
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.client_ca", 8,
                                     "file not found: /nonexistent/ca.crt"))
      << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.crl", 9, "not a regular file"))
      << config_test::all_errors(r);
}

TEST_F(ConfigFile, ResolvesRelativePathsAgainstTheConfigFolder) {
  fs::create_directory(dir_ / "sub");
  std::ofstream(dir_ / "sub" / "p.yaml") << kRelativeAndAbsolute;
  config::LoadResult r = config::load_config_string(kRelativeAndAbsolute, "p.yaml",
                                                    (dir_ / "sub").string());
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const config::TlsSettings& tls = r.config->listeners[0].tls;
  EXPECT_EQ(tls.cert_file, (dir_ / "sub" / "certs" / "server.crt").string());
  EXPECT_EQ(tls.key_file, (dir_ / "outside.key").string());
  EXPECT_EQ(tls.client_ca_file, "/nonexistent/ca.crt");
  EXPECT_EQ(tls.crl_file, (dir_ / "sub" / "certs").string());
}

TEST_F(ConfigFile, MissingConfigFile) {
  std::string path = (dir_ / "absent.yaml").string();
  config::LoadResult r = config::load_config_file(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            path + ": cannot read the file: No such file or directory");
}

TEST_F(ConfigFile, DirectoryAsConfigFile) {
  config::LoadResult r = config::load_config_file(dir_.string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("is a directory"), std::string::npos);
}

TEST_F(ConfigFile, EmptyConfigFile) {
  write("empty.yaml", "# nothing here\n");
  config::LoadResult r = config::load_config_file((dir_ / "empty.yaml").string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("empty"), std::string::npos);
}

TEST_F(ConfigFile, InvalidYamlReportsItsLine) {
  write("bad.yaml", "workers: 2\nlisteners:\n  - name: [unclosed\n");
  std::string path = (dir_ / "bad.yaml").string();
  config::LoadResult r = config::load_config_file(path);
  ASSERT_EQ(r.errors.size(), 1u) << config_test::all_errors(r);
  EXPECT_TRUE(r.errors[0].to_string().starts_with(path + ":"));
  EXPECT_GE(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos);
}

TEST(ConfigError, ToString) {
  EXPECT_EQ((config::ConfigError{"/etc/p.yaml", 12, "listeners[1].tls.client_ca", "is required"})
                .to_string(),
            "/etc/p.yaml:12: listeners[1].tls.client_ca: is required");
  EXPECT_EQ((config::ConfigError{"p.yaml", 0, "", "cannot read the file: x"}).to_string(),
            "p.yaml: cannot read the file: x");
  EXPECT_EQ((config::ConfigError{"p.yaml", 3, "", "invalid YAML: y"}).to_string(),
            "p.yaml:3: invalid YAML: y");
}

TEST(ConfigHostPort, ToString) {
  EXPECT_EQ((config::HostPort{"::1", 8883}).to_string(), "[::1]:8883");
  EXPECT_EQ((config::HostPort{"redis", 6379}).to_string(), "redis:6379");
}

TEST(ConfigDefaults, DefaultConstructedRewriteMatchesDesign) {
  config::RewriteConfig rewrite;
  EXPECT_EQ(rewrite.client_id.source(), "${client_id}");
  EXPECT_EQ(rewrite.username.source(), "${device_id}");
  EXPECT_TRUE(rewrite.password.empty());
}

}  // namespace
