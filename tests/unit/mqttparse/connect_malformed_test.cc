// CONNECT packets that break one rule each, with the exact status expected.
#include <gtest/gtest.h>

#include "mqttparse/connect.h"
#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::ascii;
using test::Bytes;
using test::framed;
using test::hex;
using test::operator+;
using test::to_hex;

// The variable header of a 3.1.1 CONNECT with |flags| and keep alive 60.
Bytes v311_header(uint8_t flags) { return hex("00 04") + ascii("MQTT") + Bytes{0x04, flags, 0x00, 0x3c}; }
Bytes v31_header(uint8_t flags) { return hex("00 06") + ascii("MQIsdp") + Bytes{0x03, flags, 0x00, 0x3c}; }
Bytes v5_header(uint8_t flags) {
  return hex("00 04") + ascii("MQTT") + Bytes{0x05, flags, 0x00, 0x3c} + hex("00");
}
const Bytes kClientDev = hex("00 03") + ascii("dev");

ConnectStatus decode(const Bytes& packet) {
  ConnectPacket connect;
  return decode_connect(packet, &connect);
}

TEST(MqttparseConnectMalformed, BaselinesAreValid) {
  // The bases the cases below mutate.
  EXPECT_EQ(decode(framed(0x10, v311_header(0x02) + kClientDev)), ConnectStatus::kOk);
  EXPECT_EQ(decode(framed(0x10, v31_header(0x02) + kClientDev)), ConnectStatus::kOk);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x02) + kClientDev)), ConnectStatus::kOk);
}

TEST(MqttparseConnectMalformed, FixedHeaderFlagsMustBeZero) {
  for (uint8_t first : {0x11, 0x12, 0x14, 0x18, 0x1f}) {
    EXPECT_EQ(decode(framed(first, v311_header(0x02) + kClientDev)), ConnectStatus::kMalformed)
        << int{first};
  }
}

TEST(MqttparseConnectMalformed, NotConnect) {
  // SUBSCRIBE, PUBLISH, PINGREQ, CONNACK.
  EXPECT_EQ(decode(hex("82 08 00 01 00 03") + ascii("a/b") + hex("01")),
            ConnectStatus::kNotConnect);
  EXPECT_EQ(decode(hex("30 05 00 03") + ascii("a/b")), ConnectStatus::kNotConnect);
  EXPECT_EQ(decode(hex("c0 00")), ConnectStatus::kNotConnect);
  EXPECT_EQ(decode(hex("20 02 00 00")), ConnectStatus::kNotConnect);
}

TEST(MqttparseConnectMalformed, BadFixedHeader) {
  EXPECT_EQ(decode({}), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(hex("10")), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(hex("00 00")), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(hex("10 80 80 80 80 01")), ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, NonMinimalRemainingLength) {
  const Bytes body = v311_header(0x02) + kClientDev;  // 15 bytes, written as 8f 00
  EXPECT_EQ(decode(hex("10 8f 00") + body), ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, LengthDisagreesWithPacket) {
  const Bytes packet = framed(0x10, v311_header(0x02) + kClientDev);
  Bytes longer = packet + hex("00");
  EXPECT_EQ(decode(longer), ConnectStatus::kMalformed);
  Bytes shorter(packet.begin(), packet.end() - 1);
  EXPECT_EQ(decode(shorter), ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, TrailingBytesAfterPayload) {
  EXPECT_EQ(decode(framed(0x10, v311_header(0x02) + kClientDev + hex("00"))),
            ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x02) + kClientDev + hex("00 00"))),
            ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, TruncatedFields) {
  const Bytes full = v311_header(0xc2) + kClientDev + hex("00 01") + ascii("u") +
                     hex("00 02") + ascii("pw");
  ASSERT_EQ(decode(framed(0x10, full)), ConnectStatus::kOk);
  // Every proper prefix of the body, correctly framed, is malformed.
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes body(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(decode(framed(0x10, body)), ConnectStatus::kMalformed) << n;
  }
}

TEST(MqttparseConnectMalformed, ReservedConnectFlag) {
  EXPECT_EQ(decode(framed(0x10, v311_header(0x03) + kClientDev)), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v31_header(0x03) + kClientDev)), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x03) + kClientDev)), ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, WillQos3) {
  const Bytes will = hex("00 01") + ascii("t") + hex("00 01") + ascii("x");
  // will 04 | QoS 3 18 | clean 02 = 1e
  EXPECT_EQ(decode(framed(0x10, v311_header(0x1e) + kClientDev + will)),
            ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x1e) + kClientDev + hex("00") + will)),
            ConnectStatus::kMalformed);
  // The same packet with QoS 2 (16) is fine.
  EXPECT_EQ(decode(framed(0x10, v311_header(0x16) + kClientDev + will)), ConnectStatus::kOk);
}

