#include "proxy/packet_boundary.h"

#include <algorithm>

namespace proxy {

bool PacketBoundary::advance(std::span<const uint8_t> bytes) {
  while (!bytes.empty() && !broken_) {
    if (body_left_ > 0) {
      size_t skip = static_cast<size_t>(std::min<uint64_t>(body_left_, bytes.size()));
      body_left_ -= skip;
      bytes = bytes.subspan(skip);
      continue;
    }
    // Inside a fixed header: the type byte, then 1..4 Remaining Length bytes.
    header_[header_len_++] = bytes.front();
    bytes = bytes.subspan(1);
    if (header_len_ == 1) continue;
    if (header_[header_len_ - 1] & 0x80) {
      if (header_len_ == 5) broken_ = true;
      continue;
    }
    uint64_t length = 0;
    for (size_t i = header_len_ - 1; i >= 1; --i) length = (length << 7) | (header_[i] & 0x7f);
    body_left_ = length;
    header_len_ = 0;
  }
  return !broken_;
}

}  // namespace proxy
