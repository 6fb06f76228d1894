// ctl/device_bulk.cc: see device_bulk.h.
#include "ctl/device_bulk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "auth/secret.h"
#include "ctl/device_ops.h"
#include "ctl/redis_client.h"

namespace ctl {
namespace {

using Result = OpResult<BulkAddResult>;

// for_each_batch sends |make(i)| for every index of [0, count) in pipelined batches and
// hands each reply to |check|; stops at the first failure |check| reports.
template <typename Make, typename Check>
OpResult<Empty> for_each_batch(RedisClient& redis, size_t count, size_t batch, size_t per_index,
                               Make make, Check check) {
  for (size_t start = 0; start < count; start += batch) {
    size_t end = std::min(count, start + batch);
    for (size_t i = start; i < end; ++i) {
      for (auto& command : make(i)) redis.append(command);
    }
    OpResult<Empty> failure;
    for (size_t i = start; i < end; ++i) {
      for (size_t n = 0; n < per_index; ++n) {
        Reply reply = redis.read_reply();
        if (reply.io_failed()) {
          return OpResult<Empty>::failure(OpStatus::kRedisError,
                                          "redis: " + redis.last_error());
        }
        // Keep reading the batch after a failure so the connection stays in step.
        if (failure.ok()) failure = check(i, reply);
      }
    }
    if (!failure.ok()) return failure;
  }
  return {};
}

}  // namespace

std::string bulk_device_line(const BulkDevice& device, const std::string& key) {
  return device.id + " " + device.username + " " + key + "\n";
}

OpResult<Empty> write_device_list(const std::string& path, const BulkAddResult& result) {
  auto io_error = [&](const char* what) {
    return OpResult<Empty>::failure(OpStatus::kIoError,
                                    std::string(what) + " " + path + ": " + std::strerror(errno));
  };
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create");
  // An existing file keeps its mode through O_TRUNC: narrow it before the key goes in.
  if (::fchmod(fd, 0600) != 0) {
    ::close(fd);
    return io_error("cannot chmod");
  }
  std::string text;
  text.reserve(result.devices.size() * 64);
  for (const BulkDevice& device : result.devices) text += bulk_device_line(device, result.key);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_error("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return io_error("cannot close");
  return {};
}

OpResult<BulkAddResult> device_bulk_add(OpContext& ctx, const BulkAddRequest& request) {
  if (request.count == 0 || request.count > kMaxBulkDevices) {
    return Result::failure(OpStatus::kInvalidArgument,
                           "count must be 1.." + std::to_string(kMaxBulkDevices));
  }
  if (request.batch == 0) return Result::failure(OpStatus::kInvalidArgument, "batch must be > 0");
  if (request.key && request.key->empty()) {
    return Result::failure(OpStatus::kInvalidArgument, "the key must not be empty");
  }
  // Usernames travel in the device list file, one space-separated line per device.
  if (request.username_prefix.find_first_of(" \t\r\n") != std::string::npos) {
    return Result::failure(OpStatus::kInvalidArgument, "username prefix must not contain spaces");
  }
  Result result;
  result.value.key = request.key ? *request.key : generate_device_key();
  if (result.value.key.find_first_of(" \t\r\n") != std::string::npos) {
    return Result::failure(OpStatus::kInvalidArgument, "the key must not contain spaces");
  }
  result.value.devices.reserve(request.count);
  for (size_t i = 0; i < request.count; ++i) {
    BulkDevice device;
    device.id = request.id_prefix + std::to_string(i);
    if (!valid_record_id(device.id)) {
      return Result::failure(OpStatus::kInvalidArgument, "invalid device ID '" + device.id + "'");
    }
    device.username =
        request.username_prefix.empty() ? device.id : request.username_prefix + std::to_string(i);
    result.value.devices.push_back(std::move(device));
  }
  const auto& devices = result.value.devices;

  auto taken = for_each_batch(
      ctx.redis, request.count, request.batch, 1,
      [&](size_t i) {
        return std::vector<std::vector<std::string>>{{"EXISTS", ctx.keys.device(devices[i].id)}};
      },
      [&](size_t i, const Reply& reply) -> OpResult<Empty> {
        if (reply.is_error()) {
          return OpResult<Empty>::failure(OpStatus::kRedisError,
                                          "redis: " + std::string(reply.str()));
        }
        if (reply.integer() != 0) {
          return OpResult<Empty>::failure(OpStatus::kAlreadyExists,
                                          "device " + devices[i].id + " already exists");
        }
        return {};
      });
  if (!taken.ok()) return Result::failure(taken.status, taken.message);

  // One hash for every device: this is what makes bulk-add fast, and why it is a fixture.
  const std::string secret = auth::hash_secret_mosquitto(result.value.key);
  if (secret.empty()) return Result::failure(OpStatus::kRedisError, "hashing the key failed");

  auto written = for_each_batch(
      ctx.redis, request.count, request.batch, 2,
      [&](size_t i) {
        const BulkDevice& device = devices[i];
        return std::vector<std::vector<std::string>>{
            {"HSET", ctx.keys.device(device.id), "username", device.username, "auth", "token",
             "enabled", "1", "secret", secret},
            {"PUBLISH", ctx.keys.changes(), "device " + device.id}};
      },
      [&](size_t, const Reply& reply) -> OpResult<Empty> {
        if (reply.is_error()) {
          return OpResult<Empty>::failure(OpStatus::kRedisError,
                                          "redis: " + std::string(reply.str()));
        }
        return {};
      });
  if (!written.ok()) return Result::failure(written.status, written.message);
  return result;
}

}  // namespace ctl
