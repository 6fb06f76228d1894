// CONNECT packets written by hand from the spec's byte tables: decoded fields, and the
// byte-exact re-encoding.
#include <gtest/gtest.h>

#include "mqttparse/connect.h"
#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::ascii;
using test::Bytes;
using test::hex;
using test::operator+;
using test::repeat;
using test::to_hex;

// decode_and_reencode decodes |packet| (which must be valid) and checks the round trip.
ConnectPacket decode_and_reencode(const Bytes& packet) {
  ConnectPacket connect;
  EXPECT_EQ(decode_connect(packet, &connect), ConnectStatus::kOk) << to_hex(packet);
  EXPECT_TRUE(connect_is_encodable(connect));
  Bytes encoded = encode_connect(connect);
  EXPECT_EQ(to_hex(encoded), to_hex(packet));
  return connect;
}

TEST(MqttparseConnect, V311Minimal) {
  // Variable header 10 bytes + client id 5 bytes = 15.
  const Bytes packet = hex("10 0f 00 04") + ascii("MQTT") + hex("04 02 00 3c") +
                       hex("00 03") + ascii("dev");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.version, ProtocolVersion::kV311);
  EXPECT_TRUE(c.clean_start);
  EXPECT_EQ(c.keep_alive, 60);
  EXPECT_EQ(c.client_id, "dev");
  EXPECT_FALSE(c.will);
  EXPECT_FALSE(c.username.has_value());
  EXPECT_FALSE(c.password.has_value());
  EXPECT_TRUE(c.properties.empty());
  EXPECT_FALSE(c.has_authentication_method);
}

TEST(MqttparseConnect, V311WillUsernameBinaryPassword) {
  // Flags: username 80 | password 40 | will retain 20 | will QoS 1 08 | will 04 | clean 02.
  // 10 + 7 (client id) + 14 (will topic) + 7 (will payload) + 7 (username) + 6 (password).
  const Bytes packet = hex("10 33 00 04") + ascii("MQTT") + hex("04 ee 01 2c") +
                       hex("00 05") + ascii("dev-1") +
                       hex("00 0c") + ascii("status/dev-1") +
                       hex("00 05 00 ff") + ascii("off") +
                       hex("00 05") + ascii("alice") +
                       hex("00 04 00 01 fe ff");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.keep_alive, 300);
  EXPECT_EQ(c.client_id, "dev-1");
  EXPECT_TRUE(c.will);
  EXPECT_EQ(c.will_qos, 1);
  EXPECT_TRUE(c.will_retain);
  EXPECT_EQ(c.will_topic, "status/dev-1");
  EXPECT_EQ(c.will_payload, hex("00 ff") + ascii("off"));
  EXPECT_EQ(c.username, "alice");
  EXPECT_EQ(c.password, hex("00 01 fe ff"));
}

TEST(MqttparseConnect, V311EmptyPasswordAndEmptyClientId) {
  // Flags: username | password | clean = c2. 10 + 2 + 3 + 2 = 17.
  const Bytes packet = hex("10 11 00 04") + ascii("MQTT") + hex("04 c2 00 00") +
                       hex("00 00") + hex("00 01") + ascii("u") + hex("00 00");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.client_id, "");
  EXPECT_EQ(c.keep_alive, 0);
  EXPECT_EQ(c.username, "u");
  ASSERT_TRUE(c.password.has_value());
  EXPECT_TRUE(c.password->empty());
}

TEST(MqttparseConnect, V311NoCleanSessionAndTwoByteRemainingLength) {
  // Flags: will QoS 2 10 | will 04 = 14. 10 + 5 + 5 + 202 = 222 = de 01.
  const Bytes packet = hex("10 de 01 00 04") + ascii("MQTT") + hex("04 14 00 0a") +
                       hex("00 03") + ascii("dev") + hex("00 03") + ascii("a/b") +
                       hex("00 c8") + repeat('x', 200);
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_FALSE(c.clean_start);
  EXPECT_EQ(c.will_qos, 2);
  EXPECT_FALSE(c.will_retain);
  EXPECT_EQ(c.will_payload.size(), 200u);
}

TEST(MqttparseConnect, V31WithLongClientId) {
  // "MQIsdp" level 3. 30-character client id: MQTT 3.1 says at most 23, brokers accept more.
  // 12 + 32 + 6 + 4 = 54.
  const Bytes packet = hex("10 36 00 06") + ascii("MQIsdp") + hex("03 c2 00 3c") +
                       hex("00 1e") + ascii("0123456789abcdefghijklmnopqrst") +
                       hex("00 04") + ascii("user") + hex("00 02") + ascii("pw");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.version, ProtocolVersion::kV31);
  EXPECT_EQ(c.client_id.size(), 30u);
  EXPECT_EQ(c.username, "user");
  EXPECT_EQ(c.password, ascii("pw"));
}

