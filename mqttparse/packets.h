// mqttparse/packets.h: decode/encode of the packets that follow CONNECT and carry topics or
// packet identifiers: PUBLISH, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE,
// UNSUBACK, DISCONNECT, for MQTT 3.1/3.1.1 and 5.0. Pure code.
//
// Decoded packets are VIEWS: every string_view and span points into the packet passed to
// the decoder (or, when building a packet to encode, into storage the caller keeps alive).
// MQTT 5 property lists stay raw (without their length prefix), so a re-encoded packet
// differs from the original only in the fields the caller changed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mqttparse/connect.h"
#include "mqttparse/packet.h"

namespace mqttparse {

enum class DecodeStatus { kOk, kMalformed };

// MQTT 5 property identifiers that carry or refer to topics.
inline constexpr uint8_t kPropertyResponseTopic = 0x08;
inline constexpr uint8_t kPropertyTopicAlias = 0x23;

struct PublishPacket {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;            // may be empty in 5.0 when a Topic Alias is present
  uint16_t packet_id = 0;            // only when qos > 0
  std::span<const uint8_t> properties;  // 5.0 only
  std::span<const uint8_t> payload;
  // Derived from |properties| by decode_publish; ignored by encode_publish.
  std::optional<uint16_t> topic_alias;
  std::optional<std::string_view> response_topic;
};

// decode_publish decodes a whole PUBLISH (fixed header included). kMalformed unless: QoS < 3,
// DUP 0 when QoS 0, the topic is valid UTF-8 without wildcards and non-empty (5.0: may be
// empty when a Topic Alias property is present), packet id non-zero when QoS > 0, the 5.0
// property list is well formed (see properties_well_formed) with at most one Topic Alias
// (non-zero) and one Response Topic (a valid Topic Name).
DecodeStatus decode_publish(std::span<const uint8_t> packet, ProtocolVersion version,
                            PublishPacket* out);

// encode_publish appends the packet to *out. false (nothing appended) when the topic or the
// whole does not fit MQTT's limits.
bool encode_publish(const PublishPacket& publish, ProtocolVersion version,
                    std::vector<uint8_t>* out);

// PUBACK, PUBREC, PUBREL, PUBCOMP. In 3.1.1 reason and properties do not exist.
struct AckPacket {
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  uint8_t reason = 0;
  std::span<const uint8_t> properties;
};

// decode_ack: kMalformed when the type is not one of the four, the flags are wrong (PUBREL
// 0x2, others 0), the packet id is 0, or the length does not fit the version (3.1.1: exactly
// 2; 5.0: 2, 3, or 4+ with a well-formed property list ending the packet).
DecodeStatus decode_ack(std::span<const uint8_t> packet, ProtocolVersion version,
                        AckPacket* out);

// encode_ack appends the shortest form: in 5.0 the reason is omitted when it is 0 and there
// are no properties, the property length when there are no properties.
void encode_ack(const AckPacket& ack, ProtocolVersion version, std::vector<uint8_t>* out);

struct SubscriptionRequest {
  std::string_view filter;
  uint8_t options = 0;  // 3.1.1: the requested QoS; 5.0: the Subscription Options byte
};

struct SubscribePacket {
  uint16_t packet_id = 0;
  std::span<const uint8_t> properties;  // 5.0 only
  std::vector<SubscriptionRequest> requests;
};

// decode_subscribe: flags 0x2, non-zero packet id, at least one request, each filter
// non-empty valid UTF-8 (filter syntax is checked by the caller, see topic.h), options with
// reserved bits 0 and QoS < 3 (5.0: Retain Handling < 3 too).
DecodeStatus decode_subscribe(std::span<const uint8_t> packet, ProtocolVersion version,
                              SubscribePacket* out);
bool encode_subscribe(const SubscribePacket& subscribe, ProtocolVersion version,
                      std::vector<uint8_t>* out);

struct UnsubscribePacket {
  uint16_t packet_id = 0;
  std::span<const uint8_t> properties;  // 5.0 only
  std::vector<std::string_view> filters;
};

DecodeStatus decode_unsubscribe(std::span<const uint8_t> packet, ProtocolVersion version,
                                UnsubscribePacket* out);
bool encode_unsubscribe(const UnsubscribePacket& unsubscribe, ProtocolVersion version,
                        std::vector<uint8_t>* out);

// SUBACK and UNSUBACK. A 3.1.1 UNSUBACK has no codes.
struct SubackPacket {
  PacketType type = PacketType::kSuback;
  uint16_t packet_id = 0;
  std::span<const uint8_t> properties;  // 5.0 only
  std::vector<uint8_t> codes;
};

// decode_suback accepts SUBACK and UNSUBACK (flags 0). 3.1.1 SUBACK needs at least one code
// and each code is 0, 1, 2 or 0x80; 5.0 codes are not checked beyond presence.
DecodeStatus decode_suback(std::span<const uint8_t> packet, ProtocolVersion version,
                           SubackPacket* out);
bool encode_suback(const SubackPacket& suback, ProtocolVersion version,
                   std::vector<uint8_t>* out);

struct DisconnectPacket {
  uint8_t reason = 0;                   // 5.0 only
  std::span<const uint8_t> properties;  // 5.0 only
};

// decode_disconnect: flags 0; 3.1.1 Remaining Length 0; 5.0 0, 1, or 2+ with properties.
DecodeStatus decode_disconnect(std::span<const uint8_t> packet, ProtocolVersion version,
                               DisconnectPacket* out);
void encode_disconnect(const DisconnectPacket& disconnect, ProtocolVersion version,
                       std::vector<uint8_t>* out);

// properties_well_formed: |list| is a sequence of known MQTT 5 properties whose values lie
// within the list (strings and binary data with their length prefixes, string pairs,
// Variable Byte Integers in minimal form). It checks structure only, not which packet may
// carry which property: the broker behind the proxy judges that.
bool properties_well_formed(std::span<const uint8_t> list);

// replace_string_property returns |list| with the value of the first property |id| (a UTF-8
// string property) replaced by |value|; other properties keep their bytes and order. |list|
// must be well formed. false when |id| is absent or |value| is longer than 65535 bytes.
bool replace_string_property(std::span<const uint8_t> list, uint8_t id, std::string_view value,
                             std::vector<uint8_t>* out_list);

}  // namespace mqttparse
