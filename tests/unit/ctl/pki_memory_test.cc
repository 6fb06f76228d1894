// tests/unit/ctl/pki_memory_test.cc: the in-memory client bundle the admin API zips, and
// identifying a certificate from PEM text.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>

#include "ctl/pki.h"

namespace ctl_test {
namespace {

class CtlPkiMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "ctl-pki-mem-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto ca = ctl::ca_init(dir_ + "/ca", "Test Device CA", 30);
    ASSERT_TRUE(ca.ok()) << ca.message;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

bssl::UniquePtr<X509> parse(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

TEST_F(CtlPkiMemory, BundleVerifiesAgainstCaAndWritesNothing) {
  auto issued = ctl::issue_client_cert_pem(dir_ + "/ca", ctl::KeyType::kEcP256, 10);
  ASSERT_TRUE(issued.ok()) << issued.message;
  EXPECT_EQ(issued.value.identity.cert_id.size(), 64u);
  EXPECT_EQ(issued.value.identity.cn.size(), 32u);

  bssl::UniquePtr<X509> leaf = parse(issued.value.cert_pem);
  bssl::UniquePtr<X509> ca = parse(issued.value.ca_pem);
  ASSERT_TRUE(leaf && ca);
  bssl::UniquePtr<BIO> key_bio(
      BIO_new_mem_buf(issued.value.key_pem.data(), issued.value.key_pem.size()));
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_TRUE(X509_check_private_key(leaf.get(), key.get()));

  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  ASSERT_TRUE(X509_STORE_add_cert(store.get(), ca.get()));
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  ASSERT_TRUE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));

  // Only the CA folder exists: nothing of the bundle was written.
  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(CtlPkiMemory, RsaBundleAndBadArguments) {
  auto rsa = ctl::issue_client_cert_pem(dir_ + "/ca", ctl::KeyType::kRsa2048, 1);
  ASSERT_TRUE(rsa.ok()) << rsa.message;
  EXPECT_NE(rsa.value.key_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(ctl::issue_client_cert_pem(dir_ + "/ca", ctl::KeyType::kEcP256, 0).status,
            ctl::OpStatus::kInvalidArgument);
  EXPECT_FALSE(ctl::issue_client_cert_pem(dir_ + "/missing", ctl::KeyType::kEcP256, 1).ok());
}

TEST_F(CtlPkiMemory, IdentifyPemMatchesIssuedIdentity) {
  auto issued = ctl::issue_client_cert_pem(dir_ + "/ca", ctl::KeyType::kEcP256, 10);
  ASSERT_TRUE(issued.ok());
  auto identity = ctl::identify_cert_pem(issued.value.cert_pem);
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity.value.cert_id, issued.value.identity.cert_id);
  EXPECT_EQ(identity.value.cn, issued.value.identity.cn);
  EXPECT_EQ(identity.value.not_after, issued.value.identity.not_after);
  EXPECT_EQ(ctl::identify_cert_pem("not a certificate").status, ctl::OpStatus::kInvalidArgument);
}

}  // namespace
}  // namespace ctl_test
