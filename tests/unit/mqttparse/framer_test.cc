// PacketFramer: streams cut at every byte, malformed and oversize headers.
#include <gtest/gtest.h>

#include "mqttparse/packet.h"
#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::ascii;
using test::Bytes;
using test::hex;
using test::operator+;
using test::repeat;

// A 3.1.1 CONNECT (client id "dev"), SUBSCRIBE packet id 1 to "a/b" QoS 1, PUBLISH QoS 0 of
// "hello" to "a/b", a PUBLISH whose Remaining Length takes two bytes, and PINGREQ.
std::vector<Bytes> sample_packets() {
  return {
      hex("10 0f 00 04") + ascii("MQTT") + hex("04 02 00 3c 00 03") + ascii("dev"),
      hex("82 08 00 01 00 03") + ascii("a/b") + hex("01"),
      hex("30 0a 00 03") + ascii("a/b") + ascii("hello"),
      hex("30 85 01 00 03") + ascii("a/b") + repeat('x', 128),
      hex("c0 00"),
  };
}

Bytes concat(const std::vector<Bytes>& packets) {
  Bytes out;
  for (const Bytes& p : packets) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// feed_chunk feeds |chunk| until it is used up, appending every completed packet.
void feed_chunk(PacketFramer* framer, std::span<const uint8_t> chunk, std::vector<Bytes>* out) {
  while (!chunk.empty()) {
    size_t consumed = 0;
    FrameStatus status = framer->feed(chunk, &consumed);
    ASSERT_LE(consumed, chunk.size());
    chunk = chunk.subspan(consumed);
    if (status == FrameStatus::kPacket) {
      out->emplace_back(framer->packet().begin(), framer->packet().end());
    } else {
      ASSERT_EQ(status, FrameStatus::kNeedMore);
      ASSERT_TRUE(chunk.empty()) << "kNeedMore must consume everything";
    }
  }
}

TEST(MqttparseFramer, SplitAtEveryByte) {
  const std::vector<Bytes> expected = sample_packets();
  const Bytes stream = concat(expected);
  for (size_t split = 0; split <= stream.size(); ++split) {
    PacketFramer framer(1024);
    std::vector<Bytes> got;
    std::span<const uint8_t> all(stream);
    feed_chunk(&framer, all.first(split), &got);
    feed_chunk(&framer, all.subspan(split), &got);
    ASSERT_EQ(got, expected) << "split at " << split;
  }
}

TEST(MqttparseFramer, SplitAtEveryPairOfBytes) {
  const std::vector<Bytes> expected = sample_packets();
  const Bytes stream = concat(expected);
  std::span<const uint8_t> all(stream);
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      PacketFramer framer(1024);
      std::vector<Bytes> got;
      feed_chunk(&framer, all.first(a), &got);
      feed_chunk(&framer, all.subspan(a, b - a), &got);
      feed_chunk(&framer, all.subspan(b), &got);
      ASSERT_EQ(got, expected) << "splits at " << a << " and " << b;
    }
  }
}

TEST(MqttparseFramer, OneByteAtATime) {
  const std::vector<Bytes> expected = sample_packets();
  const Bytes stream = concat(expected);
  PacketFramer framer(1024);
  std::vector<Bytes> got;
  for (uint8_t byte : stream) {
    size_t consumed = 0;
    FrameStatus status = framer.feed(std::span<const uint8_t>(&byte, 1), &consumed);
    ASSERT_EQ(consumed, 1u);
    if (status == FrameStatus::kPacket) {
      got.emplace_back(framer.packet().begin(), framer.packet().end());
    } else {
      ASSERT_EQ(status, FrameStatus::kNeedMore);
    }
  }
  EXPECT_EQ(got, expected);
}

TEST(MqttparseFramer, PacketStopsAtItsEndAndReportsItsHeader) {
  const Bytes stream = hex("c0 00 d0 00");  // PINGREQ, PINGRESP
  PacketFramer framer(16);
  size_t consumed = 0;
  ASSERT_EQ(framer.feed(stream, &consumed), FrameStatus::kPacket);
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(Bytes(framer.packet().begin(), framer.packet().end()), hex("c0 00"));
  EXPECT_EQ(framer.header().type(), PacketType::kPingreq);
  ASSERT_EQ(framer.feed(std::span(stream).subspan(2), &consumed), FrameStatus::kPacket);
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(framer.header().type(), PacketType::kPingresp);
}

