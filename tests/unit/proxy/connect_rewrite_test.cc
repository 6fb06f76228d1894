// The CONNECT forwarded to the broker.
#include "proxy/connect_rewrite.h"

#include <gtest/gtest.h>

#include "proxy/abuse_guard.h"

namespace proxy {
namespace {

config::Template parse(const char* text) {
  std::string error;
  auto t = config::Template::parse(text, &error);
  EXPECT_TRUE(t.has_value()) << error;
  return t.value_or(config::Template());
}

mqttparse::ConnectPacket device_connect() {
  mqttparse::ConnectPacket c;
  c.version = mqttparse::ProtocolVersion::kV5;
  c.client_id = "dev-1";
  c.username = "alice";
  c.password = std::vector<uint8_t>{'k', 'e', 'y'};
  c.keep_alive = 30;
  c.will = true;
  c.will_topic = "last/will";
  c.will_payload = {1, 2, 3};
  c.properties = {0x11, 0, 0, 0, 60};  // session expiry 60
  return c;
}

TEST(ProxyConnectRewrite, DefaultsForwardDeviceIdAsUsernameWithoutPassword) {
  config::RewriteConfig rewrite;  // ${client_id}, ${device_id}, ""
  auth::DeviceRecord device;
  RewriteVariables vars{"token", &device, nullptr};
  mqttparse::ConnectPacket out = rewrite_connect(device_connect(), rewrite, vars);
  EXPECT_EQ(out.client_id, "dev-1");
  ASSERT_TRUE(out.username.has_value());
  EXPECT_EQ(*out.username, "dev-1");
  EXPECT_FALSE(out.password.has_value());
  // Everything else untouched.
  EXPECT_EQ(out.keep_alive, 30);
  EXPECT_TRUE(out.will);
  EXPECT_EQ(out.will_topic, "last/will");
  EXPECT_EQ(out.properties, device_connect().properties);
}

TEST(ProxyConnectRewrite, TemplatesSeeDeviceFieldsListenerAndCertificate) {
  config::RewriteConfig rewrite;
  rewrite.client_id = parse("${device.tenant}:${client_id}");
  rewrite.username = parse("${listener}-${username}");
  rewrite.password = parse("${cert_cn}/${cert_id}");
  auth::DeviceRecord device;
  device.found = true;
  device.fields = {{"tenant", "acme"}};
  auth::PeerCertificate cert{"abcd", "device-cn", 0};
  RewriteVariables vars{"cert", &device, &cert};
  mqttparse::ConnectPacket out = rewrite_connect(device_connect(), rewrite, vars);
  EXPECT_EQ(out.client_id, "acme:dev-1");
  EXPECT_EQ(*out.username, "cert-alice");
  std::string password(out.password->begin(), out.password->end());
  EXPECT_EQ(password, "device-cn/abcd");
}

TEST(ProxyConnectRewrite, EmptyUsernameDropsPasswordToo) {
  config::RewriteConfig rewrite;
  rewrite.username = parse("${device.missing}");
  rewrite.password = parse("secret");
  auth::DeviceRecord device;
  RewriteVariables vars{"token", &device, nullptr};
  mqttparse::ConnectPacket out = rewrite_connect(device_connect(), rewrite, vars);
  EXPECT_FALSE(out.username.has_value());
  EXPECT_FALSE(out.password.has_value());
  EXPECT_FALSE(mqttparse::encode_connect(out).empty());
}

TEST(ProxyAbuseGuard, IpOfStripsPortAndBrackets) {
  EXPECT_EQ(ip_of("127.0.0.2:5555"), "127.0.0.2");
  EXPECT_EQ(ip_of("[::1]:443"), "::1");
  EXPECT_EQ(ip_of("unknown"), "unknown");
}

TEST(ProxyAbuseGuard, BansPerIpAndPerDeviceIndependently) {
  config::LimitsConfig limits;
  limits.auth_failures.max_per_ip = 3;
  limits.auth_failures.max_per_device = 2;
  AbuseGuard guard(limits);
  guard.record_failure("10.0.0.1", "dev-a");
  EXPECT_FALSE(guard.banned("10.0.0.1", "dev-a"));
  guard.record_failure("10.0.0.2", "dev-a");  // second failure for dev-a from elsewhere
  EXPECT_TRUE(guard.banned("10.0.0.9", "dev-a"));   // the device is banned from anywhere
  EXPECT_FALSE(guard.banned("10.0.0.1", "dev-b"));  // the IP is not (2 < 3)
  guard.record_failure("10.0.0.1", "dev-c");
  guard.record_failure("10.0.0.1", "dev-d");
  EXPECT_TRUE(guard.banned("10.0.0.1", "dev-z"));
  EXPECT_EQ(guard.bans_started(), 2u);
}

}  // namespace
}  // namespace proxy
