// tests/unit/admin/http_paths_test.cc: path splitting and decoding, token checks, and the
// dispatch decisions that need no Redis (console page, 401, 404).
#include <gtest/gtest.h>

#include <span>

#include "admin/http_server.h"
#include "admin/routes.h"
#include "auth/secret.h"

namespace admin_test {
namespace {

TEST(AdminPaths, SplitAndDecode) {
  EXPECT_EQ(admin::split_path("/api/devices/a%2Fb"),
            (std::vector<std::string>{"api", "devices", "a/b"}));
  EXPECT_EQ(admin::split_path("/"), std::vector<std::string>{});
  EXPECT_EQ(admin::split_path("/api//certs/"), (std::vector<std::string>{"api", "certs"}));
  EXPECT_EQ(admin::split_path("/api/x%2"), std::nullopt);
  EXPECT_EQ(admin::split_path("/api/x%zz"), std::nullopt);
  EXPECT_EQ(admin::split_path("api"), std::nullopt);
  EXPECT_EQ(admin::percent_decode("a+b%20c", true), "a b c");
  EXPECT_EQ(admin::percent_decode("a+b", false), "a+b");
}

TEST(AdminPaths, LabelNames) {
  EXPECT_TRUE(admin::valid_label_name("tenant"));
  EXPECT_TRUE(admin::valid_label_name("a.b-c_1"));
  EXPECT_FALSE(admin::valid_label_name(""));
  EXPECT_FALSE(admin::valid_label_name("a b"));
  EXPECT_FALSE(admin::valid_label_name(std::string(65, 'a')));
}

class AdminDispatch : public ::testing::Test {
 protected:
  AdminDispatch()
      : server_(admin::AdminSettings{},
                admin::TokenAuth({{"ops", auth::hash_secret_mosquitto("s3cret")},
                                  {"ci", auth::hash_secret_mosquitto("other")}})) {}
  admin::HttpResponse get(const std::string& path, const std::string& authorization) {
    admin::HttpRequest request;
    request.method = "GET";
    last_ = request;
    auto response = server_.dispatch(last_, path, authorization);
    return response;
  }
  admin::HttpServer server_;
  admin::HttpRequest last_;
};

TEST_F(AdminDispatch, TokensAreCheckedAndOnlyTheirNameIsKept) {
  admin::TokenAuth tokens({{"ops", auth::hash_secret_mosquitto("s3cret")}});
  EXPECT_EQ(tokens.authenticate("Bearer s3cret"), "ops");
  EXPECT_EQ(tokens.authenticate("Bearer wrong"), std::nullopt);
  EXPECT_EQ(tokens.authenticate("Basic s3cret"), std::nullopt);
  EXPECT_EQ(tokens.authenticate("Bearer "), std::nullopt);
  EXPECT_EQ(tokens.authenticate(""), std::nullopt);
}

TEST_F(AdminDispatch, ConsoleIsPublicApiNeedsToken) {
  auto page = get("/", "");
  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("<script>"), std::string::npos);
  EXPECT_EQ(page.body.find("src=\"http"), std::string::npos);  // no external assets

  auto denied = get("/api/devices", "");
  EXPECT_EQ(denied.status, 401u);
  EXPECT_TRUE(last_.token_name.empty());
  EXPECT_EQ(get("/api/devices", "Bearer nope").status, 401u);
  EXPECT_EQ(get("/nothing", "").status, 404u);
  EXPECT_EQ(get("/api/nothing", "Bearer other").status, 404u);
  EXPECT_EQ(last_.token_name, "ci");
  EXPECT_EQ(get("/api/x%zz", "Bearer other").status, 400u);
}

}  // namespace
}  // namespace admin_test
