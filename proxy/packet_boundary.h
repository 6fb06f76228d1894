// proxy/packet_boundary.h: follows MQTT packet boundaries in a relayed byte stream without
// parsing or buffering packets: only fixed headers are read (at most 5 bytes kept), bodies
// are skipped by count. Lets the proxy inject a packet (DISCONNECT) only between packets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace proxy {

class PacketBoundary {
 public:
  // advance accounts for |bytes| sent downstream. False once the stream is not MQTT (a
  // 5-byte Remaining Length): from then on at_boundary() is false for good.
  bool advance(std::span<const uint8_t> bytes);

  // at_boundary: everything sent so far ends exactly at the end of a packet.
  bool at_boundary() const { return !broken_ && body_left_ == 0 && header_len_ == 0; }

 private:
  uint64_t body_left_ = 0;
  std::array<uint8_t, 5> header_{};
  size_t header_len_ = 0;
  bool broken_ = false;
};

}  // namespace proxy
