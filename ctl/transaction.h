// ctl/transaction.h: optimistic read-check-write on Redis (WATCH / MULTI / EXEC).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ctl/op_result.h"
#include "ctl/redis_client.h"

namespace ctl {

// TxPlan: what a planner decided after reading the watched keys. A non-kOk status aborts
// without writing; otherwise |commands| are queued between MULTI and EXEC.
struct TxPlan {
  OpStatus status = OpStatus::kOk;
  std::string message;
  std::vector<std::vector<std::string>> commands;
};

// run_transaction WATCHes |watch_keys|, calls |plan| (which reads with plain commands on the
// same client), and executes the planned commands atomically. When another writer touched a
// watched key in between, the whole read-plan-write is retried (a few times, then kRedisError).
OpResult<Empty> run_transaction(RedisClient& redis, const std::vector<std::string>& watch_keys,
                                const std::function<TxPlan(RedisClient&)>& plan);

// redis_failure: an OpResult for a failed reply, with the server's or the I/O error text.
OpResult<Empty> redis_failure(RedisClient& redis, const Reply& reply);

}  // namespace ctl
