// tests/unit/ctl/cert_ops_test.cc: certificate records and bindings on a real redis-server.
#include "ctl/cert_ops.h"

#include <gtest/gtest.h>

#include <ctime>

#include "ctl/device_ops.h"
#include "ctl/session_ops.h"
#include "redis_test_server.h"

namespace ctl_test {
namespace {

const std::string kCertA(64, 'a');
const std::string kCertB(64, 'b');

class CtlCertOps : public CtlRedisFixture {
 protected:
  void SetUp() override {
    CtlRedisFixture::SetUp();
    for (const char* id : {"cam1", "cam2"}) {
      ctl::DeviceAddRequest request;
      request.id = id;
      request.username = id;
      request.auth = "cert";
      ASSERT_TRUE(ctl::device_add(*ctx_, request).ok());
    }
    ASSERT_TRUE(ctl::cert_register(*ctx_, {kCertA, "front-door", true, "cn-a", 1900000000}).ok());
  }
};

TEST_F(CtlCertOps, RegisterWritesExactFields) {
  auto fields = hgetall("t:cert:" + kCertA);
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"cn", "cn-a"}));
  EXPECT_EQ(fields[1].first, "created_at");
  long long created = std::stoll(fields[1].second);
  EXPECT_LE(std::abs(created - static_cast<long long>(std::time(nullptr))), 5);
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"enabled", "1"}));
  EXPECT_EQ(fields[3], (std::pair<std::string, std::string>{"name", "front-door"}));
  EXPECT_EQ(fields[4], (std::pair<std::string, std::string>{"not_after", "1900000000"}));

  ASSERT_TRUE(ctl::cert_register(*ctx_, {kCertB, "back-door", false, "cn-b", 1}).ok());
  EXPECT_EQ(client_->command({"HGET", "t:cert:" + kCertB, "enabled"}).str(), "0");
}

TEST_F(CtlCertOps, RegisterRefusesDuplicates) {
  EXPECT_EQ(ctl::cert_register(*ctx_, {kCertA, "other-name", true, "x", 1}).status,
            ctl::OpStatus::kAlreadyExists);
  EXPECT_EQ(ctl::cert_register(*ctx_, {kCertB, "front-door", true, "x", 1}).status,
            ctl::OpStatus::kAlreadyExists);
  EXPECT_EQ(client_->command({"EXISTS", "t:cert:" + kCertB}).integer(), 0);
}

TEST_F(CtlCertOps, ResolvesByIdOrName) {
  EXPECT_EQ(ctl::resolve_cert(*ctx_, kCertA).value, kCertA);
  EXPECT_EQ(ctl::resolve_cert(*ctx_, "front-door").value, kCertA);
  EXPECT_EQ(ctl::resolve_cert(*ctx_, "nothing").status, ctl::OpStatus::kNotFound);
  auto got = ctl::cert_get(*ctx_, "front-door");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_EQ(got.value.cert_id, kCertA);
  EXPECT_TRUE(got.value.devices.empty());
}

TEST_F(CtlCertOps, BindKeepsBothSetsAndPublishes) {
  ChangeListener listener(port(), "t:changes");
  ASSERT_TRUE(ctl::cert_bind(*ctx_, "front-door", {"cam1", "cam2"}).ok());
  EXPECT_EQ(smembers("t:cert:" + kCertA + ":devices"), (std::vector<std::string>{"cam1", "cam2"}));
  EXPECT_EQ(smembers("t:device:cam1:certs"), (std::vector<std::string>{kCertA}));
  EXPECT_EQ(smembers("t:device:cam2:certs"), (std::vector<std::string>{kCertA}));
  EXPECT_EQ(listener.collect(4, std::chrono::milliseconds(500)),
            (std::vector<std::string>{"cert " + kCertA, "device cam1", "device cam2"}));

  auto got = ctl::cert_get(*ctx_, kCertA);
  EXPECT_EQ(got.value.devices, (std::vector<std::string>{"cam1", "cam2"}));
  auto listed = ctl::cert_list(*ctx_);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed.value.size(), 1u);
  EXPECT_EQ(listed.value[0].name, "front-door");
  EXPECT_EQ(listed.value[0].device_count, 2);
  EXPECT_EQ(listed.value[0].not_after, "1900000000");
}

TEST_F(CtlCertOps, BindToMissingDeviceBindsNothing) {
  auto result = ctl::cert_bind(*ctx_, kCertA, {"cam1", "ghost"});
  EXPECT_EQ(result.status, ctl::OpStatus::kNotFound);
  EXPECT_NE(result.message.find("ghost"), std::string::npos);
  EXPECT_TRUE(smembers("t:cert:" + kCertA + ":devices").empty());
  EXPECT_TRUE(smembers("t:device:cam1:certs").empty());
  EXPECT_EQ(client_->command({"EXISTS", "t:device:ghost:certs"}).integer(), 0);
  EXPECT_EQ(ctl::cert_bind(*ctx_, "unknown-cert", {"cam1"}).status, ctl::OpStatus::kNotFound);
}

