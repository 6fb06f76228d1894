// parse_cidr, Cidr::contains (IPv4, IPv6, IPv4-mapped IPv6, /0, /32, /128) and to_string.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "config/config.h"
#include "config/values.h"

namespace {

config::Cidr cidr(std::string_view text) {
  std::string error;
  std::optional<config::Cidr> parsed = config::parse_cidr(text, &error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error;
  return parsed.value_or(config::Cidr{});
}

// Whether |network| contains the literal |address|, given as a sockaddr_in or sockaddr_in6.
bool contains(const config::Cidr& network, const char* address) {
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(1234);
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(1234);
  } else {
    ADD_FAILURE() << "bad test address " << address;
  }
  return network.contains(reinterpret_cast<const sockaddr*>(&storage));
}

TEST(ConfigCidr, ParsesNetworksAndBareAddresses) {
  config::Cidr net = cidr("10.0.0.0/8");
  EXPECT_EQ(net.family, AF_INET);
  EXPECT_EQ(net.prefix_len, 8);
  EXPECT_EQ(net.address[0], 10);
  EXPECT_EQ(net.to_string(), "10.0.0.0/8");

  EXPECT_EQ(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
  EXPECT_EQ(cidr("127.0.0.1").prefix_len, 32);
  EXPECT_EQ(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
  EXPECT_EQ(cidr("192.168.4.0/22").to_string(), "192.168.4.0/22");

  config::Cidr v6 = cidr("::1/128");
  EXPECT_EQ(v6.family, AF_INET6);
  EXPECT_EQ(v6.prefix_len, 128);
  EXPECT_EQ(v6.to_string(), "::1/128");
  EXPECT_EQ(cidr("::1").prefix_len, 128);
  EXPECT_EQ(cidr("2001:DB8::/32").to_string(), "2001:db8::/32");
  EXPECT_EQ(cidr("::/0").to_string(), "::/0");
}

TEST(ConfigCidr, RejectsBadNetworks) {
  struct Case {
    std::string_view text;
    std::string_view fragment;
  };
  const Case cases[] = {
      {"", "is not an IP network"},
      {"10.0.0", "is not an IP network"},
      {"lb.internal", "is not an IP network"},
      {"10.0.0.0/33", "from 0 to 32"},
      {"10.0.0.0/", "from 0 to 32"},
      {"10.0.0.0/-1", "from 0 to 32"},
      {"10.0.0.0/8x", "from 0 to 32"},
      {"::/129", "from 0 to 128"},
      {"[::1]/128", "is not an IP network"},
      {"10.0.0.1/8", "did you mean \"10.0.0.0/8\""},
      {"192.168.5.0/22", "did you mean \"192.168.4.0/22\""},
      {"2001:db8::1/32", "did you mean \"2001:db8::/32\""},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(config::parse_cidr(c.text, &error)) << c.text;
    EXPECT_NE(error.find(c.fragment), std::string::npos) << c.text << ": " << error;
  }
}

TEST(ConfigCidr, ContainsIpv4) {
  config::Cidr net = cidr("10.0.0.0/8");
  EXPECT_TRUE(contains(net, "10.0.0.0"));
  EXPECT_TRUE(contains(net, "10.255.255.255"));
  EXPECT_FALSE(contains(net, "11.0.0.0"));
  EXPECT_FALSE(contains(net, "9.255.255.255"));

  config::Cidr odd = cidr("192.168.4.0/22");
  EXPECT_TRUE(contains(odd, "192.168.4.1"));
  EXPECT_TRUE(contains(odd, "192.168.7.254"));
  EXPECT_FALSE(contains(odd, "192.168.8.0"));
  EXPECT_FALSE(contains(odd, "192.168.3.255"));
}

TEST(ConfigCidr, ContainsSlash32AndSlash0) {
  config::Cidr host = cidr("127.0.0.1/32");
  EXPECT_TRUE(contains(host, "127.0.0.1"));
  EXPECT_FALSE(contains(host, "127.0.0.2"));
  EXPECT_FALSE(contains(host, "::1"));

  config::Cidr any4 = cidr("0.0.0.0/0");
  EXPECT_TRUE(contains(any4, "1.2.3.4"));
  EXPECT_TRUE(contains(any4, "255.255.255.255"));
  EXPECT_TRUE(contains(any4, "::ffff:1.2.3.4"));
  EXPECT_FALSE(contains(any4, "2001:db8::1"));

  config::Cidr any6 = cidr("::/0");
  EXPECT_TRUE(contains(any6, "2001:db8::1"));
  EXPECT_TRUE(contains(any6, "::1"));
  EXPECT_FALSE(contains(any6, "1.2.3.4"));
}

TEST(ConfigCidr, ContainsIpv6) {
  config::Cidr net = cidr("2001:db8::/32");
  EXPECT_TRUE(contains(net, "2001:db8::1"));
  EXPECT_TRUE(contains(net, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(contains(net, "2001:db9::"));
  EXPECT_FALSE(contains(net, "10.0.0.1"));

  config::Cidr loopback = cidr("::1/128");
  EXPECT_TRUE(contains(loopback, "::1"));
  EXPECT_FALSE(contains(loopback, "::2"));
  EXPECT_FALSE(contains(loopback, "127.0.0.1"));

  config::Cidr odd = cidr("fd00:0:0:8000::/49");
  EXPECT_TRUE(contains(odd, "fd00:0:0:8000::1"));
  EXPECT_TRUE(contains(odd, "fd00:0:0:ffff::1"));
  EXPECT_FALSE(contains(odd, "fd00:0:0:7fff::1"));
}

TEST(ConfigCidr, Ipv4MappedAddressesMatchIpv4Networks) {
  config::Cidr net = cidr("10.0.0.0/8");
  EXPECT_TRUE(contains(net, "::ffff:10.1.2.3"));
  EXPECT_FALSE(contains(net, "::ffff:11.1.2.3"));
  // Only the ::ffff:0:0/96 form is mapped; IPv4-compatible or other prefixes are not.
  EXPECT_FALSE(contains(net, "::10.1.2.3"));
  EXPECT_FALSE(contains(net, "64:ff9b::10.1.2.3"));
  EXPECT_TRUE(contains(cidr("127.0.0.1"), "::ffff:127.0.0.1"));
  // A v6 network written in mapped form matches the mapped address as plain IPv6.
  EXPECT_TRUE(contains(cidr("::ffff:10.0.0.0/104"), "::ffff:10.9.9.9"));
}

TEST(ConfigCidr, OtherFamiliesAndNullNeverMatch) {
  config::Cidr any4 = cidr("0.0.0.0/0");
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(any4.contains(&unix_like));
  EXPECT_FALSE(any4.contains(nullptr));
  EXPECT_FALSE(config::Cidr{}.contains(&unix_like));
  EXPECT_EQ(config::Cidr{}.to_string(), "");
}

}  // namespace
