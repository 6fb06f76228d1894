// bench/mqtt_auth_bench/bench_wire_test.cc: the load generator's packet encoders, frame
// splitter and histogram (the parts whose mistakes would silently skew the figures).
#include <gtest/gtest.h>

#include "bench/mqtt_auth_bench/histogram.h"
#include "bench/mqtt_auth_bench/mqtt_wire.h"

namespace bench {
namespace {

TEST(BenchWire, Connect311Bytes) {
  Bytes packet = encode_connect(4, "c", "u", "p", 30);
  Bytes expected = {0x10, 18, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xc2, 0, 30,
                    0, 1, 'c', 0, 1, 'u', 0, 1, 'p'};
  expected[1] = static_cast<uint8_t>(expected.size() - 2);
  EXPECT_EQ(packet, expected);
}

TEST(BenchWire, Connect5HasEmptyPropertiesAndNoPasswordFlagWithoutPassword) {
  Bytes packet = encode_connect(5, "id", "", "", 0);
  ASSERT_GT(packet.size(), 12u);
  EXPECT_EQ(packet[8], 5);
  EXPECT_EQ(packet[9], 0x02);
  EXPECT_EQ(packet[12], 0);  // property length
}

TEST(BenchWire, PublishRoundTripsByteByByte) {
  Bytes payload(300, 7);
  payload[0] = 42;
  for (int level : {4, 5}) {
    Bytes packet = encode_publish(level, "bench/0/load", 1, 513, payload);
    Frame frame;
    size_t size = 0;
    for (size_t n = 0; n < packet.size(); ++n) {
      ASSERT_EQ(split_frame(std::span(packet.data(), n), &frame, &size), SplitStatus::kNeedMore);
    }
    ASSERT_EQ(split_frame(packet, &frame, &size), SplitStatus::kFrame);
    EXPECT_EQ(size, packet.size());
    PublishView view;
    ASSERT_TRUE(parse_publish(level, frame, &view));
    EXPECT_EQ(view.qos, 1);
    EXPECT_EQ(view.packet_id, 513);
    ASSERT_EQ(view.payload.size(), payload.size());
    EXPECT_EQ(view.payload[0], 42);
  }
}

TEST(BenchWire, OverlongLengthIsMalformed) {
  Bytes packet = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
  Frame frame;
  size_t size = 0;
  EXPECT_EQ(split_frame(packet, &frame, &size), SplitStatus::kMalformed);
}

TEST(BenchHistogram, PercentilesWithinBucketError) {
  Histogram histogram;
  for (uint64_t v = 1; v <= 100000; ++v) histogram.record(v);
  EXPECT_EQ(histogram.count(), 100000u);
  EXPECT_EQ(histogram.max(), 100000u);
  auto near = [](uint64_t got, double want) { return std::abs(got - want) <= want * 0.035; };
  EXPECT_TRUE(near(histogram.percentile(0.5), 50000)) << histogram.percentile(0.5);
  EXPECT_TRUE(near(histogram.percentile(0.99), 99000)) << histogram.percentile(0.99);
  Histogram other;
  other.record(5);
  histogram.merge(other);
  EXPECT_EQ(histogram.count(), 100001u);
  EXPECT_EQ(Histogram().percentile(0.5), 0u);
}

}  // namespace
}  // namespace bench
