// auth/secret_pbkdf2.cc: the PBKDF2 forms ($7$, PBKDF2$, $pbkdf2-sha*$), mosquitto's salted
// SHA-512 ($6$), and making fresh $7$ secrets. BoringSSL libcrypto.
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <string>

#include "auth/base64.h"
#include "auth/secret.h"
#include "auth/secret_formats.h"

namespace auth {

namespace secret_formats {

namespace {

bool iterations_in_bounds(uint32_t iterations) {
  return iterations >= 1 && iterations <= kMaxPbkdf2Iterations;
}

const EVP_MD* digest_md(Digest digest) {
  return digest == Digest::kSha256 ? EVP_sha256() : EVP_sha512();
}

// Parses the passlib rounds field: "<n>", or PHC parameters "i=<n>" / "i=<n>,l=<len>".
// |out_key_len| is 0 when no l= was given.
bool parse_phc_rounds(std::string_view field, uint32_t* out_iterations, uint32_t* out_key_len) {
  *out_key_len = 0;
  if (!field.starts_with("i=")) {
    std::optional<uint32_t> rounds = parse_decimal_u32(field);
    if (!rounds) return false;
    *out_iterations = *rounds;
    return true;
  }
  field.remove_prefix(2);
  std::string_view rounds_text = field.substr(0, field.find(','));
  std::optional<uint32_t> rounds = parse_decimal_u32(rounds_text);
  if (!rounds) return false;
  *out_iterations = *rounds;
  if (rounds_text.size() == field.size()) return true;
  std::string_view rest = field.substr(rounds_text.size() + 1);
  if (!rest.starts_with("l=")) return false;
  std::optional<uint32_t> key_len = parse_decimal_u32(rest.substr(2));
  if (!key_len || *key_len == 0) return false;
  *out_key_len = *key_len;
  return true;
}

}  // namespace

std::optional<Pbkdf2Secret> parse_mosquitto_pbkdf2(std::string_view stored) {
  constexpr std::string_view kPrefix = "$7$";
  if (!stored.starts_with(kPrefix)) return std::nullopt;
  auto fields = split_fields(stored.substr(kPrefix.size()), 3);
  if (!fields || fields->size() != 3) return std::nullopt;
  std::optional<uint32_t> iterations = parse_decimal_u32((*fields)[0]);
  if (!iterations || !iterations_in_bounds(*iterations)) return std::nullopt;
  auto salt = decode_base64((*fields)[1], Base64Variant::kStandard, kMaxSaltBytes);
  auto expected = decode_base64((*fields)[2], Base64Variant::kStandard, kMaxDerivedKeyBytes);
  if (!salt || salt->empty() || !expected || expected->size() != SHA512_DIGEST_LENGTH) {
    return std::nullopt;
  }
  return Pbkdf2Secret{Digest::kSha512, *iterations, std::move(*salt), std::move(*expected)};
}

std::optional<Pbkdf2Secret> parse_go_auth_pbkdf2(std::string_view stored) {
  constexpr std::string_view kPrefix = "PBKDF2$";
  if (!stored.starts_with(kPrefix)) return std::nullopt;
  auto fields = split_fields(stored.substr(kPrefix.size()), 4);
  if (!fields || fields->size() != 4) return std::nullopt;
  Digest digest;
  if ((*fields)[0] == "sha256") {
    digest = Digest::kSha256;
  } else if ((*fields)[0] == "sha512") {
    digest = Digest::kSha512;
  } else {
    return std::nullopt;
  }
  std::optional<uint32_t> iterations = parse_decimal_u32((*fields)[1]);
  if (!iterations || !iterations_in_bounds(*iterations)) return std::nullopt;
  std::string_view salt_text = (*fields)[2];
  if (salt_text.size() > kMaxSaltBytes) return std::nullopt;
  auto salt = decode_base64(salt_text, Base64Variant::kStandard, kMaxSaltBytes);
  if (!salt || salt->empty()) salt.emplace(salt_text.begin(), salt_text.end());
  auto expected = decode_base64((*fields)[3], Base64Variant::kStandard, kMaxDerivedKeyBytes);
  if (!expected || expected->size() < kMinDerivedKeyBytes) return std::nullopt;
  return Pbkdf2Secret{digest, *iterations, std::move(*salt), std::move(*expected)};
}

std::optional<Pbkdf2Secret> parse_phc_pbkdf2(std::string_view stored) {
  Digest digest;
  std::string_view rest;
  if (stored.starts_with("$pbkdf2-sha256$")) {
    digest = Digest::kSha256;
    rest = stored.substr(15);
  } else if (stored.starts_with("$pbkdf2-sha512$")) {
    digest = Digest::kSha512;
    rest = stored.substr(15);
  } else {
    return std::nullopt;
  }
  auto fields = split_fields(rest, 3);
  if (!fields || fields->size() != 3) return std::nullopt;
  uint32_t iterations = 0;
  uint32_t key_len = 0;
  if (!parse_phc_rounds((*fields)[0], &iterations, &key_len) ||
      !iterations_in_bounds(iterations)) {
    return std::nullopt;
  }
  auto salt = decode_base64((*fields)[1], Base64Variant::kUnpadded, kMaxSaltBytes);
  auto expected = decode_base64((*fields)[2], Base64Variant::kUnpadded, kMaxDerivedKeyBytes);
  if (!salt || salt->empty() || !expected || expected->size() < kMinDerivedKeyBytes) {
    return std::nullopt;
  }
  if (key_len != 0 && key_len != expected->size()) return std::nullopt;
  return Pbkdf2Secret{digest, iterations, std::move(*salt), std::move(*expected)};
}

VerifyResult verify_pbkdf2(const Pbkdf2Secret& secret, std::span<const uint8_t> password) {
  std::vector<uint8_t> derived(secret.expected.size());
  if (!PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(password.data()), password.size(),
                         secret.salt.data(), secret.salt.size(), secret.iterations,
                         digest_md(secret.digest), derived.size(), derived.data())) {
    return VerifyResult::kUnsupportedFormat;
  }
  bool equal = constant_time_equal(derived, secret.expected);
  OPENSSL_cleanse(derived.data(), derived.size());
  return equal ? VerifyResult::kMatch : VerifyResult::kMismatch;
}

std::optional<SaltedSha512Secret> parse_mosquitto_sha512(std::string_view stored) {
  constexpr std::string_view kPrefix = "$6$";
  if (!stored.starts_with(kPrefix)) return std::nullopt;
  auto fields = split_fields(stored.substr(kPrefix.size()), 2);
  if (!fields || fields->size() != 2) return std::nullopt;
  auto salt = decode_base64((*fields)[0], Base64Variant::kStandard, kMaxSaltBytes);
  auto expected = decode_base64((*fields)[1], Base64Variant::kStandard, kMaxDerivedKeyBytes);
  if (!salt || salt->empty() || !expected || expected->size() != SHA512_DIGEST_LENGTH) {
    return std::nullopt;
  }
  return SaltedSha512Secret{std::move(*salt), std::move(*expected)};
}

VerifyResult verify_salted_sha512(const SaltedSha512Secret& secret,
                                  std::span<const uint8_t> password) {
  SHA512_CTX ctx;
  std::array<uint8_t, SHA512_DIGEST_LENGTH> digest;
  SHA512_Init(&ctx);
  SHA512_Update(&ctx, password.data(), password.size());
  SHA512_Update(&ctx, secret.salt.data(), secret.salt.size());
  SHA512_Final(digest.data(), &ctx);
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  bool equal = constant_time_equal(digest, secret.expected);
  OPENSSL_cleanse(digest.data(), digest.size());
  return equal ? VerifyResult::kMatch : VerifyResult::kMismatch;
}

}  // namespace secret_formats

std::string hash_secret_mosquitto(std::string_view password, uint32_t iterations) {
  // mosquitto_passwd's salt length.
  constexpr size_t kSaltBytes = 12;
  if (iterations < 1 || iterations > secret_formats::kMaxPbkdf2Iterations) return {};
  std::array<uint8_t, kSaltBytes> salt;
  if (!RAND_bytes(salt.data(), salt.size())) return {};
  std::array<uint8_t, SHA512_DIGEST_LENGTH> key;
  if (!PKCS5_PBKDF2_HMAC(password.data(), password.size(), salt.data(), salt.size(), iterations,
                         EVP_sha512(), key.size(), key.data())) {
    return {};
  }
  std::string out = "$7$" + std::to_string(iterations) + "$" + encode_base64(salt) + "$" +
                    encode_base64(key);
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

}  // namespace auth
