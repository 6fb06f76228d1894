// Which replicas named by `SENTINEL REPLICAS` serve lookups, and which one a worker picks.
// The replies are the fields a Redis 7.0 Sentinel sent, encoded as RESP and read by hiredis's
// own reader, so the parsing is tested on what the resolver really receives.
#include "auth/replica_choice.h"
#include "auth/redis_store.h"
#include "auth/sentinel_resolver.h"

#include <hiredis/hiredis.h>

#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

namespace auth {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A healthy replica as Redis 7.0.15's Sentinel describes it.
Fields healthy(const std::string& ip, const std::string& port) {
  return {{"name", ip + ":" + port}, {"ip", ip}, {"port", port},
          {"runid", "4fae417f30debe86ea2477f4c8ee98fb1fc405a8"}, {"flags", "slave"},
          {"link-pending-commands", "0"}, {"link-refcount", "1"}, {"last-ping-sent", "0"},
          {"last-ok-ping-reply", "658"}, {"last-ping-reply", "658"},
          {"down-after-milliseconds", "1000"}, {"info-refresh", "6871"}, {"role-reported", "slave"},
          {"role-reported-time", "6955"}, {"master-link-down-time", "0"},
          {"master-link-status", "ok"}, {"master-host", "127.0.0.1"}, {"master-port", "47001"},
          {"slave-priority", "100"}, {"slave-repl-offset", "439"}, {"replica-announced", "1"}};
}

Fields with(Fields fields, const std::string& name, const std::string& value) {
  for (auto& [k, v] : fields) {
    if (k == name) v = value;
  }
  return fields;
}

std::string bulk(const std::string& s) {
  std::string out("$");
  out.append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
  return out;
}

std::string resp(const std::vector<Fields>& replicas) {
  std::string out("*");
  out.append(std::to_string(replicas.size())).append("\r\n");
  for (const Fields& fields : replicas) {
    out.append("*").append(std::to_string(fields.size() * 2)).append("\r\n");
    for (const auto& [k, v] : fields) out += bulk(k) + bulk(v);
  }
  return out;
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<void, ReplyDeleter>;

ReplyPtr read_reply(const std::string& bytes) {
  std::unique_ptr<redisReader, decltype(&redisReaderFree)> reader(redisReaderCreate(), &redisReaderFree);
  EXPECT_EQ(redisReaderFeed(reader.get(), bytes.data(), bytes.size()), REDIS_OK);
  void* reply = nullptr;
  EXPECT_EQ(redisReaderGetReply(reader.get(), &reply), REDIS_OK);
  EXPECT_NE(reply, nullptr);
  return ReplyPtr(reply);
}

std::vector<ReplicaAddress> usable_from_wire(const std::vector<Fields>& replicas) {
  ReplyPtr reply = read_reply(resp(replicas));
  std::vector<SentinelEntry> entries;
  EXPECT_TRUE(parse_sentinel_entries(reply.get(), &entries));
  EXPECT_EQ(entries.size(), replicas.size());
  return usable_replicas(entries);
}

TEST(AuthReplicaChoice, HealthyReplicaFromTheWire) {
  auto usable = usable_from_wire({healthy("127.0.0.1", "50363")});
  ASSERT_EQ(usable.size(), 1u);
  EXPECT_EQ(usable[0], (ReplicaAddress{"127.0.0.1", 50363}));
  EXPECT_EQ(usable[0].to_string(), "127.0.0.1:50363");
}

TEST(AuthReplicaChoice, NoReplicasIsAnEmptyAnswer) {
  ReplyPtr reply = read_reply("*0\r\n");
  std::vector<SentinelEntry> entries;
  EXPECT_TRUE(parse_sentinel_entries(reply.get(), &entries));
  EXPECT_TRUE(usable_replicas(entries).empty());
}

TEST(AuthReplicaChoice, SkipsDownDisconnectedPromotedAndCutOffReplicas) {
  // What Sentinel said a few seconds after the replica was killed: master-link-status is
  // still the last one seen ("ok"); only the flags tell.
  auto killed = with(healthy("127.0.0.1", "7001"), "flags", "s_down,slave,disconnected");
  auto odown = with(healthy("127.0.0.1", "7002"), "flags", "slave,o_down");
  auto disconnected = with(healthy("127.0.0.1", "7003"), "flags", "slave,disconnected");
  auto promoted = with(healthy("127.0.0.1", "7004"), "flags", "slave,promoted");
  auto cut_off = with(healthy("127.0.0.1", "7005"), "master-link-status", "err");
  auto good = healthy("127.0.0.1", "7006");
  auto usable = usable_from_wire({killed, odown, disconnected, promoted, cut_off, good});
  ASSERT_EQ(usable.size(), 1u);
  EXPECT_EQ(usable[0].port, 7006);
}

TEST(AuthReplicaChoice, FlagsAreMatchedWholeNotAsSubstrings) {
  // A made-up flag containing "s_down" must not hide the replica; the real one must.
  auto usable = usable_from_wire({with(healthy("10.0.0.1", "6379"), "flags", "slave,was_s_down_before")});
  EXPECT_EQ(usable.size(), 1u);
  usable = usable_from_wire({with(healthy("10.0.0.1", "6379"), "flags", "s_down")});
  EXPECT_TRUE(usable.empty());
}

TEST(AuthReplicaChoice, SkipsEntriesWithoutAnAddressOrStatus) {
  std::vector<SentinelEntry> entries(5);
  entries[0] = {{"ip", "10.0.0.1"}, {"flags", "slave"}, {"master-link-status", "ok"}};  // no port
  entries[1] = {{"port", "6379"}, {"flags", "slave"}, {"master-link-status", "ok"}};    // no ip
  entries[2] = {{"ip", "10.0.0.1"}, {"port", "0"}, {"flags", "slave"}, {"master-link-status", "ok"}};
  entries[3] = {{"ip", "10.0.0.1"}, {"port", "65536"}, {"flags", "slave"}, {"master-link-status", "ok"}};
  entries[4] = {{"ip", "10.0.0.1"}, {"port", "6379x"}, {"flags", "slave"}, {"master-link-status", "ok"}};
  EXPECT_TRUE(usable_replicas(entries).empty());
  entries.push_back({{"ip", "10.0.0.1"}, {"port", "6379"}, {"flags", "slave"}});  // no link status
  EXPECT_TRUE(usable_replicas(entries).empty());
}

TEST(AuthReplicaChoice, RejectsRepliesThatAreNotArraysOfPairs) {
  std::vector<SentinelEntry> entries;
  EXPECT_FALSE(parse_sentinel_entries(read_reply("-ERR No such master with that name\r\n").get(), &entries));
  entries.clear();
  EXPECT_FALSE(parse_sentinel_entries(read_reply("*1\r\n*1\r\n$2\r\nip\r\n").get(), &entries));
  entries.clear();
  EXPECT_FALSE(parse_sentinel_entries(read_reply("*1\r\n:5\r\n").get(), &entries));
  EXPECT_FALSE(parse_sentinel_entries(nullptr, &entries));
}

TEST(AuthReplicaChoice, OrderIsStableAndWorkersSpread) {
  // Sentinels list replicas in no fixed order; every worker must see the same one.
  auto a = usable_from_wire({healthy("10.0.0.2", "6379"), healthy("10.0.0.1", "6380"),
                             healthy("10.0.0.1", "6379")});
  auto b = usable_from_wire({healthy("10.0.0.1", "6379"), healthy("10.0.0.2", "6379"),
                             healthy("10.0.0.1", "6380")});
  ASSERT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].to_string(), "10.0.0.1:6379");
  EXPECT_EQ(a[1].to_string(), "10.0.0.1:6380");
  EXPECT_EQ(a[2].to_string(), "10.0.0.2:6379");
  EXPECT_EQ(choose_replica(a, 0)->to_string(), "10.0.0.1:6379");
  EXPECT_EQ(choose_replica(a, 1)->to_string(), "10.0.0.1:6380");
  EXPECT_EQ(choose_replica(a, 2)->to_string(), "10.0.0.2:6379");
  EXPECT_EQ(choose_replica(a, 3)->to_string(), "10.0.0.1:6379");
  EXPECT_EQ(choose_replica(a, UINT64_MAX)->to_string(), a[UINT64_MAX % 3].to_string());
  EXPECT_FALSE(choose_replica({}, 7).has_value());
}

