// PUBLISH, acks, SUBSCRIBE/UNSUBSCRIBE and their acks, DISCONNECT: hand-written bytes for
// both versions, round trips, malformed cases.
#include "mqttparse/packets.h"

#include <gtest/gtest.h>

#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::ascii;
using test::Bytes;
using test::framed;
using test::hex;
using test::to_hex;
using test::operator+;

constexpr ProtocolVersion kV3 = ProtocolVersion::kV311;
constexpr ProtocolVersion kV5 = ProtocolVersion::kV5;

template <typename Packet, typename Encode>
Bytes encoded(const Packet& packet, Encode encode, ProtocolVersion version) {
  Bytes out;
  encode(packet, version, &out);
  return out;
}

TEST(Publish, DecodesV311QoS1) {
  Bytes packet = hex("32 0a 00 03") + ascii("a/b") + hex("00 07") + ascii("hi!");
  PublishPacket publish;
  ASSERT_EQ(decode_publish(packet, kV3, &publish), DecodeStatus::kOk);
  EXPECT_EQ(publish.qos, 1);
  EXPECT_FALSE(publish.dup);
  EXPECT_FALSE(publish.retain);
  EXPECT_EQ(publish.topic, "a/b");
  EXPECT_EQ(publish.packet_id, 7);
  EXPECT_EQ(Bytes(publish.payload.begin(), publish.payload.end()), ascii("hi!"));
  EXPECT_EQ(encoded(publish, encode_publish, kV3), packet);
}

TEST(Publish, DecodesV311QoS0RetainEmptyPayload) {
  Bytes packet = hex("31 03 00 01") + ascii("t");
  PublishPacket publish;
  ASSERT_EQ(decode_publish(packet, kV3, &publish), DecodeStatus::kOk);
  EXPECT_TRUE(publish.retain);
  EXPECT_EQ(publish.qos, 0);
  EXPECT_TRUE(publish.payload.empty());
  EXPECT_EQ(encoded(publish, encode_publish, kV3), packet);
}

TEST(Publish, DecodesV5WithAliasAndResponseTopic) {
  // QoS 2, DUP; properties: Topic Alias 5, Response Topic "r/1", Payload Format 1.
  Bytes props = hex("23 00 05 08 00 03") + ascii("r/1") + hex("01 01");
  Bytes body = hex("00 01") + ascii("x") + hex("00 09") + hex("0b") + props + ascii("p");
  Bytes packet = framed(0x3c, body);
  PublishPacket publish;
  ASSERT_EQ(decode_publish(packet, kV5, &publish), DecodeStatus::kOk);
  EXPECT_TRUE(publish.dup);
  EXPECT_EQ(publish.qos, 2);
  EXPECT_EQ(publish.packet_id, 9);
  EXPECT_EQ(publish.topic_alias, 5);
  ASSERT_TRUE(publish.response_topic);
  EXPECT_EQ(*publish.response_topic, "r/1");
  EXPECT_EQ(encoded(publish, encode_publish, kV5), packet);
}

TEST(Publish, V5EmptyTopicNeedsAlias) {
  PublishPacket publish;
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 00 03 23 00 01")), kV5, &publish),
            DecodeStatus::kOk);
  EXPECT_TRUE(publish.topic.empty());
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 00 00")), kV5, &publish),
            DecodeStatus::kMalformed);
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 00")), kV3, &publish), DecodeStatus::kMalformed);
}

