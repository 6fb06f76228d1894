// ctl/session_ops.cc: see session_ops.h.
#include "ctl/session_ops.h"

#include <algorithm>

#include "ctl/redis_client.h"
#include "ctl/transaction.h"

namespace ctl {

OpResult<std::vector<SessionRecord>> session_list(OpContext& ctx, const std::string& device_id) {
  using Result = OpResult<std::vector<SessionRecord>>;
  const std::string key_prefix = ctx.keys.session("");
  std::vector<std::string> keys;
  if (!device_id.empty()) {
    if (!valid_record_id(device_id))
      return Result::failure(OpStatus::kInvalidArgument, "invalid device ID");
    keys.push_back(ctx.keys.session(device_id));
  } else if (!scan_keys(ctx.redis, glob_escape(key_prefix) + "*", &keys)) {
    return Result::failure(OpStatus::kRedisError, "redis: SCAN failed: " + ctx.redis.last_error());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) ctx.redis.append({"HGETALL", key});
  Result result;
  for (const std::string& key : keys) {
    Reply reply = ctx.redis.read_reply();
    if (reply.io_failed())
      return Result::failure(OpStatus::kRedisError, "redis: " + ctx.redis.last_error());
    if (reply.is_error() || reply.elements().empty()) continue;  // ended since SCAN, or not a hash
    result.value.push_back({key.substr(key_prefix.size()), hash_to_pairs(reply)});
  }
  return result;
}

OpResult<long long> kick_device(OpContext& ctx, const std::string& device_id) {
  using Result = OpResult<long long>;
  if (!valid_record_id(device_id))
    return Result::failure(OpStatus::kInvalidArgument, "invalid device ID");
  Reply reply = ctx.redis.command({"PUBLISH", ctx.keys.changes(), "kick " + device_id});
  if (reply.is_error()) {
    auto failed = redis_failure(ctx.redis, reply);
    return Result::failure(failed.status, failed.message);
  }
  Result result;
  result.value = reply.integer();
  return result;
}

}  // namespace ctl
