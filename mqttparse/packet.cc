// mqttparse/packet.cc: fixed header parsing and PacketFramer.
#include "mqttparse/packet.h"

#include <algorithm>

namespace mqttparse {

namespace {
constexpr size_t kMaxRemainingLengthBytes = 4;
}  // namespace

HeaderStatus parse_fixed_header(std::span<const uint8_t> in, FixedHeader* out_header) {
  if (in.empty()) return HeaderStatus::kNeedMore;
  if ((in[0] >> 4) == 0) return HeaderStatus::kMalformed;  // type 0 is reserved
  uint32_t value = 0;
  for (size_t i = 0; i < kMaxRemainingLengthBytes; ++i) {
    if (1 + i >= in.size()) return HeaderStatus::kNeedMore;
    uint8_t byte = in[1 + i];
    value |= uint32_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      out_header->first_byte = in[0];
      out_header->remaining_length = value;
      out_header->header_size = static_cast<uint8_t>(2 + i);
      return HeaderStatus::kOk;
    }
  }
  // The 4th length byte still had its continuation bit set.
  return HeaderStatus::kMalformed;
}

void encode_remaining_length(uint32_t value, std::vector<uint8_t>* out) {
  do {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    out->push_back(byte);
  } while (value != 0);
}

PacketFramer::PacketFramer(uint32_t max_packet_size) : max_packet_size_(max_packet_size) {}

void PacketFramer::reset() {
  buffer_.clear();
  header_ = FixedHeader{};
  header_known_ = false;
  complete_ = false;
  failure_ = FrameStatus::kNeedMore;
}

std::span<const uint8_t> PacketFramer::packet() const {
  if (!complete_) return {};
  return buffer_;
}

FrameStatus PacketFramer::feed(std::span<const uint8_t> in, size_t* out_consumed) {
  *out_consumed = 0;
  if (failure_ != FrameStatus::kNeedMore) return failure_;
  if (complete_) {
    // The previous packet has been handed out; start the next one.
    buffer_.clear();
    header_ = FixedHeader{};
    header_known_ = false;
    complete_ = false;
  }

  size_t pos = 0;
  // Header bytes are taken one at a time so that nothing past the header is copied before
  // the size check.
  while (!header_known_) {
    if (pos == in.size()) {
      *out_consumed = pos;
      return FrameStatus::kNeedMore;
    }
    buffer_.push_back(in[pos++]);
    switch (parse_fixed_header(buffer_, &header_)) {
      case HeaderStatus::kNeedMore:  // never past 5 bytes: a 5th length byte is kMalformed
        continue;
      case HeaderStatus::kMalformed:
        failure_ = FrameStatus::kMalformed;
        *out_consumed = pos;
        return failure_;
      case HeaderStatus::kOk:
        break;
    }
    if (header_.packet_size() > max_packet_size_) {
      failure_ = FrameStatus::kTooLarge;
      *out_consumed = pos;
      return failure_;
    }
    header_known_ = true;
    buffer_.reserve(header_.packet_size());
  }

  size_t missing = header_.packet_size() - buffer_.size();
  size_t take = std::min(missing, in.size() - pos);
  buffer_.insert(buffer_.end(), in.begin() + static_cast<std::ptrdiff_t>(pos),
                 in.begin() + static_cast<std::ptrdiff_t>(pos + take));
  pos += take;
  *out_consumed = pos;
  if (take < missing) return FrameStatus::kNeedMore;
  complete_ = true;
  return FrameStatus::kPacket;
}

}  // namespace mqttparse
