// bench/mqtt_auth_bench/mqtt_wire.h: the few MQTT 3.1.1 / 5 packets the load generator
// sends, and a frame splitter for what it receives. Client side only; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using Bytes = std::vector<uint8_t>;

// protocol_level: 4 for MQTT 3.1.1, 5 for MQTT 5.
Bytes encode_connect(int protocol_level, std::string_view client_id, std::string_view username,
                     std::string_view password, uint16_t keepalive_seconds);
Bytes encode_subscribe(int protocol_level, uint16_t packet_id, std::string_view filter, int qos);
Bytes encode_publish(int protocol_level, std::string_view topic, int qos, uint16_t packet_id,
                     std::span<const uint8_t> payload);
Bytes encode_puback(uint16_t packet_id);
Bytes encode_disconnect();

// Frame: one complete packet inside the receive buffer (views stay valid until the buffer
// is consumed).
struct Frame {
  uint8_t header = 0;             // first byte: type << 4 | flags
  std::span<const uint8_t> body;  // variable header + payload
};

enum class SplitStatus { kFrame, kNeedMore, kMalformed };

// split_frame looks for one complete packet at the start of |buffer|; on kFrame, |out_size|
// is the number of bytes it spans.
SplitStatus split_frame(std::span<const uint8_t> buffer, Frame* out_frame, size_t* out_size);

// PublishView: the parts of a received PUBLISH the bench needs.
struct PublishView {
  int qos = 0;
  uint16_t packet_id = 0;
  std::span<const uint8_t> payload;
};

bool parse_publish(int protocol_level, const Frame& frame, PublishView* out);

}  // namespace bench