TEST(MqttparseConnect, V31WithWill) {
  // Flags: will retain 20 | will QoS 0 | will 04 | clean 02 = 26. 12 + 4 + 4 + 6 = 26.
  const Bytes packet = hex("10 1a 00 06") + ascii("MQIsdp") + hex("03 26 00 0a") +
                       hex("00 02") + ascii("id") + hex("00 02") + ascii("lw") +
                       hex("00 04") + ascii("gone");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_TRUE(c.will);
  EXPECT_EQ(c.will_qos, 0);
  EXPECT_TRUE(c.will_retain);
  EXPECT_EQ(c.will_topic, "lw");
}

// Every CONNECT property once (User Property twice, same key), Authentication included.
Bytes all_connect_properties() {
  return hex("11 00 00 00 3c") +                       // Session Expiry Interval 60
         hex("21 00 14") +                             // Receive Maximum 20
         hex("27 00 00 10 00") +                       // Maximum Packet Size 4096
         hex("22 00 0a") +                             // Topic Alias Maximum 10
         hex("19 01") +                                // Request Response Information
         hex("17 00") +                                // Request Problem Information
         hex("26 00 01") + ascii("k") + hex("00 01") + ascii("v") +   // User Property
         hex("26 00 01") + ascii("k") + hex("00 02") + ascii("v2") +  // User Property
         hex("15 00 05") + ascii("SCRAM") +            // Authentication Method
         hex("16 00 02 01 02");                        // Authentication Data
}

// Every Will property once.
Bytes all_will_properties() {
  return hex("18 00 00 00 05") +                       // Will Delay Interval 5
         hex("01 01") +                                // Payload Format Indicator: UTF-8
         hex("02 00 00 0e 10") +                       // Message Expiry Interval 3600
         hex("03 00 0a") + ascii("text/plain") +       // Content Type
         hex("08 00 05") + ascii("reply") +            // Response Topic
         hex("09 00 02 ab cd") +                       // Correlation Data
         hex("26 00 01") + ascii("a") + hex("00 01") + ascii("b");  // User Property
}

TEST(MqttparseConnect, V5AllPropertiesWillAndEmptyPassword) {
  const Bytes properties = all_connect_properties();
  const Bytes will_properties = all_will_properties();
  ASSERT_EQ(properties.size(), 0x30u);
  ASSERT_EQ(will_properties.size(), 0x2du);
  // Flags: username 80 | password 40 | will QoS 2 10 | will 04 | clean 02 = d6.
  // 10 + (1 + 48) + 2 + (1 + 45) + 5 + 5 + 5 + 2 = 124 = 7c.
  const Bytes packet = hex("10 7c 00 04") + ascii("MQTT") + hex("05 d6 00 1e") +
                       hex("30") + properties +
                       hex("00 00") +
                       hex("2d") + will_properties +
                       hex("00 03") + ascii("t/1") +
                       hex("00 03") + ascii("bye") +
                       hex("00 03") + ascii("dev") +
                       hex("00 00");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.version, ProtocolVersion::kV5);
  EXPECT_EQ(c.keep_alive, 30);
  EXPECT_EQ(c.properties, properties);
  EXPECT_TRUE(c.has_authentication_method);
  EXPECT_EQ(c.client_id, "");
  EXPECT_EQ(c.will_properties, will_properties);
  EXPECT_EQ(c.will_topic, "t/1");
  EXPECT_EQ(c.will_payload, ascii("bye"));
  EXPECT_EQ(c.username, "dev");
  ASSERT_TRUE(c.password.has_value());
  EXPECT_TRUE(c.password->empty());
}

TEST(MqttparseConnect, V5UserPropertiesNoAuthenticationMethod) {
  const Bytes properties = hex("26 00 03") + ascii("app") + hex("00 03") + ascii("1.2") +
                           hex("26 00 03") + ascii("app") + hex("00 03") + ascii("1.3") +
                           hex("26 00 02") + ascii("os") + hex("00 00");
  ASSERT_EQ(properties.size(), 29u);
  // Flags: username | password | clean = c2. 10 + 30 + 5 + 5 + 6 = 56.
  const Bytes packet = hex("10 38 00 04") + ascii("MQTT") + hex("05 c2 00 3c") +
                       hex("1d") + properties + hex("00 03") + ascii("dev") +
                       hex("00 03") + ascii("usr") + hex("00 04 00 80 ff 01");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.properties, properties);
  EXPECT_FALSE(c.has_authentication_method);
  EXPECT_EQ(c.password, hex("00 80 ff 01"));
}

TEST(MqttparseConnect, V5EmptyPropertiesAndWillProperties) {
  // Flags: will 04 | clean 02 = 06. 10 + 1 + 5 + 1 + 4 + 2 = 23.
  const Bytes packet = hex("10 17 00 04") + ascii("MQTT") + hex("05 06 00 00") + hex("00") +
                       hex("00 03") + ascii("dev") + hex("00") + hex("00 02") + ascii("lw") +
                       hex("00 00");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_TRUE(c.properties.empty());
  EXPECT_TRUE(c.will_properties.empty());
  EXPECT_TRUE(c.will_payload.empty());
}

