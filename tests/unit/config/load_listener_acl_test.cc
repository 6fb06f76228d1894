// listeners[]: proxy_protocol with trusted_proxies, mountpoint, acl, acl_default,
// acl_deny_v3. listener_with() puts its lines inside the only listener, from line 6.
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace {

using config::AclAccess;
using config::AclAction;
using config_test::load;

std::string listener_with(std::string_view lines) {
  return "listeners:\n"
         "  - name: token\n"
         "    bind: \"0.0.0.0:8883\"\n"
         "    auth: token\n"
         "    tls: {cert: server.crt, key: server.key}\n" +
         std::string(lines) +
         "backend:\n"
         "  servers: [\"127.0.0.1:1883\"]\n";
}

const config::ListenerConfig& only_listener(const config::LoadResult& r) {
  static const config::ListenerConfig kEmpty;
  if (!r.config || r.config->listeners.size() != 1) {
    ADD_FAILURE() << config_test::all_errors(r);
    return kEmpty;
  }
  return r.config->listeners[0];
}

TEST(ConfigListenerExtras, Defaults) {
  config::LoadResult r = load(listener_with(""));
  const config::ListenerConfig& l = only_listener(r);
  EXPECT_EQ(l.proxy_protocol, config::ProxyProtocol::kOff);
  EXPECT_TRUE(l.trusted_proxies.empty());
  EXPECT_TRUE(l.mountpoint.empty());
  EXPECT_TRUE(l.acl.empty());
  EXPECT_EQ(l.acl_default, AclAction::kAllow);
  EXPECT_EQ(l.acl_deny_v3, config::AclDenyV3::kDisconnect);
}

TEST(ConfigListenerExtras, ProxyProtocolWithTrustedProxies) {
  config::LoadResult r = load(listener_with(R"(    proxy_protocol: v2
    trusted_proxies: ["10.0.0.0/8", "::1/128", "127.0.0.1"]
)"));
  const config::ListenerConfig& l = only_listener(r);
  EXPECT_EQ(l.proxy_protocol, config::ProxyProtocol::kV2);
  ASSERT_EQ(l.trusted_proxies.size(), 3u);
  EXPECT_EQ(l.trusted_proxies[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(l.trusted_proxies[1].to_string(), "::1/128");
  EXPECT_EQ(l.trusted_proxies[2].to_string(), "127.0.0.1/32");
  EXPECT_TRUE(r.warnings.empty());

  r = load(listener_with("    proxy_protocol: v1\n    trusted_proxies:\n      - 192.168.0.0/16\n"));
  EXPECT_EQ(only_listener(r).proxy_protocol, config::ProxyProtocol::kV1);
  EXPECT_EQ(only_listener(r).trusted_proxies.size(), 1u);
  EXPECT_EQ(only_listener(load(listener_with("    proxy_protocol: off\n"))).proxy_protocol,
            config::ProxyProtocol::kOff);
}

TEST(ConfigListenerExtras, ProxyProtocolNeedsTrustedProxies) {
  // Missing: blamed on the listener's line with the key it lacks.
  EXPECT_ONLY_ERROR(load(listener_with("    proxy_protocol: v1\n")),
                    "listeners[0].trusted_proxies", 2, "is required when proxy_protocol");
  EXPECT_ONLY_ERROR(load(listener_with("    proxy_protocol: v2\n    trusted_proxies: []\n")),
                    "listeners[0].trusted_proxies", 7, "must not be empty");
  EXPECT_ONLY_ERROR(load(listener_with("    proxy_protocol: v3\n")),
                    "listeners[0].proxy_protocol", 6, "expected off, v1 or v2");

  config::LoadResult r = load(listener_with(R"(    proxy_protocol: v2
    trusted_proxies:
      - 10.0.0.0/8
      - lb.internal
      - 10.0.0.1/8
      - ""
)"));
  EXPECT_EQ(r.errors.size(), 3u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].trusted_proxies[1]", 9,
                                     "is not an IP network"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].trusted_proxies[2]", 10,
                                     "did you mean \"10.0.0.0/8\""));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].trusted_proxies[3]", 11,
                                     "must not be empty"));
  EXPECT_ONLY_ERROR(load(listener_with("    proxy_protocol: v2\n    trusted_proxies: 10.0.0.0/8\n")),
                    "listeners[0].trusted_proxies", 7, "must be a list");
}

TEST(ConfigListenerExtras, TrustedProxiesWithoutProxyProtocolIsAWarning) {
  config::LoadResult r = load(listener_with("    trusted_proxies: [\"10.0.0.0/8\"]\n"));
  ASSERT_TRUE(r.config.has_value()) << config_test::all_errors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].key, "listeners[0].trusted_proxies");
  EXPECT_EQ(r.warnings[0].line, 6);
  EXPECT_NE(r.warnings[0].message.find("proxy_protocol is off"), std::string::npos);
}

