// mqttparse/packet.h: MQTT control packet framing (fixed header + Remaining Length).
// Pure code: no I/O, no allocation beyond the framer's own bounded buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mqttparse {

enum class PacketType : uint8_t {
  kConnect = 1, kConnack = 2, kPublish = 3, kPuback = 4, kPubrec = 5, kPubrel = 6,
  kPubcomp = 7, kSubscribe = 8, kSuback = 9, kUnsubscribe = 10, kUnsuback = 11,
  kPingreq = 12, kPingresp = 13, kDisconnect = 14, kAuth = 15,
};

// The largest Remaining Length MQTT can express (4 varint bytes).
inline constexpr uint32_t kMaxRemainingLength = 268'435'455;

struct FixedHeader {
  uint8_t first_byte = 0;          // packet type in the high nibble, flags in the low
  uint32_t remaining_length = 0;
  uint8_t header_size = 0;         // 2..5 bytes
  PacketType type() const { return static_cast<PacketType>(first_byte >> 4); }
  size_t packet_size() const { return size_t{header_size} + remaining_length; }
};

enum class HeaderStatus { kNeedMore, kOk, kMalformed };

// parse_fixed_header reads a fixed header from the start of |in|. kMalformed when the
// Remaining Length varint has a 5th byte or the packet type is 0. kNeedMore when |in| ends
// inside the header. A non-minimal Remaining Length is accepted here (MQTT 3.1.1 does not
// forbid it); per-type flag rules belong to each packet's decoder.
HeaderStatus parse_fixed_header(std::span<const uint8_t> in, FixedHeader* out_header);

// encode_remaining_length appends the varint form of |value| (must be <= kMaxRemainingLength).
void encode_remaining_length(uint32_t value, std::vector<uint8_t>* out);

enum class FrameStatus {
  kNeedMore,   // every byte of the input was consumed; no packet completed yet
  kPacket,     // a whole packet is available from packet()
  kMalformed,  // bad fixed header; the stream cannot be resynchronised
  kTooLarge,   // the fixed header announced more than max_packet_size; nothing was buffered
};

// PacketFramer cuts a byte stream into whole packets, one at a time. It buffers at most
// max_packet_size bytes (the whole packet, fixed header included, as MQTT 5's Maximum
// Packet Size counts it), and refuses an oversize packet as soon as its header is known,
// before buffering its body.
class PacketFramer {
 public:
  explicit PacketFramer(uint32_t max_packet_size);

  // feed consumes bytes of |in| up to the end of the current packet. *out_consumed is the
  // number of bytes of |in| taken (all of them on kNeedMore; up to the packet's end on
  // kPacket). After kPacket, packet() views the whole packet (fixed header included) until
  // the next call to feed or reset. After kMalformed or kTooLarge the framer must be reset;
  // until then feed consumes nothing and repeats that status.
  FrameStatus feed(std::span<const uint8_t> in, size_t* out_consumed);

  // packet is empty unless the last feed returned kPacket.
  std::span<const uint8_t> packet() const;
  const FixedHeader& header() const { return header_; }
  void reset();

 private:
  uint32_t max_packet_size_;
  std::vector<uint8_t> buffer_;
  FixedHeader header_;
  bool header_known_ = false;
  bool complete_ = false;
  FrameStatus failure_ = FrameStatus::kNeedMore;  // kMalformed/kTooLarge until reset()
};

}  // namespace mqttparse