TEST(MqttparseConnect, V5PasswordWithoutUsernameIsAllowed) {
  // Flags: password 40 | clean 02 = 42. 10 + 1 + 5 + 4 = 20.
  const Bytes packet = hex("10 14 00 04") + ascii("MQTT") + hex("05 42 00 3c") + hex("00") +
                       hex("00 03") + ascii("dev") + hex("00 02") + ascii("pw");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_FALSE(c.username.has_value());
  EXPECT_EQ(c.password, ascii("pw"));
}

TEST(MqttparseConnect, V5PropertiesLongerThan127Bytes) {
  // A 130-byte User Property value makes a 137-byte property list: length 89 01.
  const Bytes properties = hex("26 00 02") + ascii("k1") + hex("00 82") + repeat('v', 130);
  ASSERT_EQ(properties.size(), 137u);
  // 10 + 2 + 137 + 5 = 154 = 9a 01.
  const Bytes packet = hex("10 9a 01 00 04") + ascii("MQTT") + hex("05 02 00 3c") +
                       hex("89 01") + properties + hex("00 03") + ascii("dev");
  ConnectPacket c = decode_and_reencode(packet);
  EXPECT_EQ(c.properties, properties);
}

TEST(MqttparseConnect, EverySingleByteMutationThatDecodesRoundTrips) {
  // Replace each byte of valid packets with every value: whatever the decoder still
  // accepts must re-encode to exactly the mutated bytes (no field is silently normalised).
  const Bytes bases[] = {
      hex("10 7c 00 04") + ascii("MQTT") + hex("05 d6 00 1e 30") + all_connect_properties() +
          hex("00 00 2d") + all_will_properties() + hex("00 03") + ascii("t/1") +
          hex("00 03") + ascii("bye") + hex("00 03") + ascii("dev") + hex("00 00"),
      hex("10 33 00 04") + ascii("MQTT") + hex("04 ee 01 2c 00 05") + ascii("dev-1") +
          hex("00 0c") + ascii("status/dev-1") + hex("00 05 00 ff") + ascii("off") +
          hex("00 05") + ascii("alice") + hex("00 04 00 01 fe ff"),
      hex("10 1a 00 06") + ascii("MQIsdp") + hex("03 26 00 0a 00 02") + ascii("id") +
          hex("00 02") + ascii("lw") + hex("00 04") + ascii("gone"),
  };
  size_t accepted = 0;
  for (const Bytes& base : bases) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (int value = 0; value < 256; ++value) {
        Bytes mutated = base;
        mutated[i] = static_cast<uint8_t>(value);
        ConnectPacket c;
        if (decode_connect(mutated, &c) != ConnectStatus::kOk) continue;
        ++accepted;
        ASSERT_EQ(to_hex(encode_connect(c)), to_hex(mutated)) << "byte " << i;
      }
    }
  }
  EXPECT_GT(accepted, 1000u);
}

TEST(MqttparseConnect, RewrittenFieldsEncodeAsWrittenByHand) {
  // What the proxy does: decode, replace client id / username, drop the password.
  const Bytes original = hex("10 1b 00 04") + ascii("MQTT") + hex("04 c2 00 3c") +
                         hex("00 03") + ascii("dev") + hex("00 03") + ascii("usr") +
                         hex("00 05") + ascii("s3cr3");
  ConnectPacket c;
  ASSERT_EQ(decode_connect(original, &c), ConnectStatus::kOk);
  c.username = "device-42";
  c.password.reset();
  // Flags: username 80 | clean 02 = 82. 10 + 5 + 11 = 26.
  const Bytes expected = hex("10 1a 00 04") + ascii("MQTT") + hex("04 82 00 3c") +
                         hex("00 03") + ascii("dev") + hex("00 09") + ascii("device-42");
  EXPECT_EQ(to_hex(encode_connect(c)), to_hex(expected));
}

TEST(MqttparseConnect, UnencodableFieldsGiveAnEmptyPacket) {
  ConnectPacket too_long;
  too_long.client_id = "dev";
  too_long.username = std::string(65536, 'u');
  EXPECT_FALSE(connect_is_encodable(too_long));
  EXPECT_TRUE(encode_connect(too_long).empty());

  ConnectPacket password_alone;  // 3.1.1 forbids a password without a username
  password_alone.password = Bytes{'p'};
  EXPECT_FALSE(connect_is_encodable(password_alone));
  EXPECT_TRUE(encode_connect(password_alone).empty());
  password_alone.version = ProtocolVersion::kV5;
  EXPECT_TRUE(connect_is_encodable(password_alone));

  ConnectPacket bad_qos;
  bad_qos.will = true;
  bad_qos.will_topic = "t";
  bad_qos.will_qos = 3;
  EXPECT_FALSE(connect_is_encodable(bad_qos));

  ConnectPacket max_length;
  max_length.username = std::string(65535, 'u');
  EXPECT_TRUE(connect_is_encodable(max_length));
}

}  // namespace
}  // namespace mqttparse
