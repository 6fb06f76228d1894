#include "auth/recent_changes.h"

namespace auth {

void RecentChanges::add(std::string key, Clock::time_point now) {
  prune(now);
  while (capacity_ > 0 && order_.size() >= capacity_) forget_front();
  if (capacity_ == 0) return;
  ++count_[key];
  order_.emplace_back(now, std::move(key));
}

bool RecentChanges::contains(const std::string& key, Clock::time_point now) {
  prune(now);
  return count_.contains(key);
}

void RecentChanges::forget_front() {
  auto it = count_.find(order_.front().second);
  if (it != count_.end() && --it->second == 0) count_.erase(it);
  order_.pop_front();
}

void RecentChanges::prune(Clock::time_point now) {
  while (!order_.empty() && now - order_.front().first > window_) forget_front();
}

}  // namespace auth
