// connect_fuzz: the MQTT framer and the CONNECT codec on arbitrary bytes.
//
// Checks, beyond "no crash, no sanitizer report":
//  - framing does not depend on how the stream is cut: the input framed in one piece and
//    framed in small chunks (sizes taken from the input itself) yields the same packets
//    and the same final status;
//  - a framer in a failed state consumes nothing and repeats its status;
//  - every packet decode_connect accepts is encodable, re-encodes to the very same bytes,
//    and decode → encode → decode is stable (equal packet, identical bytes).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "mqttparse/connect.h"
#include "mqttparse/packet.h"

namespace {

// Small enough that oversize packets (kTooLarge) are reached by the fuzzer.
constexpr uint32_t kMaxPacket = 4096;

void require(bool condition) {
  if (!condition) std::abort();
}

struct Framed {
  std::vector<std::vector<uint8_t>> packets;
  mqttparse::FrameStatus last = mqttparse::FrameStatus::kNeedMore;
};

// frame_all feeds |data| to a framer in chunks of chunk_size(offset) bytes, collecting every
// packet, until the input is used up or the framer fails.
template <typename ChunkSize>
Framed frame_all(std::span<const uint8_t> data, ChunkSize chunk_size) {
  Framed out;
  mqttparse::PacketFramer framer(kMaxPacket);
  size_t offset = 0;
  while (offset < data.size()) {
    size_t want = chunk_size(offset);
    std::span<const uint8_t> chunk = data.subspan(offset, std::min(want, data.size() - offset));
    while (!chunk.empty()) {
      size_t consumed = 0;
      mqttparse::FrameStatus status = framer.feed(chunk, &consumed);
      require(consumed <= chunk.size());
      out.last = status;
      if (status == mqttparse::FrameStatus::kMalformed ||
          status == mqttparse::FrameStatus::kTooLarge) {
        size_t again = 1;
        require(framer.feed(chunk, &again) == status && again == 0);
        require(framer.packet().empty());
        return out;
      }
      if (status == mqttparse::FrameStatus::kNeedMore) {
        require(consumed == chunk.size());
      } else {
        std::span<const uint8_t> packet = framer.packet();
        require(!packet.empty() && packet.size() <= kMaxPacket);
        require(packet.size() == framer.header().packet_size());
        out.packets.emplace_back(packet.begin(), packet.end());
      }
      offset += consumed;
      chunk = chunk.subspan(consumed);
    }
  }
  return out;
}

bool same_connect(const mqttparse::ConnectPacket& a, const mqttparse::ConnectPacket& b) {
  return a.version == b.version && a.clean_start == b.clean_start &&
         a.keep_alive == b.keep_alive && a.properties == b.properties &&
         a.client_id == b.client_id && a.will == b.will && a.will_qos == b.will_qos &&
         a.will_retain == b.will_retain && a.will_properties == b.will_properties &&
         a.will_topic == b.will_topic && a.will_payload == b.will_payload &&
         a.username == b.username && a.password == b.password &&
         a.has_authentication_method == b.has_authentication_method;
}

void check_connect(std::span<const uint8_t> packet) {
  mqttparse::ConnectPacket first;
  if (mqttparse::decode_connect(packet, &first) != mqttparse::ConnectStatus::kOk) return;
  require(mqttparse::connect_is_encodable(first));
  std::vector<uint8_t> encoded = mqttparse::encode_connect(first);
  require(std::equal(encoded.begin(), encoded.end(), packet.begin(), packet.end()));

  mqttparse::ConnectPacket second;
  require(mqttparse::decode_connect(encoded, &second) == mqttparse::ConnectStatus::kOk);
  require(same_connect(first, second));
  require(mqttparse::encode_connect(second) == encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);

  // The whole input as one packet, as the proxy hands decode_connect a framed packet.
  check_connect(input);

  Framed whole = frame_all(input, [&](size_t) { return input.size(); });
  Framed chunked = frame_all(input, [&](size_t offset) { return size_t{input[offset] % 7u} + 1; });
  require(whole.packets == chunked.packets);
  require(whole.last == chunked.last);
  for (const std::vector<uint8_t>& packet : whole.packets) check_connect(packet);
  return 0;
}
