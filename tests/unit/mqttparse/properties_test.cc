// MQTT 5 CONNECT and Will property lists: each rule of 5.0 sections 2.2.2, 3.1.2.11, 3.1.3.2.
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

// A 5.0 CONNECT (clean start, client id "dev") whose property list is |properties|.
Bytes with_connect_properties(const Bytes& properties) {
  return framed(0x10, hex("00 04") + ascii("MQTT") + hex("05 02 00 3c") +
                          Bytes{static_cast<uint8_t>(properties.size())} + properties +
                          hex("00 03") + ascii("dev"));
}

// A 5.0 CONNECT with a will (topic "t", empty payload) whose Will Properties are |properties|.
Bytes with_will_properties(const Bytes& properties) {
  return framed(0x10, hex("00 04") + ascii("MQTT") + hex("05 06 00 3c 00 00 03") + ascii("dev") +
                          Bytes{static_cast<uint8_t>(properties.size())} + properties +
                          hex("00 01") + ascii("t") + hex("00 00"));
}

ConnectStatus decode(const Bytes& packet) {
  ConnectPacket connect;
  return decode_connect(packet, &connect);
}

TEST(MqttparseProperties, EachConnectPropertyAloneIsAccepted) {
  const Bytes valid[] = {
      hex("11 ff ff ff ff"), hex("21 ff ff"), hex("27 00 00 00 01"), hex("22 00 00"),
      hex("19 00"),          hex("19 01"),    hex("17 00"),          hex("17 01"),
      hex("26 00 00 00 00"), hex("15 00 01") + ascii("X"),
  };
  for (const Bytes& p : valid) {
    ConnectPacket c;
    EXPECT_EQ(decode_connect(with_connect_properties(p), &c), ConnectStatus::kOk) << to_hex(p);
    EXPECT_EQ(c.properties, p);
  }
}

TEST(MqttparseProperties, AuthenticationMethodIsReported) {
  ConnectPacket c;
  ASSERT_EQ(decode_connect(with_connect_properties(hex("15 00 05") + ascii("SCRAM")), &c),
            ConnectStatus::kOk);
  EXPECT_TRUE(c.has_authentication_method);
  // Authentication Data after the method, in either order.
  ASSERT_EQ(decode_connect(with_connect_properties(hex("16 00 00 15 00 01") + ascii("M")), &c),
            ConnectStatus::kOk);
  EXPECT_TRUE(c.has_authentication_method);
  ASSERT_EQ(decode_connect(with_connect_properties(hex("11 00 00 00 00")), &c),
            ConnectStatus::kOk);
  EXPECT_FALSE(c.has_authentication_method);
}

TEST(MqttparseProperties, ConnectPropertyErrors) {
  const std::pair<const char*, Bytes> cases[] = {
      {"unknown identifier", hex("7f 00")},
      {"will-only identifier in CONNECT", hex("01 00")},
      {"PUBLISH-only identifier", hex("23 00 01")},  // Topic Alias
      {"identifier 0", hex("00")},
      {"identifier above 0x7f", hex("80 01 00")},
      {"non-minimal identifier", hex("91 00 00 00 00 3c")},
      {"duplicate Session Expiry", hex("11 00 00 00 01 11 00 00 00 01")},
      {"duplicate Receive Maximum", hex("21 00 01 21 00 01")},
      {"duplicate Maximum Packet Size", hex("27 00 00 00 01 27 00 00 00 01")},
      {"duplicate Topic Alias Maximum", hex("22 00 01 22 00 01")},
      {"duplicate Request Response", hex("19 00 19 00")},
      {"duplicate Request Problem", hex("17 01 17 01")},
      {"duplicate Authentication Method", hex("15 00 01 4d 15 00 01 4d")},
      {"duplicate Authentication Data", hex("15 00 01 4d 16 00 00 16 00 00")},
      {"Receive Maximum 0", hex("21 00 00")},
      {"Maximum Packet Size 0", hex("27 00 00 00 00")},
      {"Request Response Information 2", hex("19 02")},
      {"Request Problem Information 2", hex("17 02")},
      {"Authentication Data without Method", hex("16 00 01 aa")},
      {"four-byte value cut short", hex("11 00 00 00")},
      {"two-byte value cut short", hex("21 00")},
      {"byte value missing", hex("19")},
      {"string length past the list", hex("15 00 05 4d")},
      {"user property value missing", hex("26 00 01 6b")},
      {"user property value cut short", hex("26 00 01 6b 00 02 76")},
      {"user property key not UTF-8", hex("26 00 01 ff 00 00")},
      {"user property value with U+0000", hex("26 00 00 00 01 00")},
      {"Authentication Method surrogate", hex("15 00 03 ed a0 80")},
  };
  for (const auto& [what, p] : cases) {
    EXPECT_EQ(decode(with_connect_properties(p)), ConnectStatus::kMalformed) << what;
  }
}