TEST_F(CtlCertOps, UnbindRemovesFromBothSets) {
  ASSERT_TRUE(ctl::cert_bind(*ctx_, kCertA, {"cam1", "cam2"}).ok());
  ChangeListener listener(port(), "t:changes");
  ASSERT_TRUE(ctl::cert_unbind(*ctx_, kCertA, {"cam1"}).ok());
  EXPECT_EQ(smembers("t:cert:" + kCertA + ":devices"), (std::vector<std::string>{"cam2"}));
  EXPECT_TRUE(smembers("t:device:cam1:certs").empty());
  EXPECT_EQ(smembers("t:device:cam2:certs"), (std::vector<std::string>{kCertA}));
  EXPECT_EQ(listener.collect(3, std::chrono::milliseconds(500)),
            (std::vector<std::string>{"cert " + kCertA, "device cam1"}));
}

TEST_F(CtlCertOps, DeleteRefusedWhileBound) {
  ASSERT_TRUE(ctl::cert_bind(*ctx_, kCertA, {"cam1"}).ok());
  auto refused = ctl::cert_delete(*ctx_, "front-door");
  EXPECT_EQ(refused.status, ctl::OpStatus::kRefused);
  EXPECT_EQ(client_->command({"EXISTS", "t:cert:" + kCertA}).integer(), 1);
  ASSERT_TRUE(ctl::cert_unbind(*ctx_, kCertA, {"cam1"}).ok());
  ASSERT_TRUE(ctl::cert_delete(*ctx_, "front-door").ok());
  EXPECT_EQ(
      client_->command({"EXISTS", "t:cert:" + kCertA, "t:cert:" + kCertA + ":devices"}).integer(),
      0);
  EXPECT_EQ(ctl::cert_delete(*ctx_, kCertA).status, ctl::OpStatus::kNotFound);
}

TEST_F(CtlCertOps, EnableDisablePublish) {
  ChangeListener listener(port(), "t:changes");
  ASSERT_TRUE(ctl::cert_set_enabled(*ctx_, "front-door", false).ok());
  EXPECT_EQ(client_->command({"HGET", "t:cert:" + kCertA, "enabled"}).str(), "0");
  ASSERT_TRUE(ctl::cert_set_enabled(*ctx_, kCertA, true).ok());
  EXPECT_EQ(client_->command({"HGET", "t:cert:" + kCertA, "enabled"}).str(), "1");
  EXPECT_EQ(listener.collect(3, std::chrono::milliseconds(500)),
            (std::vector<std::string>(2, "cert " + kCertA)));
}

TEST_F(CtlCertOps, DeletingDeviceUnbindsIt) {
  ASSERT_TRUE(ctl::cert_bind(*ctx_, kCertA, {"cam1", "cam2"}).ok());
  ASSERT_TRUE(ctl::device_delete(*ctx_, "cam1").ok());
  EXPECT_EQ(smembers("t:cert:" + kCertA + ":devices"), (std::vector<std::string>{"cam2"}));
}

TEST_F(CtlCertOps, SessionsAndKick) {
  client_->command({"HSET", "t:session:cam1", "node", "n1", "listener", "cert", "peer",
                    "10.0.0.1:5000", "connected_at", "1700000000", "cert_id", kCertA});
  client_->command({"HSET", "t:session:dev9", "node", "n2", "listener", "token"});
  auto all = ctl::session_list(*ctx_, "");
  ASSERT_TRUE(all.ok()) << all.message;
  ASSERT_EQ(all.value.size(), 2u);
  EXPECT_EQ(all.value[0].device_id, "cam1");
  EXPECT_EQ(all.value[0].fields.size(), 5u);
  EXPECT_EQ(all.value[1].device_id, "dev9");
  auto one = ctl::session_list(*ctx_, "dev9");
  ASSERT_EQ(one.value.size(), 1u);
  EXPECT_TRUE(ctl::session_list(*ctx_, "none").value.empty());

  ChangeListener listener(port(), "t:changes");
  auto kicked = ctl::kick_device(*ctx_, "cam1");
  ASSERT_TRUE(kicked.ok());
  EXPECT_EQ(kicked.value, 1);
  EXPECT_EQ(listener.collect(1), (std::vector<std::string>{"kick cam1"}));
}

}  // namespace
}  // namespace ctl_test
