// Mountpoint and topic ACL on the relayed stream: hand-written packets in 3.1.1 and 5.0,
// split-at-every-byte feeding, malformed input.
#include "proxy/topic_rewriter.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace proxy {
namespace {

using Bytes = std::vector<uint8_t>;
using mqttparse::ProtocolVersion;
using Result = TopicRewriter::Result;

constexpr ProtocolVersion kV3 = ProtocolVersion::kV311;
constexpr ProtocolVersion kV5 = ProtocolVersion::kV5;
constexpr char kMount[] = "/mqtt/acme/s/dev1/";

Bytes str(std::string_view text) {
  Bytes out{static_cast<uint8_t>(text.size() >> 8), static_cast<uint8_t>(text.size() & 0xFF)};
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// A packet with a one- or two-byte Remaining Length.
Bytes packet(uint8_t first, const Bytes& body) {
  Bytes out{first};
  size_t n = body.size();
  if (n < 128) {
    out.push_back(static_cast<uint8_t>(n));
  } else {
    out.push_back(static_cast<uint8_t>((n & 0x7F) | 0x80));
    out.push_back(static_cast<uint8_t>(n >> 7));
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes publish(ProtocolVersion v, uint8_t qos, std::string_view topic, uint16_t id = 0,
              const Bytes& props = {}, std::string_view payload = "p") {
  Bytes body = str(topic);
  if (qos > 0) body.insert(body.end(), {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)});
  if (v == kV5) {
    body.push_back(static_cast<uint8_t>(props.size()));
    body.insert(body.end(), props.begin(), props.end());
  }
  body.insert(body.end(), payload.begin(), payload.end());
  return packet(static_cast<uint8_t>(0x30 | (qos << 1)), body);
}

Bytes subscribe(ProtocolVersion v, uint16_t id, std::initializer_list<std::string_view> filters) {
  Bytes body{static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
  if (v == kV5) body.push_back(0);
  for (std::string_view f : filters) {
    Bytes s = str(f);
    body.insert(body.end(), s.begin(), s.end());
    body.push_back(1);
  }
  return packet(0x82, body);
}

config::Template tmpl(std::string_view text) {
  std::string error;
  auto t = config::Template::parse(text, &error);
  EXPECT_TRUE(t.has_value()) << error;
  return t.value_or(config::Template());
}

TopicPolicy mount_policy() {
  TopicPolicy p;
  p.mountpoint = kMount;
  return p;
}

struct Out {
  Bytes broker, device;
  Result result = Result::kOk;
};

Out device_sends(TopicRewriter& r, const Bytes& bytes) {
  Out out;
  out.result = r.from_device(bytes, &out.broker, &out.device);
  return out;
}

Out broker_sends(TopicRewriter& r, const Bytes& bytes) {
  Out out;
  out.result = r.from_broker(bytes, &out.device, &out.broker);
  return out;
}

TEST(TopicRewriterPublish, DeviceTopicGetsPrefixBothVersions) {
  for (ProtocolVersion v : {kV3, kV5}) {
    TopicRewriter r(mount_policy(), v, 1 << 20);
    Out out = device_sends(r, publish(v, 1, "temp", 7));
    EXPECT_EQ(out.result, Result::kOk);
    EXPECT_EQ(out.broker, publish(v, 1, std::string(kMount) + "temp", 7));
    EXPECT_TRUE(out.device.empty());
  }
}

TEST(TopicRewriterPublish, BrokerTopicStrippedOrDroppedAndAcknowledged) {
  for (ProtocolVersion v : {kV3, kV5}) {
    TopicRewriter r(mount_policy(), v, 1 << 20);
    Out in = broker_sends(r, publish(v, 0, std::string(kMount) + "inbox"));
    EXPECT_EQ(in.device, publish(v, 0, "inbox"));
    Out q1 = broker_sends(r, publish(v, 1, "/mqtt/other/s/dev9/inbox", 3));
    EXPECT_TRUE(q1.device.empty());
    EXPECT_EQ(q1.broker, (Bytes{0x40, 0x02, 0x00, 0x03}));
    Out q2 = broker_sends(r, publish(v, 2, "elsewhere", 4));
    EXPECT_TRUE(q2.device.empty());
    EXPECT_EQ(q2.broker, (Bytes{0x50, 0x02, 0x00, 0x04}));
    Out rel = broker_sends(r, {0x62, 0x02, 0x00, 0x04});  // PUBREL of the dropped one
    EXPECT_TRUE(rel.device.empty());
    EXPECT_EQ(rel.broker, (Bytes{0x70, 0x02, 0x00, 0x04}));
    Out other_rel = broker_sends(r, {0x62, 0x02, 0x00, 0x05});
    EXPECT_EQ(other_rel.device, (Bytes{0x62, 0x02, 0x00, 0x05}));
    // The bare mountpoint would strip to an empty topic: dropped too.
    EXPECT_TRUE(broker_sends(r, publish(v, 0, kMount)).device.empty());
    EXPECT_EQ(r.dropped_outside_mountpoint(), 3u);
  }
}

TEST(TopicRewriterPublish, SplitAtEveryByteBothDirections) {
  Bytes stream = cat({publish(kV5, 1, "a", 1), subscribe(kV5, 2, {"x/#", "$share/g/y"}),
                      Bytes{0xC0, 0x00}, publish(kV5, 0, "b/c")});
  TopicRewriter whole(mount_policy(), kV5, 1 << 20);
  Out expected = device_sends(whole, stream);
  ASSERT_EQ(expected.result, Result::kOk);
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    TopicRewriter r(mount_policy(), kV5, 1 << 20);
    Bytes head(stream.begin(), stream.begin() + cut), tail(stream.begin() + cut, stream.end());
    Out a = device_sends(r, head);
    Out b = device_sends(r, tail);
    a.broker.insert(a.broker.end(), b.broker.begin(), b.broker.end());
    EXPECT_EQ(a.broker, expected.broker) << "cut at " << cut;
  }
  TopicRewriter bytewise(mount_policy(), kV5, 1 << 20);
  Bytes down = cat({publish(kV5, 1, std::string(kMount) + "in", 9), Bytes{0xD0, 0x00}});
  Bytes got;
  for (uint8_t byte : down) {
    Out o = broker_sends(bytewise, Bytes{byte});
    ASSERT_EQ(o.result, Result::kOk);
    got.insert(got.end(), o.device.begin(), o.device.end());
  }
  EXPECT_EQ(got, cat({publish(kV5, 1, "in", 9), Bytes{0xD0, 0x00}}));
}

TEST(TopicRewriterPublish, DollarTopicsNotPrefixedAndNeedAnAllowRule) {
  TopicPolicy p = mount_policy();
  TopicRewriter denied(p, kV5, 1 << 20);
  Out out = device_sends(denied, publish(kV5, 1, "$SYS/x", 5));
  EXPECT_TRUE(out.broker.empty());
  EXPECT_EQ(out.device, (Bytes{0x40, 0x03, 0x00, 0x05, 0x87}));
  p.acl.push_back({config::AclAction::kAllow, config::AclAccess::kAll, "$SYS/#"});
  TopicRewriter allowed(p, kV5, 1 << 20);
  EXPECT_EQ(device_sends(allowed, publish(kV5, 0, "$SYS/x")).broker, publish(kV5, 0, "$SYS/x"));
  EXPECT_EQ(broker_sends(allowed, publish(kV5, 0, "$SYS/up")).device, publish(kV5, 0, "$SYS/up"));
  EXPECT_TRUE(broker_sends(denied, publish(kV5, 0, "$SYS/up")).device.empty());
}

TEST(TopicRewriterAlias, DeviceAliasAlwaysForwardedWithTopic) {
  TopicRewriter r(mount_policy(), kV5, 1 << 20);
  Bytes alias{0x23, 0x00, 0x02};
  Out first = device_sends(r, publish(kV5, 0, "t/1", 0, alias));
  EXPECT_EQ(first.broker, publish(kV5, 0, std::string(kMount) + "t/1", 0, alias));
  Out again = device_sends(r, publish(kV5, 0, "", 0, alias));
  EXPECT_EQ(again.broker, publish(kV5, 0, std::string(kMount) + "t/1", 0, alias));
  Out unknown = device_sends(r, publish(kV5, 0, "", 0, {0x23, 0x00, 0x09}));
  EXPECT_EQ(unknown.result, Result::kClose);
  EXPECT_EQ(unknown.device, (Bytes{0xE0, 0x02, 0x82, 0x00}));
}

TEST(TopicRewriterAlias, BrokerAliasResolvedAndStripped) {
  TopicRewriter r(mount_policy(), kV5, 1 << 20);
  Bytes alias{0x23, 0x00, 0x01};
  EXPECT_EQ(broker_sends(r, publish(kV5, 0, std::string(kMount) + "a", 0, alias)).device,
            publish(kV5, 0, "a", 0, alias));
  EXPECT_EQ(broker_sends(r, publish(kV5, 0, "", 0, alias)).device, publish(kV5, 0, "a", 0, alias));
  EXPECT_EQ(broker_sends(r, publish(kV5, 0, "", 0, {0x23, 0x00, 0x07})).result, Result::kClose);
}

TEST(TopicRewriterPublish, ResponseTopicPrefixedAndStripped) {
  TopicRewriter r(mount_policy(), kV5, 1 << 20);
  Bytes rt = cat({Bytes{0x08}, str("reply")});
  Bytes mounted_rt = cat({Bytes{0x08}, str(std::string(kMount) + "reply")});
  EXPECT_EQ(device_sends(r, publish(kV5, 0, "req", 0, rt)).broker,
            publish(kV5, 0, std::string(kMount) + "req", 0, mounted_rt));
  EXPECT_EQ(broker_sends(r, publish(kV5, 0, std::string(kMount) + "req", 0, mounted_rt)).device,
            publish(kV5, 0, "req", 0, rt));
}

TEST(TopicRewriterSubscribe, FiltersPrefixedIncludingShared) {
  for (ProtocolVersion v : {kV3, kV5}) {
    TopicRewriter r(mount_policy(), v, 1 << 20);
    Out out = device_sends(r, subscribe(v, 3, {"#", "$share/g1/a/+"}));
    std::string m = kMount;
    EXPECT_EQ(out.broker, subscribe(v, 3, {m + "#", "$share/g1/" + m + "a/+"}));
    Bytes unsub_body = cat({Bytes{0x00, 0x04}, v == kV5 ? Bytes{0x00} : Bytes{}, str("a/b"),
                            str("$share/g/c")});
    Bytes expected_body = cat({Bytes{0x00, 0x04}, v == kV5 ? Bytes{0x00} : Bytes{},
                               str(m + "a/b"), str("$share/g/" + m + "c")});
    EXPECT_EQ(device_sends(r, packet(0xA2, unsub_body)).broker, packet(0xA2, expected_body));
  }
}

TopicPolicy acl_policy() {
  TopicPolicy p = mount_policy();
  p.acl.push_back({config::AclAction::kDeny, config::AclAccess::kAll, "secret/#"});
  p.acl.push_back({config::AclAction::kAllow, config::AclAccess::kSubscribe, "cmd/#"});
  p.acl.push_back({config::AclAction::kAllow, config::AclAccess::kPublish, "data/+"});
  p.acl_default = config::AclAction::kDeny;
  return p;
}

TEST(TopicRewriterAcl, SubscribePartlyDeniedMergesSuback) {
  for (ProtocolVersion v : {kV3, kV5}) {
    TopicRewriter r(acl_policy(), v, 1 << 20);
    Out out = device_sends(r, subscribe(v, 8, {"secret/x", "cmd/+", "#"}));
    EXPECT_EQ(out.broker, subscribe(v, 8, {std::string(kMount) + "cmd/+"}));
    EXPECT_TRUE(out.device.empty());
    Bytes broker_suback = v == kV5 ? Bytes{0x90, 0x04, 0x00, 0x08, 0x00, 0x01}
                                   : Bytes{0x90, 0x03, 0x00, 0x08, 0x01};
    uint8_t no = v == kV5 ? 0x87 : 0x80;
    Bytes merged = v == kV5 ? Bytes{0x90, 0x06, 0x00, 0x08, 0x00, no, 0x01, no}
                            : Bytes{0x90, 0x05, 0x00, 0x08, no, 0x01, no};
    EXPECT_EQ(broker_sends(r, broker_suback).device, merged);
    // A later SUBACK with the same id is not merged again.
    EXPECT_EQ(broker_sends(r, broker_suback).device, broker_suback);
  }
}

TEST(TopicRewriterAcl, SubscribeAllDeniedAnsweredByProxy) {
  TopicRewriter r(acl_policy(), kV5, 1 << 20);
  Out out = device_sends(r, subscribe(kV5, 2, {"secret/#", "other"}));
  EXPECT_TRUE(out.broker.empty());
  EXPECT_EQ(out.device, (Bytes{0x90, 0x05, 0x00, 0x02, 0x00, 0x87, 0x87}));
  TopicRewriter r3(acl_policy(), kV3, 1 << 20);
  EXPECT_EQ(device_sends(r3, subscribe(kV3, 2, {"nope/x", "#"})).device,
            (Bytes{0x90, 0x04, 0x00, 0x02, 0x80, 0x80}));
}

TEST(TopicRewriterAcl, DenyRuleOverlapWinsOverWideSubscription) {
  TopicPolicy p = mount_policy();
  p.acl.push_back({config::AclAction::kDeny, config::AclAccess::kSubscribe, "a/secret"});
  TopicRewriter r(p, kV5, 1 << 20);
  EXPECT_EQ(device_sends(r, subscribe(kV5, 1, {"a/#"})).device,
            (Bytes{0x90, 0x04, 0x00, 0x01, 0x00, 0x87}));
  EXPECT_FALSE(device_sends(r, subscribe(kV5, 2, {"a/public"})).broker.empty());
}

TEST(TopicRewriterAcl, DeniedPublishV5Codes) {
  TopicRewriter r(acl_policy(), kV5, 1 << 20);
  EXPECT_EQ(device_sends(r, publish(kV5, 1, "secret/a", 1)).device,
            (Bytes{0x40, 0x03, 0x00, 0x01, 0x87}));
  EXPECT_EQ(device_sends(r, publish(kV5, 2, "cmd/a", 2)).device,
            (Bytes{0x50, 0x03, 0x00, 0x02, 0x87}));
  Out qos0 = device_sends(r, publish(kV5, 0, "nope"));
  EXPECT_TRUE(qos0.broker.empty());
  EXPECT_TRUE(qos0.device.empty());
  EXPECT_EQ(qos0.result, Result::kOk);
  EXPECT_EQ(device_sends(r, {0x62, 0x02, 0x00, 0x02}).device,
            (Bytes{0x70, 0x03, 0x00, 0x02, 0x92}));
  EXPECT_EQ(device_sends(r, publish(kV5, 1, "data/x", 3)).broker,
            publish(kV5, 1, std::string(kMount) + "data/x", 3));
}

TEST(TopicRewriterAcl, DeniedPublishV311DisconnectOrDrop) {
  TopicRewriter closing(acl_policy(), kV3, 1 << 20);
  EXPECT_EQ(device_sends(closing, publish(kV3, 0, "nope")).result, Result::kClose);
  TopicPolicy drop = acl_policy();
  drop.deny_v3 = config::AclDenyV3::kDrop;
  TopicRewriter r(drop, kV3, 1 << 20);
  EXPECT_EQ(device_sends(r, publish(kV3, 1, "nope", 4)).device, (Bytes{0x40, 0x02, 0x00, 0x04}));
  EXPECT_EQ(device_sends(r, publish(kV3, 2, "nope", 5)).device, (Bytes{0x50, 0x02, 0x00, 0x05}));
  Out rel = device_sends(r, {0x62, 0x02, 0x00, 0x05});
  EXPECT_TRUE(rel.broker.empty());
  EXPECT_EQ(rel.device, (Bytes{0x70, 0x02, 0x00, 0x05}));
  EXPECT_TRUE(device_sends(r, publish(kV3, 0, "nope")).device.empty());
}

TEST(TopicRewriterAcl, AclWithoutMountpointLeavesTopicsAlone) {
  TopicPolicy p = acl_policy();
  p.mountpoint.clear();
  TopicRewriter r(p, kV5, 1 << 20);
  EXPECT_EQ(device_sends(r, publish(kV5, 0, "data/1")).broker, publish(kV5, 0, "data/1"));
  EXPECT_EQ(broker_sends(r, publish(kV5, 0, "any/where")).device, publish(kV5, 0, "any/where"));
}

TEST(TopicRewriterMalformed, ClosesOnBadInput) {
  for (const Bytes& bad : {Bytes{0x36, 0x03, 0x00, 0x01, 'a'},           // QoS 3
                           Bytes{0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0},  // SUBSCRIBE flags
                           subscribe(kV3, 1, {"a/#/b"}),                  // bad filter
                           subscribe(kV3, 1, {"$share/g"}),               // bad shared filter
                           Bytes{0x10, 0x00},                             // second CONNECT
                           Bytes{0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}}) {  // 5-byte length
    TopicRewriter r(mount_policy(), kV3, 1 << 20);
    EXPECT_EQ(device_sends(r, bad).result, Result::kClose);
  }
  TopicRewriter small(mount_policy(), kV3, 8);
  EXPECT_EQ(device_sends(small, publish(kV3, 0, "long/topic")).result, Result::kClose);
  TopicRewriter r(mount_policy(), kV3, 1 << 20);
  EXPECT_EQ(broker_sends(r, Bytes{0x32, 0x03, 0x00, 0x01, 'a'}).result, Result::kClose);
  EXPECT_EQ(broker_sends(r, Bytes{0x90, 0x02, 0x00, 0x01}).result, Result::kClose);
}

TEST(TopicRewriterPassThrough, OtherPacketsUntouched) {
  TopicRewriter r(mount_policy(), kV5, 1 << 20);
  Bytes up = cat({Bytes{0xC0, 0x00}, Bytes{0x40, 0x02, 0x00, 0x01}, Bytes{0xE0, 0x01, 0x04}});
  EXPECT_EQ(device_sends(r, up).broker, up);
  Bytes down = cat({Bytes{0xD0, 0x00}, Bytes{0xB0, 0x04, 0x00, 0x01, 0x00, 0x00}});
  EXPECT_EQ(broker_sends(r, down).device, down);
}

config::TemplateLookup lookup_from(const std::map<std::string, std::string>& values) {
  return [&values](std::string_view name) -> std::optional<std::string_view> {
    auto it = values.find(std::string(name));
    if (it == values.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

TEST(TopicPolicyResolve, ExpandsMountpointAndAcl) {
  config::ListenerConfig listener;
  listener.mountpoint = tmpl("/${device.protocol}/${device.tenant}/${device_id}/");
  listener.acl.push_back({config::AclAction::kAllow, config::AclAccess::kPublish,
                          tmpl("up/${device_id}/#")});
  std::map<std::string, std::string> values{
      {"device.protocol", "mqtt"}, {"device.tenant", "acme"}, {"device_id", "dev1"}};
  TopicPolicy policy;
  std::string reason;
  ASSERT_EQ(resolve_policy(listener, lookup_from(values), &policy, &reason), PolicyStatus::kOk);
  EXPECT_EQ(policy.mountpoint, "/mqtt/acme/dev1/");
  ASSERT_EQ(policy.acl.size(), 1u);
  EXPECT_EQ(policy.acl[0].filter, "up/dev1/#");
  EXPECT_EQ(mount_topic(policy, "t"), "/mqtt/acme/dev1/t");
  EXPECT_EQ(mount_topic(policy, "$SYS/x"), "$SYS/x");
  EXPECT_TRUE(needs_topic_rewriter(listener));
  EXPECT_FALSE(needs_topic_rewriter(config::ListenerConfig{}));
}

TEST(TopicPolicyResolve, RefusesValuesThatShapeTopics) {
  config::ListenerConfig listener;
  listener.mountpoint = tmpl("/t/${device.tenant}/${device_id}/");
  TopicPolicy policy;
  std::string reason;
  for (std::string bad : {std::string("#"), std::string("+"), std::string("a/b"), std::string("a\0b", 3)}) {
    std::map<std::string, std::string> values{{"device.tenant", "acme"}, {"device_id", bad}};
    EXPECT_EQ(resolve_policy(listener, lookup_from(values), &policy, &reason),
              PolicyStatus::kRefusedValue);
  }
  std::map<std::string, std::string> missing{{"device_id", "d"}};
  EXPECT_EQ(resolve_policy(listener, lookup_from(missing), &policy, &reason),
            PolicyStatus::kRefusedValue);
  config::ListenerConfig acl_only;
  acl_only.acl.push_back({config::AclAction::kAllow, config::AclAccess::kAll,
                          tmpl("x/${device_id}")});
  std::map<std::string, std::string> hash{{"device_id", "#"}};
  EXPECT_EQ(resolve_policy(acl_only, lookup_from(hash), &policy, &reason),
            PolicyStatus::kRefusedValue);
  config::ListenerConfig dollar;
  dollar.mountpoint = tmpl("${device.tenant}/");
  std::map<std::string, std::string> sys{{"device.tenant", "$SYS"}};
  EXPECT_EQ(resolve_policy(dollar, lookup_from(sys), &policy, &reason), PolicyStatus::kInvalid);
}

}  // namespace
}  // namespace proxy
