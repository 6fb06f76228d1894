// mqttparse/packets.cc: PUBLISH, acknowledgements, SUBSCRIBE/UNSUBSCRIBE and their acks,
// DISCONNECT.
#include "mqttparse/packets.h"

#include "mqttparse/mqtt_string.h"
#include "mqttparse/reader.h"

namespace mqttparse {

namespace {

constexpr size_t kMaxTwoByteLength = 65535;

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void put_u16(uint16_t value, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xFF));
}

void put_prefixed(std::span<const uint8_t> data, std::vector<uint8_t>* out) {
  put_u16(static_cast<uint16_t>(data.size()), out);
  out->insert(out->end(), data.begin(), data.end());
}

size_t varint_size(uint32_t value) {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  return 4;
}

bool is_v5(ProtocolVersion version) { return version == ProtocolVersion::kV5; }

// Body reader positioned after the fixed header. kMalformed when the header is bad, the
// type differs, the packet size disagrees with the header, or the flags are not |flags|
// (pass -1 to skip the flag check).
bool open_body(std::span<const uint8_t> packet, PacketType type, int flags,
               FixedHeader* out_header, std::span<const uint8_t>* out_body) {
  if (parse_fixed_header(packet, out_header) != HeaderStatus::kOk) return false;
  if (out_header->type() != type) return false;
  if (out_header->packet_size() != packet.size()) return false;
  if (flags >= 0 && (out_header->first_byte & 0x0F) != flags) return false;
  *out_body = packet.subspan(out_header->header_size);
  return true;
}

// Reads a property length and the list, which must be well formed.
bool read_properties(ByteReader* reader, std::span<const uint8_t>* out) {
  uint32_t length = 0;
  if (!reader->read_varint(&length)) return false;
  if (!reader->read_bytes(length, out)) return false;
  return properties_well_formed(*out);
}

void put_properties(std::span<const uint8_t> list, std::vector<uint8_t>* out) {
  encode_remaining_length(static_cast<uint32_t>(list.size()), out);
  out->insert(out->end(), list.begin(), list.end());
}

size_t properties_wire_size(std::span<const uint8_t> list) {
  return varint_size(static_cast<uint32_t>(list.size())) + list.size();
}

void put_header(uint8_t first_byte, size_t remaining, std::vector<uint8_t>* out) {
  out->push_back(first_byte);
  encode_remaining_length(static_cast<uint32_t>(remaining), out);
}

enum class ValueType { kByte, kTwoByte, kFourByte, kVarint, kUtf8, kBinary, kStringPair };

// Identifiers from MQTT 5.0 section 2.2.2.2.
bool property_type(uint32_t id, ValueType* out) {
  switch (id) {
    case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
      *out = ValueType::kByte;
      return true;
    case 0x13: case 0x21: case 0x22: case 0x23:
      *out = ValueType::kTwoByte;
      return true;
    case 0x02: case 0x11: case 0x18: case 0x27:
      *out = ValueType::kFourByte;
      return true;
    case 0x0B:
      *out = ValueType::kVarint;
      return true;
    case 0x03: case 0x08: case 0x12: case 0x15: case 0x1A: case 0x1C: case 0x1F:
      *out = ValueType::kUtf8;
      return true;
    case 0x09: case 0x16:
      *out = ValueType::kBinary;
      return true;
    case 0x26:
      *out = ValueType::kStringPair;
      return true;
    default:
      return false;
  }
}

// Reads one property; *out_value views its value bytes (for strings and binary data the
// content without the length prefix; for a pair, the whole pair).
bool read_property(ByteReader* reader, uint32_t* out_id, std::span<const uint8_t>* out_value) {
  ValueType type;
  if (!reader->read_varint(out_id) || !property_type(*out_id, &type)) return false;
  std::span<const uint8_t> ignored;
  switch (type) {
    case ValueType::kByte: return reader->read_bytes(1, out_value);
    case ValueType::kTwoByte: return reader->read_bytes(2, out_value);
    case ValueType::kFourByte: return reader->read_bytes(4, out_value);
    case ValueType::kVarint: {
      uint32_t value;
      return reader->read_varint(&value);
    }
    case ValueType::kUtf8:
    case ValueType::kBinary:
      return reader->read_prefixed(out_value);
    case ValueType::kStringPair:
      return reader->read_prefixed(out_value) && reader->read_prefixed(&ignored);
  }
  return false;
}

bool read_utf8(ByteReader* reader, std::string_view* out) {
  std::span<const uint8_t> bytes;
  if (!reader->read_prefixed(&bytes) || !is_valid_mqtt_utf8(bytes)) return false;
  *out = as_text(bytes);
  return true;
}

