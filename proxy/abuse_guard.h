// proxy/abuse_guard.h: brute-force and flood protection shared by all workers: failure
// counting per peer IP and per device ID with bans, and a per-IP connection rate limit.
// Thread-safe (one mutex; held only for a hash-map update, never across I/O).
#pragma once

#include <mutex>
#include <string_view>

#include "auth/failure_tracker.h"
#include "config/config.h"

namespace proxy {

class AbuseGuard {
 public:
  explicit AbuseGuard(const config::LimitsConfig& limits);

  // admit_connection: false when |ip| exceeds limits.connection_rate (close before TLS).
  bool admit_connection(std::string_view ip);

  // banned: the peer IP or the device ID is inside a ban.
  bool banned(std::string_view ip, std::string_view device_id);

  // record_failure counts a failed authentication against both keys; logs new bans.
  void record_failure(std::string_view ip, std::string_view device_id);

  // reconfigure applies reloaded limits; counts and running bans are kept.
  void reconfigure(const config::LimitsConfig& limits);

  // purge drops expired bookkeeping; called periodically.
  void purge();

  uint64_t bans_started() const { return bans_started_; }

 private:
  std::mutex mutex_;
  auth::FailureTracker by_ip_;
  auth::FailureTracker by_device_;
  auth::ConnectionRateLimiter connection_rate_;
  uint64_t bans_started_ = 0;  // guarded by mutex_
};

// ip_of: the address part of "ip:port" / "[v6]:port".
std::string_view ip_of(std::string_view peer);

}  // namespace proxy
