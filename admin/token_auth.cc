// admin/token_auth.cc: see token_auth.h.
#include "admin/token_auth.h"

#include <span>

#include "auth/secret.h"

namespace admin {

std::optional<std::string> TokenAuth::authenticate(std::string_view authorization) const {
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() || authorization.size() > 4096) return std::nullopt;
  if (authorization.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  std::string_view token = authorization.substr(kScheme.size());
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(token.data()), token.size());
  // Every hash is tried so that the time spent does not reveal which names exist.
  std::optional<std::string> match;
  for (const auto& configured : tokens_) {
    if (auth::verify_secret(configured.hash, bytes, /*plaintext_allowed=*/false) ==
            auth::VerifyResult::kMatch &&
        !match) {
      match = configured.name;
    }
  }
  return match;
}

}  // namespace admin