TEST(MqttparseConnectMalformed, WillQosOrRetainWithoutWill) {
  // QoS 1 (08), QoS 2 (10), retain (20), each with clean (02) and no will flag.
  for (uint8_t flags : {0x0a, 0x12, 0x22}) {
    EXPECT_EQ(decode(framed(0x10, v311_header(flags) + kClientDev)), ConnectStatus::kMalformed)
        << int{flags};
    EXPECT_EQ(decode(framed(0x10, v31_header(flags) + kClientDev)), ConnectStatus::kMalformed)
        << int{flags};
    EXPECT_EQ(decode(framed(0x10, v5_header(flags) + kClientDev)), ConnectStatus::kMalformed)
        << int{flags};
  }
}

TEST(MqttparseConnectMalformed, PasswordWithoutUsernameBefore5) {
  const Bytes password = hex("00 02") + ascii("pw");
  EXPECT_EQ(decode(framed(0x10, v311_header(0x42) + kClientDev + password)),
            ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v31_header(0x42) + kClientDev + password)),
            ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x42) + kClientDev + password)), ConnectStatus::kOk);
}

TEST(MqttparseConnectMalformed, ProtocolNameAndLevel) {
  struct Case {
    Bytes name_and_level;
    ConnectStatus status;
  };
  const Case cases[] = {
      {hex("00 04") + ascii("MQTT") + hex("03"), ConnectStatus::kMalformed},
      {hex("00 06") + ascii("MQIsdp") + hex("04"), ConnectStatus::kMalformed},
      {hex("00 06") + ascii("MQIsdp") + hex("05"), ConnectStatus::kMalformed},
      {hex("00 04") + ascii("MQTT") + hex("06"), ConnectStatus::kUnsupportedProtocolLevel},
      {hex("00 04") + ascii("MQTT") + hex("00"), ConnectStatus::kUnsupportedProtocolLevel},
      {hex("00 04") + ascii("MQTT") + hex("84"), ConnectStatus::kUnsupportedProtocolLevel},
      {hex("00 06") + ascii("MQIsdp") + hex("07"), ConnectStatus::kUnsupportedProtocolLevel},
      {hex("00 04") + ascii("mqtt") + hex("04"), ConnectStatus::kMalformed},
      {hex("00 04") + ascii("MQTX") + hex("04"), ConnectStatus::kMalformed},
      {hex("00 03") + ascii("MQT") + hex("04"), ConnectStatus::kMalformed},
      {hex("00 00") + hex("04"), ConnectStatus::kMalformed},
      {hex("00 06") + ascii("MQIsdp") + hex("06"), ConnectStatus::kUnsupportedProtocolLevel},
  };
  for (const Case& c : cases) {
    const Bytes packet = framed(0x10, c.name_and_level + hex("02 00 3c") + kClientDev);
    ConnectPacket connect;
    connect.version = ProtocolVersion::kV31;  // sentinel: must stay untouched
    EXPECT_EQ(decode_connect(packet, &connect), c.status) << to_hex(packet);
    EXPECT_EQ(connect.version, ProtocolVersion::kV31);
  }
}

