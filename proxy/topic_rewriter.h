// proxy/topic_rewriter.h: per-connection tenant isolation after CONNECT — the listener's
// topic mountpoint and topic ACL applied to the MQTT stream in both directions. Pure code:
// bytes in, bytes out, no I/O. See docs/mountpoints.md for the rules and their reasons.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "config/template.h"
#include "mqttparse/connect.h"
#include "mqttparse/packet.h"
#include "mqttparse/packets.h"

namespace proxy {

// One `acl` rule with its topic template expanded for one connection.
struct ResolvedAclRule {
  config::AclAction action = config::AclAction::kAllow;
  config::AclAccess access = config::AclAccess::kAll;
  std::string filter;  // a valid topic filter, written against the device's (unprefixed) view
};

// TopicPolicy: the listener's mountpoint and ACL resolved once per connection. Immutable.
struct TopicPolicy {
  std::string mountpoint;  // expanded prefix, e.g. "/mqtt/acme/sensors/dev1/"; "" = off
  std::vector<ResolvedAclRule> acl;
  config::AclAction acl_default = config::AclAction::kAllow;
  config::AclDenyV3 deny_v3 = config::AclDenyV3::kDisconnect;
};

// needs_topic_rewriter: whether |listener| configures a mountpoint or an ACL. When false the
// relay stays a zero-parse byte splice and no TopicRewriter is created.
bool needs_topic_rewriter(const config::ListenerConfig& listener);

enum class PolicyStatus {
  kOk,
  kRefusedValue,  // a variable's value contains '/', '+', '#' or NUL (or, in the
                  // mountpoint, is empty): the connection must be refused (CONNACK 5 / 0x87)
  kInvalid,       // the expansion is not a usable prefix or filter (e.g. starts with '$')
};

// resolve_policy expands the mountpoint and every ACL topic with |lookup|. A value that could
// change the shape of a topic (a device ID "#" or "a/b") is refused rather than escaped, so
// one device can never widen its filters or reach another device's mountpoint.
// *out_reason names the offending variable or template for the log (never a secret).
PolicyStatus resolve_policy(const config::ListenerConfig& listener,
                            const config::TemplateLookup& lookup, TopicPolicy* out_policy,
                            std::string* out_reason);

// mount_topic: |device_topic| as the broker sees it — the mountpoint prepended, except for
// '$' topics, which are never prefixed. Used for the CONNECT Will Topic.
std::string mount_topic(const TopicPolicy& policy, std::string_view device_topic);

// acl_allows_publish: the first rule for publish whose filter matches |device_topic| decides;
// with none, acl_default decides, except that a '$' topic is denied unless a rule allows it.
// The lead applies it to the Will Topic too.
bool acl_allows_publish(const TopicPolicy& policy, std::string_view device_topic);

// acl_allows_subscribe: rules for subscribe, first match wins, where a deny rule matches a
// filter it overlaps (the subscription could receive a denied topic) and an allow rule
// matches a filter it covers entirely. Otherwise as acl_allows_publish.
bool acl_allows_subscribe(const TopicPolicy& policy, std::string_view device_filter);

// TopicRewriter applies a TopicPolicy to one connection's stream after the CONNECT (and the
// broker's CONNACK: feed from_broker everything after the CONNACK). Each direction is cut into
// packets by its own PacketFramer; each packet is handled as soon as it is complete and never
// more than one packet per direction is buffered. Not thread-safe; owned by the connection.
class TopicRewriter {
 public:
  enum class Result { kOk, kClose };

  // |max_packet| bounds each packet in either direction (fixed header included).
  TopicRewriter(TopicPolicy policy, mqttparse::ProtocolVersion version, uint32_t max_packet);

  // from_device consumes all of |bytes|; appends what goes to the broker to *to_broker and
  // the proxy's own answers to denied requests to *to_device. kClose: close the connection
  // after flushing both outputs (a 3.1.1 denied PUBLISH with acl_deny_v3 disconnect, a
  // malformed packet, a second CONNECT, an unknown topic alias — a v5 DISCONNECT 0x82 is
  // then in *to_device).
  Result from_device(std::span<const uint8_t> bytes, std::vector<uint8_t>* to_broker,
                     std::vector<uint8_t>* to_device);

  // from_broker consumes all of |bytes|; appends what goes to the device to *to_device and
  // the proxy's acknowledgements of dropped publications to *to_broker. kClose: the broker
  // sent a malformed packet or an unknown topic alias.
  Result from_broker(std::span<const uint8_t> bytes, std::vector<uint8_t>* to_device,
                     std::vector<uint8_t>* to_broker);

  // PUBLISH packets from the broker dropped because their topic was outside the mountpoint
  // (or a '$' topic the ACL does not allow).
  uint64_t dropped_outside_mountpoint() const { return dropped_outside_mountpoint_; }

 private:
  Result device_packet(std::span<const uint8_t> packet, std::vector<uint8_t>* to_broker,
                       std::vector<uint8_t>* to_device);
  Result broker_packet(std::span<const uint8_t> packet, std::vector<uint8_t>* to_device,
                       std::vector<uint8_t>* to_broker);
  Result device_publish(std::span<const uint8_t> packet, std::vector<uint8_t>* to_broker,
                        std::vector<uint8_t>* to_device);
  Result deny_publish(const mqttparse::PublishPacket& publish, std::vector<uint8_t>* to_device);
  Result device_subscribe(std::span<const uint8_t> packet, std::vector<uint8_t>* to_broker,
                          std::vector<uint8_t>* to_device);
  Result device_unsubscribe(std::span<const uint8_t> packet, std::vector<uint8_t>* to_broker);
  Result broker_publish(std::span<const uint8_t> packet, std::vector<uint8_t>* to_device,
                        std::vector<uint8_t>* to_broker);
  Result broker_suback(std::span<const uint8_t> packet, std::vector<uint8_t>* to_device);
  // mount_filter rewrites a subscription filter ("$share/g/f" keeps its prefix); false when
  // the filter is not a valid filter.
  bool mount_filter(std::string_view filter, std::string* out_filter, std::string_view* out_acl_view);
  Result protocol_error_to_device(std::vector<uint8_t>* to_device);
  bool is_v5() const { return version_ == mqttparse::ProtocolVersion::kV5; }

  TopicPolicy policy_;
  mqttparse::ProtocolVersion version_;
  mqttparse::PacketFramer device_framer_;
  mqttparse::PacketFramer broker_framer_;
  // MQTT 5 topic aliases, each direction its own space: alias -> the topic it stands for
  // (the device's unprefixed topic; the broker's full topic).
  std::unordered_map<uint16_t, std::string> device_aliases_;
  std::unordered_map<uint16_t, std::string> broker_aliases_;
  // SUBSCRIBE packet id -> for each original filter, 0 when forwarded or the refusal code.
  std::unordered_map<uint16_t, std::vector<uint8_t>> pending_subacks_;
  // QoS 2 flows the proxy answered itself, by packet id: the device's denied publications,
  // and the broker's dropped ones; their PUBREL is answered with PUBCOMP and not forwarded.
  std::unordered_set<uint16_t> denied_device_qos2_;
  std::unordered_set<uint16_t> dropped_broker_qos2_;
  uint64_t dropped_outside_mountpoint_ = 0;
  std::vector<uint8_t> scratch_properties_;
};

}  // namespace proxy
