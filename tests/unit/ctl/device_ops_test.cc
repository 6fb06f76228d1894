// tests/unit/ctl/device_ops_test.cc: device operations on a real redis-server.
#include "ctl/device_ops.h"

#include <gtest/gtest.h>

#include <span>

#include "auth/secret.h"
#include "ctl/cert_ops.h"
#include "redis_test_server.h"

namespace ctl_test {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

bool is_lower_hex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class CtlDeviceOps : public CtlRedisFixture {
 protected:
  ctl::DeviceAddRequest token_device(const std::string& id) {
    ctl::DeviceAddRequest request;
    request.id = id;
    request.username = "user-" + id;
    return request;
  }
};

TEST_F(CtlDeviceOps, AddTokenDeviceGeneratesKeyAndStoresOnlyItsHash) {
  auto request = token_device("dev1");
  request.labels = {{"tenant", "acme"}, {"product", "meter"}};
  auto added = ctl::device_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  const std::string& key = added.value.generated_key;
  EXPECT_EQ(key.size(), 32u);
  EXPECT_TRUE(is_lower_hex(key));

  Pairs fields = hgetall("t:device:dev1");
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"auth", "token"}));
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"enabled", "1"}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"product", "meter"}));
  EXPECT_EQ(fields[3].first, "secret");
  EXPECT_EQ(fields[4], (std::pair<std::string, std::string>{"tenant", "acme"}));
  EXPECT_EQ(fields[5], (std::pair<std::string, std::string>{"username", "user-dev1"}));
  const std::string& secret = fields[3].second;
  EXPECT_TRUE(secret.starts_with("$7$")) << secret;
  EXPECT_EQ(secret.find(key), std::string::npos);
  EXPECT_EQ(auth::verify_secret(secret, bytes(key), false), auth::VerifyResult::kMatch);
  EXPECT_EQ(auth::verify_secret(secret, bytes("wrong"), false), auth::VerifyResult::kMismatch);
}

TEST_F(CtlDeviceOps, GeneratedKeysDiffer) {
  EXPECT_NE(ctl::generate_device_key(), ctl::generate_device_key());
}

TEST_F(CtlDeviceOps, AddWithGivenKeyReturnsNoKey) {
  auto request = token_device("dev2");
  request.key = "my-device-key";
  auto added = ctl::device_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  EXPECT_TRUE(added.value.generated_key.empty());
  std::string secret(client_->command({"HGET", "t:device:dev2", "secret"}).str());
  EXPECT_EQ(auth::verify_secret(secret, bytes("my-device-key"), false), auth::VerifyResult::kMatch);
}

TEST_F(CtlDeviceOps, AddCertDeviceHasNoSecret) {
  auto request = token_device("cam");
  request.auth = "cert";
  auto added = ctl::device_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  EXPECT_TRUE(added.value.generated_key.empty());
  EXPECT_EQ(hgetall("t:device:cam"),
            (Pairs{{"auth", "cert"}, {"enabled", "1"}, {"username", "user-cam"}}));

  request.id = "cam2";
  request.key = "k";
  EXPECT_EQ(ctl::device_add(*ctx_, request).status, ctl::OpStatus::kInvalidArgument);
}

