// secret_fuzz: classify_secret / verify_secret on arbitrary stored `secret` strings with a
// fixed password. Slow schemes (bcrypt, argon2id, PBKDF2 > 5000 iterations) are classified
// but not verified, so each input stays fast; their parameter parsing is still covered.
//
// Checks, beyond "no crash, no sanitizer report": verify_secret says kUnsupportedFormat
// exactly when classify_secret says kUnsupported (the documented contract); a slow secret
// is never unsupported; plaintext is only ever a match for the identical string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "auth/secret.h"

namespace {

constexpr std::string_view kPassword = "fuzz-device-key-0123456789";

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view stored(reinterpret_cast<const char*>(data), size);
  const std::span<const uint8_t> password(reinterpret_cast<const uint8_t*>(kPassword.data()),
                                          kPassword.size());
  const bool slow = auth::secret_is_slow(stored);
  for (bool plaintext_allowed : {false, true}) {
    auth::SecretScheme scheme = auth::classify_secret(stored, plaintext_allowed);
    if (slow) {
      require(scheme != auth::SecretScheme::kUnsupported);
      continue;
    }
    auth::VerifyResult result = auth::verify_secret(stored, password, plaintext_allowed);
    require((result == auth::VerifyResult::kUnsupportedFormat) ==
            (scheme == auth::SecretScheme::kUnsupported));
    if (scheme == auth::SecretScheme::kPlaintext) {
      require((result == auth::VerifyResult::kMatch) == (stored == kPassword));
    }
  }
  return 0;
}
