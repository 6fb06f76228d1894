// listeners: every key's valid and invalid values, with the exact key and line.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

using config_test::load;

constexpr char kBackend[] = "backend:\n  servers: [\"127.0.0.1:1883\"]\n";

config::LoadResult load_listeners(std::string_view listeners) {
  if (!listeners.empty() && listeners.front() == '\n') listeners.remove_prefix(1);
  return load(std::string(listeners) + kBackend);
}

TEST(ConfigListeners, TwoValidListeners) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: token
    bind: "[::1]:8883"
    auth: token
    tls: {cert: /pki/server.crt, key: server.key}
  - name: cert-2.eu
    bind: 127.0.0.1:8884
    auth: cert
    cert_identity: cn
    tls: {cert: a.crt, key: a.key, client_ca: ca.crt, crl: ca.crl}
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  const auto& l = r.config->listeners;
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].bind.host, "::1");
  EXPECT_EQ(l[0].tls.cert_file, "/pki/server.crt");
  EXPECT_EQ(l[0].tls.key_file, "/etc/map/server.key");
  EXPECT_EQ(l[0].cert_identity, config::CertIdentity::kFingerprint);
  EXPECT_EQ(l[1].name, "cert-2.eu");
  EXPECT_EQ(l[1].auth, auth::AuthMethod::kCert);
  EXPECT_EQ(l[1].cert_identity, config::CertIdentity::kCommonName);
  EXPECT_EQ(l[1].tls.client_ca_file, "/etc/map/ca.crt");
  EXPECT_EQ(l[1].tls.crl_file, "/etc/map/ca.crl");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigListeners, MissingOrEmptyList) {
  EXPECT_ONLY_ERROR(load(kBackend), "listeners", 1, "is required");
  EXPECT_ONLY_ERROR(load_listeners("listeners: []\n"), "listeners", 1, "must not be empty");
  EXPECT_ONLY_ERROR(load_listeners("listeners:\n  name: x\n"), "listeners", 2, "must be a list");
  EXPECT_ONLY_ERROR(load_listeners("listeners:\n  - token\n"), "listeners[0]", 2,
                    "must be a mapping");
}

TEST(ConfigListeners, RequiredKeys) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - auth: cert
    tls: {}
)");
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(r.errors.size(), 5u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].name", 2, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].bind", 2, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.cert", 3, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.key", 3, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.client_ca", 3, "auth is cert"));

  r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:1"
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].auth", 2, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls", 2, "is required"));
}

TEST(ConfigListeners, MissingKeyIsBlamedOnItsParentKeysLine) {
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: cert
    tls:
      cert: s.crt
      key: s.key
)"), "listeners[0].tls.client_ca", 5, "is required");
}

TEST(ConfigListeners, BadName) {
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: "tok en"
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
)"), "listeners[0].name", 2, "not a valid name");
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: ""
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
)"), "listeners[0].name", 2, "must not be empty");
}

TEST(ConfigListeners, DuplicateNameAndBind) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: a
    bind: 0.0.0.0:8883
    auth: token
    tls: {cert: s.crt, key: s.key}
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[1].name", 6, "already the name of listeners[0]"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[1].bind", 6, "already bound by listeners[0]"));
}

TEST(ConfigListeners, WildcardBindOverlapsSameFamilyOnly) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: b
    bind: "10.0.0.1:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: c
    bind: "[::]:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: d
    bind: "[0:0::1]:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: e
    bind: "10.0.0.1:8884"
    auth: token
    tls: {cert: s.crt, key: s.key}
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[1].bind", 6,
                                     "10.0.0.1:8883 overlaps 0.0.0.0:8883 of listeners[0]"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[3].bind", 14,
                                     "[0:0::1]:8883 overlaps [::]:8883 of listeners[2]"));
}

TEST(ConfigListeners, BadBind) {
  const std::pair<const char*, const char*> cases[] = {
      {"localhost:8883", "not an IP address"},
      {"0.0.0.0", "no port"},
      {"0.0.0.0:0", "1 to 65535"},
      {"\"::1:8883\"", "brackets"},
      {"[::1]", "quote IPv6"},  // unquoted: YAML reads a list
      {"{}", "must be a single value"},
  };
  for (const auto& [bind, fragment] : cases) {
    std::string yaml = std::string("listeners:\n  - name: a\n    auth: token\n    bind: ") + bind +
                       "\n    tls: {cert: s.crt, key: s.key}\n";
    EXPECT_ONLY_ERROR(load_listeners(yaml), "listeners[0].bind", 4, fragment);
  }
}

TEST(ConfigListeners, BadAuthAndCertIdentity) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: password
    cert_identity: serial
    tls: {cert: s.crt, key: s.key}
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].auth", 4,
                                     "\"password\" is not valid (expected token or cert)"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].cert_identity", 5,
                                     "expected fingerprint or cn"));
}

TEST(ConfigListeners, CertSettingsOnTokenListenerAreWarnings) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    cert_identity: cn
    tls:
      cert: s.crt
      key: s.key
      client_ca: ca.crt
      crl: ca.crl
)");
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  ASSERT_EQ(r.warnings.size(), 3u);
  EXPECT_EQ(r.warnings[0].key, "listeners[0].cert_identity");
  EXPECT_EQ(r.warnings[0].line, 5);
  EXPECT_EQ(r.warnings[1].key, "listeners[0].tls.client_ca");
  EXPECT_EQ(r.warnings[1].line, 9);
  EXPECT_EQ(r.warnings[2].key, "listeners[0].tls.crl");
  EXPECT_EQ(r.warnings[2].line, 10);
  EXPECT_EQ(r.config->listeners[0].tls.client_ca_file, "/etc/map/ca.crt");
}

TEST(ConfigListeners, BadTls) {
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls: server.crt
)"), "listeners[0].tls", 5, "must be a mapping");
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls:
      cert: ""
      key: s.key
)"), "listeners[0].tls.cert", 6, "must not be empty");
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls:
      cert: s.crt
      key:
)"), "listeners[0].tls.key", 7, "has no value");
  EXPECT_ONLY_ERROR(load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls:
      cert: [a, b]
      key: s.key
)"), "listeners[0].tls.cert", 6, "not a list");
}

TEST(ConfigListeners, UnknownKeysInListenerAndTls) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    port: 8883
    auth: token
    tls:
      cert: s.crt
      key: s.key
      ciphers: HIGH
)");
  EXPECT_EQ(r.errors.size(), 2u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].port", 4, "unknown key"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].tls.ciphers", 9, "unknown key"));
}

TEST(ConfigListeners, ErrorsInSecondListenerCarryItsIndex) {
  config::LoadResult r = load_listeners(R"(
listeners:
  - name: a
    bind: "0.0.0.0:8883"
    auth: token
    tls: {cert: s.crt, key: s.key}
  - name: b
    bind: "0.0.0.0:8884"
    auth: cert
    tls: {cert: s.crt, key: s.key}
)");
  EXPECT_ONLY_ERROR(r, "listeners[1].tls.client_ca", 9, "is required");
  EXPECT_EQ(r.errors[0].to_string(),
            "test.yaml:9: listeners[1].tls.client_ca: is required when auth is cert (the CA "
            "that issues device certificates)");
}

}  // namespace