TEST(ConfigListenerExtras, Mountpoint) {
  config::LoadResult r = load(listener_with("    mountpoint: \"tenants/${device.tenant}/\"\n"));
  EXPECT_EQ(only_listener(r).mountpoint.source(), "tenants/${device.tenant}/");
  EXPECT_TRUE(only_listener(load(listener_with("    mountpoint: \"\"\n"))).mountpoint.empty());

  EXPECT_ONLY_ERROR(load(listener_with("    mountpoint: \"a/+/\"\n")), "listeners[0].mountpoint",
                    6, "wildcards");
  EXPECT_ONLY_ERROR(load(listener_with("    mountpoint: \"a/#\"\n")), "listeners[0].mountpoint",
                    6, "wildcards");
  EXPECT_ONLY_ERROR(load(listener_with("    mountpoint: \"${tenant}/\"\n")),
                    "listeners[0].mountpoint", 6, "unknown variable");
}

TEST(ConfigListenerExtras, AclRuleForms) {
  config::LoadResult r = load(listener_with(R"(    acl:
      - {allow: publish, topic: "devices/${device_id}/#"}
      - {allow: subscribe, topic: "cmd/${client_id}/+"}
      - {deny: all, topic: "$SYS/#"}
      - deny: publish
        topic: "#"
      - {allow: all, topic: "+/status"}
      - {allow: all, topic: "a/$${literal}/b"}
    acl_default: deny
    acl_deny_v3: drop
)"));
  const config::ListenerConfig& l = only_listener(r);
  ASSERT_EQ(l.acl.size(), 6u);
  EXPECT_EQ(l.acl[0].action, AclAction::kAllow);
  EXPECT_EQ(l.acl[0].access, AclAccess::kPublish);
  EXPECT_EQ(l.acl[0].topic.source(), "devices/${device_id}/#");
  EXPECT_EQ(l.acl[1].access, AclAccess::kSubscribe);
  EXPECT_EQ(l.acl[2].action, AclAction::kDeny);
  EXPECT_EQ(l.acl[2].access, AclAccess::kAll);
  EXPECT_EQ(l.acl[2].topic.expand(nullptr), "$SYS/#");
  EXPECT_EQ(l.acl[3].action, AclAction::kDeny);
  EXPECT_EQ(l.acl[3].access, AclAccess::kPublish);
  EXPECT_EQ(l.acl[3].topic.expand(nullptr), "#");
  EXPECT_EQ(l.acl[4].topic.expand(nullptr), "+/status");
  EXPECT_EQ(l.acl[5].topic.expand(nullptr), "a/${literal}/b");
  EXPECT_EQ(l.acl_default, AclAction::kDeny);
  EXPECT_EQ(l.acl_deny_v3, config::AclDenyV3::kDrop);

  // Expansion happens per connection.
  auto lookup = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "device_id") return "dev-7";
    return std::nullopt;
  };
  EXPECT_EQ(l.acl[0].topic.expand(lookup), "devices/dev-7/#");

  EXPECT_TRUE(only_listener(load(listener_with("    acl: []\n"))).acl.empty());
}

TEST(ConfigListenerExtras, AclRuleErrors) {
  config::LoadResult r = load(listener_with(R"(    acl:
      - {allow: publish, deny: all, topic: "a"}
      - {topic: "a"}
      - {allow: read, topic: "a"}
      - {allow: publish}
      - {allow: all, topic: "a/#/b"}
      - {allow: all, topic: "a/b#"}
      - {allow: all, topic: "a/+b/c"}
      - {allow: all, topic: "a/${device_id}+"}
      - {allow: all, topic: ""}
      - {allow: all, topic: "${nope}"}
      - {allow: all, topic: "a", qos: 1}
      - "allow all"
)"));
  EXPECT_EQ(r.errors.size(), 12u) << config_test::all_errors(r);
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[0].deny", 7, "not both"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[1]", 8, "needs allow or deny"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[2].allow", 9,
                                     "expected publish, subscribe or all"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[3].topic", 10, "is required"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[4].topic", 11,
                                     "\"#\" may only be the whole last level"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[5].topic", 12,
                                     "\"#\" may only be the whole last level"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[6].topic", 13,
                                     "\"+\" must be a whole level"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[7].topic", 14,
                                     "\"+\" must be a whole level"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[8].topic", 15, "must not be empty"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[9].topic", 16, "unknown variable"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[10].qos", 17, "unknown key"));
  EXPECT_TRUE(config_test::has_error(r, "listeners[0].acl[11]", 18, "must be a mapping"));

  EXPECT_ONLY_ERROR(load(listener_with("    acl: {allow: all, topic: \"#\"}\n")),
                    "listeners[0].acl", 6, "must be a list");
  EXPECT_ONLY_ERROR(load(listener_with("    acl_default: block\n")), "listeners[0].acl_default",
                    6, "expected allow or deny");
  EXPECT_ONLY_ERROR(load(listener_with("    acl_deny_v3: close\n")), "listeners[0].acl_deny_v3",
                    6, "expected disconnect or drop");
}

}  // namespace