TEST(Publish, Malformed) {
  PublishPacket publish;
  Bytes topic = hex("00 01") + ascii("t");
  EXPECT_EQ(decode_publish(framed(0x36, topic + hex("00 01")), kV3, &publish),
            DecodeStatus::kMalformed);  // QoS 3
  EXPECT_EQ(decode_publish(framed(0x38, topic), kV3, &publish),
            DecodeStatus::kMalformed);  // DUP with QoS 0
  EXPECT_EQ(decode_publish(framed(0x32, topic + hex("00 00")), kV3, &publish),
            DecodeStatus::kMalformed);  // packet id 0
  EXPECT_EQ(decode_publish(framed(0x32, topic + hex("00")), kV3, &publish),
            DecodeStatus::kMalformed);  // truncated packet id
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 03") + ascii("a/+")), kV3, &publish),
            DecodeStatus::kMalformed);  // wildcard in a topic name
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 02 c3 28")), kV3, &publish),
            DecodeStatus::kMalformed);  // invalid UTF-8
  EXPECT_EQ(decode_publish(framed(0x30, hex("00 05") + ascii("t")), kV3, &publish),
            DecodeStatus::kMalformed);  // topic past the end
  EXPECT_EQ(decode_publish(framed(0x30, topic + hex("02 23 00")), kV5, &publish),
            DecodeStatus::kMalformed);  // truncated property
  EXPECT_EQ(decode_publish(framed(0x30, topic + hex("03 23 00 00")), kV5, &publish),
            DecodeStatus::kMalformed);  // alias 0
  EXPECT_EQ(decode_publish(framed(0x30, topic + hex("06 23 00 01 23 00 02")), kV5, &publish),
            DecodeStatus::kMalformed);  // two aliases
  EXPECT_EQ(decode_publish(framed(0x30, topic + hex("02 7f 00")), kV5, &publish),
            DecodeStatus::kMalformed);  // unknown property
  EXPECT_EQ(decode_publish(framed(0x30, topic + hex("04 08 00 01") + ascii("#")), kV5, &publish),
            DecodeStatus::kMalformed);  // response topic with a wildcard
  EXPECT_EQ(decode_publish(hex("32 0a 00"), kV3, &publish), DecodeStatus::kMalformed);
  EXPECT_EQ(decode_publish(framed(0x40, hex("00 01")), kV3, &publish), DecodeStatus::kMalformed);
}

TEST(Publish, LargePayloadUsesLongRemainingLength) {
  PublishPacket publish;
  Bytes payload(300, 0x55);
  publish.topic = "t";
  publish.payload = payload;
  Bytes out = encoded(publish, encode_publish, kV5);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 3), hex("30 b0 02"));  // 304 = 0x130
  PublishPacket back;
  ASSERT_EQ(decode_publish(out, kV5, &back), DecodeStatus::kOk);
  EXPECT_EQ(back.payload.size(), 300u);
}

TEST(Ack, V311) {
  for (uint8_t first : {0x40, 0x50, 0x62, 0x70}) {
    Bytes packet = Bytes{first} + hex("02 12 34");
    AckPacket ack;
    ASSERT_EQ(decode_ack(packet, kV3, &ack), DecodeStatus::kOk) << to_hex(packet);
    EXPECT_EQ(ack.packet_id, 0x1234);
    EXPECT_EQ(encoded(ack, encode_ack, kV3), packet);
  }
  AckPacket ack;
  EXPECT_EQ(decode_ack(hex("60 02 00 01"), kV3, &ack), DecodeStatus::kMalformed);  // PUBREL flags
  EXPECT_EQ(decode_ack(hex("40 02 00 00"), kV3, &ack), DecodeStatus::kMalformed);  // id 0
  EXPECT_EQ(decode_ack(hex("40 03 00 01 00"), kV3, &ack), DecodeStatus::kMalformed);
  EXPECT_EQ(decode_ack(hex("30 02 00 01"), kV3, &ack), DecodeStatus::kMalformed);
}

TEST(Ack, V5Forms) {
  AckPacket ack;
  ASSERT_EQ(decode_ack(hex("40 02 00 01"), kV5, &ack), DecodeStatus::kOk);
  EXPECT_EQ(ack.reason, 0);
  ASSERT_EQ(decode_ack(hex("50 03 00 01 87"), kV5, &ack), DecodeStatus::kOk);
  EXPECT_EQ(ack.type, PacketType::kPubrec);
  EXPECT_EQ(ack.reason, 0x87);
  EXPECT_EQ(encoded(ack, encode_ack, kV5), hex("50 03 00 01 87"));
  Bytes with_props = hex("70 09 00 01 92 05 1f 00 02") + ascii("no");
  ASSERT_EQ(decode_ack(with_props, kV5, &ack), DecodeStatus::kOk);
  EXPECT_EQ(encoded(ack, encode_ack, kV5), with_props);
  EXPECT_EQ(encoded(AckPacket{PacketType::kPuback, 1, 0, {}}, encode_ack, kV5), hex("40 02 00 01"));
  EXPECT_EQ(encoded(AckPacket{PacketType::kPubrel, 2, 0, {}}, encode_ack, kV5), hex("62 02 00 02"));
  EXPECT_EQ(decode_ack(hex("40 05 00 01 00 05 1f"), kV5, &ack), DecodeStatus::kMalformed);
  // 3.1.1 encoding ignores the reason.
  EXPECT_EQ(encoded(AckPacket{PacketType::kPuback, 1, 0x87, {}}, encode_ack, kV3),
            hex("40 02 00 01"));
}

