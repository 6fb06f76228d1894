// The `changes` channel message format.
#include "auth/change_feed.h"

#include <gtest/gtest.h>

namespace auth {
namespace {

TEST(AuthChangeFeed, ParsesTheThreeKinds) {
  ChangeKind kind;
  std::string id;
  ASSERT_TRUE(parse_change("device dev-1", &kind, &id));
  EXPECT_EQ(kind, ChangeKind::kDevice);
  EXPECT_EQ(id, "dev-1");
  ASSERT_TRUE(parse_change("cert 0a1b", &kind, &id));
  EXPECT_EQ(kind, ChangeKind::kCert);
  EXPECT_EQ(id, "0a1b");
  ASSERT_TRUE(parse_change("kick a b", &kind, &id));
  EXPECT_EQ(kind, ChangeKind::kKick);
  EXPECT_EQ(id, "a b");  // IDs may contain spaces: everything after the first one
}

TEST(AuthChangeFeed, RejectsAnythingElse) {
  ChangeKind kind;
  std::string id;
  for (const char* bad : {"", "device", "device ", "devices x", "DEVICE x", " device x", "cert"}) {
    EXPECT_FALSE(parse_change(bad, &kind, &id)) << bad;
  }
}

}  // namespace
}  // namespace auth