bool is_ack_type(PacketType type) {
  return type == PacketType::kPuback || type == PacketType::kPubrec ||
         type == PacketType::kPubrel || type == PacketType::kPubcomp;
}

}  // namespace

bool properties_well_formed(std::span<const uint8_t> list) {
  ByteReader reader(list);
  while (!reader.empty()) {
    uint32_t id;
    std::span<const uint8_t> value;
    if (!read_property(&reader, &id, &value)) return false;
  }
  return true;
}

bool replace_string_property(std::span<const uint8_t> list, uint8_t id, std::string_view value,
                             std::vector<uint8_t>* out_list) {
  if (value.size() > kMaxTwoByteLength) return false;
  ByteReader reader(list);
  while (!reader.empty()) {
    size_t start = reader.position();
    uint32_t found_id;
    std::span<const uint8_t> found_value;
    if (!read_property(&reader, &found_id, &found_value)) return false;
    if (found_id != id) continue;
    out_list->clear();
    out_list->insert(out_list->end(), list.begin(), list.begin() + start);
    out_list->push_back(id);
    put_prefixed(as_bytes(value), out_list);
    out_list->insert(out_list->end(), list.begin() + reader.position(), list.end());
    return true;
  }
  return false;
}

DecodeStatus decode_publish(std::span<const uint8_t> packet, ProtocolVersion version,
                            PublishPacket* out) {
  FixedHeader header;
  std::span<const uint8_t> body;
  if (!open_body(packet, PacketType::kPublish, -1, &header, &body)) return DecodeStatus::kMalformed;
  PublishPacket result;
  uint8_t flags = header.first_byte & 0x0F;
  result.dup = (flags & 0x08) != 0;
  result.qos = (flags >> 1) & 0x03;
  result.retain = (flags & 0x01) != 0;
  if (result.qos == 3 || (result.qos == 0 && result.dup)) return DecodeStatus::kMalformed;

  ByteReader reader(body);
  std::span<const uint8_t> topic;
  if (!reader.read_prefixed(&topic)) return DecodeStatus::kMalformed;
  result.topic = as_text(topic);
  if (result.qos > 0 && (!reader.read_u16(&result.packet_id) || result.packet_id == 0)) {
    return DecodeStatus::kMalformed;
  }
  if (is_v5(version)) {
    if (!read_properties(&reader, &result.properties)) return DecodeStatus::kMalformed;
    ByteReader props(result.properties);
    while (!props.empty()) {
      uint32_t id;
      std::span<const uint8_t> value;
      read_property(&props, &id, &value);  // cannot fail: the list is well formed
      if (id == kPropertyTopicAlias) {
        uint16_t alias = static_cast<uint16_t>((value[0] << 8) | value[1]);
        if (result.topic_alias || alias == 0) return DecodeStatus::kMalformed;
        result.topic_alias = alias;
      } else if (id == kPropertyResponseTopic) {
        if (result.response_topic || !is_valid_topic_name(value)) return DecodeStatus::kMalformed;
        result.response_topic = as_text(value);
      }
    }
  }
  bool topic_ok = topic.empty() ? (is_v5(version) && result.topic_alias.has_value())
                                : is_valid_topic_name(topic);
  if (!topic_ok) return DecodeStatus::kMalformed;
  result.payload = body.subspan(reader.position());
  *out = result;
  return DecodeStatus::kOk;
}

bool encode_publish(const PublishPacket& publish, ProtocolVersion version,
                    std::vector<uint8_t>* out) {
  if (publish.topic.size() > kMaxTwoByteLength || publish.qos > 2) return false;
  size_t remaining = 2 + publish.topic.size() + (publish.qos > 0 ? 2 : 0) +
                     (is_v5(version) ? properties_wire_size(publish.properties) : 0) +
                     publish.payload.size();
  if (remaining > kMaxRemainingLength) return false;
  uint8_t first = static_cast<uint8_t>(0x30 | (publish.dup ? 0x08 : 0) | (publish.qos << 1) |
                                       (publish.retain ? 0x01 : 0));
  out->reserve(out->size() + remaining + 5);
  put_header(first, remaining, out);
  put_prefixed(as_bytes(publish.topic), out);
  if (publish.qos > 0) put_u16(publish.packet_id, out);
  if (is_v5(version)) put_properties(publish.properties, out);
  out->insert(out->end(), publish.payload.begin(), publish.payload.end());
  return true;
}

