// auth/recent_changes.h: the `changes` messages of the last moments, by key ("device <id>",
// "cert <cert_id>"). A CONNECT lookup can race a change: it reads the record before the
// change reaches the node it reads from (a replica lags), and the message arrives before the
// session is indexed for re-checks, so it finds nothing to re-check. Asked as a session
// starts, this says the session must be re-checked at once.
//
// Pure bookkeeping: the caller passes the time. Bounded: past |capacity| entries the oldest
// are forgotten early (the periodic sweep is the safety net for those).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

namespace auth {

class RecentChanges {
 public:
  using Clock = std::chrono::steady_clock;

  RecentChanges(std::chrono::milliseconds window, size_t capacity)
      : window_(window), capacity_(capacity) {}

  // add records a change of |key| at |now|.
  void add(std::string key, Clock::time_point now);

  // contains: |key| changed within the window before |now|.
  bool contains(const std::string& key, Clock::time_point now);

  size_t size() const { return order_.size(); }

 private:
  void forget_front();
  void prune(Clock::time_point now);

  std::chrono::milliseconds window_;
  size_t capacity_;
  std::deque<std::pair<Clock::time_point, std::string>> order_;  // oldest first
  std::unordered_map<std::string, size_t> count_;                // entries in order_ per key
};

}  // namespace auth