TEST(Subscribe, V311) {
  Bytes packet = hex("82 0f 00 0a 00 03") + ascii("a/#") + hex("01 00 04") + ascii("b/+c") +
                 hex("02");
  SubscribePacket subscribe;
  // "b/+c" is still a valid UTF-8 string: filter syntax is the caller's job.
  ASSERT_EQ(decode_subscribe(packet, kV3, &subscribe), DecodeStatus::kOk);
  EXPECT_EQ(subscribe.packet_id, 10);
  ASSERT_EQ(subscribe.requests.size(), 2u);
  EXPECT_EQ(subscribe.requests[0].filter, "a/#");
  EXPECT_EQ(subscribe.requests[0].options, 1);
  EXPECT_EQ(subscribe.requests[1].options, 2);
  EXPECT_EQ(encoded(subscribe, encode_subscribe, kV3), packet);
}

TEST(Subscribe, V5WithPropertiesAndOptions) {
  // Subscription Identifier 3; options No Local + RAP + Retain Handling 2 + QoS 1.
  Bytes packet = framed(0x82, hex("00 01 02 0b 03 00 01") + ascii("x") + hex("2d"));
  SubscribePacket subscribe;
  ASSERT_EQ(decode_subscribe(packet, kV5, &subscribe), DecodeStatus::kOk);
  EXPECT_EQ(subscribe.requests[0].options, 0x2d);
  EXPECT_EQ(subscribe.properties.size(), 2u);
  EXPECT_EQ(encoded(subscribe, encode_subscribe, kV5), packet);
}

TEST(Subscribe, Malformed) {
  SubscribePacket s;
  Bytes one = hex("00 01") + ascii("x");
  EXPECT_EQ(decode_subscribe(framed(0x80, hex("00 01") + one + hex("00")), kV3, &s),
            DecodeStatus::kMalformed);  // flags
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01")), kV3, &s), DecodeStatus::kMalformed);
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 00") + one + hex("00")), kV3, &s),
            DecodeStatus::kMalformed);  // id 0
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01") + one + hex("03")), kV3, &s),
            DecodeStatus::kMalformed);  // QoS 3
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01") + one + hex("04")), kV3, &s),
            DecodeStatus::kMalformed);  // reserved bits in 3.1.1
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01 00") + one + hex("40")), kV5, &s),
            DecodeStatus::kMalformed);  // reserved bits in 5.0
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01 00") + one + hex("30")), kV5, &s),
            DecodeStatus::kMalformed);  // Retain Handling 3
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01") + one), kV3, &s),
            DecodeStatus::kMalformed);  // no options byte
  EXPECT_EQ(decode_subscribe(framed(0x82, hex("00 01 00 00 00")), kV3, &s),
            DecodeStatus::kMalformed);  // empty filter
}

TEST(Unsubscribe, BothVersions) {
  Bytes v3 = hex("a2 07 00 05 00 03") + ascii("a/b");
  UnsubscribePacket u;
  ASSERT_EQ(decode_unsubscribe(v3, kV3, &u), DecodeStatus::kOk);
  ASSERT_EQ(u.filters.size(), 1u);
  EXPECT_EQ(u.filters[0], "a/b");
  EXPECT_EQ(encoded(u, encode_unsubscribe, kV3), v3);
  Bytes v5 = hex("a2 0b 00 05 00 00 01") + ascii("a") + hex("00 03") + ascii("b/c");
  ASSERT_EQ(decode_unsubscribe(v5, kV5, &u), DecodeStatus::kOk);
  EXPECT_EQ(u.filters.size(), 2u);
  EXPECT_EQ(encoded(u, encode_unsubscribe, kV5), v5);
  EXPECT_EQ(decode_unsubscribe(hex("a2 02 00 05"), kV3, &u), DecodeStatus::kMalformed);
  EXPECT_EQ(decode_unsubscribe(hex("a0 05 00 05 00 01 61"), kV3, &u), DecodeStatus::kMalformed);
}