DecodeStatus decode_ack(std::span<const uint8_t> packet, ProtocolVersion version,
                        AckPacket* out) {
  FixedHeader header;
  if (parse_fixed_header(packet, &header) != HeaderStatus::kOk || !is_ack_type(header.type())) {
    return DecodeStatus::kMalformed;
  }
  int flags = header.type() == PacketType::kPubrel ? 0x2 : 0;
  std::span<const uint8_t> body;
  if (!open_body(packet, header.type(), flags, &header, &body)) return DecodeStatus::kMalformed;
  AckPacket result;
  result.type = header.type();
  ByteReader reader(body);
  if (!reader.read_u16(&result.packet_id) || result.packet_id == 0) return DecodeStatus::kMalformed;
  if (is_v5(version)) {
    if (!reader.empty() && !reader.read_u8(&result.reason)) return DecodeStatus::kMalformed;
    if (!reader.empty() && !read_properties(&reader, &result.properties)) {
      return DecodeStatus::kMalformed;
    }
  }
  if (!reader.empty()) return DecodeStatus::kMalformed;
  *out = result;
  return DecodeStatus::kOk;
}

void encode_ack(const AckPacket& ack, ProtocolVersion version, std::vector<uint8_t>* out) {
  uint8_t first = static_cast<uint8_t>(static_cast<uint8_t>(ack.type) << 4 |
                                       (ack.type == PacketType::kPubrel ? 0x2 : 0));
  bool with_reason = is_v5(version) && (ack.reason != 0 || !ack.properties.empty());
  bool with_properties = is_v5(version) && !ack.properties.empty();
  size_t remaining = 2 + (with_reason ? 1 : 0) +
                     (with_properties ? properties_wire_size(ack.properties) : 0);
  put_header(first, remaining, out);
  put_u16(ack.packet_id, out);
  if (with_reason) out->push_back(ack.reason);
  if (with_properties) put_properties(ack.properties, out);
}

namespace {

// open_filter_list: what SUBSCRIBE and UNSUBSCRIBE share before their filters: flags 0x2, a
// non-zero packet identifier, then (MQTT 5) properties. |out_filters| is the rest.
bool open_filter_list(std::span<const uint8_t> packet, PacketType type, ProtocolVersion version,
                      uint16_t* out_packet_id, std::span<const uint8_t>* out_properties,
                      std::span<const uint8_t>* out_filters) {
  FixedHeader header;
  std::span<const uint8_t> body;
  if (!open_body(packet, type, 0x2, &header, &body)) return false;
  ByteReader reader(body);
  if (!reader.read_u16(out_packet_id) || *out_packet_id == 0) return false;
  if (is_v5(version) && !read_properties(&reader, out_properties)) return false;
  *out_filters = body.subspan(reader.position());
  return true;
}

}  // namespace

DecodeStatus decode_subscribe(std::span<const uint8_t> packet, ProtocolVersion version,
                              SubscribePacket* out) {
  SubscribePacket result;
  std::span<const uint8_t> filters;
  if (!open_filter_list(packet, PacketType::kSubscribe, version, &result.packet_id,
                        &result.properties, &filters)) {
    return DecodeStatus::kMalformed;
  }
  ByteReader reader(filters);
  while (!reader.empty()) {
    SubscriptionRequest request;
    if (!read_utf8(&reader, &request.filter) || request.filter.empty() ||
        !reader.read_u8(&request.options)) {
      return DecodeStatus::kMalformed;
    }
    if ((request.options & 0x03) == 3) return DecodeStatus::kMalformed;
    if (is_v5(version)) {
      if ((request.options & 0xC0) != 0 || ((request.options >> 4) & 0x03) == 3) {
        return DecodeStatus::kMalformed;
      }
    } else if ((request.options & 0xFC) != 0) {
      return DecodeStatus::kMalformed;
    }
    result.requests.push_back(request);
  }
  if (result.requests.empty()) return DecodeStatus::kMalformed;
  *out = std::move(result);
  return DecodeStatus::kOk;
}

bool encode_subscribe(const SubscribePacket& subscribe, ProtocolVersion version,
                      std::vector<uint8_t>* out) {
  size_t remaining = 2 + (is_v5(version) ? properties_wire_size(subscribe.properties) : 0);
  for (const SubscriptionRequest& request : subscribe.requests) {
    if (request.filter.size() > kMaxTwoByteLength) return false;
    remaining += 2 + request.filter.size() + 1;
  }
  if (remaining > kMaxRemainingLength) return false;
  put_header(0x82, remaining, out);
  put_u16(subscribe.packet_id, out);
  if (is_v5(version)) put_properties(subscribe.properties, out);
  for (const SubscriptionRequest& request : subscribe.requests) {
    put_prefixed(as_bytes(request.filter), out);
    out->push_back(request.options);
  }
  return true;
}

