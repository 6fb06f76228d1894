// auth/replica_choice.h: which replicas named by Sentinel may serve lookups, and which one a
// worker reads from. Pure code: each entry is the field/value map of one element of a
// `SENTINEL REPLICAS <master>` reply (ip, port, flags, master-link-status, ...).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace auth {

struct ReplicaAddress {
  std::string host;
  uint16_t port = 0;
  bool operator==(const ReplicaAddress&) const = default;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

using SentinelEntry = std::map<std::string, std::string>;

// usable_replicas keeps the replicas that can answer with current data: a valid ip and port,
// none of the flags s_down, o_down, disconnected or promoted (one being made master by a
// failover), and master-link-status "ok" (a replica cut off from its master serves ever older
// data). The result is sorted by host then port, so every worker sees the same order.
std::vector<ReplicaAddress> usable_replicas(const std::vector<SentinelEntry>& entries);

// choose_replica picks usable[pick % size]: workers given consecutive |pick| values spread
// over the replicas. Nothing when |usable| is empty.
std::optional<ReplicaAddress> choose_replica(const std::vector<ReplicaAddress>& usable, uint64_t pick);

// replica_in_sync: |role| is a ROLE reply as strings (integers in decimal). True only for a
// replica whose link to its master is up and whose initial sync is done
// ("slave", host, port, "connected", offset): while it connects or syncs, a replica answers
// from an old or empty data set, and would refuse devices that exist.
bool replica_in_sync(const std::vector<std::string>& role);

}  // namespace auth
