// auth/failure_tracker.h: brute-force protection as pure bookkeeping. Failed authentications
// are counted per key (a peer IP, or a device ID) over a sliding window; a key that reaches
// the limit is banned for a fixed time. Time is passed in, so tests drive the clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace auth {

using Clock = std::chrono::steady_clock;

struct FailureLimits {
  uint32_t max_failures = 20;                 // the ban starts at this many failures
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds ban{300'000};
  size_t max_tracked = 100'000;               // bounded memory under a flood of new keys
};

class FailureTracker {
 public:
  explicit FailureTracker(FailureLimits limits) : limits_(limits) {}

  // banned: the key is inside a ban at |now|.
  bool banned(std::string_view key, Clock::time_point now) const;

  // record_failure counts one failure; true when this failure starts a ban.
  bool record_failure(std::string_view key, Clock::time_point now);

  // purge forgets keys with nothing left to remember at |now|.
  void purge(Clock::time_point now);

  size_t tracked() const { return entries_.size(); }
  const FailureLimits& limits() const { return limits_; }
  // set_limits applies new limits to future failures; running bans keep their end time.
  void set_limits(FailureLimits limits) { limits_ = limits; }

 private:
  // Two fixed buckets approximate the sliding window: the estimate weighs the previous
  // bucket by how much of it still overlaps the window.
  struct Entry {
    Clock::time_point bucket_start;
    uint32_t current = 0;
    uint32_t previous = 0;
    Clock::time_point banned_until{};
  };
  void roll(Entry& entry, Clock::time_point now) const;
  double estimate(const Entry& entry, Clock::time_point now) const;

  FailureLimits limits_;
  std::unordered_map<std::string, Entry> entries_;
};

// ConnectionRateLimiter: a token bucket per peer IP: |per_second| new connections a second
// with bursts of |burst|. Bounded like FailureTracker.
class ConnectionRateLimiter {
 public:
  ConnectionRateLimiter(double per_second, double burst, size_t max_tracked = 100'000)
      : per_second_(per_second), burst_(burst), max_tracked_(max_tracked) {}

  // admit takes a token for |key|; false when its bucket is empty. Always true when the
  // limiter is disabled (per_second <= 0).
  bool admit(std::string_view key, Clock::time_point now);
  void purge(Clock::time_point now);
  size_t tracked() const { return buckets_.size(); }
  void set_rate(double per_second, double burst) {
    per_second_ = per_second;
    burst_ = burst;
  }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  double per_second_;
  double burst_;
  size_t max_tracked_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace auth
