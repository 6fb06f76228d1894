// ctl/cert_ops.cc: see cert_ops.h.
#include "ctl/cert_ops.h"

#include <algorithm>
#include <ctime>

#include "ctl/redis_client.h"
#include "ctl/transaction.h"

namespace ctl {
namespace {

template <typename T>
OpResult<T> forward(const OpResult<Empty>& result) {
  return OpResult<T>::failure(result.status, result.message);
}

std::vector<std::string> publish_cert(OpContext& ctx, const std::string& cert_id) {
  return {"PUBLISH", ctx.keys.changes(), "cert " + cert_id};
}

bool cert_exists(OpContext& ctx, const std::string& cert_id) {
  Reply reply = ctx.redis.command({"HEXISTS", ctx.keys.cert(cert_id), "name"});
  return reply.integer() == 1;
}

// cert_ids_named: the IDs of every certificate whose `name` is |name| (SCAN over cert:*).
OpResult<std::vector<std::string>> cert_ids_named(OpContext& ctx, const std::string& name) {
  using Result = OpResult<std::vector<std::string>>;
  const std::string key_prefix = ctx.keys.cert("");
  std::vector<std::string> keys;
  if (!scan_keys(ctx.redis, glob_escape(key_prefix) + "*", &keys)) {
    return Result::failure(OpStatus::kRedisError, "redis: SCAN failed: " + ctx.redis.last_error());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) ctx.redis.append({"HGET", key, "name"});
  Result result;
  for (const std::string& key : keys) {
    Reply reply = ctx.redis.read_reply();  // cert:<id>:devices sets answer WRONGTYPE
    if (reply.io_failed())
      return forward<std::vector<std::string>>(redis_failure(ctx.redis, reply));
    if (!reply.is_error() && !reply.is_nil() && reply.str() == name) {
      result.value.push_back(key.substr(key_prefix.size()));
    }
  }
  return result;
}

OpResult<Empty> change_bindings(OpContext& ctx, const std::string& ref,
                                const std::vector<std::string>& device_ids, bool bind) {
  auto resolved = resolve_cert(ctx, ref);
  if (!resolved.ok()) return forward<Empty>({resolved.status, resolved.message, {}});
  const std::string& cert_id = resolved.value;
  if (device_ids.empty()) {
    return OpResult<Empty>::failure(OpStatus::kInvalidArgument, "no device given");
  }
  for (const std::string& id : device_ids) {
    if (!valid_record_id(id)) {
      return OpResult<Empty>::failure(OpStatus::kInvalidArgument, "invalid device ID '" + id + "'");
    }
  }
  std::vector<std::string> watch = {ctx.keys.cert(cert_id)};
  for (const std::string& id : device_ids) watch.push_back(ctx.keys.device(id));

  return run_transaction(ctx.redis, watch, [&](RedisClient&) {
    TxPlan plan;
    if (!cert_exists(ctx, cert_id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "certificate " + cert_id + " not found";
      return plan;
    }
    for (const std::string& id : device_ids) {
      if (bind && !device_exists(ctx, id)) {
        plan.status = OpStatus::kNotFound;
        plan.message = "device " + id + " not found";
        return plan;
      }
      const char* verb = bind ? "SADD" : "SREM";
      plan.commands.push_back({verb, ctx.keys.cert_devices(cert_id), id});
      plan.commands.push_back({verb, ctx.keys.device_certs(id), cert_id});
    }
    plan.commands.push_back(publish_cert(ctx, cert_id));
    for (const std::string& id : device_ids) {
      plan.commands.push_back({"PUBLISH", ctx.keys.changes(), "device " + id});
    }
    return plan;
  });
}

}  // namespace

OpResult<Empty> cert_register(OpContext& ctx, const CertRegistration& registration) {
  if (!valid_record_id(registration.cert_id) || !valid_record_id(registration.name)) {
    return OpResult<Empty>::failure(OpStatus::kInvalidArgument,
                                    "invalid certificate ID or name (no spaces, 1..256 bytes)");
  }
  auto named = cert_ids_named(ctx, registration.name);
  if (!named.ok()) return forward<Empty>({named.status, named.message, {}});
  if (!named.value.empty()) {
    return OpResult<Empty>::failure(OpStatus::kAlreadyExists,
                                    "a certificate named " + registration.name + " exists");
  }
  const std::string key = ctx.keys.cert(registration.cert_id);
  return run_transaction(ctx.redis, {key}, [&](RedisClient&) {
    TxPlan plan;
    if (cert_exists(ctx, registration.cert_id)) {
      plan.status = OpStatus::kAlreadyExists;
      plan.message = "certificate " + registration.cert_id + " is already registered";
      return plan;
    }
    plan.commands = {
        {"HSET", key, "name", registration.name, "enabled", registration.enabled ? "1" : "0", "cn",
         registration.cn, "not_after", std::to_string(registration.not_after), "created_at",
         std::to_string(static_cast<long long>(std::time(nullptr)))},
        publish_cert(ctx, registration.cert_id)};
    return plan;
  });
}

OpResult<std::string> resolve_cert(OpContext& ctx, const std::string& ref) {
  using Result = OpResult<std::string>;
  if (!valid_record_id(ref))
    return Result::failure(OpStatus::kInvalidArgument, "invalid certificate reference");
  if (cert_exists(ctx, ref)) {
    Result result;
    result.value = ref;
    return result;
  }
  auto named = cert_ids_named(ctx, ref);
  if (!named.ok()) return Result::failure(named.status, named.message);
  if (named.value.empty())
    return Result::failure(OpStatus::kNotFound, "certificate " + ref + " not found");
  if (named.value.size() > 1) {
    return Result::failure(OpStatus::kRefused,
                           "several certificates are named " + ref + "; use the cert_id");
  }
  Result result;
  result.value = named.value.front();
  return result;
}

OpResult<CertRecord> cert_get(OpContext& ctx, const std::string& ref) {
  using Result = OpResult<CertRecord>;
  auto resolved = resolve_cert(ctx, ref);
  if (!resolved.ok()) return Result::failure(resolved.status, resolved.message);
  ctx.redis.append({"HGETALL", ctx.keys.cert(resolved.value)});
  ctx.redis.append({"SMEMBERS", ctx.keys.cert_devices(resolved.value)});
  Reply hash = ctx.redis.read_reply();
  Reply devices = ctx.redis.read_reply();
  if (hash.is_error()) return forward<CertRecord>(redis_failure(ctx.redis, hash));
  if (devices.is_error()) return forward<CertRecord>(redis_failure(ctx.redis, devices));
  if (hash.elements().empty())
    return Result::failure(OpStatus::kNotFound, "certificate " + ref + " not found");
  Result result;
  result.value.cert_id = resolved.value;
  result.value.fields = hash_to_pairs(hash);
  for (const redisReply* element : devices.elements()) {
    result.value.devices.emplace_back(element_str(element));
  }
  std::sort(result.value.devices.begin(), result.value.devices.end());
  return result;
}

OpResult<std::vector<CertSummary>> cert_list(OpContext& ctx) {
  using Result = OpResult<std::vector<CertSummary>>;
  const std::string key_prefix = ctx.keys.cert("");
  std::vector<std::string> keys;
  if (!scan_keys(ctx.redis, glob_escape(key_prefix) + "*", &keys)) {
    return Result::failure(OpStatus::kRedisError, "redis: SCAN failed: " + ctx.redis.last_error());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) {
    ctx.redis.append({"HMGET", key, "name", "enabled", "cn", "not_after"});
    ctx.redis.append({"SCARD", key + ":devices"});
  }
  Result result;
  for (const std::string& key : keys) {
    Reply fields = ctx.redis.read_reply();
    Reply count = ctx.redis.read_reply();
    if (fields.io_failed() || count.io_failed()) {
      return forward<std::vector<CertSummary>>(redis_failure(ctx.redis, Reply()));
    }
    auto values = fields.elements();
    if (fields.is_error() || values.size() != 4 || values[0]->type == REDIS_REPLY_NIL) continue;
    CertSummary summary;
    summary.cert_id = key.substr(key_prefix.size());
    summary.name = std::string(element_str(values[0]));
    summary.enabled = element_str(values[1]) != "0";
    summary.cn = std::string(element_str(values[2]));
    summary.not_after = std::string(element_str(values[3]));
    summary.device_count = count.integer();
    result.value.push_back(std::move(summary));
  }
  return result;
}

OpResult<Empty> cert_set_enabled(OpContext& ctx, const std::string& ref, bool enabled) {
  auto resolved = resolve_cert(ctx, ref);
  if (!resolved.ok()) return OpResult<Empty>::failure(resolved.status, resolved.message);
  const std::string& cert_id = resolved.value;
  return run_transaction(ctx.redis, {ctx.keys.cert(cert_id)}, [&](RedisClient&) {
    TxPlan plan;
    if (!cert_exists(ctx, cert_id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "certificate " + cert_id + " not found";
      return plan;
    }
    plan.commands = {{"HSET", ctx.keys.cert(cert_id), "enabled", enabled ? "1" : "0"},
                     publish_cert(ctx, cert_id)};
    return plan;
  });
}

OpResult<Empty> cert_delete(OpContext& ctx, const std::string& ref) {
  auto resolved = resolve_cert(ctx, ref);
  if (!resolved.ok()) return OpResult<Empty>::failure(resolved.status, resolved.message);
  const std::string& cert_id = resolved.value;
  const std::string devices_key = ctx.keys.cert_devices(cert_id);
  return run_transaction(ctx.redis, {ctx.keys.cert(cert_id), devices_key}, [&](RedisClient& redis) {
    TxPlan plan;
    if (!cert_exists(ctx, cert_id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "certificate " + cert_id + " not found";
      return plan;
    }
    long long bound = redis.command({"SCARD", devices_key}).integer();
    if (bound > 0) {
      plan.status = OpStatus::kRefused;
      plan.message = "certificate " + cert_id + " is still bound to " + std::to_string(bound) +
                     " device(s); unbind them first";
      return plan;
    }
    plan.commands = {{"DEL", ctx.keys.cert(cert_id), devices_key}, publish_cert(ctx, cert_id)};
    return plan;
  });
}

OpResult<Empty> cert_bind(OpContext& ctx, const std::string& ref,
                          const std::vector<std::string>& device_ids) {
  return change_bindings(ctx, ref, device_ids, /*bind=*/true);
}

OpResult<Empty> cert_unbind(OpContext& ctx, const std::string& ref,
                            const std::vector<std::string>& device_ids) {
  return change_bindings(ctx, ref, device_ids, /*bind=*/false);
}

}  // namespace ctl
