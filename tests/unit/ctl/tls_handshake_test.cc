// tests/unit/ctl/tls_handshake_test.cc: the files mqtt-authctl writes work as-is for a
// mutual-TLS handshake (BoringSSL on both ends, in memory): server.crt/server.key on the
// server with root_ca.crt as client CA, NAME.crt/NAME.key on the client.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>

#include "ctl/pki.h"

namespace ctl_test {
namespace {

class CtlPkiTls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(ctl::ca_init(dir_ + "/ca", "TLS test CA", 2).ok());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static bssl::UniquePtr<SSL_CTX> context(const std::string& cert, const std::string& key,
                                          const std::string& ca) {
    bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr), 1);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    return ctx;
  }

  // handshake runs both ends over a BIO pair; true when both complete.
  static bool handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const char* host) {
    bssl::UniquePtr<SSL> server(SSL_new(server_ctx));
    bssl::UniquePtr<SSL> client(SSL_new(client_ctx));
    BIO* server_bio = nullptr;
    BIO* client_bio = nullptr;
    if (!BIO_new_bio_pair(&server_bio, 0, &client_bio, 0)) return false;
    SSL_set_bio(server.get(), server_bio, server_bio);  // each SSL takes its BIO
    SSL_set_bio(client.get(), client_bio, client_bio);
    SSL_set_accept_state(server.get());
    SSL_set_connect_state(client.get());
    SSL_set_tlsext_host_name(client.get(), host);
    X509_VERIFY_PARAM_set1_host(SSL_get0_param(client.get()), host, strlen(host));
    bool server_done = false;
    bool client_done = false;
    for (int round = 0; round < 20 && !(server_done && client_done); ++round) {
      if (!client_done) {
        int rc = SSL_do_handshake(client.get());
        if (rc == 1)
          client_done = true;
        else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ)
          return false;
      }
      if (!server_done) {
        int rc = SSL_do_handshake(server.get());
        if (rc == 1)
          server_done = true;
        else if (SSL_get_error(server.get(), rc) != SSL_ERROR_WANT_READ)
          return false;
      }
    }
    return server_done && client_done;
  }

  std::string dir_;
};

TEST_F(CtlPkiTls, IssuedFilesCompleteAMutualTlsHandshake) {
  for (ctl::KeyType type : {ctl::KeyType::kEcP256, ctl::KeyType::kRsa2048}) {
    std::string tag = type == ctl::KeyType::kEcP256 ? "ec" : "rsa";
    ASSERT_TRUE(ctl::issue_server_cert(dir_ + "/ca", "mqtt.test", {"mqtt.test", "127.0.0.1"}, type,
                                       2, dir_ + "/srv-" + tag)
                    .ok());
    ASSERT_TRUE(ctl::issue_client_cert(dir_ + "/ca", "dev-" + tag, type, 2, dir_).ok());
    const std::string client_dir = dir_ + "/dev-" + tag + "_certs/";
    auto server_ctx = context(dir_ + "/srv-" + tag + "/server.crt",
                              dir_ + "/srv-" + tag + "/server.key", dir_ + "/ca/root_ca.crt");
    auto client_ctx = context(client_dir + "dev-" + tag + ".crt",
                              client_dir + "dev-" + tag + ".key", client_dir + "root_ca.crt");
    EXPECT_TRUE(handshake(server_ctx.get(), client_ctx.get(), "mqtt.test")) << tag;
    EXPECT_FALSE(handshake(server_ctx.get(), client_ctx.get(), "wrong.test")) << tag;
  }
}

TEST_F(CtlPkiTls, ServerCertIsNotAClientCert) {
  ASSERT_TRUE(
      ctl::issue_server_cert(dir_ + "/ca", "mqtt.test", {}, ctl::KeyType::kEcP256, 2, dir_ + "/srv")
          .ok());
  auto server_ctx =
      context(dir_ + "/srv/server.crt", dir_ + "/srv/server.key", dir_ + "/ca/root_ca.crt");
  // A client presenting the server certificate: extKeyUsage serverAuth only, so refused.
  auto client_ctx =
      context(dir_ + "/srv/server.crt", dir_ + "/srv/server.key", dir_ + "/ca/root_ca.crt");
  EXPECT_FALSE(handshake(server_ctx.get(), client_ctx.get(), "mqtt.test"));
}

}  // namespace
}  // namespace ctl_test
