// ctl/op_result.h: what every management operation returns. Operations never print; the
// CLI and the admin API turn an OpStatus into an exit code or an HTTP status.
#pragma once

#include <string>
#include <utility>

#include "auth/redis_keys.h"

namespace ctl {

class RedisClient;

enum class OpStatus {
  kOk,
  kNotFound,         // the device, certificate or session does not exist
  kAlreadyExists,    // add/register of an existing record (or a duplicate cert name)
  kRefused,          // the operation is not allowed in this state (e.g. cert still bound)
  kInvalidArgument,  // malformed ID, unknown auth type, reserved label, ...
  kRedisError,       // I/O or server error; the message says which
  kIoError,          // a local file could not be read or written (PKI commands)
};

const char* op_status_name(OpStatus status);

// OpResult: a status, a human message when not kOk, and the value when kOk.
template <typename T>
struct OpResult {
  OpStatus status = OpStatus::kOk;
  std::string message;
  T value{};

  bool ok() const { return status == OpStatus::kOk; }
  static OpResult failure(OpStatus status, std::string message) {
    OpResult result;
    result.status = status;
    result.message = std::move(message);
    return result;
  }
};

struct Empty {};

// OpContext: the connection and key names an operation works on. Non-owning: the client
// must outlive the context.
struct OpContext {
  RedisClient& redis;
  auth::RedisKeys keys;
};

// valid_record_id: device IDs and cert names/IDs are 1..256 bytes without whitespace or
// control characters (the `changes` messages are space-separated).
bool valid_record_id(std::string_view id);

}  // namespace ctl
