// Backend selection: round robin, least connections, consistent hashing of client IDs,
// health skipping and failover order.
#include "proxy/backend_balance.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace proxy {
namespace {

using config::Balance;

std::vector<std::string> names(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("10.0.0." + std::to_string(i + 1) + ":1883");
  return out;
}

std::string device(int i) { return "device-" + std::to_string(i); }

TEST(BackendBalance, EmptyPoolHasNoChoice) {
  BackendBalancer balancer(Balance::kRoundRobin, size_t{0});
  EXPECT_EQ(balancer.pick("x"), BackendBalancer::kNone);
  EXPECT_EQ(balancer.next_after(0, "x"), BackendBalancer::kNone);
  EXPECT_TRUE(balancer.attempt_order("x").empty());
}

TEST(BackendBalance, RoundRobinRotatesAndSkipsUnhealthy) {
  BackendBalancer balancer(Balance::kRoundRobin, size_t{3});
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(balancer.pick("same"));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));

  balancer.set_healthy(1, false);
  EXPECT_FALSE(balancer.healthy(1));
  std::map<size_t, int> counts;
  for (int i = 0; i < 300; ++i) ++counts[balancer.pick("same")];
  EXPECT_EQ(counts.count(1), 0u);
  EXPECT_EQ(counts[0] + counts[2], 300);
  EXPECT_GE(counts[0], 100);
  EXPECT_GE(counts[2], 100);

  balancer.set_healthy(1, true);
  std::set<size_t> seen;
  for (int i = 0; i < 3; ++i) seen.insert(balancer.pick("same"));
  EXPECT_EQ(seen, (std::set<size_t>{0, 1, 2}));
}

TEST(BackendBalance, NoHealthyServerMeansHealthIsIgnored) {
  for (Balance policy : {Balance::kRoundRobin, Balance::kLeastConnections,
                         Balance::kClientIdHash}) {
    BackendBalancer balancer(policy, size_t{2});
    balancer.set_healthy(0, false);
    balancer.set_healthy(1, false);
    size_t pick = balancer.pick("dev");
    EXPECT_LT(pick, 2u);
    EXPECT_EQ(balancer.next_after(pick, "dev"), BackendBalancer::kNone);
    EXPECT_EQ(balancer.attempt_order("dev").size(), 2u);
  }
}

TEST(BackendBalance, LeastConnectionsTakesTheLeastLoaded) {
  BackendBalancer balancer(Balance::kLeastConnections, size_t{3});
  balancer.connection_opened(0);
  balancer.connection_opened(0);
  balancer.connection_opened(1);
  EXPECT_EQ(balancer.pick("a"), 2u);
  balancer.connection_opened(2);
  balancer.connection_opened(2);
  EXPECT_EQ(balancer.pick("a"), 1u);
  EXPECT_EQ(balancer.active_connections(0), 2u);

  // Fill as a proxy would: each pick opens a connection; the loads stay within one.
  BackendBalancer filling(Balance::kLeastConnections, size_t{4});
  for (int i = 0; i < 400; ++i) filling.connection_opened(filling.pick("x"));
  for (size_t s = 0; s < 4; ++s) EXPECT_EQ(filling.active_connections(s), 100u);

  // Unhealthy servers are skipped even when idle.
  filling.connection_closed(3);
  filling.connection_closed(3);
  filling.set_healthy(3, false);
  EXPECT_NE(filling.pick("x"), 3u);
}

TEST(BackendBalance, LeastConnectionsTiesRotate) {
  BackendBalancer balancer(Balance::kLeastConnections, size_t{3});
  std::set<size_t> seen;
  for (int i = 0; i < 3; ++i) seen.insert(balancer.pick("x"));  // nothing opened: all tie
  EXPECT_EQ(seen, (std::set<size_t>{0, 1, 2}));
}

TEST(BackendBalance, ConnectionCountsNeverUnderflow) {
  BackendBalancer balancer(Balance::kLeastConnections, size_t{2});
  balancer.connection_closed(0);
  EXPECT_EQ(balancer.active_connections(0), 0u);
  balancer.connection_opened(7);  // out of range: ignored
  balancer.set_healthy(7, false);
  EXPECT_FALSE(balancer.healthy(7));
  EXPECT_EQ(balancer.active_connections(7), 0u);
}

TEST(BackendBalance, ClientIdHashIsStableAndSpread) {
  BackendBalancer a(Balance::kClientIdHash, names(5));
  BackendBalancer b(Balance::kClientIdHash, names(5));
  std::map<size_t, int> counts;
  for (int i = 0; i < 10000; ++i) {
    size_t first = a.pick(device(i));
    EXPECT_EQ(a.pick(device(i)), first);  // same device, same server
    EXPECT_EQ(b.pick(device(i)), first);  // and on another proxy with the same list
    ++counts[first];
  }
  ASSERT_EQ(counts.size(), 5u);
  for (const auto& [server, count] : counts) {
    EXPECT_GT(count, 1200) << server;  // 2000 each when perfectly even
    EXPECT_LT(count, 2800) << server;
  }
}

