// auth/secret_formats.h: parsers and verifiers of each stored-secret scheme, shared by the
// files of auth_secrets. Internal: the public surface is auth/secret.h.
//
// Every parser is strict and bounded: a record that does not have exactly the expected
// shape, or whose cost parameters exceed the limits below, does not parse, so a hostile or
// corrupted record can neither crash us nor make one verification run for minutes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "auth/secret.h"

namespace auth::secret_formats {

// Longest stored secret we look at; longer ones are unsupported.
inline constexpr size_t kMaxStoredLength = 1024;
// PBKDF2 iteration bound (all PBKDF2 forms). 10M SHA-512 iterations is ~5 s.
inline constexpr uint32_t kMaxPbkdf2Iterations = 10'000'000;
// PBKDF2 forms above this many iterations run off the event loop.
inline constexpr uint32_t kFastPbkdf2Iterations = 5000;
// Salt and derived key length bounds (bytes) of the PBKDF2 and SHA-512 forms.
inline constexpr size_t kMaxSaltBytes = 256;
inline constexpr size_t kMaxDerivedKeyBytes = 128;
// Shortest stored key (PBKDF2 forms with a free key length, argon2id): a PBKDF2 key cut
// short is still a valid key, so without a floor a record holding 1 byte would accept one
// password in 256.
inline constexpr size_t kMinDerivedKeyBytes = 16;
// bcrypt cost bound (2^16 rounds is ~5 s). Costs above it are unsupported.
inline constexpr int kMaxBcryptCost = 16;
// argon2id bounds: memory in KiB (256 MiB), passes, lanes.
inline constexpr uint32_t kMaxArgon2MemoryKib = 256 * 1024;
inline constexpr uint32_t kMaxArgon2Passes = 16;
inline constexpr uint32_t kMaxArgon2Lanes = 16;

// split_fields: |text| split on '$'. nullopt when any field is empty or there are more than
// |max_fields|.
std::optional<std::vector<std::string_view>> split_fields(std::string_view text,
                                                          size_t max_fields);

// parse_decimal_u32: a plain decimal number (no sign, no leading zero, no spaces).
std::optional<uint32_t> parse_decimal_u32(std::string_view text);

enum class Digest { kSha256, kSha512 };

// PBKDF2-HMAC(|digest|, password, salt, iterations) must equal |expected|, whose length is
// the derived key length.
struct Pbkdf2Secret {
  Digest digest = Digest::kSha512;
  uint32_t iterations = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> expected;
};

// $7$<iterations>$<b64 salt>$<b64 key>: mosquitto_passwd (2.0+), PBKDF2-HMAC-SHA512.
std::optional<Pbkdf2Secret> parse_mosquitto_pbkdf2(std::string_view stored);

// PBKDF2$sha256|sha512$<iterations>$<salt>$<b64 key>: mosquitto-go-auth. The salt is
// base64-decoded, as go-auth does by default (hasher_salt_encoding: base64); a salt that is
// not valid base64 can only come from go-auth's `utf-8` salt encoding (or the older
// mosquitto-auth-plug), and is then used as its raw bytes. A valid-base64 salt written with
// `utf-8` encoding is not recognised (go-auth itself cannot tell either).
std::optional<Pbkdf2Secret> parse_go_auth_pbkdf2(std::string_view stored);

// $pbkdf2-sha256$<rounds>$<ab64 salt>$<ab64 key> (passlib) and $pbkdf2-sha512$...; the rounds
// field may also be PHC parameters `i=<rounds>` or `i=<rounds>,l=<key length>`.
std::optional<Pbkdf2Secret> parse_phc_pbkdf2(std::string_view stored);

VerifyResult verify_pbkdf2(const Pbkdf2Secret& secret, std::span<const uint8_t> password);

// $6$<b64 salt>$<b64 sha512(password || salt)>: mosquitto before 2.0.
struct SaltedSha512Secret {
  std::vector<uint8_t> salt;
  std::vector<uint8_t> expected;  // 64 bytes
};
std::optional<SaltedSha512Secret> parse_mosquitto_sha512(std::string_view stored);
VerifyResult verify_salted_sha512(const SaltedSha512Secret& secret,
                                  std::span<const uint8_t> password);

// $2a$/$2b$/$2y$<cost>$<53 symbols>: bcrypt. Returns the cost.
std::optional<int> parse_bcrypt(std::string_view stored);
// verify_bcrypt: |stored| must have parsed. A password containing NUL never matches (crypt
// takes C strings, so it would be truncated there).
VerifyResult verify_bcrypt(std::string_view stored, std::span<const uint8_t> password);

// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<b64 salt>$<b64 hash> (also without v=, the
// pre-1.3 form libargon2 still reads).
struct Argon2Params {
  uint32_t memory_kib = 0;
  uint32_t passes = 0;
  uint32_t lanes = 0;
};
std::optional<Argon2Params> parse_argon2id(std::string_view stored);
VerifyResult verify_argon2id(std::string_view stored, std::span<const uint8_t> password);

// constant_time_equal: |a| == |b|, in time independent of their contents. The lengths are
// not secret (they come from the stored record's format).
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace auth::secret_formats
