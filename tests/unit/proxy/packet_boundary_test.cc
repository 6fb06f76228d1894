// Packet boundaries of a relayed stream, fed at every split.
#include "proxy/packet_boundary.h"

#include <gtest/gtest.h>

#include <vector>

namespace proxy {
namespace {

// CONNACK, a PUBLISH with a two-byte Remaining Length (200), a PINGRESP.
std::vector<uint8_t> stream_of_three() {
  std::vector<uint8_t> bytes{0x20, 0x02, 0x00, 0x00};
  bytes.push_back(0x30);
  bytes.push_back(0xC8);  // 200 = 0x48 | 0x80, then 0x01
  bytes.push_back(0x01);
  bytes.insert(bytes.end(), 200, 0xAB);
  bytes.push_back(0xD0);
  bytes.push_back(0x00);
  return bytes;
}

TEST(ProxyPacketBoundary, BoundariesAtPacketEndsOnly) {
  std::vector<uint8_t> bytes = stream_of_three();
  std::vector<size_t> ends{4, 4 + 3 + 200, bytes.size()};
  PacketBoundary boundary;
  EXPECT_TRUE(boundary.at_boundary());
  for (size_t i = 0; i < bytes.size(); ++i) {
    ASSERT_TRUE(boundary.advance({&bytes[i], 1}));
    bool expected = std::find(ends.begin(), ends.end(), i + 1) != ends.end();
    EXPECT_EQ(boundary.at_boundary(), expected) << "after byte " << i;
  }
}

TEST(ProxyPacketBoundary, AnySplitGivesTheSameAnswer) {
  std::vector<uint8_t> bytes = stream_of_three();
  for (size_t split = 0; split <= bytes.size(); ++split) {
    PacketBoundary boundary;
    boundary.advance({bytes.data(), split});
    boundary.advance({bytes.data() + split, bytes.size() - split});
    EXPECT_TRUE(boundary.at_boundary()) << split;
  }
}

TEST(ProxyPacketBoundary, FiveByteLengthBreaksForGood) {
  std::vector<uint8_t> bytes{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  PacketBoundary boundary;
  EXPECT_FALSE(boundary.advance(bytes));
  EXPECT_FALSE(boundary.at_boundary());
  std::vector<uint8_t> more{0xD0, 0x00};
  EXPECT_FALSE(boundary.advance(more));
  EXPECT_FALSE(boundary.at_boundary());
}

}  // namespace
}  // namespace proxy
