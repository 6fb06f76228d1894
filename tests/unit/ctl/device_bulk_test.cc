// tests/unit/ctl/device_bulk_test.cc: `device bulk-add`, the benchmark fixture, on a real
// redis-server: every record is a working token device, the hash is shared, the list file
// matches, and taken IDs stop it before anything is written.
#include "ctl/device_bulk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <span>
#include <sstream>

#include "auth/secret.h"
#include "ctl/device_ops.h"
#include "redis_test_server.h"

namespace ctl_test {
namespace {

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

class CtlDeviceBulk : public CtlRedisFixture {};

TEST_F(CtlDeviceBulk, WritesTokenDevicesSharingOneHash) {
  ctl::BulkAddRequest request;
  request.count = 25;
  request.id_prefix = "b-";
  request.key = "shared-key";
  request.batch = 7;  // several partial batches
  ChangeListener changes(port(), "t:changes");
  auto added = ctl::device_bulk_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  ASSERT_EQ(added.value.devices.size(), 25u);
  EXPECT_EQ(added.value.key, "shared-key");
  EXPECT_EQ(added.value.devices[24].id, "b-24");
  EXPECT_EQ(added.value.devices[24].username, "b-24");

  std::string first_secret;
  for (int i = 0; i < 25; ++i) {
    auto fields = hgetall("t:device:b-" + std::to_string(i));
    ASSERT_EQ(fields.size(), 4u) << i;
    EXPECT_EQ(fields[0], (std::pair<std::string, std::string>{"auth", "token"}));
    EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"enabled", "1"}));
    EXPECT_EQ(fields[3].second, "b-" + std::to_string(i));
    if (i == 0) first_secret = fields[2].second;
    EXPECT_EQ(fields[2].second, first_secret);
  }
  EXPECT_EQ(auth::verify_secret(first_secret, bytes("shared-key"), false),
            auth::VerifyResult::kMatch);
  auto messages = changes.collect(25);
  ASSERT_EQ(messages.size(), 25u);
  EXPECT_EQ(messages[0], "device b-0");
  // The records read back like any other device.
  auto got = ctl::device_get(*ctx_, "b-3");
  ASSERT_TRUE(got.ok()) << got.message;
  EXPECT_TRUE(got.value.secret_set);
}

TEST_F(CtlDeviceBulk, GeneratesKeyAndUsernamePrefix) {
  ctl::BulkAddRequest request;
  request.count = 3;
  request.id_prefix = "d";
  request.username_prefix = "u";
  auto added = ctl::device_bulk_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  EXPECT_EQ(added.value.key.size(), 32u);
  EXPECT_EQ(added.value.devices[2].username, "u2");
  EXPECT_EQ(std::string(client_->command({"HGET", "t:device:d2", "username"}).str()), "u2");
}

TEST_F(CtlDeviceBulk, RefusesWhenAnyIdIsTakenAndWritesNothing) {
  client_->command({"HSET", "t:device:x-5", "username", "other", "auth", "token"});
  ctl::BulkAddRequest request;
  request.count = 10;
  request.id_prefix = "x-";
  request.batch = 4;
  auto added = ctl::device_bulk_add(*ctx_, request);
  EXPECT_EQ(added.status, ctl::OpStatus::kAlreadyExists);
  EXPECT_NE(added.message.find("x-5"), std::string::npos);
  EXPECT_EQ(client_->command({"EXISTS", "t:device:x-0"}).integer(), 0);
  EXPECT_EQ(client_->command({"EXISTS", "t:device:x-9"}).integer(), 0);
  // The connection is still in step after the refusal.
  EXPECT_EQ(std::string(client_->command({"PING"}).str()), "PONG");
}

TEST_F(CtlDeviceBulk, RejectsBadArguments) {
  ctl::BulkAddRequest request;
  request.id_prefix = "y";
  EXPECT_EQ(ctl::device_bulk_add(*ctx_, request).status, ctl::OpStatus::kInvalidArgument);
  request.count = 2;
  request.id_prefix = "has space";
  EXPECT_EQ(ctl::device_bulk_add(*ctx_, request).status, ctl::OpStatus::kInvalidArgument);
  request.id_prefix = "y";
  request.key = "two words";
  EXPECT_EQ(ctl::device_bulk_add(*ctx_, request).status, ctl::OpStatus::kInvalidArgument);
}

TEST_F(CtlDeviceBulk, DeviceListFileIsPrivateAndParsable) {
  ctl::BulkAddRequest request;
  request.count = 4;
  request.id_prefix = "f";
  request.key = "k1";
  auto added = ctl::device_bulk_add(*ctx_, request);
  ASSERT_TRUE(added.ok()) << added.message;
  std::string path = ::testing::TempDir() + "/bulk_devices.txt";
  ::unlink(path.c_str());
  { std::ofstream(path) << "old\n"; }
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(ctl::write_device_list(path, added.value).ok());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "f0 f0 k1\nf1 f1 k1\nf2 f2 k1\nf3 f3 k1\n");
  EXPECT_EQ(ctl::write_device_list("/nonexistent-dir/x", added.value).status,
            ctl::OpStatus::kIoError);
}

}  // namespace
}  // namespace ctl_test