TEST(MqttparseProperties, PropertyLengthErrors) {
  const Bytes fixed_part = hex("00 04") + ascii("MQTT") + hex("05 02 00 3c");
  const Bytes client = hex("00 03") + ascii("dev");
  // Property length 0 written in two bytes (overlong varint).
  EXPECT_EQ(decode(framed(0x10, fixed_part + hex("80 00") + client)), ConnectStatus::kMalformed);
  // Property length 5 written as 85 80 00 (overlong, three bytes).
  EXPECT_EQ(decode(framed(0x10, fixed_part + hex("85 80 00 11 00 00 00 00") + client)),
            ConnectStatus::kMalformed);
  // A 5-byte varint.
  EXPECT_EQ(decode(framed(0x10, fixed_part + hex("80 80 80 80 00") + client)),
            ConnectStatus::kMalformed);
  // Property length past the end of the packet.
  EXPECT_EQ(decode(framed(0x10, fixed_part + hex("7f") + client)), ConnectStatus::kMalformed);
  // Property length swallowing the client id: the list is then unparsable or the id missing.
  EXPECT_EQ(decode(framed(0x10, fixed_part + hex("05") + client)), ConnectStatus::kMalformed);
  // No property length at all.
  EXPECT_EQ(decode(framed(0x10, fixed_part)), ConnectStatus::kMalformed);
}

TEST(MqttparseProperties, EachWillPropertyAloneIsAccepted) {
  const Bytes valid[] = {
      hex("18 00 00 00 00"), hex("01 00"), hex("01 01"), hex("02 00 00 00 3c"),
      hex("03 00 00"), hex("08 00 03") + ascii("r/s"), hex("09 00 00"),
      hex("26 00 01 61 00 01 62 26 00 01 61 00 01 62"),
  };
  for (const Bytes& p : valid) {
    ConnectPacket c;
    EXPECT_EQ(decode_connect(with_will_properties(p), &c), ConnectStatus::kOk) << to_hex(p);
    EXPECT_EQ(c.will_properties, p);
  }
}

TEST(MqttparseProperties, WillPropertyErrors) {
  const std::pair<const char*, Bytes> cases[] = {
      {"CONNECT-only identifier in will", hex("11 00 00 00 00")},
      {"Authentication Method in will", hex("15 00 01 4d")},
      {"unknown identifier", hex("7e 00")},
      {"duplicate Will Delay", hex("18 00 00 00 00 18 00 00 00 00")},
      {"duplicate Payload Format", hex("01 00 01 00")},
      {"duplicate Message Expiry", hex("02 00 00 00 01 02 00 00 00 01")},
      {"duplicate Content Type", hex("03 00 00 03 00 00")},
      {"duplicate Response Topic", hex("08 00 01 72 08 00 01 72")},
      {"duplicate Correlation Data", hex("09 00 00 09 00 00")},
      {"Payload Format Indicator 2", hex("01 02")},
      {"Content Type not UTF-8", hex("03 00 01 c0")},
      {"Response Topic with wildcard", hex("08 00 03 72 2f 23")},
      {"Response Topic empty", hex("08 00 00")},
      {"Correlation Data past the list", hex("09 00 04 aa")},
      {"Will Delay cut short", hex("18 00 00")},
  };
  for (const auto& [what, p] : cases) {
    EXPECT_EQ(decode(with_will_properties(p)), ConnectStatus::kMalformed) << what;
  }
}

TEST(MqttparseProperties, WillPropertyLengthPastTheEnd) {
  const Bytes packet = framed(0x10, hex("00 04") + ascii("MQTT") + hex("05 06 00 3c 00 00 03") +
                                        ascii("dev") + hex("40"));
  EXPECT_EQ(decode(packet), ConnectStatus::kMalformed);
}

}  // namespace
}  // namespace mqttparse
