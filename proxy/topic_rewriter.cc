// proxy/topic_rewriter.cc: mountpoint and topic ACL applied to the relayed MQTT stream.
#include "proxy/topic_rewriter.h"

#include <utility>

#include "mqttparse/topic.h"

namespace proxy {

namespace {

using mqttparse::DecodeStatus;
using mqttparse::PacketType;

// Reason codes (MQTT 5.0 section 2.4) and the 3.1.1 SUBACK failure code.
constexpr uint8_t kNotAuthorized = 0x87;
constexpr uint8_t kSubackFailureV3 = 0x80;
constexpr uint8_t kProtocolError = 0x82;
constexpr uint8_t kPacketIdNotFound = 0x92;

bool shapes_topic(std::string_view value) {
  return value.find_first_of(std::string_view("/+#\0", 4)) != std::string_view::npos;
}

bool has_wildcard_or_nul(std::string_view text) {
  return text.find_first_of(std::string_view("+#\0", 3)) != std::string_view::npos;
}

bool access_applies(config::AclAccess rule, config::AclAccess wanted) {
  return rule == config::AclAccess::kAll || rule == wanted;
}

bool default_allows(const TopicPolicy& policy, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$') return false;
  return policy.acl_default == config::AclAction::kAllow;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool needs_topic_rewriter(const config::ListenerConfig& listener) {
  return !listener.mountpoint.empty() || !listener.acl.empty() ||
         listener.acl_default == config::AclAction::kDeny;
}

PolicyStatus resolve_policy(const config::ListenerConfig& listener,
                            const config::TemplateLookup& lookup, TopicPolicy* out_policy,
                            std::string* out_reason) {
  std::string refused;
  bool empty_value = false;
  auto checked = [&](std::string_view name) -> std::optional<std::string_view> {
    std::optional<std::string_view> value = lookup(name);
    if (!value || value->empty()) empty_value = true;
    if (value && shapes_topic(*value) && refused.empty()) refused = std::string(name);
    return value;
  };

  TopicPolicy policy;
  policy.acl_default = listener.acl_default;
  policy.deny_v3 = listener.acl_deny_v3;
  if (!listener.mountpoint.empty()) {
    policy.mountpoint = listener.mountpoint.expand(checked);
    if (!refused.empty()) {
      *out_reason = "mountpoint variable " + refused + " contains '/', '+', '#' or NUL";
      return PolicyStatus::kRefusedValue;
    }
    if (empty_value) {
      *out_reason = "mountpoint variable is empty or unknown: " + listener.mountpoint.source();
      return PolicyStatus::kRefusedValue;
    }
    if (policy.mountpoint[0] == '$' || has_wildcard_or_nul(policy.mountpoint)) {
      *out_reason = "mountpoint expands to a '$' topic or contains a wildcard";
      return PolicyStatus::kInvalid;
    }
  }
  for (const config::AclRule& rule : listener.acl) {
    ResolvedAclRule resolved{rule.action, rule.access, rule.topic.expand(checked)};
    if (!refused.empty()) {
      *out_reason = "acl variable " + refused + " contains '/', '+', '#' or NUL";
      return PolicyStatus::kRefusedValue;
    }
    if (!mqttparse::is_valid_topic_filter(resolved.filter)) {
      *out_reason = "acl topic does not expand to a valid filter: " + rule.topic.source();
      return PolicyStatus::kInvalid;
    }
    policy.acl.push_back(std::move(resolved));
  }
  *out_policy = std::move(policy);
  return PolicyStatus::kOk;
}

std::string mount_topic(const TopicPolicy& policy, std::string_view device_topic) {
  if (policy.mountpoint.empty() || (!device_topic.empty() && device_topic[0] == '$')) {
    return std::string(device_topic);
  }
  std::string mounted;
  mounted.reserve(policy.mountpoint.size() + device_topic.size());
  mounted.append(policy.mountpoint).append(device_topic);
  return mounted;
}

bool acl_allows_publish(const TopicPolicy& policy, std::string_view device_topic) {
  for (const ResolvedAclRule& rule : policy.acl) {
    if (!access_applies(rule.access, config::AclAccess::kPublish)) continue;
    if (mqttparse::topic_matches(rule.filter, device_topic)) {
      return rule.action == config::AclAction::kAllow;
    }
  }
  return default_allows(policy, device_topic);
}

bool acl_allows_subscribe(const TopicPolicy& policy, std::string_view device_filter) {
  for (const ResolvedAclRule& rule : policy.acl) {
    if (!access_applies(rule.access, config::AclAccess::kSubscribe)) continue;
    if (rule.action == config::AclAction::kDeny) {
      if (mqttparse::filters_overlap(rule.filter, device_filter)) return false;
    } else if (mqttparse::filter_covers(rule.filter, device_filter)) {
      return true;
    }
  }
  return default_allows(policy, device_filter);
}

TopicRewriter::TopicRewriter(TopicPolicy policy, mqttparse::ProtocolVersion version,
                             uint32_t max_packet)
    : policy_(std::move(policy)),
      version_(version),
      device_framer_(max_packet),
      broker_framer_(max_packet) {}

TopicRewriter::Result TopicRewriter::from_device(std::span<const uint8_t> bytes,
                                                 std::vector<uint8_t>* to_broker,
                                                 std::vector<uint8_t>* to_device) {
  while (!bytes.empty()) {
    size_t consumed = 0;
    mqttparse::FrameStatus status = device_framer_.feed(bytes, &consumed);
    bytes = bytes.subspan(consumed);
    if (status == mqttparse::FrameStatus::kNeedMore) break;
    if (status != mqttparse::FrameStatus::kPacket) return Result::kClose;
    if (device_packet(device_framer_.packet(), to_broker, to_device) == Result::kClose) {
      return Result::kClose;
    }
  }
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::from_broker(std::span<const uint8_t> bytes,
                                                 std::vector<uint8_t>* to_device,
                                                 std::vector<uint8_t>* to_broker) {
  while (!bytes.empty()) {
    size_t consumed = 0;
    mqttparse::FrameStatus status = broker_framer_.feed(bytes, &consumed);
    bytes = bytes.subspan(consumed);
    if (status == mqttparse::FrameStatus::kNeedMore) break;
    if (status != mqttparse::FrameStatus::kPacket) return Result::kClose;
    if (broker_packet(broker_framer_.packet(), to_device, to_broker) == Result::kClose) {
      return Result::kClose;
    }
  }
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::device_packet(std::span<const uint8_t> packet,
                                                   std::vector<uint8_t>* to_broker,
                                                   std::vector<uint8_t>* to_device) {
  switch (static_cast<PacketType>(packet[0] >> 4)) {
    case PacketType::kPublish:
      return device_publish(packet, to_broker, to_device);
    case PacketType::kSubscribe:
      return device_subscribe(packet, to_broker, to_device);
    case PacketType::kUnsubscribe:
      return device_unsubscribe(packet, to_broker);
    case PacketType::kConnect:
      return Result::kClose;  // a second CONNECT is a protocol violation
    case PacketType::kPubrel: {
      mqttparse::AckPacket pubrel;
      if (mqttparse::decode_ack(packet, version_, &pubrel) != DecodeStatus::kOk) {
        return Result::kClose;
      }
      if (denied_device_qos2_.erase(pubrel.packet_id) == 0) break;
      mqttparse::AckPacket pubcomp{PacketType::kPubcomp, pubrel.packet_id,
                                   is_v5() ? kPacketIdNotFound : uint8_t{0}, {}};
      mqttparse::encode_ack(pubcomp, version_, to_device);
      return Result::kOk;
    }
    default:
      break;  // no topic inside: relayed as is, the broker judges it
  }
  to_broker->insert(to_broker->end(), packet.begin(), packet.end());
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::protocol_error_to_device(std::vector<uint8_t>* to_device) {
  if (is_v5()) {
    std::vector<uint8_t> disconnect = mqttparse::encode_disconnect_v5(kProtocolError);
    to_device->insert(to_device->end(), disconnect.begin(), disconnect.end());
  }
  return Result::kClose;
}

TopicRewriter::Result TopicRewriter::device_publish(std::span<const uint8_t> packet,
                                                    std::vector<uint8_t>* to_broker,
                                                    std::vector<uint8_t>* to_device) {
  mqttparse::PublishPacket publish;
  if (mqttparse::decode_publish(packet, version_, &publish) != DecodeStatus::kOk) {
    return Result::kClose;
  }
  // Resolve a topic alias to the topic it stands for: the ACL needs the topic, and the
  // broker is always sent the topic with the alias (see docs/mountpoints.md).
  if (publish.topic_alias) {
    if (!publish.topic.empty()) {
      device_aliases_[*publish.topic_alias] = std::string(publish.topic);
    } else {
      auto known = device_aliases_.find(*publish.topic_alias);
      if (known == device_aliases_.end()) return protocol_error_to_device(to_device);
      publish.topic = known->second;
    }
  }
  if (!acl_allows_publish(policy_, publish.topic)) return deny_publish(publish, to_device);

  std::string mounted = mount_topic(policy_, publish.topic);
  publish.topic = mounted;
  if (publish.response_topic && !policy_.mountpoint.empty()) {
    std::string response = mount_topic(policy_, *publish.response_topic);
    if (!mqttparse::replace_string_property(publish.properties,
                                            mqttparse::kPropertyResponseTopic, response,
                                            &scratch_properties_)) {
      return Result::kClose;
    }
    publish.properties = scratch_properties_;
  }
  if (!mqttparse::encode_publish(publish, version_, to_broker)) return Result::kClose;
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::deny_publish(const mqttparse::PublishPacket& publish,
                                                  std::vector<uint8_t>* to_device) {
  if (!is_v5() && policy_.deny_v3 == config::AclDenyV3::kDisconnect) return Result::kClose;
  uint8_t reason = is_v5() ? kNotAuthorized : 0;
  if (publish.qos == 1) {
    mqttparse::encode_ack({PacketType::kPuback, publish.packet_id, reason, {}}, version_,
                          to_device);
  } else if (publish.qos == 2) {
    mqttparse::encode_ack({PacketType::kPubrec, publish.packet_id, reason, {}}, version_,
                          to_device);
    denied_device_qos2_.insert(publish.packet_id);
  }
  return Result::kOk;
}

bool TopicRewriter::mount_filter(std::string_view filter, std::string* out_filter,
                                 std::string_view* out_acl_view) {
  mqttparse::SharedFilter shared;
  switch (mqttparse::parse_shared_filter(filter, &shared)) {
    case mqttparse::ShareStatus::kMalformed:
      return false;
    case mqttparse::ShareStatus::kShared:
      *out_acl_view = shared.filter;
      *out_filter = "$share/";
      out_filter->append(shared.group).append("/").append(mount_topic(policy_, shared.filter));
      return true;
    case mqttparse::ShareStatus::kNotShared:
      if (!mqttparse::is_valid_topic_filter(filter)) return false;
      *out_acl_view = filter;
      *out_filter = mount_topic(policy_, filter);
      return true;
  }
  return false;
}

TopicRewriter::Result TopicRewriter::device_subscribe(std::span<const uint8_t> packet,
                                                      std::vector<uint8_t>* to_broker,
                                                      std::vector<uint8_t>* to_device) {
  mqttparse::SubscribePacket subscribe;
  if (mqttparse::decode_subscribe(packet, version_, &subscribe) != DecodeStatus::kOk) {
    return Result::kClose;
  }
  uint8_t refusal = is_v5() ? kNotAuthorized : kSubackFailureV3;
  std::vector<std::string> mounted(subscribe.requests.size());
  std::vector<uint8_t> codes(subscribe.requests.size(), 0);
  mqttparse::SubscribePacket forwarded{subscribe.packet_id, subscribe.properties, {}};
  for (size_t i = 0; i < subscribe.requests.size(); ++i) {
    std::string_view acl_view;
    if (!mount_filter(subscribe.requests[i].filter, &mounted[i], &acl_view)) {
      return Result::kClose;
    }
    if (!acl_allows_subscribe(policy_, acl_view)) {
      codes[i] = refusal;
      continue;
    }
    forwarded.requests.push_back({mounted[i], subscribe.requests[i].options});
  }
  if (forwarded.requests.empty()) {
    mqttparse::SubackPacket suback{PacketType::kSuback, subscribe.packet_id, {}, codes};
    mqttparse::encode_suback(suback, version_, to_device);
    return Result::kOk;
  }
  if (forwarded.requests.size() != subscribe.requests.size()) {
    pending_subacks_[subscribe.packet_id] = std::move(codes);
  } else {
    pending_subacks_.erase(subscribe.packet_id);
  }
  if (!mqttparse::encode_subscribe(forwarded, version_, to_broker)) return Result::kClose;
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::device_unsubscribe(std::span<const uint8_t> packet,
                                                        std::vector<uint8_t>* to_broker) {
  mqttparse::UnsubscribePacket unsubscribe;
  if (mqttparse::decode_unsubscribe(packet, version_, &unsubscribe) != DecodeStatus::kOk) {
    return Result::kClose;
  }
  std::vector<std::string> mounted(unsubscribe.filters.size());
  for (size_t i = 0; i < unsubscribe.filters.size(); ++i) {
    std::string_view acl_view;
    if (!mount_filter(unsubscribe.filters[i], &mounted[i], &acl_view)) return Result::kClose;
    unsubscribe.filters[i] = mounted[i];
  }
  if (!mqttparse::encode_unsubscribe(unsubscribe, version_, to_broker)) return Result::kClose;
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::broker_packet(std::span<const uint8_t> packet,
                                                   std::vector<uint8_t>* to_device,
                                                   std::vector<uint8_t>* to_broker) {
  switch (static_cast<PacketType>(packet[0] >> 4)) {
    case PacketType::kPublish:
      return broker_publish(packet, to_device, to_broker);
    case PacketType::kSuback:
      return broker_suback(packet, to_device);
    case PacketType::kPubrel: {
      mqttparse::AckPacket pubrel;
      if (mqttparse::decode_ack(packet, version_, &pubrel) != DecodeStatus::kOk) {
        return Result::kClose;
      }
      if (dropped_broker_qos2_.erase(pubrel.packet_id) == 0) break;
      mqttparse::encode_ack({PacketType::kPubcomp, pubrel.packet_id, 0, {}}, version_,
                            to_broker);
      return Result::kOk;
    }
    default:
      break;
  }
  to_device->insert(to_device->end(), packet.begin(), packet.end());
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::broker_publish(std::span<const uint8_t> packet,
                                                    std::vector<uint8_t>* to_device,
                                                    std::vector<uint8_t>* to_broker) {
  mqttparse::PublishPacket publish;
  if (mqttparse::decode_publish(packet, version_, &publish) != DecodeStatus::kOk) {
    return Result::kClose;
  }
  if (publish.topic_alias) {
    if (!publish.topic.empty()) {
      broker_aliases_[*publish.topic_alias] = std::string(publish.topic);
    } else {
      auto known = broker_aliases_.find(*publish.topic_alias);
      if (known == broker_aliases_.end()) return Result::kClose;
      publish.topic = known->second;
    }
  }

  std::string_view device_topic = publish.topic;
  bool deliver;
  if (!device_topic.empty() && device_topic[0] == '$') {
    // '$' topics are never mounted; the device gets them only where the ACL lets it read.
    deliver = acl_allows_subscribe(policy_, device_topic);
  } else if (policy_.mountpoint.empty()) {
    deliver = true;
  } else {
    deliver = starts_with(device_topic, policy_.mountpoint) &&
              device_topic.size() > policy_.mountpoint.size();
    if (deliver) device_topic.remove_prefix(policy_.mountpoint.size());
  }
  if (!deliver) {
    // Acknowledge as success so that the broker does not redeliver it forever.
    ++dropped_outside_mountpoint_;
    if (publish.qos == 1) {
      mqttparse::encode_ack({PacketType::kPuback, publish.packet_id, 0, {}}, version_, to_broker);
    } else if (publish.qos == 2) {
      mqttparse::encode_ack({PacketType::kPubrec, publish.packet_id, 0, {}}, version_, to_broker);
      dropped_broker_qos2_.insert(publish.packet_id);
    }
    return Result::kOk;
  }
  if (device_topic.size() == publish.topic.size() && device_topic.data() == publish.topic.data() &&
      !publish.response_topic && !publish.topic_alias) {
    to_device->insert(to_device->end(), packet.begin(), packet.end());
    return Result::kOk;
  }
  publish.topic = device_topic;
  if (publish.response_topic && !policy_.mountpoint.empty() &&
      starts_with(*publish.response_topic, policy_.mountpoint) &&
      publish.response_topic->size() > policy_.mountpoint.size()) {
    std::string_view stripped = publish.response_topic->substr(policy_.mountpoint.size());
    if (!mqttparse::replace_string_property(publish.properties,
                                            mqttparse::kPropertyResponseTopic, stripped,
                                            &scratch_properties_)) {
      return Result::kClose;
    }
    publish.properties = scratch_properties_;
  }
  if (!mqttparse::encode_publish(publish, version_, to_device)) return Result::kClose;
  return Result::kOk;
}

TopicRewriter::Result TopicRewriter::broker_suback(std::span<const uint8_t> packet,
                                                   std::vector<uint8_t>* to_device) {
  mqttparse::SubackPacket suback;
  if (mqttparse::decode_suback(packet, version_, &suback) != DecodeStatus::kOk) {
    return Result::kClose;
  }
  auto pending = pending_subacks_.find(suback.packet_id);
  if (pending == pending_subacks_.end()) {
    to_device->insert(to_device->end(), packet.begin(), packet.end());
    return Result::kOk;
  }
  // Put the broker's codes, in order, where the forwarded filters were.
  std::vector<uint8_t> merged = std::move(pending->second);
  pending_subacks_.erase(pending);
  size_t next = 0;
  for (uint8_t& code : merged) {
    if (code != 0) continue;
    if (next == suback.codes.size()) return Result::kClose;
    code = suback.codes[next++];
  }
  if (next != suback.codes.size()) return Result::kClose;
  suback.codes = std::move(merged);
  if (!mqttparse::encode_suback(suback, version_, to_device)) return Result::kClose;
  return Result::kOk;
}

}  // namespace proxy
