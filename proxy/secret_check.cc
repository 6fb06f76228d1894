#include "proxy/secret_check.h"

#include <openssl/mem.h>

#include <cstdlib>
#include <memory>

#include "proxy/client_connection.h"

namespace proxy {
namespace {

void verify_on_pool(uv_work_t* work) {
  auto* check = static_cast<SecretCheck*>(work->data);
  check->result = auth::verify_secret(check->stored, check->password, check->plaintext_allowed);
}

void deliver_on_loop(uv_work_t* work, int) {
  std::unique_ptr<SecretCheck> check(static_cast<SecretCheck*>(work->data));
  OPENSSL_cleanse(check->password.data(), check->password.size());
  if (check->owner != nullptr) check->owner->on_secret_verified(check->result);
}

}  // namespace

SecretCheck* SecretCheck::start(uv_loop_t* loop, ClientConnection* owner, std::string_view stored,
                                std::span<const uint8_t> password, bool plaintext_allowed) {
  auto check = std::make_unique<SecretCheck>();
  check->owner = owner;
  check->stored.assign(stored);
  check->password.assign(password.begin(), password.end());
  check->plaintext_allowed = plaintext_allowed;
  check->work.data = check.get();
  if (uv_queue_work(loop, &check->work, &verify_on_pool, &deliver_on_loop) != 0) {
    std::abort();  // only fails for a null work callback
  }
  return check.release();  // reclaimed in deliver_on_loop
}

}  // namespace proxy