DecodeStatus decode_unsubscribe(std::span<const uint8_t> packet, ProtocolVersion version,
                                UnsubscribePacket* out) {
  UnsubscribePacket result;
  std::span<const uint8_t> filters;
  if (!open_filter_list(packet, PacketType::kUnsubscribe, version, &result.packet_id,
                        &result.properties, &filters)) {
    return DecodeStatus::kMalformed;
  }
  ByteReader reader(filters);
  while (!reader.empty()) {
    std::string_view filter;
    if (!read_utf8(&reader, &filter) || filter.empty()) return DecodeStatus::kMalformed;
    result.filters.push_back(filter);
  }
  if (result.filters.empty()) return DecodeStatus::kMalformed;
  *out = std::move(result);
  return DecodeStatus::kOk;
}

bool encode_unsubscribe(const UnsubscribePacket& unsubscribe, ProtocolVersion version,
                        std::vector<uint8_t>* out) {
  size_t remaining = 2 + (is_v5(version) ? properties_wire_size(unsubscribe.properties) : 0);
  for (std::string_view filter : unsubscribe.filters) {
    if (filter.size() > kMaxTwoByteLength) return false;
    remaining += 2 + filter.size();
  }
  if (remaining > kMaxRemainingLength) return false;
  put_header(0xA2, remaining, out);
  put_u16(unsubscribe.packet_id, out);
  if (is_v5(version)) put_properties(unsubscribe.properties, out);
  for (std::string_view filter : unsubscribe.filters) put_prefixed(as_bytes(filter), out);
  return true;
}

DecodeStatus decode_suback(std::span<const uint8_t> packet, ProtocolVersion version,
                           SubackPacket* out) {
  FixedHeader header;
  if (parse_fixed_header(packet, &header) != HeaderStatus::kOk) return DecodeStatus::kMalformed;
  PacketType type = header.type();
  if (type != PacketType::kSuback && type != PacketType::kUnsuback) return DecodeStatus::kMalformed;
  std::span<const uint8_t> body;
  if (!open_body(packet, type, 0, &header, &body)) return DecodeStatus::kMalformed;
  SubackPacket result;
  result.type = type;
  ByteReader reader(body);
  if (!reader.read_u16(&result.packet_id) || result.packet_id == 0) return DecodeStatus::kMalformed;
  if (is_v5(version) && !read_properties(&reader, &result.properties)) {
    return DecodeStatus::kMalformed;
  }
  std::span<const uint8_t> codes = body.subspan(reader.position());
  result.codes.assign(codes.begin(), codes.end());
  bool unsuback_v3 = type == PacketType::kUnsuback && !is_v5(version);
  if (unsuback_v3 != result.codes.empty()) return DecodeStatus::kMalformed;
  if (type == PacketType::kSuback && !is_v5(version)) {
    for (uint8_t code : result.codes) {
      if (code > 2 && code != 0x80) return DecodeStatus::kMalformed;
    }
  }
  *out = std::move(result);
  return DecodeStatus::kOk;
}

bool encode_suback(const SubackPacket& suback, ProtocolVersion version,
                   std::vector<uint8_t>* out) {
  size_t remaining = 2 + (is_v5(version) ? properties_wire_size(suback.properties) : 0) +
                     suback.codes.size();
  if (remaining > kMaxRemainingLength) return false;
  put_header(static_cast<uint8_t>(static_cast<uint8_t>(suback.type) << 4), remaining, out);
  put_u16(suback.packet_id, out);
  if (is_v5(version)) put_properties(suback.properties, out);
  out->insert(out->end(), suback.codes.begin(), suback.codes.end());
  return true;
}

DecodeStatus decode_disconnect(std::span<const uint8_t> packet, ProtocolVersion version,
                               DisconnectPacket* out) {
  FixedHeader header;
  std::span<const uint8_t> body;
  if (!open_body(packet, PacketType::kDisconnect, 0, &header, &body)) {
    return DecodeStatus::kMalformed;
  }
  DisconnectPacket result;
  ByteReader reader(body);
  if (is_v5(version)) {
    if (!reader.empty() && !reader.read_u8(&result.reason)) return DecodeStatus::kMalformed;
    if (!reader.empty() && !read_properties(&reader, &result.properties)) {
      return DecodeStatus::kMalformed;
    }
  }
  if (!reader.empty()) return DecodeStatus::kMalformed;
  *out = result;
  return DecodeStatus::kOk;
}

void encode_disconnect(const DisconnectPacket& disconnect, ProtocolVersion version,
                       std::vector<uint8_t>* out) {
  if (!is_v5(version)) {
    put_header(0xE0, 0, out);
    return;
  }
  bool with_properties = !disconnect.properties.empty();
  bool with_reason = disconnect.reason != 0 || with_properties;
  size_t remaining = (with_reason ? 1 : 0) +
                     (with_properties ? properties_wire_size(disconnect.properties) : 0);
  put_header(0xE0, remaining, out);
  if (with_reason) out->push_back(disconnect.reason);
  if (with_properties) put_properties(disconnect.properties, out);
}

}  // namespace mqttparse