TEST_F(CtlDeviceOps, AddRefusesExistingDeviceAndBadInput) {
  ASSERT_TRUE(ctl::device_add(*ctx_, token_device("dev1")).ok());
  Pairs before = hgetall("t:device:dev1");
  auto again = token_device("dev1");
  again.username = "someone-else";
  EXPECT_EQ(ctl::device_add(*ctx_, again).status, ctl::OpStatus::kAlreadyExists);
  EXPECT_EQ(hgetall("t:device:dev1"), before);

  auto bad_auth = token_device("x");
  bad_auth.auth = "password";
  EXPECT_EQ(ctl::device_add(*ctx_, bad_auth).status, ctl::OpStatus::kInvalidArgument);
  auto reserved = token_device("y");
  reserved.labels = {{"secret", "plain"}};
  EXPECT_EQ(ctl::device_add(*ctx_, reserved).status, ctl::OpStatus::kInvalidArgument);
  EXPECT_EQ(ctl::device_add(*ctx_, token_device("has space")).status,
            ctl::OpStatus::kInvalidArgument);
  auto no_user = token_device("z");
  no_user.username.clear();
  EXPECT_EQ(ctl::device_add(*ctx_, no_user).status, ctl::OpStatus::kInvalidArgument);
  EXPECT_EQ(client_->command({"EXISTS", "t:device:x", "t:device:y", "t:device:z"}).integer(), 0);
}

TEST_F(CtlDeviceOps, GetWithholdsSecretAndListsCerts) {
  auto request = token_device("dev1");
  request.labels = {{"tenant", "acme"}};
  ASSERT_TRUE(ctl::device_add(*ctx_, request).ok());
  client_->command({"SADD", "t:device:dev1:certs", "bbb", "aaa"});
  auto got = ctl::device_get(*ctx_, "dev1");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_TRUE(got.value.secret_set);
  for (const auto& [name, value] : got.value.fields) EXPECT_NE(name, "secret");
  EXPECT_EQ(got.value.fields.size(), 4u);
  EXPECT_EQ(got.value.certs, (std::vector<std::string>{"aaa", "bbb"}));
  EXPECT_EQ(ctl::device_get(*ctx_, "nope").status, ctl::OpStatus::kNotFound);
}

TEST_F(CtlDeviceOps, ListMatchesPrefixAndSkipsReverseIndexSets) {
  for (const char* id : {"dev-a", "dev-b", "other"}) {
    ASSERT_TRUE(ctl::device_add(*ctx_, token_device(id)).ok());
  }
  ASSERT_TRUE(ctl::device_set_enabled(*ctx_, "dev-b", false).ok());
  client_->command({"SADD", "t:device:dev-a:certs", "c1"});
  client_->command({"HSET", "other:device:dev-x", "username", "u"});  // another prefix

  auto all = ctl::device_list(*ctx_, "");
  ASSERT_TRUE(all.ok()) << all.message;
  ASSERT_EQ(all.value.size(), 3u);
  EXPECT_EQ(all.value[0].id, "dev-a");
  EXPECT_EQ(all.value[2].id, "other");

  auto matched = ctl::device_list(*ctx_, "dev-");
  ASSERT_TRUE(matched.ok());
  ASSERT_EQ(matched.value.size(), 2u);
  EXPECT_EQ(matched.value[0].id, "dev-a");
  EXPECT_EQ(matched.value[0].username, "user-dev-a");
  EXPECT_EQ(matched.value[0].auth, "token");
  EXPECT_TRUE(matched.value[0].enabled);
  EXPECT_EQ(matched.value[1].id, "dev-b");
  EXPECT_FALSE(matched.value[1].enabled);

  EXPECT_TRUE(ctl::device_list(*ctx_, "dev*").value.empty());  // glob characters are literal
}

TEST_F(CtlDeviceOps, EnableAndDisableWriteTheField) {
  ASSERT_TRUE(ctl::device_add(*ctx_, token_device("dev1")).ok());
  ASSERT_TRUE(ctl::device_set_enabled(*ctx_, "dev1", false).ok());
  EXPECT_EQ(client_->command({"HGET", "t:device:dev1", "enabled"}).str(), "0");
  ASSERT_TRUE(ctl::device_set_enabled(*ctx_, "dev1", true).ok());
  EXPECT_EQ(client_->command({"HGET", "t:device:dev1", "enabled"}).str(), "1");
  EXPECT_EQ(ctl::device_set_enabled(*ctx_, "ghost", true).status, ctl::OpStatus::kNotFound);
  EXPECT_EQ(client_->command({"EXISTS", "t:device:ghost"}).integer(), 0);
}

