// auth/redis_keys.h: the Redis key names of DESIGN.md's schema, in one place, for the proxy
// and mqtt-authctl alike.
#pragma once

#include <string>
#include <string_view>

namespace auth {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string device(std::string_view device_id) const { return join("device:", device_id); }
  std::string device_certs(std::string_view device_id) const {
    return join("device:", device_id) + ":certs";
  }
  std::string cert(std::string_view cert_id) const { return join("cert:", cert_id); }
  std::string cert_devices(std::string_view cert_id) const {
    return join("cert:", cert_id) + ":devices";
  }
  std::string session(std::string_view device_id) const { return join("session:", device_id); }
  std::string events() const { return prefix_ + "events"; }
  std::string changes() const { return prefix_ + "changes"; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string join(std::string_view kind, std::string_view id) const {
    std::string key;
    key.reserve(prefix_.size() + kind.size() + id.size());
    key.append(prefix_).append(kind).append(id);
    return key;
  }
  std::string prefix_;
};

}  // namespace auth
