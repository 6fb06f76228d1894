#include "auth/failure_tracker.h"

#include <algorithm>

namespace auth {

void FailureTracker::roll(Entry& entry, Clock::time_point now) const {
  auto elapsed = now - entry.bucket_start;
  if (elapsed < limits_.window) return;
  // One full window later the current bucket becomes the previous one; two or more, both
  // buckets are out of the window.
  entry.previous = elapsed < 2 * limits_.window ? entry.current : 0;
  entry.current = 0;
  entry.bucket_start = now - (elapsed % limits_.window);
}

double FailureTracker::estimate(const Entry& entry, Clock::time_point now) const {
  double into_bucket = std::chrono::duration<double>(now - entry.bucket_start).count();
  double window = std::chrono::duration<double>(limits_.window).count();
  double overlap = std::clamp(1.0 - into_bucket / window, 0.0, 1.0);
  return entry.current + entry.previous * overlap;
}

bool FailureTracker::banned(std::string_view key, Clock::time_point now) const {
  auto it = entries_.find(std::string(key));
  return it != entries_.end() && it->second.banned_until > now;
}

bool FailureTracker::record_failure(std::string_view key, Clock::time_point now) {
  auto it = entries_.find(std::string(key));
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_tracked) purge(now);
    if (entries_.size() >= limits_.max_tracked) return false;  // fail open, bounded memory
    it = entries_.emplace(std::string(key), Entry{now}).first;
  }
  Entry& entry = it->second;
  if (entry.banned_until > now) return false;
  roll(entry, now);
  ++entry.current;
  if (estimate(entry, now) + 1e-9 < limits_.max_failures) return false;
  entry.banned_until = now + limits_.ban;
  entry.current = 0;
  entry.previous = 0;
  entry.bucket_start = now;
  return true;
}

void FailureTracker::purge(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) {
    const Entry& entry = item.second;
    return entry.banned_until <= now && now - entry.bucket_start >= 2 * limits_.window;
  });
}

bool ConnectionRateLimiter::admit(std::string_view key, Clock::time_point now) {
  if (per_second_ <= 0) return true;
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_tracked_) purge(now);
    if (buckets_.size() >= max_tracked_) return true;  // fail open, bounded memory
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
  bucket.updated = now;
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

void ConnectionRateLimiter::purge(Clock::time_point now) {
  // A bucket that has refilled completely holds nothing worth keeping.
  std::erase_if(buckets_, [&](const auto& item) {
    double elapsed = std::chrono::duration<double>(now - item.second.updated).count();
    return item.second.tokens + elapsed * per_second_ >= burst_;
  });
}

}  // namespace auth
