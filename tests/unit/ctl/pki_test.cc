// tests/unit/ctl/pki_test.cc: the CA, server and client certificates mqtt-authctl issues,
// checked with BoringSSL's verifier and extension parsers.
#include "ctl/pki.h"

#include <gtest/gtest.h>
#include <openssl/bytestring.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "ctl/pem_files.h"

namespace ctl_test {
namespace {

class CtlPki : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl-pki-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto ca = ctl::ca_init(dir_ + "/ca", "Test Device CA", 30);
    ASSERT_TRUE(ca.ok()) << ca.message;
    ca_ = load(dir_ + "/ca/root_ca.crt");
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static bssl::UniquePtr<X509> load(const std::string& path) {
    auto cert = ctl::read_cert_file(path);
    EXPECT_TRUE(cert.ok()) << cert.message;
    return std::move(cert.value);
  }

  static int mode_of(const std::string& path) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) return -1;
    return static_cast<int>(info.st_mode & 0777);
  }

  // verify: X509_verify_cert of |leaf| against the test CA for |purpose|.
  bool verify(X509* leaf, int purpose) {
    bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca_.get());
    bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr);
    X509_STORE_CTX_set_purpose(ctx.get(), purpose);
    bool ok = X509_verify_cert(ctx.get()) == 1;
    if (!ok) {
      ADD_FAILURE() << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    }
    return ok;
  }

  std::string dir_;
  bssl::UniquePtr<X509> ca_;
};

int serial_length(X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return ASN1_STRING_length(serial);
}

TEST_F(CtlPki, CaIsSelfSignedWithCaExtensions) {
  EXPECT_EQ(mode_of(dir_ + "/ca/root_ca.key"), 0600);
  X509* ca = ca_.get();
  EXPECT_EQ(X509_get_version(ca), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(ca), 1);
  int critical = 0;
  bssl::UniquePtr<BASIC_CONSTRAINTS> constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(ca, NID_basic_constraints, &critical, nullptr)));
  ASSERT_TRUE(constraints);
  EXPECT_TRUE(constraints->ca);
  EXPECT_EQ(critical, 1);
  EXPECT_EQ(X509_get_key_usage(ca), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(ca), nullptr);
  EXPECT_EQ(serial_length(ca), 16);
  EXPECT_TRUE(verify(ca, X509_PURPOSE_ANY));
  bssl::UniquePtr<EVP_PKEY> public_key(X509_get_pubkey(ca));
  EXPECT_EQ(EVP_PKEY_id(public_key.get()), EVP_PKEY_EC);
  EXPECT_EQ(ctl::cert_identity(ca).cn, "Test Device CA");
  // The default lifetime is long; ours was 30 days.
  int64_t lifetime = ctl::cert_identity(ca).not_after - time(nullptr);
  EXPECT_NEAR(static_cast<double>(lifetime), 30.0 * 86400, 600);
}

TEST_F(CtlPki, CaInitRefusesToReplaceAKey) {
  auto again = ctl::ca_init(dir_ + "/ca", "Other", 30);
  EXPECT_EQ(again.status, ctl::OpStatus::kRefused);
  EXPECT_EQ(X509_cmp(load(dir_ + "/ca/root_ca.crt").get(), ca_.get()), 0);
}

