// The memory of recent `changes` messages that lets a session whose lookup raced a change be
// re-checked as it starts.
#include "auth/recent_changes.h"

#include <gtest/gtest.h>

namespace auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const RecentChanges::Clock::time_point kT0{seconds(1000)};

TEST(AuthRecentChanges, KnownWithinTheWindowOnly) {
  RecentChanges changes(milliseconds(30'000), 100);
  changes.add("device a", kT0);
  EXPECT_TRUE(changes.contains("device a", kT0));
  EXPECT_TRUE(changes.contains("device a", kT0 + seconds(30)));
  EXPECT_FALSE(changes.contains("device b", kT0));
  EXPECT_FALSE(changes.contains("cert a", kT0));  // the kind is part of the key
  EXPECT_FALSE(changes.contains("device a", kT0 + seconds(30) + milliseconds(1)));
  EXPECT_EQ(changes.size(), 0u);
}

TEST(AuthRecentChanges, ALaterChangeKeepsTheKeyKnown) {
  RecentChanges changes(milliseconds(10'000), 100);
  changes.add("device a", kT0);
  changes.add("device a", kT0 + seconds(8));
  EXPECT_TRUE(changes.contains("device a", kT0 + seconds(15)));  // the first expired
  EXPECT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes.contains("device a", kT0 + seconds(19)));
}

TEST(AuthRecentChanges, CapacityForgetsTheOldestFirst) {
  RecentChanges changes(milliseconds(60'000), 3);
  changes.add("device a", kT0);
  changes.add("device b", kT0);
  changes.add("device a", kT0);  // same key, same instant
  changes.add("device c", kT0 + seconds(1));
  EXPECT_EQ(changes.size(), 3u);
  // The first "device a" went; the second one keeps it known.
  EXPECT_TRUE(changes.contains("device a", kT0 + seconds(1)));
  EXPECT_TRUE(changes.contains("device b", kT0 + seconds(1)));
  changes.add("device d", kT0 + seconds(2));
  EXPECT_FALSE(changes.contains("device b", kT0 + seconds(2)));
  changes.add("device e", kT0 + seconds(2));
  EXPECT_FALSE(changes.contains("device a", kT0 + seconds(2)));
  EXPECT_TRUE(changes.contains("device c", kT0 + seconds(2)));
  EXPECT_TRUE(changes.contains("device e", kT0 + seconds(2)));
}

TEST(AuthRecentChanges, ZeroCapacityRemembersNothing) {
  RecentChanges changes(milliseconds(60'000), 0);
  changes.add("device a", kT0);
  EXPECT_FALSE(changes.contains("device a", kT0));
}

}  // namespace
}  // namespace auth
