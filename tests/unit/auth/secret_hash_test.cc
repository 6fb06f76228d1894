// Tests of the hash_secret_* functions: fresh secrets have the documented shape and verify.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "auth/secret.h"

namespace auth {
namespace {

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// hash_secret_mosquitto output was also checked once against the real broker (mosquitto
// 2.0.11): a password file line `dev1:<output>` with `password_file` and
// `allow_anonymous false`; `mosquitto_pub -u dev1 -P '<password>'` connected, a wrong
// password got "not authorised".
TEST(AuthSecretHashTest, MosquittoShapeAndVerify) {
  std::string stored = hash_secret_mosquitto("s3cret key");
  // $7$101$ + 16 symbols (12-byte salt) + $ + 88 symbols (64-byte key), as mosquitto_passwd.
  ASSERT_TRUE(stored.starts_with("$7$101$")) << stored;
  EXPECT_EQ(stored.size(), 7 + 16 + 1 + 88);
  EXPECT_EQ(classify_secret(stored, false), SecretScheme::kMosquittoPbkdf2);
  EXPECT_FALSE(secret_is_slow(stored));
  EXPECT_EQ(verify_secret(stored, bytes("s3cret key"), false), VerifyResult::kMatch);
  EXPECT_EQ(verify_secret(stored, bytes("s3cret kex"), false), VerifyResult::kMismatch);
}

TEST(AuthSecretHashTest, MosquittoSaltIsFresh) {
  EXPECT_NE(hash_secret_mosquitto("same"), hash_secret_mosquitto("same"));
}

TEST(AuthSecretHashTest, MosquittoIterations) {
  std::string stored = hash_secret_mosquitto("k", 20000);
  ASSERT_TRUE(stored.starts_with("$7$20000$")) << stored;
  EXPECT_TRUE(secret_is_slow(stored));
  EXPECT_EQ(verify_secret(stored, bytes("k"), false), VerifyResult::kMatch);
  EXPECT_EQ(hash_secret_mosquitto("k", 0), "");
  EXPECT_EQ(hash_secret_mosquitto("k", 10'000'001), "");
}

TEST(AuthSecretHashTest, EmptyPasswordStillHashes) {
  std::string stored = hash_secret_mosquitto("");
  EXPECT_EQ(verify_secret(stored, bytes(""), false), VerifyResult::kMatch);
  EXPECT_EQ(verify_secret(stored, bytes("x"), false), VerifyResult::kMismatch);
}

TEST(AuthSecretHashTest, Argon2idShapeAndVerify) {
  std::string stored = hash_secret_argon2id("s3cret key");
  ASSERT_TRUE(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << stored;
  EXPECT_EQ(classify_secret(stored, false), SecretScheme::kArgon2id);
  EXPECT_TRUE(secret_is_slow(stored));
  EXPECT_EQ(verify_secret(stored, bytes("s3cret key"), false), VerifyResult::kMatch);
  EXPECT_EQ(verify_secret(stored, bytes("s3cret kex"), false), VerifyResult::kMismatch);
  EXPECT_NE(stored, hash_secret_argon2id("s3cret key"));
}

TEST(AuthSecretHashTest, BcryptShapeAndVerify) {
  std::string stored = hash_secret_bcrypt("s3cret key", 5);
  ASSERT_TRUE(stored.starts_with("$2b$05$")) << stored;
  EXPECT_EQ(stored.size(), 60u);
  EXPECT_EQ(classify_secret(stored, false), SecretScheme::kBcrypt);
  EXPECT_TRUE(secret_is_slow(stored));
  EXPECT_EQ(verify_secret(stored, bytes("s3cret key"), false), VerifyResult::kMatch);
  EXPECT_EQ(verify_secret(stored, bytes("s3cret kex"), false), VerifyResult::kMismatch);
  EXPECT_NE(stored, hash_secret_bcrypt("s3cret key", 5));
}

TEST(AuthSecretHashTest, BcryptDefaultCostAndLimits) {
  EXPECT_TRUE(hash_secret_bcrypt("k").starts_with("$2b$10$"));
  EXPECT_EQ(hash_secret_bcrypt("k", 3), "");
  EXPECT_EQ(hash_secret_bcrypt("k", 17), "");
  EXPECT_EQ(hash_secret_bcrypt(std::string_view("a\0b", 3), 4), "");
}

}  // namespace
}  // namespace auth
