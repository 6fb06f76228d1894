// UTF-8 Encoded String and Topic Name rules, checked directly.
#include "mqttparse/mqtt_string.h"

#include <gtest/gtest.h>

#include "test_bytes.h"

namespace mqttparse {
namespace {

using test::ascii;
using test::hex;

TEST(MqttparseUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_mqtt_utf8({}));
  EXPECT_TRUE(is_valid_mqtt_utf8(ascii("plain ascii")));
  EXPECT_TRUE(is_valid_mqtt_utf8(hex("7f 01")));             // control chars: MAY, not MUST
  EXPECT_TRUE(is_valid_mqtt_utf8(hex("c2 80 df bf")));       // U+0080, U+07FF
  EXPECT_TRUE(is_valid_mqtt_utf8(hex("e0 a0 80 ed 9f bf")));  // U+0800, U+D7FF
  EXPECT_TRUE(is_valid_mqtt_utf8(hex("ee 80 80 ef bf bf")));  // U+E000, U+FFFF
  EXPECT_TRUE(is_valid_mqtt_utf8(hex("f0 90 80 80 f4 8f bf bf")));  // U+10000, U+10FFFF
}

TEST(MqttparseUtf8, RejectsIllFormedText) {
  for (const char* bad : {"00", "41 00 41", "80", "bf", "c0 80", "c1 bf", "c2", "c2 41",
                          "e0 9f bf", "ed a0 80", "ed bf bf", "e1 80", "f0 8f bf bf",
                          "f4 90 80 80", "f5 80 80 80", "f8 88 80 80 80", "fe", "ff",
                          "f0 90 80", "e1 80 41"}) {
    EXPECT_FALSE(is_valid_mqtt_utf8(hex(bad))) << bad;
  }
}

TEST(MqttparseUtf8, TopicNames) {
  EXPECT_TRUE(is_valid_topic_name(ascii("a")));
  EXPECT_TRUE(is_valid_topic_name(ascii("/")));
  EXPECT_TRUE(is_valid_topic_name(ascii("devices/42/status")));
  EXPECT_TRUE(is_valid_topic_name(ascii("$SYS/x")));
  EXPECT_FALSE(is_valid_topic_name({}));
  EXPECT_FALSE(is_valid_topic_name(ascii("a/+/b")));
  EXPECT_FALSE(is_valid_topic_name(ascii("#")));
  EXPECT_FALSE(is_valid_topic_name(hex("61 00")));
}

}  // namespace
}  // namespace mqttparse