TEST(Suback, BothVersionsAndUnsuback) {
  SubackPacket s;
  ASSERT_EQ(decode_suback(hex("90 04 00 07 01 80"), kV3, &s), DecodeStatus::kOk);
  EXPECT_EQ(s.codes, hex("01 80"));
  EXPECT_EQ(encoded(s, encode_suback, kV3), hex("90 04 00 07 01 80"));
  EXPECT_EQ(decode_suback(hex("90 03 00 07 03"), kV3, &s), DecodeStatus::kMalformed);
  EXPECT_EQ(decode_suback(hex("90 02 00 07"), kV3, &s), DecodeStatus::kMalformed);
  ASSERT_EQ(decode_suback(hex("90 05 00 07 00 87 01"), kV5, &s), DecodeStatus::kOk);
  EXPECT_EQ(s.codes, hex("87 01"));
  ASSERT_EQ(decode_suback(hex("b0 02 00 07"), kV3, &s), DecodeStatus::kOk);
  EXPECT_EQ(s.type, PacketType::kUnsuback);
  EXPECT_EQ(encoded(s, encode_suback, kV3), hex("b0 02 00 07"));
  EXPECT_EQ(decode_suback(hex("b0 03 00 07 00"), kV3, &s), DecodeStatus::kMalformed);
  ASSERT_EQ(decode_suback(hex("b0 04 00 07 00 11"), kV5, &s), DecodeStatus::kOk);
  EXPECT_EQ(s.codes, hex("11"));
}

TEST(Disconnect, BothVersions) {
  DisconnectPacket d;
  EXPECT_EQ(decode_disconnect(hex("e0 00"), kV3, &d), DecodeStatus::kOk);
  EXPECT_EQ(decode_disconnect(hex("e0 01 00"), kV3, &d), DecodeStatus::kMalformed);
  EXPECT_EQ(encoded(d, encode_disconnect, kV3), hex("e0 00"));
  ASSERT_EQ(decode_disconnect(hex("e0 01 04"), kV5, &d), DecodeStatus::kOk);
  EXPECT_EQ(d.reason, 4);
  EXPECT_EQ(encoded(d, encode_disconnect, kV5), hex("e0 01 04"));
  Bytes with_props = hex("e0 07 8e 05 11 00 00 00 00");
  ASSERT_EQ(decode_disconnect(with_props, kV5, &d), DecodeStatus::kOk);
  EXPECT_EQ(encoded(d, encode_disconnect, kV5), with_props);
  EXPECT_EQ(decode_disconnect(hex("e1 00"), kV5, &d), DecodeStatus::kMalformed);
}

TEST(Properties, ReplaceStringProperty) {
  Bytes list = hex("01 01 08 00 01") + ascii("a") + hex("26 00 01") + ascii("k") +
               hex("00 01") + ascii("v");
  ASSERT_TRUE(properties_well_formed(list));
  Bytes out;
  ASSERT_TRUE(replace_string_property(list, kPropertyResponseTopic, "pre/a", &out));
  EXPECT_EQ(out, hex("01 01 08 00 05") + ascii("pre/a") + hex("26 00 01") + ascii("k") +
                     hex("00 01") + ascii("v"));
  EXPECT_FALSE(replace_string_property(hex("01 01"), kPropertyResponseTopic, "x", &out));
}

TEST(Properties, WellFormed) {
  EXPECT_TRUE(properties_well_formed({}));
  EXPECT_TRUE(properties_well_formed(hex("0b 80 01")));     // varint 128
  EXPECT_FALSE(properties_well_formed(hex("0b 80 00")));    // non-minimal varint
  EXPECT_FALSE(properties_well_formed(hex("02 00 00 00")));  // short u32
  EXPECT_FALSE(properties_well_formed(hex("26 00 01 61")));  // pair without value
  EXPECT_FALSE(properties_well_formed(hex("00")));
}

}  // namespace
}  // namespace mqttparse
