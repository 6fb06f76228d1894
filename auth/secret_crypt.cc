// auth/secret_crypt.cc: bcrypt through libxcrypt and argon2id through libargon2: parsing
// (bounds on cost), verifying, and making fresh secrets.
#include <argon2.h>
#include <crypt.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <string>

#include "auth/base64.h"
#include "auth/secret.h"
#include "auth/secret_formats.h"

namespace auth {

namespace secret_formats {

namespace {

constexpr size_t kBcryptLength = 60;          // "$2b$" + 2 cost digits + "$" + 53 symbols
constexpr size_t kBcryptPayloadOffset = 7;

// argon2's own salt minimum (ARGON2_MIN_SALT_LENGTH).
constexpr size_t kMinArgon2SaltBytes = 8;

bool is_bcrypt_symbol(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '/';
}

// A password as the C string crypt_r wants; nullopt when it contains NUL.
std::optional<std::string> password_c_string(std::span<const uint8_t> password) {
  std::string text(password.begin(), password.end());
  if (text.find('\0') != std::string::npos) {
    OPENSSL_cleanse(text.data(), text.size());
    return std::nullopt;
  }
  return text;
}

// Wipes a std::string holding a password before it is released.
struct CleansedString {
  std::string value;
  ~CleansedString() { OPENSSL_cleanse(value.data(), value.size()); }
};

// Parses "m=<n>,t=<n>,p=<n>", in that order, as libargon2 writes and requires it.
std::optional<Argon2Params> parse_argon2_cost(std::string_view field) {
  Argon2Params params;
  std::array<std::pair<std::string_view, uint32_t*>, 3> keys = {{
      {"m=", &params.memory_kib},
      {"t=", &params.passes},
      {"p=", &params.lanes},
  }};
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!field.starts_with(keys[i].first)) return std::nullopt;
    field.remove_prefix(keys[i].first.size());
    size_t end = i + 1 < keys.size() ? field.find(',') : field.size();
    if (end == std::string_view::npos) return std::nullopt;
    std::optional<uint32_t> value = parse_decimal_u32(field.substr(0, end));
    if (!value) return std::nullopt;
    *keys[i].second = *value;
    field.remove_prefix(i + 1 < keys.size() ? end + 1 : end);
  }
  return params;
}

}  // namespace

std::optional<int> parse_bcrypt(std::string_view stored) {
  if (!(stored.starts_with("$2a$") || stored.starts_with("$2b$") ||
        stored.starts_with("$2y$"))) {
    return std::nullopt;
  }
  if (stored.size() != kBcryptLength || stored[6] != '$') return std::nullopt;
  if (stored[4] < '0' || stored[4] > '9' || stored[5] < '0' || stored[5] > '9') {
    return std::nullopt;
  }
  int cost = (stored[4] - '0') * 10 + (stored[5] - '0');
  if (cost < 4 || cost > kMaxBcryptCost) return std::nullopt;
  for (char c : stored.substr(kBcryptPayloadOffset)) {
    if (!is_bcrypt_symbol(c)) return std::nullopt;
  }
  return cost;
}

VerifyResult verify_bcrypt(std::string_view stored, std::span<const uint8_t> password) {
  std::optional<std::string> phrase = password_c_string(password);
  if (!phrase) return VerifyResult::kMismatch;
  CleansedString cleansed{std::move(*phrase)};
  std::string setting(stored);
  // crypt_data is ~32 KiB: on the heap, zeroed as crypt_r requires on first use.
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(cleansed.value.c_str(), setting.c_str(), data.get());
  VerifyResult result = VerifyResult::kUnsupportedFormat;
  if (computed != nullptr && computed[0] != '*') {
    std::string_view computed_view(computed);
    result = constant_time_equal(
                 std::span(reinterpret_cast<const uint8_t*>(computed_view.data()),
                           computed_view.size()),
                 std::span(reinterpret_cast<const uint8_t*>(stored.data()), stored.size()))
                 ? VerifyResult::kMatch
                 : VerifyResult::kMismatch;
  }
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return result;
}

