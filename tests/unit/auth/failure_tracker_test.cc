// Brute-force bookkeeping, driven by a synthetic clock.
#include "auth/failure_tracker.h"

#include <gtest/gtest.h>

namespace auth {
namespace {

using namespace std::chrono_literals;

FailureLimits small_limits() {
  FailureLimits limits;
  limits.max_failures = 3;
  limits.window = 10s;
  limits.ban = 30s;
  limits.max_tracked = 4;
  return limits;
}

TEST(AuthFailureTracker, BanStartsExactlyAtTheLimit) {
  FailureTracker tracker(small_limits());
  Clock::time_point t0{};
  EXPECT_FALSE(tracker.record_failure("1.2.3.4", t0));
  EXPECT_FALSE(tracker.record_failure("1.2.3.4", t0 + 1s));
  EXPECT_FALSE(tracker.banned("1.2.3.4", t0 + 1s));
  EXPECT_TRUE(tracker.record_failure("1.2.3.4", t0 + 2s));
  EXPECT_TRUE(tracker.banned("1.2.3.4", t0 + 2s));
  EXPECT_FALSE(tracker.banned("5.6.7.8", t0 + 2s));
}

TEST(AuthFailureTracker, BanEndsAfterItsDurationAndCountingRestarts) {
  FailureTracker tracker(small_limits());
  Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) tracker.record_failure("k", t0);
  EXPECT_TRUE(tracker.banned("k", t0 + 29s));
  EXPECT_FALSE(tracker.banned("k", t0 + 30s));
  // A fresh count after the ban: two failures do not ban again.
  EXPECT_FALSE(tracker.record_failure("k", t0 + 31s));
  EXPECT_FALSE(tracker.record_failure("k", t0 + 31s));
  EXPECT_FALSE(tracker.banned("k", t0 + 31s));
}

TEST(AuthFailureTracker, FailuresOutsideTheWindowAreForgotten) {
  FailureTracker tracker(small_limits());
  Clock::time_point t0{};
  tracker.record_failure("k", t0);
  tracker.record_failure("k", t0 + 1s);
  // Two windows later both buckets are out of the window.
  EXPECT_FALSE(tracker.record_failure("k", t0 + 25s));
  EXPECT_FALSE(tracker.banned("k", t0 + 25s));
}

TEST(AuthFailureTracker, PreviousBucketCountsByOverlap) {
  FailureTracker tracker(small_limits());
  Clock::time_point t0{};
  tracker.record_failure("k", t0);
  tracker.record_failure("k", t0 + 1s);
  // At 10.5 s the previous bucket (2 failures) still overlaps 95% of the window: 1.9 + 1 < 3.
  EXPECT_FALSE(tracker.record_failure("k", t0 + 10500ms));
  // One more in the same bucket reaches 1.9 + 2 >= 3.
  EXPECT_TRUE(tracker.record_failure("k", t0 + 10600ms));
}

TEST(AuthFailureTracker, MemoryIsBoundedAndPurgeFreesStaleKeys) {
  FailureTracker tracker(small_limits());
  Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) tracker.record_failure("k" + std::to_string(i), t0);
  EXPECT_EQ(tracker.tracked(), 4u);
  tracker.purge(t0 + 21s);
  EXPECT_EQ(tracker.tracked(), 0u);
}

TEST(AuthConnectionRateLimiter, BurstThenSteadyRate) {
  ConnectionRateLimiter limiter(2.0, 3.0);
  Clock::time_point t0{};
  EXPECT_TRUE(limiter.admit("ip", t0));
  EXPECT_TRUE(limiter.admit("ip", t0));
  EXPECT_TRUE(limiter.admit("ip", t0));
  EXPECT_FALSE(limiter.admit("ip", t0));
  EXPECT_TRUE(limiter.admit("other", t0));
  EXPECT_TRUE(limiter.admit("ip", t0 + 500ms));   // one token back at 2/s
  EXPECT_FALSE(limiter.admit("ip", t0 + 500ms));
}

TEST(AuthConnectionRateLimiter, DisabledAdmitsEverything) {
  ConnectionRateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.admit("ip", Clock::time_point{}));
  EXPECT_EQ(limiter.tracked(), 0u);
}

}  // namespace
}  // namespace auth
