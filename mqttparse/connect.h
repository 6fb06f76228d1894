// mqttparse/connect.h: CONNECT decode/encode for MQTT 3.1, 3.1.1 and 5.0, CONNACK and
// DISCONNECT encoders. Pure code. A decoded CONNECT re-encodes byte for byte (MQTT 5
// properties are kept as raw bytes), so a rewritten CONNECT differs only in changed fields.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mqttparse {

// The Protocol Level byte of CONNECT.
enum class ProtocolVersion : uint8_t { kV31 = 3, kV311 = 4, kV5 = 5 };

struct ConnectPacket {
  ProtocolVersion version = ProtocolVersion::kV311;
  bool clean_start = true;
  uint16_t keep_alive = 0;
  // MQTT 5 only: the CONNECT properties, raw, without their length prefix.
  std::vector<uint8_t> properties;
  std::string client_id;

  bool will = false;
  uint8_t will_qos = 0;
  bool will_retain = false;
  std::vector<uint8_t> will_properties;  // MQTT 5 only, raw, without length prefix
  std::string will_topic;
  std::vector<uint8_t> will_payload;

  std::optional<std::string> username;
  std::optional<std::vector<uint8_t>> password;  // binary data, may be empty

  // Derived at decode time from |properties| (MQTT 5): an Authentication Method (0x15)
  // is present, i.e. the client asks for enhanced authentication.
  bool has_authentication_method = false;
};

enum class ConnectStatus {
  kOk,
  kMalformed,                 // any violation of the packet format or a flag rule: close
  kUnsupportedProtocolLevel,  // valid protocol name, level not 3/4/5: CONNACK 1
  kNotConnect,                // the packet is not a CONNECT
};

// decode_connect decodes one whole CONNECT packet (fixed header included), as returned by
// PacketFramer::packet(). Every read is bounds-checked; trailing bytes are kMalformed.
// *out is written only on kOk (so on kUnsupportedProtocolLevel out->version is unchanged).
// Beyond the format, it enforces: fixed-header flags 0 and a minimal Remaining Length;
// reserved Connect Flag 0; will QoS < 3; no will QoS/retain without a will; in 3.1/3.1.1
// no password without a username; UTF-8 strings well-formed without U+0000; the Will Topic
// a non-empty Topic Name without wildcards; MQTT 5 property lists valid for their place
// (see properties.h). An empty Client Identifier is accepted (the auth decision refuses
// it), as is a 3.1 Client Identifier longer than 23 characters (brokers accept those).
ConnectStatus decode_connect(std::span<const uint8_t> packet, ConnectPacket* out);

// connect_is_encodable holds when encode_connect can represent |connect|: a known version,
// every string and binary field at most 65535 bytes, will QoS <= 2 when there is a will,
// in 3.1/3.1.1 no password without a username, and the whole within kMaxRemainingLength.
// Every packet decode_connect accepts is encodable.
bool connect_is_encodable(const ConnectPacket& connect);

// encode_connect produces the whole packet, fixed header included, or an empty vector when
// !connect_is_encodable(connect). Flags are derived from the fields (username/password
// presence, will); will fields are ignored without |will|, property lists before 5.0.
// Protocol name is "MQIsdp" for 3.1. For any packet P that decodes to kOk into C,
// encode_connect(C) == P byte for byte.
std::vector<uint8_t> encode_connect(const ConnectPacket& connect);

// encode_connack: for 3.1/3.1.1 |code| is the return code (0..5); for 5.0 it is the reason
// code and the packet carries an empty property list. Session Present is always 0.
// 3.x: 0x20 0x02 0x00 code; 5.0: 0x20 0x03 0x00 code 0x00.
std::vector<uint8_t> encode_connack(ProtocolVersion version, uint8_t code);

// encode_disconnect_v5: an MQTT 5 DISCONNECT with |reason| and an empty property list
// (0xE0 0x02 reason 0x00).
std::vector<uint8_t> encode_disconnect_v5(uint8_t reason);

}  // namespace mqttparse
