// mqttparse/connect.cc: CONNECT decoding and encoding, CONNACK and DISCONNECT encoding.
//
// Section numbers refer to MQTT 3.1.1 (OASIS, 2014) and MQTT 5.0 (OASIS, 2019); MQTT 3.1 is
// the IBM/Eurotech 2010 specification. Every rule whose violation would stop the byte-exact
// round trip (decode then encode) is enforced on decode, for all three versions.
#include "mqttparse/connect.h"

#include <string_view>

#include "mqttparse/mqtt_string.h"
#include "mqttparse/packet.h"
#include "mqttparse/properties.h"
#include "mqttparse/reader.h"

namespace mqttparse {

namespace {

constexpr uint8_t kConnectFirstByte = 0x10;  // type 1, flags 0 ([MQTT-2.2.2-1])
constexpr uint8_t kConnackFirstByte = 0x20;
constexpr uint8_t kDisconnectFirstByte = 0xE0;

// Connect Flags bits (3.1.1 section 3.1.2.3, 5.0 section 3.1.2.3).
constexpr uint8_t kFlagReserved = 0x01;
constexpr uint8_t kFlagCleanStart = 0x02;
constexpr uint8_t kFlagWill = 0x04;
constexpr uint8_t kFlagWillQosShift = 3;
constexpr uint8_t kFlagWillQosMask = 0x18;
constexpr uint8_t kFlagWillRetain = 0x20;
constexpr uint8_t kFlagPassword = 0x40;
constexpr uint8_t kFlagUsername = 0x80;

constexpr std::string_view kProtocolNameMqtt = "MQTT";
constexpr std::string_view kProtocolNameMqisdp = "MQIsdp";
constexpr size_t kMaxTwoByteLength = 0xFFFF;

std::string_view as_string_view(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

size_t varint_size(uint32_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

// read_protocol reads Protocol Name and Protocol Level and classifies them: a known name
// with a level that belongs to the other name is malformed, a known name with a level no
// version defines is unsupported (CONNACK 1 / 0x84, [MQTT-3.1.2-2]), any other name is
// malformed ([MQTT-3.1.2-1]). Levels with the high bit set (Mosquitto's bridge marker) are
// simply unsupported: devices do not bridge.
ConnectStatus read_protocol(ByteReader* reader, ProtocolVersion* out_version) {
  std::span<const uint8_t> name;
  uint8_t level = 0;
  if (!reader->read_prefixed(&name) || !reader->read_u8(&level)) {
    return ConnectStatus::kMalformed;
  }
  std::string_view name_text = as_string_view(name);
  if (name_text == kProtocolNameMqtt) {
    if (level == 4) *out_version = ProtocolVersion::kV311;
    else if (level == 5) *out_version = ProtocolVersion::kV5;
    else if (level == 3) return ConnectStatus::kMalformed;
    else return ConnectStatus::kUnsupportedProtocolLevel;
    return ConnectStatus::kOk;
  }
  if (name_text == kProtocolNameMqisdp) {
    if (level == 3) *out_version = ProtocolVersion::kV31;
    else if (level == 4 || level == 5) return ConnectStatus::kMalformed;
    else return ConnectStatus::kUnsupportedProtocolLevel;
    return ConnectStatus::kOk;
  }
  return ConnectStatus::kMalformed;
}

// read_property_list reads a Variable Byte Integer length and that many property bytes.
bool read_property_list(ByteReader* reader, PropertyContext context,
                        std::vector<uint8_t>* out_properties, PropertySummary* out_summary) {
  uint32_t length = 0;
  std::span<const uint8_t> bytes;
  if (!reader->read_varint(&length) || !reader->read_bytes(length, &bytes)) return false;
  if (!validate_properties(bytes, context, out_summary)) return false;
  out_properties->assign(bytes.begin(), bytes.end());
  return true;
}

bool read_utf8_string(ByteReader* reader, std::string* out) {
  std::span<const uint8_t> bytes;
  if (!reader->read_prefixed(&bytes) || !is_valid_mqtt_utf8(bytes)) return false;
  out->assign(as_string_view(bytes));
  return true;
}

bool read_binary(ByteReader* reader, std::vector<uint8_t>* out) {
  std::span<const uint8_t> bytes;
  if (!reader->read_prefixed(&bytes)) return false;
  out->assign(bytes.begin(), bytes.end());
  return true;
}

// decode_body decodes the variable header and payload of a CONNECT (everything after the
// fixed header) into |out|, which is only meaningful on kOk.
ConnectStatus decode_body(std::span<const uint8_t> body, ConnectPacket* out) {
  ByteReader reader(body);
  ConnectStatus protocol = read_protocol(&reader, &out->version);
  if (protocol != ConnectStatus::kOk) return protocol;
  const bool v5 = out->version == ProtocolVersion::kV5;

  uint8_t flags = 0;
  if (!reader.read_u8(&flags) || !reader.read_u16(&out->keep_alive)) {
    return ConnectStatus::kMalformed;
  }
  // [MQTT-3.1.2-3]. MQTT 3.1 only calls the bit unused; it is refused there too, as
  // Mosquitto's clients never set it and the flags must re-encode unchanged.
  if (flags & kFlagReserved) return ConnectStatus::kMalformed;
  out->clean_start = (flags & kFlagCleanStart) != 0;
  out->will = (flags & kFlagWill) != 0;
  out->will_qos = static_cast<uint8_t>((flags & kFlagWillQosMask) >> kFlagWillQosShift);
  out->will_retain = (flags & kFlagWillRetain) != 0;
  if (out->will_qos == 3) return ConnectStatus::kMalformed;  // [MQTT-3.1.2-14]
  if (!out->will && (out->will_qos != 0 || out->will_retain)) {
    return ConnectStatus::kMalformed;  // [MQTT-3.1.2-13], [MQTT-3.1.2-15]
  }
  const bool has_username = (flags & kFlagUsername) != 0;
  const bool has_password = (flags & kFlagPassword) != 0;
  // [MQTT-3.1.2-22] in 3.1.1 (3.1 has the same rule); MQTT 5 allows a password alone.
  if (!v5 && has_password && !has_username) return ConnectStatus::kMalformed;

  PropertySummary summary;
  if (v5 && !read_property_list(&reader, PropertyContext::kConnect, &out->properties,
                                &summary)) {
    return ConnectStatus::kMalformed;
  }
  out->has_authentication_method = summary.has_authentication_method;

  // The Client Identifier may be empty here: refusing it (CONNACK 2 / 0x85) is the auth
  // decision's job. MQTT 3.1 limits it to 23 characters, but brokers (Mosquitto included)
  // accept longer ones from 3.1 clients, and so does this decoder.
  if (!read_utf8_string(&reader, &out->client_id)) return ConnectStatus::kMalformed;

  if (out->will) {
    PropertySummary will_summary;
    if (v5 && !read_property_list(&reader, PropertyContext::kWill, &out->will_properties,
                                  &will_summary)) {
      return ConnectStatus::kMalformed;
    }
    // The Will Topic is where the will is published: a Topic Name, so not empty and
    // without wildcards ([MQTT-4.7.3-1], [MQTT-3.3.2-2]); Mosquitto refuses these too.
    std::span<const uint8_t> topic;
    if (!reader.read_prefixed(&topic) || !is_valid_topic_name(topic)) {
      return ConnectStatus::kMalformed;
    }
    out->will_topic.assign(as_string_view(topic));
    // Binary in 3.1.1 and 5.0; 3.1 calls it a string but clients send arbitrary bytes.
    if (!read_binary(&reader, &out->will_payload)) return ConnectStatus::kMalformed;
  }
  if (has_username) {
    std::string username;
    if (!read_utf8_string(&reader, &username)) return ConnectStatus::kMalformed;
    out->username = std::move(username);
  }
  if (has_password) {
    std::vector<uint8_t> password;
    if (!read_binary(&reader, &password)) return ConnectStatus::kMalformed;
    out->password = std::move(password);
  }
  if (!reader.empty()) return ConnectStatus::kMalformed;  // trailing bytes
  return ConnectStatus::kOk;
}

void append_u16(uint16_t value, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value & 0xFF));
}

void append_prefixed(std::span<const uint8_t> bytes, std::vector<uint8_t>* out) {
  append_u16(static_cast<uint16_t>(bytes.size()), out);
  out->insert(out->end(), bytes.begin(), bytes.end());
}

void append_property_list(const std::vector<uint8_t>& properties, std::vector<uint8_t>* out) {
  encode_remaining_length(static_cast<uint32_t>(properties.size()), out);
  out->insert(out->end(), properties.begin(), properties.end());
}

}  // namespace

ConnectStatus decode_connect(std::span<const uint8_t> packet, ConnectPacket* out) {
  FixedHeader header;
  if (parse_fixed_header(packet, &header) != HeaderStatus::kOk) return ConnectStatus::kMalformed;
  if (header.type() != PacketType::kConnect) return ConnectStatus::kNotConnect;
  if (header.first_byte != kConnectFirstByte) return ConnectStatus::kMalformed;
  if (header.packet_size() != packet.size()) return ConnectStatus::kMalformed;
  // MQTT 5 requires the minimal Remaining Length ([MQTT-1.5.5-1]); 3.1.1 only defines that
  // form, and the round trip needs it.
  if (header.header_size != 1 + varint_size(header.remaining_length)) {
    return ConnectStatus::kMalformed;
  }

  ConnectPacket decoded;
  ConnectStatus status = decode_body(packet.subspan(header.header_size), &decoded);
  if (status == ConnectStatus::kOk) *out = std::move(decoded);
  return status;
}

bool connect_is_encodable(const ConnectPacket& connect) {
  const bool v5 = connect.version == ProtocolVersion::kV5;
  if (!v5 && connect.version != ProtocolVersion::kV311 &&
      connect.version != ProtocolVersion::kV31) {
    return false;
  }
  if (!v5 && connect.password && !connect.username) return false;
  if (connect.will && connect.will_qos > 2) return false;

  size_t size = 2 + (connect.version == ProtocolVersion::kV31 ? kProtocolNameMqisdp.size()
                                                              : kProtocolNameMqtt.size());
  size += 1 + 1 + 2;  // level, flags, keep alive
  auto add_prefixed = [&size](size_t length) {
    size += 2 + length;
    return length <= kMaxTwoByteLength;
  };
  auto add_property_list = [&size](size_t length) {
    if (length > kMaxRemainingLength) return false;
    size += varint_size(static_cast<uint32_t>(length)) + length;
    return true;
  };
  if (v5 && !add_property_list(connect.properties.size())) return false;
  if (!add_prefixed(connect.client_id.size())) return false;
  if (connect.will) {
    if (v5 && !add_property_list(connect.will_properties.size())) return false;
    if (!add_prefixed(connect.will_topic.size())) return false;
    if (!add_prefixed(connect.will_payload.size())) return false;
  }
  if (connect.username && !add_prefixed(connect.username->size())) return false;
  if (connect.password && !add_prefixed(connect.password->size())) return false;
  return size <= kMaxRemainingLength;
}

std::vector<uint8_t> encode_connect(const ConnectPacket& connect) {
  if (!connect_is_encodable(connect)) return {};
  const bool v5 = connect.version == ProtocolVersion::kV5;

  std::vector<uint8_t> body;
  append_prefixed(as_bytes(connect.version == ProtocolVersion::kV31 ? kProtocolNameMqisdp
                                                                    : kProtocolNameMqtt),
                  &body);
  body.push_back(static_cast<uint8_t>(connect.version));
  uint8_t flags = 0;
  if (connect.clean_start) flags |= kFlagCleanStart;
  if (connect.will) {
    flags |= kFlagWill;
    flags |= static_cast<uint8_t>(connect.will_qos << kFlagWillQosShift);
    if (connect.will_retain) flags |= kFlagWillRetain;
  }
  if (connect.username) flags |= kFlagUsername;
  if (connect.password) flags |= kFlagPassword;
  body.push_back(flags);
  append_u16(connect.keep_alive, &body);
  if (v5) append_property_list(connect.properties, &body);

  append_prefixed(as_bytes(connect.client_id), &body);
  if (connect.will) {
    if (v5) append_property_list(connect.will_properties, &body);
    append_prefixed(as_bytes(connect.will_topic), &body);
    append_prefixed(connect.will_payload, &body);
  }
  if (connect.username) append_prefixed(as_bytes(*connect.username), &body);
  if (connect.password) append_prefixed(*connect.password, &body);

  std::vector<uint8_t> packet;
  packet.reserve(1 + varint_size(static_cast<uint32_t>(body.size())) + body.size());
  packet.push_back(kConnectFirstByte);
  encode_remaining_length(static_cast<uint32_t>(body.size()), &packet);
  packet.insert(packet.end(), body.begin(), body.end());
  return packet;
}

std::vector<uint8_t> encode_connack(ProtocolVersion version, uint8_t code) {
  // Acknowledge Flags 0: Session Present is never set by the proxy.
  if (version == ProtocolVersion::kV5) {
    return {kConnackFirstByte, 0x03, 0x00, code, 0x00};
  }
  return {kConnackFirstByte, 0x02, 0x00, code};
}

std::vector<uint8_t> encode_disconnect_v5(uint8_t reason) {
  return {kDisconnectFirstByte, 0x02, reason, 0x00};
}

}  // namespace mqttparse
