// tests/unit/ctl/redis_test_server.h: a throwaway redis-server for the ctl tests, a fixture
// that starts one per suite, and a subscriber that collects `changes` messages.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ctl/op_result.h"
#include "ctl/redis_client.h"

namespace ctl_test {

// RedisTestServer runs `redis-server --port <free port> --save "" --appendonly no`.
class RedisTestServer {
 public:
  // start returns false (with a gtest failure message) when the server does not come up.
  // |extra_args| are appended to the redis-server command line (e.g. --requirepass).
  bool start(const std::vector<std::string>& extra_args = {});
  void stop();
  ~RedisTestServer() { stop(); }
  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  bool try_start(const std::vector<std::string>& extra_args, const std::string& password);
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// connect_client: a connection to 127.0.0.1:|port| that answered PING (nullptr otherwise).
std::unique_ptr<ctl::RedisClient> connect_client(uint16_t port, const std::string& password = "");

// ChangeListener: a second connection SUBSCRIBEd to |channel|.
class ChangeListener {
 public:
  ChangeListener(uint16_t port, const std::string& channel);
  // collect returns the messages received until |count| arrived or |timeout| passed.
  std::vector<std::string> collect(
      size_t count, std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

 private:
  ctl::ContextPtr context_;
};

// CtlRedisFixture: one server per suite; every test starts on an empty database with the
// prefix "t:".
class CtlRedisFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;
  static uint16_t port() { return server_->port(); }
  static std::string url() { return server_->url(); }
  // hgetall: a hash as a sorted field list, for exact comparisons.
  std::vector<std::pair<std::string, std::string>> hgetall(const std::string& key);
  std::vector<std::string> smembers(const std::string& key);

  std::unique_ptr<ctl::RedisClient> client_;
  std::unique_ptr<ctl::OpContext> ctx_;

 private:
  static std::unique_ptr<RedisTestServer> server_;
};

}  // namespace ctl_test
