// tests/unit/ctl/transaction_test.cc: run_transaction's retry on a concurrent write and its
// error paths, on a real redis-server.
#include "ctl/transaction.h"

#include <gtest/gtest.h>

#include "redis_test_server.h"

namespace ctl_test {
namespace {

class CtlTransaction : public CtlRedisFixture {};

TEST_F(CtlTransaction, RetriesWhenAWatchedKeyChanges) {
  auto other = connect_client(port());
  ASSERT_NE(other, nullptr);
  int plans = 0;
  auto result = ctl::run_transaction(*client_, {"counter"}, [&](ctl::RedisClient& redis) {
    ++plans;
    std::string seen(redis.command({"GET", "counter"}).str());
    if (plans == 1) other->command({"SET", "counter", "from-other"});  // races the first try
    ctl::TxPlan plan;
    plan.commands = {{"SET", "counter", "saw:" + seen}};
    return plan;
  });
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(plans, 2);
  EXPECT_EQ(client_->command({"GET", "counter"}).str(), "saw:from-other");
}

TEST_F(CtlTransaction, RefusalWritesNothing) {
  auto result = ctl::run_transaction(*client_, {"k"}, [](ctl::RedisClient&) {
    ctl::TxPlan plan;
    plan.status = ctl::OpStatus::kRefused;
    plan.message = "no";
    plan.commands = {{"SET", "k", "v"}};
    return plan;
  });
  EXPECT_EQ(result.status, ctl::OpStatus::kRefused);
  EXPECT_EQ(result.message, "no");
  EXPECT_TRUE(client_->command({"GET", "k"}).is_nil());
}

TEST_F(CtlTransaction, ErrorsAreReportedAndTheConnectionStaysInStep) {
  client_->command({"HSET", "h", "f", "v"});
  auto wrong_type = ctl::run_transaction(*client_, {"h"}, [](ctl::RedisClient&) {
    ctl::TxPlan plan;
    plan.commands = {{"SET", "a", "1"}, {"SADD", "h", "x"}};
    return plan;
  });
  EXPECT_EQ(wrong_type.status, ctl::OpStatus::kRedisError);
  EXPECT_NE(wrong_type.message.find("WRONGTYPE"), std::string::npos) << wrong_type.message;

  auto unknown = ctl::run_transaction(*client_, {"h"}, [](ctl::RedisClient&) {
    ctl::TxPlan plan;
    plan.commands = {{"NOSUCHCOMMAND"}, {"SET", "b", "1"}};
    return plan;
  });
  EXPECT_EQ(unknown.status, ctl::OpStatus::kRedisError);
  EXPECT_TRUE(client_->command({"GET", "b"}).is_nil());  // EXECABORT: nothing ran
  EXPECT_EQ(client_->command({"PING"}).str(), "PONG");
  EXPECT_EQ(client_->command({"ECHO", "next"}).str(), "next");
}

}  // namespace
}  // namespace ctl_test
