// Fixed header parsing and Remaining Length encoding (MQTT 3.1.1 section 2.2.3, 5.0 1.5.5).
#include "mqttparse/packet.h"

#include <gtest/gtest.h>

#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::Bytes;
using test::hex;
using test::operator+;

TEST(MqttparsePacket, ParsesOneByteRemainingLength) {
  FixedHeader header;
  Bytes in = hex("c0 00");
  ASSERT_EQ(parse_fixed_header(in, &header), HeaderStatus::kOk);
  EXPECT_EQ(header.type(), PacketType::kPingreq);
  EXPECT_EQ(header.first_byte, 0xC0);
  EXPECT_EQ(header.remaining_length, 0u);
  EXPECT_EQ(header.header_size, 2);
  EXPECT_EQ(header.packet_size(), 2u);
}

TEST(MqttparsePacket, ParsesMultiByteRemainingLength) {
  struct Case {
    const char* bytes;
    uint32_t value;
    uint8_t header_size;
  };
  // Values at the edges of each length from the spec's table, plus its 321 example.
  const Case cases[] = {
      {"30 7f", 127, 2},
      {"30 80 01", 128, 3},
      {"30 c1 02", 321, 3},
      {"30 ff 7f", 16'383, 3},
      {"30 80 80 01", 16'384, 4},
      {"30 ff ff 7f", 2'097'151, 4},
      {"30 80 80 80 01", 2'097'152, 5},
      {"30 ff ff ff 7f", 268'435'455, 5},
  };
  for (const Case& c : cases) {
    FixedHeader header;
    Bytes in = hex(c.bytes);
    ASSERT_EQ(parse_fixed_header(in, &header), HeaderStatus::kOk) << c.bytes;
    EXPECT_EQ(header.type(), PacketType::kPublish);
    EXPECT_EQ(header.remaining_length, c.value) << c.bytes;
    EXPECT_EQ(header.header_size, c.header_size) << c.bytes;
  }
}

TEST(MqttparsePacket, NeedsMoreUntilTheLengthEnds) {
  FixedHeader header;
  for (const char* partial : {"", "30", "30 80", "30 80 80", "30 ff ff ff"}) {
    EXPECT_EQ(parse_fixed_header(hex(partial), &header), HeaderStatus::kNeedMore) << partial;
  }
}

TEST(MqttparsePacket, FifthLengthByteIsMalformed) {
  FixedHeader header;
  EXPECT_EQ(parse_fixed_header(hex("30 80 80 80 80"), &header), HeaderStatus::kMalformed);
  EXPECT_EQ(parse_fixed_header(hex("30 ff ff ff ff 01"), &header), HeaderStatus::kMalformed);
}

TEST(MqttparsePacket, PacketTypeZeroIsMalformed) {
  FixedHeader header;
  EXPECT_EQ(parse_fixed_header(hex("00 00"), &header), HeaderStatus::kMalformed);
  EXPECT_EQ(parse_fixed_header(hex("0f"), &header), HeaderStatus::kMalformed);
}

TEST(MqttparsePacket, HeaderParseIgnoresBytesAfterTheHeader) {
  FixedHeader header;
  ASSERT_EQ(parse_fixed_header(hex("82 08 00 01 00 03"), &header), HeaderStatus::kOk);
  EXPECT_EQ(header.type(), PacketType::kSubscribe);
  EXPECT_EQ(header.first_byte & 0x0F, 0x02);
  EXPECT_EQ(header.packet_size(), 10u);
}

TEST(MqttparsePacket, EncodesRemainingLengthMinimally) {
  struct Case {
    uint32_t value;
    const char* bytes;
  };
  const Case cases[] = {
      {0, "00"},
      {127, "7f"},
      {128, "80 01"},
      {321, "c1 02"},
      {16'383, "ff 7f"},
      {16'384, "80 80 01"},
      {2'097'151, "ff ff 7f"},
      {2'097'152, "80 80 80 01"},
      {kMaxRemainingLength, "ff ff ff 7f"},
  };
  for (const Case& c : cases) {
    Bytes out = hex("aa");  // appends, never overwrites
    encode_remaining_length(c.value, &out);
    EXPECT_EQ(out, hex("aa") + hex(c.bytes)) << c.value;
  }
}

}  // namespace
}  // namespace mqttparse
