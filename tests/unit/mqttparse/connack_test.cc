// CONNACK (3.1.1 section 3.2, 5.0 section 3.2) and MQTT 5 DISCONNECT (5.0 section 3.14).
#include <gtest/gtest.h>

#include "mqttparse/connect.h"
#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::hex;

TEST(MqttparseConnack, V3ReturnCodes) {
  EXPECT_EQ(encode_connack(ProtocolVersion::kV311, 0x04), hex("20 02 00 04"));
  EXPECT_EQ(encode_connack(ProtocolVersion::kV311, 0x05), hex("20 02 00 05"));
  EXPECT_EQ(encode_connack(ProtocolVersion::kV31, 0x01), hex("20 02 00 01"));
  EXPECT_EQ(encode_connack(ProtocolVersion::kV31, 0x02), hex("20 02 00 02"));
}

TEST(MqttparseConnack, V5ReasonCodesWithEmptyProperties) {
  EXPECT_EQ(encode_connack(ProtocolVersion::kV5, 0x86), hex("20 03 00 86 00"));
  EXPECT_EQ(encode_connack(ProtocolVersion::kV5, 0x8C), hex("20 03 00 8c 00"));
  EXPECT_EQ(encode_connack(ProtocolVersion::kV5, 0x84), hex("20 03 00 84 00"));
}

TEST(MqttparseConnack, V5Disconnect) {
  EXPECT_EQ(encode_disconnect_v5(0x8E), hex("e0 02 8e 00"));  // Session taken over
  EXPECT_EQ(encode_disconnect_v5(0x00), hex("e0 02 00 00"));
}

}  // namespace
}  // namespace mqttparse
