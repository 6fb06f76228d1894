// ctl/device_ops.cc: see device_ops.h.
#include "ctl/device_ops.h"

#include <openssl/rand.h>

#include <algorithm>

#include "auth/secret.h"
#include "ctl/redis_client.h"
#include "ctl/transaction.h"

namespace ctl {
namespace {

constexpr const char* kReservedFields[] = {"username", "auth", "secret", "enabled"};

std::vector<std::string> publish_device(OpContext& ctx, const std::string& id) {
  return {"PUBLISH", ctx.keys.changes(), "device " + id};
}

template <typename T>
OpResult<T> forward(const OpResult<Empty>& result) {
  return OpResult<T>::failure(result.status, result.message);
}

OpResult<Empty> check_id(const std::string& id) {
  if (valid_record_id(id)) return {};
  return OpResult<Empty>::failure(OpStatus::kInvalidArgument,
                                  "invalid device ID (1..256 bytes, no spaces or control chars)");
}

}  // namespace

std::string generate_device_key() {
  uint8_t random[16];
  RAND_bytes(random, sizeof(random));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  key.reserve(32);
  for (uint8_t byte : random) {
    key.push_back(kHex[byte >> 4]);
    key.push_back(kHex[byte & 0xf]);
  }
  return key;
}

bool device_exists(OpContext& ctx, const std::string& id) {
  Reply reply = ctx.redis.command({"EXISTS", ctx.keys.device(id)});
  return reply.integer() == 1;
}

OpResult<DeviceAddResult> device_add(OpContext& ctx, const DeviceAddRequest& request) {
  using Result = OpResult<DeviceAddResult>;
  if (auto checked = check_id(request.id); !checked.ok()) return forward<DeviceAddResult>(checked);
  if (request.username.empty()) {
    return Result::failure(OpStatus::kInvalidArgument, "a username is required");
  }
  if (request.auth != "token" && request.auth != "cert") {
    return Result::failure(OpStatus::kInvalidArgument, "auth must be token or cert");
  }
  if (request.auth == "cert" && request.key) {
    return Result::failure(OpStatus::kInvalidArgument, "a cert device has no key");
  }
  if (request.key && request.key->empty()) {
    return Result::failure(OpStatus::kInvalidArgument, "the key must not be empty");
  }
  for (const auto& [name, value] : request.labels) {
    bool reserved = std::find(std::begin(kReservedFields), std::end(kReservedFields), name) !=
                    std::end(kReservedFields);
    if (name.empty() || reserved) {
      return Result::failure(OpStatus::kInvalidArgument, "label name not allowed: '" + name + "'");
    }
  }

  Result result;
  std::vector<std::string> hset = {"HSET",     ctx.keys.device(request.id),
                                   "username", request.username,
                                   "auth",     request.auth,
                                   "enabled",  "1"};
  if (request.auth == "token") {
    std::string key = request.key ? *request.key : generate_device_key();
    if (!request.key) result.value.generated_key = key;
    hset.push_back("secret");
    hset.push_back(auth::hash_secret_mosquitto(key));
  }
  for (const auto& [name, value] : request.labels) {
    hset.push_back(name);
    hset.push_back(value);
  }

  auto written = run_transaction(ctx.redis, {ctx.keys.device(request.id)}, [&](RedisClient&) {
    TxPlan plan;
    if (device_exists(ctx, request.id)) {
      plan.status = OpStatus::kAlreadyExists;
      plan.message = "device " + request.id + " already exists";
      return plan;
    }
    plan.commands = {hset, publish_device(ctx, request.id)};
    return plan;
  });
  if (!written.ok()) return forward<DeviceAddResult>(written);
  return result;
}

OpResult<DeviceRecord> device_get(OpContext& ctx, const std::string& id) {
  using Result = OpResult<DeviceRecord>;
  if (auto checked = check_id(id); !checked.ok()) return forward<DeviceRecord>(checked);
  ctx.redis.append({"HGETALL", ctx.keys.device(id)});
  ctx.redis.append({"SMEMBERS", ctx.keys.device_certs(id)});
  Reply hash = ctx.redis.read_reply();
  Reply certs = ctx.redis.read_reply();
  if (hash.is_error()) return forward<DeviceRecord>(redis_failure(ctx.redis, hash));
  if (certs.is_error()) return forward<DeviceRecord>(redis_failure(ctx.redis, certs));
  if (hash.elements().empty()) {
    return Result::failure(OpStatus::kNotFound, "device " + id + " not found");
  }
  Result result;
  result.value.id = id;
  for (auto& [name, value] : hash_to_pairs(hash)) {
    if (name == "secret") {
      result.value.secret_set = true;
      continue;
    }
    result.value.fields.emplace_back(std::move(name), std::move(value));
  }
  for (const redisReply* element : certs.elements()) {
    result.value.certs.emplace_back(element_str(element));
  }
  std::sort(result.value.certs.begin(), result.value.certs.end());
  return result;
}

OpResult<std::vector<DeviceSummary>> device_list(OpContext& ctx, const std::string& id_prefix) {
  using Result = OpResult<std::vector<DeviceSummary>>;
  const std::string key_prefix = ctx.keys.device("");
  std::vector<std::string> keys;
  if (!scan_keys(ctx.redis, glob_escape(key_prefix + id_prefix) + "*", &keys)) {
    return Result::failure(OpStatus::kRedisError, "redis: SCAN failed: " + ctx.redis.last_error());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());  // SCAN may repeat keys
  for (const std::string& key : keys) {
    ctx.redis.append({"HMGET", key, "username", "auth", "enabled"});
  }
  Result result;
  for (const std::string& key : keys) {
    Reply reply = ctx.redis.read_reply();
    if (reply.io_failed())
      return forward<std::vector<DeviceSummary>>(redis_failure(ctx.redis, reply));
    // device:<id>:certs sets answer WRONGTYPE; keys deleted since SCAN answer all nils.
    auto values = reply.elements();
    if (reply.is_error() || values.size() != 3 || values[0]->type == REDIS_REPLY_NIL) continue;
    DeviceSummary summary;
    summary.id = key.substr(key_prefix.size());
    summary.username = std::string(element_str(values[0]));
    summary.auth = std::string(element_str(values[1]));
    summary.enabled = element_str(values[2]) != "0";
    result.value.push_back(std::move(summary));
  }
  return result;
}

OpResult<Empty> device_set_enabled(OpContext& ctx, const std::string& id, bool enabled) {
  if (auto checked = check_id(id); !checked.ok()) return checked;
  return run_transaction(ctx.redis, {ctx.keys.device(id)}, [&](RedisClient&) {
    TxPlan plan;
    if (!device_exists(ctx, id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "device " + id + " not found";
      return plan;
    }
    plan.commands = {{"HSET", ctx.keys.device(id), "enabled", enabled ? "1" : "0"},
                     publish_device(ctx, id)};
    return plan;
  });
}

OpResult<Empty> device_delete(OpContext& ctx, const std::string& id) {
  if (auto checked = check_id(id); !checked.ok()) return checked;
  const std::string certs_key = ctx.keys.device_certs(id);
  return run_transaction(ctx.redis, {ctx.keys.device(id), certs_key}, [&](RedisClient& redis) {
    TxPlan plan;
    if (!device_exists(ctx, id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "device " + id + " not found";
      return plan;
    }
    Reply certs = redis.command({"SMEMBERS", certs_key});
    if (certs.is_error()) {
      plan.status = OpStatus::kRedisError;
      plan.message = "redis: " + std::string(certs.str());
      return plan;
    }
    for (const redisReply* cert : certs.elements()) {
      plan.commands.push_back({"SREM", ctx.keys.cert_devices(element_str(cert)), id});
    }
    plan.commands.push_back({"DEL", ctx.keys.device(id), certs_key});
    plan.commands.push_back(publish_device(ctx, id));
    return plan;
  });
}

OpResult<DeviceAddResult> device_set_key(OpContext& ctx, const std::string& id,
                                         const std::optional<std::string>& key) {
  using Result = OpResult<DeviceAddResult>;
  if (auto checked = check_id(id); !checked.ok()) return forward<DeviceAddResult>(checked);
  if (key && key->empty()) {
    return Result::failure(OpStatus::kInvalidArgument, "the key must not be empty");
  }
  Result result;
  std::string plain = key ? *key : generate_device_key();
  if (!key) result.value.generated_key = plain;
  const std::string secret = auth::hash_secret_mosquitto(plain);
  auto written = run_transaction(ctx.redis, {ctx.keys.device(id)}, [&](RedisClient& redis) {
    TxPlan plan;
    Reply auth_type = redis.command({"HGET", ctx.keys.device(id), "auth"});
    if (auth_type.is_nil() && !device_exists(ctx, id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "device " + id + " not found";
      return plan;
    }
    if (auth_type.str() == "cert") {
      plan.status = OpStatus::kRefused;
      plan.message = "device " + id + " authenticates by certificate and has no key";
      return plan;
    }
    plan.commands = {{"HSET", ctx.keys.device(id), "secret", secret}, publish_device(ctx, id)};
    return plan;
  });
  if (!written.ok()) return forward<DeviceAddResult>(written);
  return result;
}

OpResult<Empty> device_update(OpContext& ctx, const std::string& id, const DeviceUpdate& update) {
  using Result = OpResult<Empty>;
  if (auto checked = check_id(id); !checked.ok()) return checked;
  if (update.username && update.username->empty()) {
    return Result::failure(OpStatus::kInvalidArgument, "a username is required");
  }
  auto label_allowed = [](const std::string& name) {
    return !name.empty() && std::find(std::begin(kReservedFields), std::end(kReservedFields),
                                      name) == std::end(kReservedFields);
  };
  std::vector<std::string> hset = {"HSET", ctx.keys.device(id)};
  std::vector<std::string> hdel = {"HDEL", ctx.keys.device(id)};
  if (update.username) {
    hset.push_back("username");
    hset.push_back(*update.username);
  }
  for (const auto& [name, value] : update.set_labels) {
    if (!label_allowed(name)) {
      return Result::failure(OpStatus::kInvalidArgument, "label name not allowed: '" + name + "'");
    }
    hset.push_back(name);
    hset.push_back(value);
  }
  for (const auto& name : update.remove_labels) {
    if (!label_allowed(name)) {
      return Result::failure(OpStatus::kInvalidArgument, "label name not allowed: '" + name + "'");
    }
    hdel.push_back(name);
  }
  return run_transaction(ctx.redis, {ctx.keys.device(id)}, [&](RedisClient&) {
    TxPlan plan;
    if (!device_exists(ctx, id)) {
      plan.status = OpStatus::kNotFound;
      plan.message = "device " + id + " not found";
      return plan;
    }
    if (hdel.size() > 2) plan.commands.push_back(hdel);
    if (hset.size() > 2) plan.commands.push_back(hset);
    plan.commands.push_back(publish_device(ctx, id));
    return plan;
  });
}

}  // namespace ctl
