// auth/secret.cc: scheme detection and dispatch of verify_secret, the plaintext comparison,
// and the parsing helpers shared by the scheme files.
#include "auth/secret.h"

#include <openssl/mem.h>
#include <openssl/sha.h>

#include <array>

#include "auth/secret_formats.h"

namespace auth {

namespace secret_formats {

std::optional<std::vector<std::string_view>> split_fields(std::string_view text,
                                                          size_t max_fields) {
  std::vector<std::string_view> fields;
  while (true) {
    if (fields.size() == max_fields) return std::nullopt;
    size_t end = text.find('$');
    std::string_view field = text.substr(0, end);
    if (field.empty()) return std::nullopt;
    fields.push_back(field);
    if (end == std::string_view::npos) return fields;
    text.remove_prefix(end + 1);
  }
}

std::optional<uint32_t> parse_decimal_u32(std::string_view text) {
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(value);
}

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace secret_formats

namespace {

using namespace secret_formats;

// Which scheme |stored| claims by its prefix, before checking its shape.
SecretScheme scheme_by_prefix(std::string_view stored) {
  if (stored.starts_with("$7$")) return SecretScheme::kMosquittoPbkdf2;
  if (stored.starts_with("$6$")) return SecretScheme::kMosquittoSha512;
  if (stored.starts_with("PBKDF2$")) return SecretScheme::kGoAuthPbkdf2;
  if (stored.starts_with("$pbkdf2-sha256$") || stored.starts_with("$pbkdf2-sha512$")) {
    return SecretScheme::kPhcPbkdf2;
  }
  if (stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$")) {
    return SecretScheme::kBcrypt;
  }
  if (stored.starts_with("$argon2id$")) return SecretScheme::kArgon2id;
  return SecretScheme::kUnsupported;
}

// A secret that names a hash scheme we do not implement ($1$, $5$, $argon2i$, $pbkdf2$ ...)
// is never taken as plaintext: otherwise the hash string itself would be the password.
bool looks_like_hash(std::string_view stored) {
  return stored.starts_with("$") || stored.starts_with("PBKDF2$");
}

// Compares digests so the time depends on neither content nor which byte differs.
VerifyResult verify_plaintext(std::string_view stored, std::span<const uint8_t> password) {
  std::array<uint8_t, SHA512_DIGEST_LENGTH> stored_digest;
  std::array<uint8_t, SHA512_DIGEST_LENGTH> password_digest;
  SHA512(reinterpret_cast<const uint8_t*>(stored.data()), stored.size(), stored_digest.data());
  SHA512(password.data(), password.size(), password_digest.data());
  bool equal = constant_time_equal(stored_digest, password_digest);
  OPENSSL_cleanse(stored_digest.data(), stored_digest.size());
  OPENSSL_cleanse(password_digest.data(), password_digest.size());
  return equal ? VerifyResult::kMatch : VerifyResult::kMismatch;
}

std::optional<uint32_t> pbkdf2_iterations(SecretScheme scheme, std::string_view stored) {
  std::optional<Pbkdf2Secret> parsed;
  if (scheme == SecretScheme::kMosquittoPbkdf2) parsed = parse_mosquitto_pbkdf2(stored);
  if (scheme == SecretScheme::kGoAuthPbkdf2) parsed = parse_go_auth_pbkdf2(stored);
  if (scheme == SecretScheme::kPhcPbkdf2) parsed = parse_phc_pbkdf2(stored);
  if (!parsed) return std::nullopt;
  return parsed->iterations;
}

}  // namespace

SecretScheme classify_secret(std::string_view stored, bool plaintext_allowed) {
  if (stored.empty() || stored.size() > kMaxStoredLength) return SecretScheme::kUnsupported;
  SecretScheme scheme = scheme_by_prefix(stored);
  bool well_formed = false;
  switch (scheme) {
    case SecretScheme::kMosquittoPbkdf2:
    case SecretScheme::kGoAuthPbkdf2:
    case SecretScheme::kPhcPbkdf2:
      well_formed = pbkdf2_iterations(scheme, stored).has_value();
      break;
    case SecretScheme::kMosquittoSha512:
      well_formed = parse_mosquitto_sha512(stored).has_value();
      break;
    case SecretScheme::kBcrypt:
      well_formed = parse_bcrypt(stored).has_value();
      break;
    case SecretScheme::kArgon2id:
      well_formed = parse_argon2id(stored).has_value();
      break;
    case SecretScheme::kPlaintext:
    case SecretScheme::kUnsupported:
      return plaintext_allowed && !looks_like_hash(stored) ? SecretScheme::kPlaintext
                                                            : SecretScheme::kUnsupported;
  }
  return well_formed ? scheme : SecretScheme::kUnsupported;
}

bool secret_is_slow(std::string_view stored) {
  // The plaintext flag does not matter: plaintext and $6$ are fast either way.
  SecretScheme scheme = classify_secret(stored, false);
  switch (scheme) {
    case SecretScheme::kBcrypt:
    case SecretScheme::kArgon2id:
      return true;
    case SecretScheme::kMosquittoPbkdf2:
    case SecretScheme::kGoAuthPbkdf2:
    case SecretScheme::kPhcPbkdf2:
      return pbkdf2_iterations(scheme, stored).value_or(0) > kFastPbkdf2Iterations;
    default:
      return false;
  }
}

VerifyResult verify_secret(std::string_view stored, std::span<const uint8_t> password,
                           bool plaintext_allowed) {
  switch (classify_secret(stored, plaintext_allowed)) {
    case SecretScheme::kMosquittoPbkdf2:
      return verify_pbkdf2(*parse_mosquitto_pbkdf2(stored), password);
    case SecretScheme::kGoAuthPbkdf2:
      return verify_pbkdf2(*parse_go_auth_pbkdf2(stored), password);
    case SecretScheme::kPhcPbkdf2:
      return verify_pbkdf2(*parse_phc_pbkdf2(stored), password);
    case SecretScheme::kMosquittoSha512:
      return verify_salted_sha512(*parse_mosquitto_sha512(stored), password);
    case SecretScheme::kBcrypt:
      return verify_bcrypt(stored, password);
    case SecretScheme::kArgon2id:
      return verify_argon2id(stored, password);
    case SecretScheme::kPlaintext:
      return verify_plaintext(stored, password);
    case SecretScheme::kUnsupported:
      break;
  }
  return VerifyResult::kUnsupportedFormat;
}

}  // namespace auth