TEST(MqttparseConnectMalformed, UnsupportedLevelWinsOverALaterError) {
  // Level 6 followed by garbage: the level is what the client gets told about.
  EXPECT_EQ(decode(framed(0x10, hex("00 04") + ascii("MQTT") + hex("06 ff"))),
            ConnectStatus::kUnsupportedProtocolLevel);
}

TEST(MqttparseConnectMalformed, InvalidUtf8InStrings) {
  const Bytes bad_strings[] = {
      hex("00 03 61 00 62"),        // U+0000
      hex("00 03 ed a0 80"),        // U+D800, a surrogate
      hex("00 03 ed bf bf"),        // U+DFFF, a surrogate
      hex("00 02 c0 80"),           // overlong U+0000
      hex("00 02 c1 bf"),           // overlong U+007F
      hex("00 03 e0 80 af"),        // overlong '/'
      hex("00 04 f0 80 80 af"),     // overlong '/'
      hex("00 02 e2 82"),           // truncated U+20AC
      hex("00 04 f4 90 80 80"),     // U+110000, beyond Unicode
      hex("00 01 80"),              // stray continuation byte
      hex("00 01 ff"),              // never valid
      hex("00 02 c3 28"),           // lead byte without continuation
  };
  for (const Bytes& s : bad_strings) {
    // As client id, as username, as will topic.
    EXPECT_EQ(decode(framed(0x10, v311_header(0x02) + s)), ConnectStatus::kMalformed)
        << to_hex(s);
    EXPECT_EQ(decode(framed(0x10, v311_header(0x82) + kClientDev + s)), ConnectStatus::kMalformed)
        << to_hex(s);
    EXPECT_EQ(decode(framed(0x10, v5_header(0x06) + kClientDev + hex("00") + s + hex("00 00"))),
              ConnectStatus::kMalformed)
        << to_hex(s);
  }
}

TEST(MqttparseConnectMalformed, ValidUtf8IsAccepted) {
  // é (c3 a9), € (e2 82 ac), U+1F600 (f0 9f 98 80), U+FEFF BOM kept (ef bb bf), U+FFFF.
  const Bytes id = hex("00 0f c3 a9 e2 82 ac f0 9f 98 80 ef bb bf ef bf bf");
  ConnectPacket c;
  ASSERT_EQ(decode_connect(framed(0x10, v311_header(0x02) + id), &c), ConnectStatus::kOk);
  EXPECT_EQ(c.client_id, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbb\xbf\xef\xbf\xbf");
}

TEST(MqttparseConnectMalformed, WillTopicMustBeATopicName) {
  const Bytes payload = hex("00 01") + ascii("x");
  for (const char* topic : {"", "a/#", "+/b", "#"}) {
    const Bytes t = Bytes{0x00, static_cast<uint8_t>(std::string_view(topic).size())} + ascii(topic);
    EXPECT_EQ(decode(framed(0x10, v311_header(0x06) + kClientDev + t + payload)),
              ConnectStatus::kMalformed)
        << topic;
  }
  EXPECT_EQ(decode(framed(0x10, v311_header(0x06) + kClientDev + hex("00 03") + ascii("a/b") +
                                    payload)),
            ConnectStatus::kOk);
}

TEST(MqttparseConnectMalformed, UsernameFlagWithoutUsername) {
  EXPECT_EQ(decode(framed(0x10, v311_header(0x82) + kClientDev)), ConnectStatus::kMalformed);
  EXPECT_EQ(decode(framed(0x10, v5_header(0x42) + kClientDev)), ConnectStatus::kMalformed);
}

TEST(MqttparseConnectMalformed, FailureLeavesOutputUntouched) {
  ConnectPacket connect;
  connect.client_id = "before";
  EXPECT_EQ(decode_connect(framed(0x10, v311_header(0x82) + kClientDev), &connect),
            ConnectStatus::kMalformed);
  EXPECT_EQ(connect.client_id, "before");
}

}  // namespace
}  // namespace mqttparse
