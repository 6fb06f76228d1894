#include <gtest/gtest.h>

#include <map>
#include <string>

#include "config/template.h"

namespace {

using config::Template;

std::optional<std::string_view> lookup_in(const std::map<std::string, std::string>& values,
                                          std::string_view name) {
  auto it = values.find(std::string(name));
  if (it == values.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::string expand(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string error;
  std::optional<Template> t = Template::parse(text, &error);
  EXPECT_TRUE(t.has_value()) << text << ": " << error;
  if (!t) return "<parse error>";
  return t->expand([&](std::string_view name) { return lookup_in(values, name); });
}

std::string parse_error(std::string_view text) {
  std::string error;
  std::optional<Template> t = Template::parse(text, &error);
  EXPECT_FALSE(t.has_value()) << text;
  return error;
}

const std::map<std::string, std::string> kValues = {
    {"client_id", "dev-1"},      {"device_id", "dev-1"},       {"username", "alice"},
    {"listener", "token"},       {"cert_id", "ab12"},          {"cert_cn", "Device One"},
    {"device.tenant", "acme"},   {"device.product-line", "x9"}, {"device.Zone_2", "eu"},
};

TEST(ConfigTemplate, ExpandsEveryVariable) {
  EXPECT_EQ(expand("${client_id}|${device_id}|${username}|${listener}|${cert_id}|${cert_cn}",
                   kValues),
            "dev-1|dev-1|alice|token|ab12|Device One");
}

TEST(ConfigTemplate, ExpandsDeviceFields) {
  EXPECT_EQ(expand("${device.tenant}/${client_id}", kValues), "acme/dev-1");
  EXPECT_EQ(expand("${device.product-line}-${device.Zone_2}", kValues), "x9-eu");
}

TEST(ConfigTemplate, MissingVariableExpandsToEmpty) {
  EXPECT_EQ(expand("[${device.missing}]", kValues), "[]");
  EXPECT_EQ(expand("a${cert_cn}b", {}), "ab");
}

TEST(ConfigTemplate, NullLookupExpandsVariablesToEmpty) {
  std::string error;
  std::optional<Template> t = Template::parse("x${client_id}y", &error);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->expand(nullptr), "xy");
}

TEST(ConfigTemplate, DoubleDollarIsLiteralDollar) {
  EXPECT_EQ(expand("$$", kValues), "$");
  EXPECT_EQ(expand("$${client_id}", kValues), "${client_id}");
  EXPECT_EQ(expand("$$$${client_id}", kValues), "$${client_id}");
  EXPECT_EQ(expand("$$${client_id}", kValues), "$dev-1");
  EXPECT_EQ(expand("cost$$5", kValues), "cost$5");
}

TEST(ConfigTemplate, LoneDollarIsLiteral) {
  EXPECT_EQ(expand("a$b", kValues), "a$b");
  EXPECT_EQ(expand("end$", kValues), "end$");
  EXPECT_EQ(expand("}{$", kValues), "}{$");
}

TEST(ConfigTemplate, LiteralOnlyAndEmpty) {
  EXPECT_EQ(expand("plain text", kValues), "plain text");
  std::string error;
  std::optional<Template> t = Template::parse("", &error);
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->source(), "");
  EXPECT_EQ(t->expand(nullptr), "");
}

TEST(ConfigTemplate, KeepsSource) {
  std::string error;
  std::optional<Template> t = Template::parse("${device.tenant}/$$", &error);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->source(), "${device.tenant}/$$");
  EXPECT_FALSE(t->empty());
}

TEST(ConfigTemplate, VariableFactoryMatchesParse) {
  Template t = Template::variable("device_id");
  EXPECT_EQ(t.source(), "${device_id}");
  EXPECT_EQ(t.expand([](std::string_view name) { return lookup_in(kValues, name); }), "dev-1");
}

TEST(ConfigTemplate, UnterminatedVariable) {
  EXPECT_NE(parse_error("${client_id").find("unterminated"), std::string::npos);
  EXPECT_NE(parse_error("abc${").find("unterminated"), std::string::npos);
  EXPECT_NE(parse_error("abc${").find("offset 3"), std::string::npos);
}

TEST(ConfigTemplate, EmptyVariable) {
  EXPECT_NE(parse_error("x${}").find("empty variable"), std::string::npos);
}

TEST(ConfigTemplate, UnknownVariables) {
  for (std::string_view text : {"${clientid}", "${device}", "${device.}", "${device.a b}",
                                "${device.a.b}", "${ client_id }", "${CLIENT_ID}",
                                "${device.tenant$}", "${password}"}) {
    std::string error = parse_error(text);
    EXPECT_NE(error.find("unknown variable"), std::string::npos) << text << ": " << error;
  }
  EXPECT_NE(parse_error("${foo}").find("${foo}"), std::string::npos);
}

TEST(ConfigTemplate, ValidVariableNames) {
  EXPECT_TRUE(Template::is_valid_variable("cert_cn"));
  EXPECT_TRUE(Template::is_valid_variable("device.a-B_9"));
  EXPECT_FALSE(Template::is_valid_variable("device."));
  EXPECT_FALSE(Template::is_valid_variable("device.x/y"));
  EXPECT_FALSE(Template::is_valid_variable(""));
}

}  // namespace
