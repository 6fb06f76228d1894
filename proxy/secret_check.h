// proxy/secret_check.h: one secret verification on the libuv thread pool. The work owns
// copies of the stored secret and the password (wiped when done); the connection that
// started it may go away first, which it signals by clearing |owner|.
#pragma once

#include <uv.h>

#include <span>
#include <string>
#include <vector>

#include "auth/secret.h"

namespace proxy {

class ClientConnection;

struct SecretCheck {
  uv_work_t work{};
  ClientConnection* owner = nullptr;  // non-owning; null once the connection has closed
  std::string stored;
  std::vector<uint8_t> password;
  bool plaintext_allowed = false;
  auth::VerifyResult result = auth::VerifyResult::kMismatch;

  // start queues the verification. The returned pointer stays valid until the owner's
  // on_secret_verified runs, or until the owner clears |owner| (then the work frees itself
  // when the thread pool is done with it, without calling back).
  static SecretCheck* start(uv_loop_t* loop, ClientConnection* owner, std::string_view stored,
                            std::span<const uint8_t> password, bool plaintext_allowed);
};

}  // namespace proxy
