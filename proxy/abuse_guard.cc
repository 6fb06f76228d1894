#include "proxy/abuse_guard.h"

#include <spdlog/spdlog.h>

namespace proxy {
namespace {

auth::FailureLimits limits_for(uint32_t max, const config::AuthFailureLimits& limits) {
  auth::FailureLimits out;
  out.max_failures = max;
  out.window = limits.window;
  out.ban = limits.ban;
  return out;
}

}  // namespace

std::string_view ip_of(std::string_view peer) {
  size_t colon = peer.rfind(':');
  std::string_view host = colon == std::string_view::npos ? peer : peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

AbuseGuard::AbuseGuard(const config::LimitsConfig& limits)
    : by_ip_(limits_for(limits.auth_failures.max_per_ip, limits.auth_failures)),
      by_device_(limits_for(limits.auth_failures.max_per_device, limits.auth_failures)),
      connection_rate_(limits.connection_rate.per_ip, limits.connection_rate.burst) {}

bool AbuseGuard::admit_connection(std::string_view ip) {
  std::lock_guard lock(mutex_);
  return connection_rate_.admit(ip, auth::Clock::now());
}

bool AbuseGuard::banned(std::string_view ip, std::string_view device_id) {
  auto now = auth::Clock::now();
  std::lock_guard lock(mutex_);
  return by_ip_.banned(ip, now) || (!device_id.empty() && by_device_.banned(device_id, now));
}

void AbuseGuard::record_failure(std::string_view ip, std::string_view device_id) {
  auto now = auth::Clock::now();
  bool ip_banned, device_banned = false;
  {
    std::lock_guard lock(mutex_);
    ip_banned = by_ip_.record_failure(ip, now);
    if (!device_id.empty()) device_banned = by_device_.record_failure(device_id, now);
    bans_started_ += (ip_banned ? 1 : 0) + (device_banned ? 1 : 0);
  }
  if (ip_banned) spdlog::warn("ban started ip={} reason=too_many_auth_failures", ip);
  if (device_banned) spdlog::warn("ban started device={} reason=too_many_auth_failures", device_id);
}

void AbuseGuard::reconfigure(const config::LimitsConfig& limits) {
  std::lock_guard lock(mutex_);
  by_ip_.set_limits(limits_for(limits.auth_failures.max_per_ip, limits.auth_failures));
  by_device_.set_limits(limits_for(limits.auth_failures.max_per_device, limits.auth_failures));
  connection_rate_.set_rate(limits.connection_rate.per_ip, limits.connection_rate.burst);
}

void AbuseGuard::purge() {
  auto now = auth::Clock::now();
  std::lock_guard lock(mutex_);
  by_ip_.purge(now);
  by_device_.purge(now);
  connection_rate_.purge(now);
}

}  // namespace proxy
