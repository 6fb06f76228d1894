// bench/mqtt_auth_bench/mqtt_wire.cc: see mqtt_wire.h.
#include "bench/mqtt_auth_bench/mqtt_wire.h"

namespace bench {
namespace {

void put_u16(Bytes& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value & 0xff));
}

void put_string(Bytes& out, std::string_view text) {
  put_u16(out, static_cast<uint16_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
}

void put_varint(Bytes& out, size_t value) {
  do {
    uint8_t byte = value % 128;
    value /= 128;
    if (value > 0) byte |= 0x80;
    out.push_back(byte);
  } while (value > 0);
}

// packet: fixed header |first| + remaining length + |body|.
Bytes packet(uint8_t first, const Bytes& body) {
  Bytes out;
  out.reserve(body.size() + 5);
  out.push_back(first);
  put_varint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

Bytes encode_connect(int protocol_level, std::string_view client_id, std::string_view username,
                     std::string_view password, uint16_t keepalive_seconds) {
  Bytes body;
  put_string(body, "MQTT");
  body.push_back(static_cast<uint8_t>(protocol_level));
  uint8_t flags = 0x02;  // clean session / clean start
  if (!username.empty()) flags |= 0x80;
  if (!password.empty()) flags |= 0x40;
  body.push_back(flags);
  put_u16(body, keepalive_seconds);
  if (protocol_level == 5) body.push_back(0);  // no properties
  put_string(body, client_id);
  if (!username.empty()) put_string(body, username);
  if (!password.empty()) put_string(body, password);
  return packet(0x10, body);
}

Bytes encode_subscribe(int protocol_level, uint16_t packet_id, std::string_view filter, int qos) {
  Bytes body;
  put_u16(body, packet_id);
  if (protocol_level == 5) body.push_back(0);
  put_string(body, filter);
  body.push_back(static_cast<uint8_t>(qos));
  return packet(0x82, body);
}

Bytes encode_publish(int protocol_level, std::string_view topic, int qos, uint16_t packet_id,
                     std::span<const uint8_t> payload) {
  Bytes body;
  body.reserve(topic.size() + payload.size() + 8);
  put_string(body, topic);
  if (qos > 0) put_u16(body, packet_id);
  if (protocol_level == 5) body.push_back(0);
  body.insert(body.end(), payload.begin(), payload.end());
  return packet(static_cast<uint8_t>(0x30 | (qos << 1)), body);
}

Bytes encode_puback(uint16_t packet_id) {
  Bytes body;
  put_u16(body, packet_id);
  return packet(0x40, body);
}

Bytes encode_disconnect() { return {0xe0, 0x00}; }

SplitStatus split_frame(std::span<const uint8_t> buffer, Frame* out_frame, size_t* out_size) {
  if (buffer.size() < 2) return SplitStatus::kNeedMore;
  size_t length = 0;
  size_t multiplier = 1;
  size_t pos = 1;
  for (;;) {
    if (pos >= buffer.size()) return SplitStatus::kNeedMore;
    if (pos > 4) return SplitStatus::kMalformed;
    uint8_t byte = buffer[pos++];
    length += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) == 0) break;
  }
  if (buffer.size() - pos < length) return SplitStatus::kNeedMore;
  out_frame->header = buffer[0];
  out_frame->body = buffer.subspan(pos, length);
  *out_size = pos + length;
  return SplitStatus::kFrame;
}

bool parse_publish(int protocol_level, const Frame& frame, PublishView* out) {
  std::span<const uint8_t> body = frame.body;
  out->qos = (frame.header >> 1) & 0x03;
  if (body.size() < 2) return false;
  size_t topic_length = (size_t{body[0]} << 8) | body[1];
  size_t pos = 2 + topic_length;
  if (out->qos > 0) {
    if (body.size() < pos + 2) return false;
    out->packet_id = static_cast<uint16_t>((body[pos] << 8) | body[pos + 1]);
    pos += 2;
  }
  if (protocol_level == 5) {
    size_t properties = 0;
    size_t multiplier = 1;
    for (int i = 0;; ++i) {
      if (i == 4 || pos >= body.size()) return false;
      uint8_t byte = body[pos++];
      properties += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) == 0) break;
    }
    pos += properties;
  }
  if (pos > body.size()) return false;
  out->payload = body.subspan(pos);
  return true;
}

}  // namespace bench
