// auth/secret.h: verifying a device key against the `secret` stored in its device record,
// and producing such secrets. Formats: see DESIGN.md ("Secret formats accepted").
// Uses BoringSSL's libcrypto, libxcrypt (bcrypt) and libargon2; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace auth {

enum class SecretScheme {
  kMosquittoPbkdf2,   // $7$iterations$salt$hash       (mosquitto_passwd, PBKDF2-SHA512)
  kMosquittoSha512,   // $6$salt$hash                  (mosquitto, salted SHA-512)
  kGoAuthPbkdf2,      // PBKDF2$sha256|sha512$iter$salt$hash (mosquitto-go-auth)
  kPhcPbkdf2,         // $pbkdf2-sha256$i=..$salt$hash / $pbkdf2-sha512$... (PHC, passlib)
  kBcrypt,            // $2a$ $2b$ $2y$
  kArgon2id,          // $argon2id$v=19$m=..,t=..,p=..$salt$hash
  kPlaintext,         // anything else, only with auth.plaintext_secrets: true
  kUnsupported,
};

// classify_secret: the scheme of a stored secret, by its prefix and shape.
SecretScheme classify_secret(std::string_view stored, bool plaintext_allowed);

// secret_is_slow: true when verifying |stored| costs enough that it must run off the event
// loop (bcrypt, argon2, PBKDF2 beyond a few thousand iterations).
bool secret_is_slow(std::string_view stored);

enum class VerifyResult { kMatch, kMismatch, kUnsupportedFormat };

// verify_secret compares |password| with |stored| in constant time with respect to the
// password. Thread-safe; may be slow (see secret_is_slow).
VerifyResult verify_secret(std::string_view stored, std::span<const uint8_t> password,
                           bool plaintext_allowed);

// hash_secret_mosquitto: a fresh `$7$` secret (PBKDF2-SHA512, 12-byte random salt),
// as mosquitto_passwd writes it. |iterations| defaults to mosquitto_passwd's 101.
std::string hash_secret_mosquitto(std::string_view password, uint32_t iterations = 101);

// hash_secret_argon2id / hash_secret_bcrypt: fresh secrets for operators who want them.
std::string hash_secret_argon2id(std::string_view password);
std::string hash_secret_bcrypt(std::string_view password, int cost = 10);

}  // namespace auth
