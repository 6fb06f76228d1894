// tests/unit/admin/json_body_test.cc: request body parsing and the 400s that name a field.
#include "admin/json_body.h"

#include <gtest/gtest.h>

namespace admin_test {
namespace {

std::string field_of(const admin::JsonBody& body) {
  auto json = nlohmann::json::parse(body.error().body);
  return json.value("field", "");
}

TEST(AdminJsonBody, TypedGettersAndDefaults) {
  admin::JsonBody body(R"({"name":"a\u00e9","enabled":false,"days":30,"devices":["d1","d2"]})");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body.string("name", true, 10), "a\xc3\xa9");
  EXPECT_EQ(body.boolean("enabled", true), false);
  EXPECT_EQ(body.integer("days", false, 1, 3650), 30);
  EXPECT_EQ(body.id_list("devices", 10), (std::vector<std::string>{"d1", "d2"}));
  EXPECT_EQ(body.string("missing", false, 10), std::nullopt);
  EXPECT_TRUE(body.ok());
}

TEST(AdminJsonBody, WrongTypesNameTheField) {
  struct Case {
    const char* text;
    const char* field;
  };
  for (const Case& c : {Case{R"({"name":1})", "name"}, Case{R"({"enabled":"yes"})", "enabled"},
                        Case{R"({"days":1.5})", "days"}, Case{R"({"days":0})", "days"},
                        Case{R"({"devices":[]})", "devices"},
                        Case{R"({"devices":["has space"]})", "devices"}}) {
    admin::JsonBody body(c.text);
    ASSERT_TRUE(body.ok()) << c.text;
    body.string("name", false, 10);
    body.boolean("enabled", false);
    body.integer("days", false, 1, 10);
    if (body.has("devices")) body.id_list("devices", 10);
    ASSERT_FALSE(body.ok()) << c.text;
    EXPECT_EQ(body.error().status, 400u);
    EXPECT_EQ(field_of(body), c.field) << c.text;
  }
}

TEST(AdminJsonBody, RequiredEmptyAndOversizedStrings) {
  admin::JsonBody missing("{}");
  missing.string("id", true, 10);
  EXPECT_EQ(field_of(missing), "id");
  admin::JsonBody empty(R"({"id":""})");
  empty.string("id", true, 10);
  EXPECT_FALSE(empty.ok());
  admin::JsonBody big(R"({"id":"0123456789a"})");
  big.string("id", true, 10);
  EXPECT_FALSE(big.ok());
}

TEST(AdminJsonBody, RejectsNonObjectsBadJsonAndDeepNesting) {
  for (const char* text : {"[]", "\"x\"", "{", "{\"a\":}", "", "{\"a\":1} x", "{'a':1}"}) {
    admin::JsonBody body(text);
    EXPECT_FALSE(body.ok()) << text;
    EXPECT_EQ(field_of(body), "body");
  }
  std::string deep = std::string(17, '[') + std::string(17, ']');
  EXPECT_FALSE(admin::json_depth_ok(deep, 16));
  EXPECT_TRUE(admin::json_depth_ok(std::string(16, '[') + std::string(16, ']'), 16));
  // Brackets inside strings do not count.
  EXPECT_TRUE(admin::json_depth_ok("{\"a\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}", 2));
  admin::JsonBody nested("{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}");
  EXPECT_FALSE(nested.ok());
}

}  // namespace
}  // namespace admin_test