TEST_F(CtlDeviceOps, DeleteRemovesDeviceFromEveryBoundCert) {
  auto cam = token_device("cam");
  cam.auth = "cert";
  ASSERT_TRUE(ctl::device_add(*ctx_, cam).ok());
  cam.id = "cam2";
  ASSERT_TRUE(ctl::device_add(*ctx_, cam).ok());
  for (const char* cert : {"c1", "c2"}) {
    ASSERT_TRUE(ctl::cert_register(*ctx_, {cert, std::string("name-") + cert, true, "cn", 1}).ok());
    ASSERT_TRUE(ctl::cert_bind(*ctx_, cert, {"cam", "cam2"}).ok());
  }
  ASSERT_TRUE(ctl::device_delete(*ctx_, "cam").ok());
  EXPECT_EQ(client_->command({"EXISTS", "t:device:cam", "t:device:cam:certs"}).integer(), 0);
  EXPECT_EQ(smembers("t:cert:c1:devices"), (std::vector<std::string>{"cam2"}));
  EXPECT_EQ(smembers("t:cert:c2:devices"), (std::vector<std::string>{"cam2"}));
  EXPECT_EQ(ctl::device_delete(*ctx_, "cam").status, ctl::OpStatus::kNotFound);
}

TEST_F(CtlDeviceOps, SetKeyReplacesSecret) {
  auto request = token_device("dev1");
  request.key = "old-key";
  ASSERT_TRUE(ctl::device_add(*ctx_, request).ok());
  auto given = ctl::device_set_key(*ctx_, "dev1", std::string("new-key"));
  ASSERT_TRUE(given.ok()) << given.message;
  EXPECT_TRUE(given.value.generated_key.empty());
  std::string secret(client_->command({"HGET", "t:device:dev1", "secret"}).str());
  EXPECT_EQ(auth::verify_secret(secret, bytes("new-key"), false), auth::VerifyResult::kMatch);
  EXPECT_EQ(auth::verify_secret(secret, bytes("old-key"), false), auth::VerifyResult::kMismatch);

  auto generated = ctl::device_set_key(*ctx_, "dev1", std::nullopt);
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ(generated.value.generated_key.size(), 32u);
  secret = std::string(client_->command({"HGET", "t:device:dev1", "secret"}).str());
  EXPECT_EQ(auth::verify_secret(secret, bytes(generated.value.generated_key), false),
            auth::VerifyResult::kMatch);

  EXPECT_EQ(ctl::device_set_key(*ctx_, "ghost", std::nullopt).status, ctl::OpStatus::kNotFound);
  auto cam = token_device("cam");
  cam.auth = "cert";
  ASSERT_TRUE(ctl::device_add(*ctx_, cam).ok());
  EXPECT_EQ(ctl::device_set_key(*ctx_, "cam", std::string("k")).status, ctl::OpStatus::kRefused);
  EXPECT_EQ(client_->command({"HEXISTS", "t:device:cam", "secret"}).integer(), 0);
}

TEST_F(CtlDeviceOps, EveryChangeIsPublished) {
  ChangeListener listener(port(), "t:changes");
  ASSERT_TRUE(ctl::device_add(*ctx_, token_device("dev1")).ok());
  ASSERT_TRUE(ctl::device_set_enabled(*ctx_, "dev1", false).ok());
  ASSERT_TRUE(ctl::device_set_key(*ctx_, "dev1", std::nullopt).ok());
  ASSERT_TRUE(ctl::device_delete(*ctx_, "dev1").ok());
  EXPECT_EQ(ctl::device_delete(*ctx_, "dev1").status, ctl::OpStatus::kNotFound);  // no publish
  EXPECT_EQ(listener.collect(5, std::chrono::milliseconds(500)),
            (std::vector<std::string>(4, "device dev1")));
}

}  // namespace
}  // namespace ctl_test
