// tests/unit/ctl/device_update_test.cc: device_update (username and labels) on a real
// redis-server.
#include <gtest/gtest.h>

#include "ctl/device_ops.h"
#include "redis_test_server.h"

namespace ctl_test {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

class CtlDeviceUpdate : public CtlRedisFixture {
 protected:
  void add(const std::string& id) {
    ctl::DeviceAddRequest request;
    request.id = id;
    request.username = "u-" + id;
    request.auth = "cert";
    request.labels = {{"tenant", "acme"}, {"product", "meter"}};
    ASSERT_TRUE(ctl::device_add(*ctx_, request).ok());
  }
};

TEST_F(CtlDeviceUpdate, ChangesUsernameSetsAndRemovesLabelsAndPublishes) {
  add("d1");
  ChangeListener listener(port(), "t:changes");
  ctl::DeviceUpdate update;
  update.username = "new-user";
  update.set_labels = {{"tenant", "other"}, {"protocol", "v5"}};
  update.remove_labels = {"product"};
  auto updated = ctl::device_update(*ctx_, "d1", update);
  ASSERT_TRUE(updated.ok()) << updated.message;
  EXPECT_EQ(hgetall("t:device:d1"), (Pairs{{"auth", "cert"},
                                           {"enabled", "1"},
                                           {"protocol", "v5"},
                                           {"tenant", "other"},
                                           {"username", "new-user"}}));
  EXPECT_EQ(listener.collect(1), std::vector<std::string>{"device d1"});
}

TEST_F(CtlDeviceUpdate, RefusesUnknownDeviceReservedLabelsAndEmptyUsername) {
  add("d2");
  ctl::DeviceUpdate update;
  update.username = "x";
  EXPECT_EQ(ctl::device_update(*ctx_, "missing", update).status, ctl::OpStatus::kNotFound);
  EXPECT_FALSE(client_->command({"EXISTS", "t:device:missing"}).integer());

  ctl::DeviceUpdate reserved;
  reserved.set_labels = {{"secret", "x"}};
  EXPECT_EQ(ctl::device_update(*ctx_, "d2", reserved).status, ctl::OpStatus::kInvalidArgument);
  ctl::DeviceUpdate remove_reserved;
  remove_reserved.remove_labels = {"enabled"};
  EXPECT_EQ(ctl::device_update(*ctx_, "d2", remove_reserved).status,
            ctl::OpStatus::kInvalidArgument);
  ctl::DeviceUpdate empty_user;
  empty_user.username = "";
  EXPECT_EQ(ctl::device_update(*ctx_, "d2", empty_user).status, ctl::OpStatus::kInvalidArgument);
  EXPECT_EQ(hgetall("t:device:d2").size(), 5u);  // untouched
}

}  // namespace
}  // namespace ctl_test