std::optional<Argon2Params> parse_argon2id(std::string_view stored) {
  constexpr std::string_view kPrefix = "$argon2id$";
  if (!stored.starts_with(kPrefix)) return std::nullopt;
  auto fields = split_fields(stored.substr(kPrefix.size()), 4);
  if (!fields || fields->size() < 3) return std::nullopt;
  size_t next = 0;
  if (fields->size() == 4) {
    std::string_view version = (*fields)[next++];
    if (version != "v=19" && version != "v=16") return std::nullopt;
  }
  std::optional<Argon2Params> params = parse_argon2_cost((*fields)[next++]);
  if (!params || params->memory_kib > kMaxArgon2MemoryKib || params->passes < 1 ||
      params->passes > kMaxArgon2Passes || params->lanes < 1 ||
      params->lanes > kMaxArgon2Lanes || params->memory_kib < 8 * params->lanes) {
    return std::nullopt;
  }
  auto salt = decode_base64((*fields)[next++], Base64Variant::kUnpadded, kMaxSaltBytes);
  auto hash = decode_base64((*fields)[next++], Base64Variant::kUnpadded, kMaxDerivedKeyBytes);
  if (!salt || salt->size() < kMinArgon2SaltBytes || !hash ||
      hash->size() < kMinDerivedKeyBytes) {
    return std::nullopt;
  }
  return params;
}

VerifyResult verify_argon2id(std::string_view stored, std::span<const uint8_t> password) {
  std::string encoded(stored);
  // libargon2 compares the tags in constant time.
  int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
  switch (rc) {
    case ARGON2_OK:
      return VerifyResult::kMatch;
    case ARGON2_VERIFY_MISMATCH:
      return VerifyResult::kMismatch;
    case ARGON2_MEMORY_ALLOCATION_ERROR:
    case ARGON2_THREAD_FAIL:
      // Resource failure, not the record's fault: refuse without calling the format bad.
      return VerifyResult::kMismatch;
    default:
      return VerifyResult::kUnsupportedFormat;
  }
}

}  // namespace secret_formats

std::string hash_secret_argon2id(std::string_view password) {
  // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane; 16-byte salt, 32-byte tag.
  constexpr uint32_t kPasses = 2;
  constexpr uint32_t kMemoryKib = 19 * 1024;
  constexpr uint32_t kLanes = 1;
  constexpr size_t kSaltBytes = 16;
  constexpr size_t kHashBytes = 32;
  std::array<uint8_t, kSaltBytes> salt;
  if (!RAND_bytes(salt.data(), salt.size())) return {};
  size_t encoded_len =
      argon2_encodedlen(kPasses, kMemoryKib, kLanes, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(encoded_len, '\0');
  int rc = argon2id_hash_encoded(kPasses, kMemoryKib, kLanes, password.data(), password.size(),
                                 salt.data(), salt.size(), kHashBytes, encoded.data(),
                                 encoded.size());
  if (rc != ARGON2_OK) return {};
  // argon2_encodedlen counts the terminating NUL (and may overestimate the digits).
  size_t end = encoded.find('\0');
  if (end != std::string::npos) encoded.resize(end);
  return encoded;
}

std::string hash_secret_bcrypt(std::string_view password, int cost) {
  if (cost < 4 || cost > secret_formats::kMaxBcryptCost) return {};
  std::optional<std::string> phrase = secret_formats::password_c_string(
      std::span(reinterpret_cast<const uint8_t*>(password.data()), password.size()));
  if (!phrase) return {};
  secret_formats::CleansedString cleansed{std::move(*phrase)};
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  // With no random bytes given, libxcrypt draws them from the OS.
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), nullptr, 0, setting.data(),
                       static_cast<int>(setting.size())) == nullptr) {
    return {};
  }
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_r(cleansed.value.c_str(), setting.data(), data.get());
  std::string out;
  if (computed != nullptr && computed[0] != '*') out = computed;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return out;
}

}  // namespace auth
