// admin/token_auth.h: bearer tokens of `admin.tokens`, stored as hashes and checked with
// auth::verify_secret. Only a token's name is ever logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace admin {

class TokenAuth {
 public:
  explicit TokenAuth(std::vector<config::AdminToken> tokens) : tokens_(std::move(tokens)) {}

  // authenticate: the name of the token |authorization| ("Bearer <token>") carries, or
  // nullopt when the header is missing, malformed or matches no configured hash.
  std::optional<std::string> authenticate(std::string_view authorization) const;

 private:
  std::vector<config::AdminToken> tokens_;
};

}  // namespace admin