TEST(AuthReplicaChoice, ListedTwiceCountsOnce) {
  auto usable = usable_from_wire({healthy("10.0.0.1", "6379"), healthy("10.0.0.1", "6379")});
  EXPECT_EQ(usable.size(), 1u);
}

// ROLE replies as Redis 7.0.15 sent them: a replica in sync, one whose master is unreachable,
// and a master (with one replica).
constexpr const char* kRoleInSync = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:54555\r\n$9\r\nconnected\r\n:425\r\n";
constexpr const char* kRoleNoMaster = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:1\r\n$7\r\nconnect\r\n:-1\r\n";
constexpr const char* kRoleMaster =
    "*3\r\n$6\r\nmaster\r\n:425\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$5\r\n54556\r\n$3\r\n425\r\n";

bool in_sync_from_wire(const char* bytes) {
  ReplyPtr reply = read_reply(bytes);
  std::vector<std::string> role;
  return parse_role_reply(reply.get(), &role) && replica_in_sync(role);
}

TEST(AuthReplicaChoice, RoleReplyParsesWithIntegersInDecimal) {
  ReplyPtr reply = read_reply(kRoleInSync);
  std::vector<std::string> role;
  ASSERT_TRUE(parse_role_reply(reply.get(), &role));
  EXPECT_EQ(role, (std::vector<std::string>{"slave", "127.0.0.1", "54555", "connected", "425"}));
  role.clear();
  ASSERT_TRUE(parse_role_reply(read_reply(kRoleMaster).get(), &role));
  EXPECT_EQ(role, (std::vector<std::string>{"master", "425", ""}));
}

TEST(AuthReplicaChoice, OnlyAReplicaInSyncServesLookups) {
  EXPECT_TRUE(in_sync_from_wire(kRoleInSync));
  EXPECT_FALSE(in_sync_from_wire(kRoleNoMaster));
  EXPECT_FALSE(in_sync_from_wire(kRoleMaster));
  EXPECT_FALSE(in_sync_from_wire("-LOADING Redis is loading the dataset in memory\r\n"));
  for (const char* state : {"connecting", "sync", "handshake", "none"}) {
    EXPECT_FALSE(replica_in_sync({"slave", "10.0.0.1", "6379", state, "-1"})) << state;
  }
  EXPECT_FALSE(replica_in_sync({"slave", "10.0.0.1", "6379"}));
  EXPECT_FALSE(replica_in_sync({"sentinel", "mymaster"}));
}

}  // namespace
}  // namespace auth
