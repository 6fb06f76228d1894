// ctl/transaction.cc: see transaction.h.
#include "ctl/transaction.h"

namespace ctl {

const char* op_status_name(OpStatus status) {
  switch (status) {
    case OpStatus::kOk:
      return "ok";
    case OpStatus::kNotFound:
      return "not_found";
    case OpStatus::kAlreadyExists:
      return "already_exists";
    case OpStatus::kRefused:
      return "refused";
    case OpStatus::kInvalidArgument:
      return "invalid_argument";
    case OpStatus::kRedisError:
      return "redis_error";
    case OpStatus::kIoError:
      return "io_error";
  }
  return "unknown";
}

bool valid_record_id(std::string_view id) {
  if (id.empty() || id.size() > 256) return false;
  for (char c : id) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

OpResult<Empty> redis_failure(RedisClient& redis, const Reply& reply) {
  std::string detail = reply.io_failed() ? redis.last_error() : std::string(reply.str());
  return OpResult<Empty>::failure(OpStatus::kRedisError, "redis: " + detail);
}

OpResult<Empty> run_transaction(RedisClient& redis, const std::vector<std::string>& watch_keys,
                                const std::function<TxPlan(RedisClient&)>& plan) {
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<std::string> watch = {"WATCH"};
    watch.insert(watch.end(), watch_keys.begin(), watch_keys.end());
    Reply watched = redis.command(watch);
    if (watched.is_error()) return redis_failure(redis, watched);

    TxPlan planned = plan(redis);
    if (planned.status != OpStatus::kOk) {
      redis.command({"UNWATCH"});
      return OpResult<Empty>::failure(planned.status, planned.message);
    }
    redis.append({"MULTI"});
    for (const auto& command : planned.commands) redis.append(command);
    redis.append({"EXEC"});
    // Every pipelined reply is read before judging any, so that the connection stays in
    // step for the next command even after a failure.
    Reply multi = redis.read_reply();
    if (multi.io_failed()) return redis_failure(redis, multi);
    Reply first_error = multi.is_error() ? std::move(multi) : Reply();
    for (size_t i = 0; i < planned.commands.size(); ++i) {
      Reply queued = redis.read_reply();  // "QUEUED", or an error for a malformed command
      if (queued.io_failed()) return redis_failure(redis, queued);
      if (queued.is_error() && first_error.raw() == nullptr) first_error = std::move(queued);
    }
    Reply exec = redis.read_reply();
    if (exec.io_failed()) return redis_failure(redis, exec);
    if (first_error.raw() != nullptr) return redis_failure(redis, first_error);
    if (exec.is_nil()) continue;  // a watched key changed: read and plan again
    if (!exec.is_array()) return redis_failure(redis, exec);
    for (const redisReply* element : exec.elements()) {
      if (element->type == REDIS_REPLY_ERROR) {
        return OpResult<Empty>::failure(OpStatus::kRedisError,
                                        "redis: " + std::string(element_str(element)));
      }
    }
    return {};
  }
  return OpResult<Empty>::failure(OpStatus::kRedisError,
                                  "redis: too many concurrent changes, giving up");
}

}  // namespace ctl