TEST_F(CtlPki, ClientCertVerifiesAndHasClientExtensions) {
  auto issued = ctl::issue_client_cert(dir_ + "/ca", "sensor-1", ctl::KeyType::kEcP256, 365, dir_);
  ASSERT_TRUE(issued.ok()) << issued.message;
  const std::string base = dir_ + "/sensor-1_certs/";
  EXPECT_EQ(issued.value.cert_path, base + "sensor-1.crt");
  EXPECT_EQ(mode_of(base + "sensor-1.key"), 0600);
  EXPECT_EQ(mode_of(base + "sensor-1.crt"), 0644);
  EXPECT_EQ(X509_cmp(load(base + "root_ca.crt").get(), ca_.get()), 0);

  bssl::UniquePtr<X509> leaf = load(base + "sensor-1.crt");
  EXPECT_TRUE(verify(leaf.get(), X509_PURPOSE_SSL_CLIENT));
  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(serial_length(leaf.get()), 16);

  // cert_id is the SHA-256 of the DER; the CN is a 32-hex-digit unique ID.
  uint8_t* der = nullptr;
  int der_length = i2d_X509(leaf.get(), &der);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(der, der_length, digest);
  OPENSSL_free(der);
  char hex[65];
  for (int i = 0; i < 32; ++i) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  const ctl::CertIdentity& identity = issued.value.identity;
  EXPECT_EQ(identity.cert_id, std::string(hex));
  EXPECT_EQ(identity.cn.size(), 32u);
  EXPECT_EQ(identity.cn.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NEAR(static_cast<double>(identity.not_after - time(nullptr)), 365.0 * 86400, 600);

  auto from_file = ctl::identify_cert_file(base + "sensor-1.crt");
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file.value.cert_id, identity.cert_id);
  EXPECT_EQ(from_file.value.not_after, identity.not_after);

  // Key and certificate belong together.
  auto key = ctl::read_key_file(base + "sensor-1.key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.value.get()), 1);

  auto again = ctl::issue_client_cert(dir_ + "/ca", "sensor-1", ctl::KeyType::kEcP256, 365, dir_);
  EXPECT_EQ(again.status, ctl::OpStatus::kRefused);
  EXPECT_EQ(ctl::issue_client_cert(dir_ + "/ca", "../x", ctl::KeyType::kEcP256, 1, dir_).status,
            ctl::OpStatus::kInvalidArgument);
}

TEST_F(CtlPki, ClientCertWithRsaKey) {
  auto issued = ctl::issue_client_cert(dir_ + "/ca", "rsa-dev", ctl::KeyType::kRsa2048, 10, dir_);
  ASSERT_TRUE(issued.ok()) << issued.message;
  bssl::UniquePtr<X509> leaf = load(issued.value.cert_path);
  bssl::UniquePtr<EVP_PKEY> public_key(X509_get_pubkey(leaf.get()));
  EXPECT_EQ(EVP_PKEY_id(public_key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_bits(public_key.get()), 2048);
  EXPECT_TRUE(verify(leaf.get(), X509_PURPOSE_SSL_CLIENT));
}

TEST_F(CtlPki, ServerCertHasDnsAndIpSans) {
  auto issued = ctl::issue_server_cert(dir_ + "/ca", "mqtt.example.com",
                                       {"mqtt.example.com", "localhost", "127.0.0.1", "::1"},
                                       ctl::KeyType::kEcP256, 825, dir_ + "/server");
  ASSERT_TRUE(issued.ok()) << issued.message;
  EXPECT_EQ(mode_of(dir_ + "/server/server.key"), 0600);
  bssl::UniquePtr<X509> leaf = load(dir_ + "/server/server.crt");
  EXPECT_TRUE(verify(leaf.get(), X509_PURPOSE_SSL_SERVER));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_check_host(leaf.get(), "mqtt.example.com", 16, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 9, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "other.example.com", 17, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "10.0.0.1", 0), 0);
  EXPECT_NEAR(static_cast<double>(issued.value.identity.not_after - time(nullptr)), 825.0 * 86400,
              600);

  // server.crt holds the leaf only.
  std::string pem;
  {
    FILE* file = fopen((dir_ + "/server/server.crt").c_str(), "r");
    ASSERT_NE(file, nullptr);
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof(buffer), file)) > 0) pem.append(buffer, n);
    fclose(file);
  }
  size_t blocks = 0;
  for (size_t at = pem.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = pem.find("BEGIN CERTIFICATE", at + 1)) {
    ++blocks;
  }
  EXPECT_EQ(blocks, 1u);
}

TEST_F(CtlPki, ServerCertDefaultsSanToCnAndSupportsRsa) {
  auto issued = ctl::issue_server_cert(dir_ + "/ca", "broker.local", {}, ctl::KeyType::kRsa2048,
                                       825, dir_ + "/rsa");
  ASSERT_TRUE(issued.ok()) << issued.message;
  bssl::UniquePtr<X509> leaf = load(issued.value.cert_path);
  EXPECT_EQ(X509_check_host(leaf.get(), "broker.local", 12, 0, nullptr), 1);
  bssl::UniquePtr<EVP_PKEY> public_key(X509_get_pubkey(leaf.get()));
  EXPECT_EQ(EVP_PKEY_id(public_key.get()), EVP_PKEY_RSA);
  EXPECT_TRUE(verify(leaf.get(), X509_PURPOSE_SSL_SERVER));
}

TEST_F(CtlPki, ServerCertRejectsBadSanAndMissingCa) {
  EXPECT_EQ(ctl::issue_server_cert(dir_ + "/ca", "h", {"a,DNS:evil"}, ctl::KeyType::kEcP256, 1,
                                   dir_ + "/bad")
                .status,
            ctl::OpStatus::kInvalidArgument);
  EXPECT_EQ(ctl::issue_server_cert(dir_ + "/nope", "h", {}, ctl::KeyType::kEcP256, 1, dir_ + "/bad")
                .status,
            ctl::OpStatus::kIoError);
}

}  // namespace
}  // namespace ctl_test