TEST(BackendBalance, StableHashIsFixedAcrossBuilds) {
  // Pinned values: every proxy (any build, any platform) must place devices identically.
  // (FNV-1a 64 then the splitmix64 finalizer, computed independently.)
  EXPECT_EQ(stable_hash64(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(stable_hash64("device-1"), 0x9a425baa2e7d7b35ULL);
  EXPECT_EQ(stable_hash64("10.0.0.1:1883#0"), 0xccb1da0ebed53d78ULL);
  EXPECT_EQ(BackendBalancer(Balance::kClientIdHash, names(5)).ring_order("device-42"),
            BackendBalancer(Balance::kClientIdHash, names(5)).ring_order("device-42"));
}

TEST(BackendBalance, UnhealthyServerMovesOnlyItsOwnKeys) {
  BackendBalancer balancer(Balance::kClientIdHash, names(5));
  std::vector<size_t> before;
  for (int i = 0; i < 10000; ++i) before.push_back(balancer.pick(device(i)));
  balancer.set_healthy(2, false);
  int moved_from_others = 0;
  for (int i = 0; i < 10000; ++i) {
    size_t now = balancer.pick(device(i));
    EXPECT_NE(now, 2u);
    if (before[i] != 2 && now != before[i]) ++moved_from_others;
    // A device of the unhealthy server goes to the next server on its ring walk.
    if (before[i] == 2) {
      EXPECT_EQ(now, balancer.ring_order(device(i))[1]);
    }
  }
  EXPECT_EQ(moved_from_others, 0);
  // When it comes back, its devices come back to it.
  balancer.set_healthy(2, true);
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(balancer.pick(device(i)), before[i]);
}

TEST(BackendBalance, RemovingAServerFromTheListKeepsTheOthersKeys) {
  std::vector<std::string> five = names(5);
  std::vector<std::string> four = {five[0], five[1], five[3], five[4]};  // five[2] removed
  BackendBalancer with_five(Balance::kClientIdHash, five);
  BackendBalancer with_four(Balance::kClientIdHash, four);
  int kept = 0, others = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string& was = five[with_five.pick(device(i))];
    const std::string& now = four[with_four.pick(device(i))];
    if (was == five[2]) continue;
    ++others;
    if (was == now) ++kept;
  }
  EXPECT_GE(kept * 100, others * 99) << kept << " of " << others;
}

TEST(BackendBalance, FailoverFollowsTheRingAndSkipsUnhealthy) {
  BackendBalancer balancer(Balance::kClientIdHash, names(4));
  std::vector<size_t> ring = balancer.ring_order("sensor-9");
  ASSERT_EQ(ring.size(), 4u);
  EXPECT_EQ(std::set<size_t>(ring.begin(), ring.end()).size(), 4u);
  EXPECT_EQ(balancer.pick("sensor-9"), ring[0]);
  EXPECT_EQ(balancer.next_after(ring[0], "sensor-9"), ring[1]);
  balancer.set_healthy(ring[0], false);
  balancer.set_healthy(ring[1], false);
  EXPECT_EQ(balancer.pick("sensor-9"), ring[2]);
  EXPECT_EQ(balancer.next_after(ring[0], "sensor-9"), ring[2]);
  EXPECT_EQ(balancer.next_after(ring[2], "sensor-9"), ring[3]);
  EXPECT_EQ(balancer.next_after(ring[3], "sensor-9"), ring[2]);  // wraps past the unhealthy
  EXPECT_EQ(balancer.attempt_order("sensor-9"),
            (std::vector<size_t>{ring[2], ring[3], ring[0], ring[1]}));
  EXPECT_EQ(balancer.next_after(99, "sensor-9"), BackendBalancer::kNone);
}

TEST(BackendBalance, FailoverInIndexOrderForRotatingPolicies) {
  for (Balance policy : {Balance::kRoundRobin, Balance::kLeastConnections}) {
    BackendBalancer balancer(policy, size_t{3});
    EXPECT_EQ(balancer.next_after(0, ""), 1u);
    EXPECT_EQ(balancer.next_after(2, ""), 0u);
    balancer.set_healthy(1, false);
    EXPECT_EQ(balancer.next_after(0, ""), 2u);
    balancer.set_healthy(2, false);
    EXPECT_EQ(balancer.next_after(0, ""), BackendBalancer::kNone);
    EXPECT_EQ(balancer.next_after(1, ""), 0u);
  }
}

TEST(BackendBalance, AttemptOrderTriesEachServerOnceHealthyFirst) {
  BackendBalancer balancer(Balance::kRoundRobin, size_t{4});
  balancer.set_healthy(1, false);
  std::vector<size_t> order = balancer.attempt_order("");
  EXPECT_EQ(order, (std::vector<size_t>{0, 2, 3, 1}));
  order = balancer.attempt_order("");  // rotation moved on
  EXPECT_EQ(order, (std::vector<size_t>{2, 3, 0, 1}));
}

}  // namespace
}  // namespace proxy
