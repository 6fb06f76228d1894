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

// classify_secret: the scheme of a stored secret, by its prefix and shape. A secret with a
// known prefix but a broken shape, or cost parameters beyond our bounds (PBKDF2 > 10M
// iterations, bcrypt cost > 16, argon2id m > 256 MiB / t > 16 / p > 16, keys < 16 bytes),
// is kUnsupported. kPlaintext only when |plaintext_allowed| and the secret is non-empty and
// starts with neither '$' nor "PBKDF2$": a hash of a scheme we lack is never a password.
// verify_secret returns kUnsupportedFormat exactly when this returns kUnsupported.
SecretScheme classify_secret(std::string_view stored, bool plaintext_allowed);

// secret_is_slow: true when verifying |stored| costs enough that it must run off the event
// loop (bcrypt, argon2id, PBKDF2 beyond 5000 iterations). False for unsupported secrets.
bool secret_is_slow(std::string_view stored);

enum class VerifyResult { kMatch, kMismatch, kUnsupportedFormat };

// verify_secret compares |password| with |stored| in constant time with respect to the
// password. Thread-safe; may be slow (see secret_is_slow). kUnsupportedFormat means the
// record is broken or of a scheme we refuse (the caller logs it, refuses kUnsupportedSecret);
// kMismatch means a wrong password (kBadSecret). A bcrypt check with a password holding a
// NUL byte is kMismatch (crypt(3) takes C strings).
VerifyResult verify_secret(std::string_view stored, std::span<const uint8_t> password,
                           bool plaintext_allowed);

// hash_secret_mosquitto: a fresh `$7$` secret (PBKDF2-SHA512, 12-byte random salt, 64-byte
// key), as mosquitto_passwd writes it and mosquitto reads it. |iterations| defaults to
// mosquitto_passwd's 101. Every hash_secret_* returns "" on failure (bad parameter, RNG
// failure); "" is never a valid secret.
std::string hash_secret_mosquitto(std::string_view password, uint32_t iterations = 101);

// hash_secret_argon2id / hash_secret_bcrypt: fresh secrets for operators who want them.
// argon2id: v=19, m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte tag. bcrypt: `$2b$`, |cost|
// in 4..16; passwords with a NUL byte are refused; bcrypt reads only the first 72 bytes.
std::string hash_secret_argon2id(std::string_view password);
std::string hash_secret_bcrypt(std::string_view password, int cost = 10);

}  // namespace auth