TEST(MqttparseFramer, EmptyFeedNeedsMore) {
  PacketFramer framer(16);
  size_t consumed = 7;
  EXPECT_EQ(framer.feed({}, &consumed), FrameStatus::kNeedMore);
  EXPECT_EQ(consumed, 0u);
  EXPECT_TRUE(framer.packet().empty());
}

TEST(MqttparseFramer, FiveByteRemainingLengthIsMalformed) {
  const Bytes stream = hex("30 ff ff ff ff 7f 00 00");
  PacketFramer framer(kMaxRemainingLength);
  size_t consumed = 0;
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(framer.feed(std::span(stream).subspan(i, 1), &consumed), FrameStatus::kNeedMore);
  }
  EXPECT_EQ(framer.feed(std::span(stream).subspan(4), &consumed), FrameStatus::kMalformed);
  EXPECT_EQ(consumed, 1u);  // the 5th header byte, nothing after it

  PacketFramer whole(kMaxRemainingLength);
  EXPECT_EQ(whole.feed(stream, &consumed), FrameStatus::kMalformed);
  EXPECT_EQ(consumed, 5u);
}

TEST(MqttparseFramer, PacketTypeZeroIsMalformed) {
  PacketFramer framer(64);
  size_t consumed = 0;
  EXPECT_EQ(framer.feed(hex("00 02 00 00"), &consumed), FrameStatus::kMalformed);
  EXPECT_EQ(consumed, 1u);
}

TEST(MqttparseFramer, ErrorsStickUntilReset) {
  PacketFramer framer(64);
  size_t consumed = 0;
  ASSERT_EQ(framer.feed(hex("00"), &consumed), FrameStatus::kMalformed);
  EXPECT_EQ(framer.feed(hex("c0 00"), &consumed), FrameStatus::kMalformed);
  EXPECT_EQ(consumed, 0u);
  framer.reset();
  EXPECT_EQ(framer.feed(hex("c0 00"), &consumed), FrameStatus::kPacket);
  EXPECT_EQ(consumed, 2u);
}

TEST(MqttparseFramer, OversizeIsRefusedFromTheHeaderWithoutBuffering) {
  // PUBLISH with Remaining Length 200 (c8 01): 203 bytes in all, limit 64.
  const Bytes stream = hex("30 c8 01") + repeat('x', 200);
  PacketFramer framer(64);
  size_t consumed = 0;
  EXPECT_EQ(framer.feed(stream, &consumed), FrameStatus::kTooLarge);
  EXPECT_EQ(consumed, 3u);  // the header only: the body was never taken
  EXPECT_TRUE(framer.packet().empty());
  EXPECT_EQ(framer.feed(std::span(stream).subspan(3), &consumed), FrameStatus::kTooLarge);
  EXPECT_EQ(consumed, 0u);
}

TEST(MqttparseFramer, OversizeFromTheMaximumHeaderAlone) {
  // Only the header of a 256 MB packet arrives; the framer refuses it at once.
  PacketFramer framer(65536);
  size_t consumed = 0;
  EXPECT_EQ(framer.feed(hex("30 ff ff ff 7f"), &consumed), FrameStatus::kTooLarge);
  EXPECT_EQ(consumed, 5u);
}

TEST(MqttparseFramer, LimitCountsTheWholePacket) {
  const Bytes exactly_64 = hex("30 3e") + repeat('x', 62);
  size_t consumed = 0;
  PacketFramer at_limit(64);
  EXPECT_EQ(at_limit.feed(exactly_64, &consumed), FrameStatus::kPacket);
  EXPECT_EQ(at_limit.packet().size(), 64u);
  PacketFramer below_limit(63);
  EXPECT_EQ(below_limit.feed(exactly_64, &consumed), FrameStatus::kTooLarge);
  EXPECT_EQ(consumed, 2u);
}

}  // namespace
}  // namespace mqttparse
