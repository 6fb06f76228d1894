// Topic filter syntax, matching with the '$' rule, filter relations, $share parsing.
#include "mqttparse/topic.h"

#include <gtest/gtest.h>

#include <string>

namespace mqttparse {
namespace {

TEST(TopicFilter, ValidFilters) {
  for (const char* filter : {"a", "a/b", "#", "+", "+/+", "a/+/c", "a/#", "/", "/a", "a/",
                             "+/#", "$SYS/#", "a//b", " "}) {
    EXPECT_TRUE(is_valid_topic_filter(filter)) << filter;
  }
}

TEST(TopicFilter, InvalidFilters) {
  for (const char* filter : {"", "a#", "a/#/b", "#/a", "a+", "a/b+/c", "++", "##", "a/+b"}) {
    EXPECT_FALSE(is_valid_topic_filter(filter)) << filter;
  }
  EXPECT_FALSE(is_valid_topic_filter(std::string("a\0b", 3)));
}

TEST(TopicMatch, SpecExamples) {
  // MQTT 3.1.1 section 4.7.1.2 / 4.7.1.3 examples.
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  EXPECT_TRUE(topic_matches("sport/#", "sport"));
  EXPECT_TRUE(topic_matches("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_FALSE(topic_matches("sport/+", "sport"));
  EXPECT_TRUE(topic_matches("sport/+", "sport/"));
  EXPECT_TRUE(topic_matches("+/+", "/finance"));
  EXPECT_TRUE(topic_matches("/+", "/finance"));
  EXPECT_FALSE(topic_matches("+", "/finance"));
  EXPECT_TRUE(topic_matches("#", "a/b/c"));
  EXPECT_TRUE(topic_matches("a/b", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/b/c"));
  EXPECT_FALSE(topic_matches("a/b/c", "a/b"));
  EXPECT_FALSE(topic_matches("a/b", "a/c"));
}

TEST(TopicMatch, DollarTopicsNeedALiteralFirstLevel) {
  EXPECT_FALSE(topic_matches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
  EXPECT_TRUE(topic_matches("a/#", "a/$b"));  // only the first character counts
}

TEST(FilterCovers, Cases) {
  EXPECT_TRUE(filter_covers("#", "a/b"));
  EXPECT_TRUE(filter_covers("#", "#"));
  EXPECT_TRUE(filter_covers("a/#", "a/+/b"));
  EXPECT_TRUE(filter_covers("a/#", "a"));
  EXPECT_TRUE(filter_covers("a/+", "a/b"));
  EXPECT_TRUE(filter_covers("a/+", "a/+"));
  EXPECT_FALSE(filter_covers("a/+", "a/#"));
  EXPECT_FALSE(filter_covers("a/b", "a/+"));
  EXPECT_FALSE(filter_covers("a/b", "#"));
  EXPECT_FALSE(filter_covers("a/+", "a"));
  EXPECT_FALSE(filter_covers("a", "a/b"));
  EXPECT_FALSE(filter_covers("#", "$SYS/#"));
  EXPECT_FALSE(filter_covers("+/x", "$SYS/x"));
  EXPECT_TRUE(filter_covers("$SYS/#", "$SYS/broker/+"));
}

TEST(FiltersOverlap, Cases) {
  EXPECT_TRUE(filters_overlap("a/+", "+/b"));
  EXPECT_TRUE(filters_overlap("a/#", "a"));
  EXPECT_TRUE(filters_overlap("a", "a/#"));
  EXPECT_TRUE(filters_overlap("#", "x/y/z"));
  EXPECT_TRUE(filters_overlap("a/secret", "a/#"));
  EXPECT_TRUE(filters_overlap("a/secret", "+/+"));
  EXPECT_FALSE(filters_overlap("a/+", "a"));
  EXPECT_FALSE(filters_overlap("a/b", "a/c"));
  EXPECT_FALSE(filters_overlap("a/b", "a/b/c"));
  EXPECT_FALSE(filters_overlap("#", "$SYS/#"));
  EXPECT_FALSE(filters_overlap("$SYS/#", "+/x"));
  EXPECT_TRUE(filters_overlap("$SYS/#", "$SYS/x"));
}

TEST(SharedFilter, Parses) {
  SharedFilter shared;
  ASSERT_EQ(parse_shared_filter("$share/g1/a/b/#", &shared), ShareStatus::kShared);
  EXPECT_EQ(shared.group, "g1");
  EXPECT_EQ(shared.filter, "a/b/#");
  ASSERT_EQ(parse_shared_filter("$share/g/#", &shared), ShareStatus::kShared);
  EXPECT_EQ(shared.filter, "#");
  EXPECT_EQ(parse_shared_filter("a/b", &shared), ShareStatus::kNotShared);
  EXPECT_EQ(parse_shared_filter("$SYS/#", &shared), ShareStatus::kNotShared);
  EXPECT_EQ(parse_shared_filter("$shared/x", &shared), ShareStatus::kNotShared);
}

TEST(SharedFilter, Malformed) {
  SharedFilter shared;
  for (const char* filter : {"$share", "$share/", "$share/g", "$share/g/", "$share//a",
                             "$share/g+/a", "$share/#/a", "$share/g/a#"}) {
    EXPECT_EQ(parse_shared_filter(filter, &shared), ShareStatus::kMalformed) << filter;
  }
}

}  // namespace
}  // namespace mqttparse
