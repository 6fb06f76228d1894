// PROXY protocol v1/v2: every valid form, each invalid form, every split point, the
// encoders' exact bytes and encode→parse round trips.
#include "proxy/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace proxy {
namespace {

using Status = ProxyHeaderStatus;
using Version = ProxyProtocolVersion;

std::vector<uint8_t> bytes_of(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> signature() {
  return std::vector<uint8_t>(std::begin(kProxyV2Signature), std::end(kProxyV2Signature));
}

// v2 header: signature, command byte, family byte, big-endian length of |block|, |block|.
std::vector<uint8_t> v2_header(uint8_t command, uint8_t family, const std::vector<uint8_t>& block) {
  std::vector<uint8_t> out = signature();
  out.push_back(command);
  out.push_back(family);
  out.push_back(static_cast<uint8_t>(block.size() >> 8));
  out.push_back(static_cast<uint8_t>(block.size()));
  return concat(out, block);
}

std::vector<uint8_t> tlv(uint8_t type, const std::vector<uint8_t>& value) {
  std::vector<uint8_t> out{type, static_cast<uint8_t>(value.size() >> 8),
                           static_cast<uint8_t>(value.size())};
  return concat(out, value);
}

// 192.0.2.10:40000 → 10.0.0.5:8884 as a v2 TCP4 address block.
std::vector<uint8_t> tcp4_block() {
  return {192, 0, 2, 10, 10, 0, 0, 5, 0x9C, 0x40, 0x22, 0xB4};
}

sockaddr_storage ip(const char* text, uint16_t port) {
  sockaddr_storage storage{};
  sockaddr_in sin{};
  sockaddr_in6 sin6{};
  if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&storage, &sin, sizeof sin);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1) << text;
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&storage, &sin6, sizeof sin6);
  }
  return storage;
}

const sockaddr* sa(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr*>(&storage);
}

// "a.b.c.d:port" or "[v6]:port" of a parsed address.
std::string text_of(const sockaddr_storage& storage) {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, &storage, sizeof sin);
    inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(sin.sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &storage, sizeof sin6);
    inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(sin6.sin6_port));
  }
  return "none";
}

struct Parsed {
  Status status;
  ProxyHeader header;
  size_t consumed = 0;
};

Parsed parse(Version version, const std::vector<uint8_t>& in) {
  Parsed result;
  result.status = parse_proxy_header(version, in, &result.header, &result.consumed);
  return result;
}

// Every proper prefix of a valid header needs more; the whole header (with application
// bytes after it) is done and consumes exactly the header.
void expect_valid_at_every_split(Version version, const std::vector<uint8_t>& header) {
  std::vector<uint8_t> with_data = concat(header, {0x16, 0x03, 0x01});
  for (size_t len = 0; len < header.size(); ++len) {
    std::vector<uint8_t> prefix(header.begin(), header.begin() + len);
    EXPECT_EQ(parse(version, prefix).status, Status::kNeedMore) << "prefix " << len;
  }
  Parsed whole = parse(version, with_data);
  ASSERT_EQ(whole.status, Status::kDone);
  EXPECT_EQ(whole.consumed, header.size());
}

// No prefix of an invalid input is ever done, and once invalid it stays invalid.
void expect_invalid_at_every_split(Version version, const std::vector<uint8_t>& in) {
  bool invalid_seen = false;
  for (size_t len = 0; len <= in.size(); ++len) {
    std::vector<uint8_t> prefix(in.begin(), in.begin() + len);
    Status status = parse(version, prefix).status;
    EXPECT_NE(status, Status::kDone) << "prefix " << len;
    if (invalid_seen) {
      EXPECT_EQ(status, Status::kInvalid) << "prefix " << len;
    }
    invalid_seen = invalid_seen || status == Status::kInvalid;
  }
  EXPECT_TRUE(invalid_seen);
}

// ---- v1 ----

TEST(ProxyProtocolV1, Tcp4) {
  auto line = bytes_of("PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\r\n");
  Parsed p = parse(Version::kV1, concat(line, {0x16}));
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_EQ(p.consumed, line.size());
  EXPECT_EQ(p.header.version, Version::kV1);
  EXPECT_FALSE(p.header.local);
  EXPECT_EQ(text_of(p.header.source), "192.0.2.10:40000");
  EXPECT_EQ(text_of(p.header.destination), "10.0.0.5:8883");
  expect_valid_at_every_split(Version::kV1, line);
}

TEST(ProxyProtocolV1, Tcp6AndPortBounds) {
  auto line = bytes_of("PROXY TCP6 2001:db8::1 ::ffff:10.0.0.5 0 65535\r\n");
  Parsed p = parse(Version::kV1, line);
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_EQ(text_of(p.header.source), "[2001:db8::1]:0");
  EXPECT_EQ(text_of(p.header.destination), "[::ffff:10.0.0.5]:65535");
  expect_valid_at_every_split(Version::kV1, line);
}

TEST(ProxyProtocolV1, UnknownIsLocalWithOrWithoutAddresses) {
  for (std::string_view text : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
    auto line = bytes_of(text);
    Parsed p = parse(Version::kV1, line);
    ASSERT_EQ(p.status, Status::kDone) << text;
    EXPECT_TRUE(p.header.local);
    EXPECT_EQ(p.consumed, line.size());
    expect_valid_at_every_split(Version::kV1, line);
  }
}

TEST(ProxyProtocolV1, LineOf107BytesIsTheLimit) {
  std::string at_limit = "PROXY UNKNOWN ";
  at_limit += std::string(kProxyV1MaxLine - at_limit.size() - 2, 'x') + "\r\n";
  ASSERT_EQ(at_limit.size(), kProxyV1MaxLine);
  EXPECT_EQ(parse(Version::kV1, bytes_of(at_limit)).status, Status::kDone);

  std::string over = "PROXY UNKNOWN ";
  over += std::string(kProxyV1MaxLine - over.size() - 1, 'x') + "\r\n";
  ASSERT_EQ(over.size(), kProxyV1MaxLine + 1);
  expect_invalid_at_every_split(Version::kV1, bytes_of(over));

  std::string no_crlf = "PROXY UNKNOWN " + std::string(200, 'x');
  EXPECT_EQ(parse(Version::kV1, bytes_of(no_crlf.substr(0, kProxyV1MaxLine - 1))).status,
            Status::kNeedMore);
  expect_invalid_at_every_split(Version::kV1, bytes_of(no_crlf));
}

TEST(ProxyProtocolV1, InvalidForms) {
  const char* cases[] = {
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\n",      // LF without CR
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\rX",     // CR without LF
      "PROXY TCP4 192.0.2.10  10.0.0.5 40000 8883\r\n",   // two spaces
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883 \r\n",   // trailing space
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000\r\n",         // missing port
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883 1\r\n",  // extra field
      "PROXY TCP5 192.0.2.10 10.0.0.5 40000 8883\r\n",    // unknown protocol
      "PROXY TCP4 2001:db8::1 10.0.0.5 40000 8883\r\n",   // IPv6 under TCP4
      "PROXY TCP6 192.0.2.10 10.0.0.5 40000 8883\r\n",    // IPv4 under TCP6
      "PROXY TCP4 256.0.2.10 10.0.0.5 40000 8883\r\n",    // octet out of range
      "PROXY TCP4 192.0.2 10.0.0.5 40000 8883\r\n",       // short address
      "PROXY TCP4 192.0.2.10 10.0.0.5 65536 8883\r\n",    // port out of range
      "PROXY TCP4 192.0.2.10 10.0.0.5 040000 8883\r\n",   // leading zero
      "PROXY TCP4 192.0.2.10 10.0.0.5 -1 8883\r\n",       // sign
      "PROXY TCP4 192.0.2.10 10.0.0.5 40000 88a3\r\n",    // not a number
      "PROXY \r\n",                                       // no protocol
      "proxy TCP4 192.0.2.10 10.0.0.5 40000 8883\r\n",    // case matters
      "PROXYTCP4 192.0.2.10 10.0.0.5 40000 8883\r\n",     // no space
      "GET / HTTP/1.1\r\n",                               // not PROXY at all
      "PROXY TCP4 192.0.2.10\t10.0.0.5 40000 8883\r\n",   // control character
  };
  for (const char* text : cases) {
    SCOPED_TRACE(text);
    expect_invalid_at_every_split(Version::kV1, bytes_of(text));
  }
}

TEST(ProxyProtocolV1, TlsOrV2BytesAreRejectedAtOnce) {
  EXPECT_EQ(parse(Version::kV1, {0x16}).status, Status::kInvalid);  // a TLS ClientHello
  EXPECT_EQ(parse(Version::kV1, {0x0D}).status, Status::kInvalid);  // first byte of v2
  expect_invalid_at_every_split(Version::kV1, v2_header(0x21, 0x11, tcp4_block()));
}

// ---- v2 ----

TEST(ProxyProtocolV2, Tcp4) {
  auto header = v2_header(0x21, 0x11, tcp4_block());
  Parsed p = parse(Version::kV2, concat(header, {0x16}));
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_EQ(p.consumed, 28u);
  EXPECT_EQ(p.header.version, Version::kV2);
  EXPECT_FALSE(p.header.local);
  EXPECT_FALSE(p.header.has_tls);
  EXPECT_EQ(text_of(p.header.source), "192.0.2.10:40000");
  EXPECT_EQ(text_of(p.header.destination), "10.0.0.5:8884");
  expect_valid_at_every_split(Version::kV2, header);
}

TEST(ProxyProtocolV2, Tcp6) {
  std::vector<uint8_t> block(36, 0);
  block[0] = 0x20, block[1] = 0x01, block[2] = 0x0D, block[3] = 0xB8, block[15] = 0x01;
  block[31] = 0x01;                    // destination ::1
  block[32] = 0x01, block[33] = 0x00;  // source port 256
  block[34] = 0x22, block[35] = 0xB3;  // destination port 8883
  auto header = v2_header(0x21, 0x21, block);
  Parsed p = parse(Version::kV2, header);
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_EQ(text_of(p.header.source), "[2001:db8::1]:256");
  EXPECT_EQ(text_of(p.header.destination), "[::1]:8883");
  expect_valid_at_every_split(Version::kV2, header);
}

TEST(ProxyProtocolV2, LocalCommandUnspecAndUnixAreLocal) {
  std::vector<std::vector<uint8_t>> headers = {
      v2_header(0x20, 0x00, {}),                 // LOCAL, health check from the LB
      v2_header(0x20, 0x11, tcp4_block()),       // LOCAL with an ignored address block
      v2_header(0x20, 0x12, {1, 2, 3}),          // LOCAL: the family is not looked at
      v2_header(0x21, 0x00, {}),                 // PROXY over UNSPEC
      v2_header(0x21, 0x00, {0xAA, 0xBB}),       // UNSPEC block is opaque
      v2_header(0x21, 0x31, std::vector<uint8_t>(216, 'p')),  // UNIX stream
  };
  for (const auto& header : headers) {
    Parsed p = parse(Version::kV2, header);
    ASSERT_EQ(p.status, Status::kDone);
    EXPECT_TRUE(p.header.local);
    EXPECT_EQ(p.consumed, header.size());
    expect_valid_at_every_split(Version::kV2, header);
  }
}

TEST(ProxyProtocolV2, TlvsAreSkippedAndSslIsRead) {
  std::vector<uint8_t> ssl_value{0x03, 0, 0, 0, 0};
  ssl_value = concat(ssl_value, tlv(0x21, bytes_of("TLSv1.2")));
  ssl_value = concat(ssl_value, tlv(0x23, bytes_of("ECDHE-RSA-AES128-GCM-SHA256")));
  ssl_value = concat(ssl_value, tlv(0x22, bytes_of("sensor-7")));
  std::vector<uint8_t> block = tcp4_block();
  block = concat(block, tlv(0x04, {}));                       // NOOP, empty
  block = concat(block, tlv(0x02, bytes_of("mqtt.example")));  // AUTHORITY
  block = concat(block, tlv(0x20, ssl_value));
  block = concat(block, tlv(0xEA, std::vector<uint8_t>(40, 7)));  // a vendor TLV
  auto header = v2_header(0x21, 0x11, block);
  Parsed p = parse(Version::kV2, header);
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_EQ(text_of(p.header.source), "192.0.2.10:40000");
  ASSERT_TRUE(p.header.has_tls);
  EXPECT_EQ(p.header.tls.version, "TLSv1.2");
  EXPECT_EQ(p.header.tls.client_cn, "sensor-7");
  EXPECT_TRUE(p.header.tls.client_cert_presented);
  EXPECT_TRUE(p.header.tls.client_cert_verified);
  expect_valid_at_every_split(Version::kV2, header);
}

TEST(ProxyProtocolV2, LengthBoundIs4096Bytes) {
  std::vector<uint8_t> block = tcp4_block();
  size_t pad = kProxyV2MaxHeader - 16 - block.size() - 3;
  auto at_limit = v2_header(0x21, 0x11, concat(block, tlv(0x04, std::vector<uint8_t>(pad))));
  ASSERT_EQ(at_limit.size(), kProxyV2MaxHeader);
  EXPECT_EQ(parse(Version::kV2, at_limit).status, Status::kDone);

  auto over = v2_header(0x21, 0x11, concat(block, tlv(0x04, std::vector<uint8_t>(pad + 1))));
  // Rejected from the length field alone, before the rest arrives.
  EXPECT_EQ(parse(Version::kV2, {over.begin(), over.begin() + 16}).status, Status::kInvalid);
  expect_invalid_at_every_split(Version::kV2, over);
  auto huge = v2_header(0x21, 0x11, tcp4_block());
  huge[14] = 0xFF, huge[15] = 0xFF;
  EXPECT_EQ(parse(Version::kV2, huge).status, Status::kInvalid);
}

TEST(ProxyProtocolV2, InvalidForms) {
  auto wrong_signature = v2_header(0x21, 0x11, tcp4_block());
  wrong_signature[6] = 0x0B;
  std::vector<uint8_t> short_ssl = concat(tcp4_block(), tlv(0x20, {0x01, 0, 0, 0}));
  std::vector<uint8_t> bad_sub =
      concat(tcp4_block(), tlv(0x20, {0x01, 0, 0, 0, 0, 0x22, 0x00, 0x09, 'a'}));
  std::vector<uint8_t> overrun = concat(tcp4_block(), {0x04, 0x00, 0x05, 1, 2});
  std::vector<uint8_t> leftover = concat(tcp4_block(), {0x04, 0x00});
  std::vector<std::vector<uint8_t>> cases = {
      wrong_signature,
      v2_header(0x11, 0x11, tcp4_block()),                   // version 1 nibble
      v2_header(0x31, 0x11, tcp4_block()),                   // version 3
      v2_header(0x22, 0x11, tcp4_block()),                   // command 2
      v2_header(0x21, 0x12, tcp4_block()),                   // UDP over IPv4
      v2_header(0x21, 0x22, std::vector<uint8_t>(36)),       // UDP over IPv6
      v2_header(0x21, 0x41, tcp4_block()),                   // unassigned family
      v2_header(0x21, 0x11, {192, 0, 2, 10, 10, 0, 0, 5}),   // block too short for TCP4
      v2_header(0x21, 0x21, tcp4_block()),                   // block too short for TCP6
      v2_header(0x21, 0x31, std::vector<uint8_t>(100)),      // block too short for UNIX
      v2_header(0x21, 0x11, overrun),                        // TLV past the end
      v2_header(0x21, 0x11, leftover),                       // 2 bytes, not a TLV
      v2_header(0x21, 0x11, short_ssl),                      // SSL TLV under 5 bytes
      v2_header(0x21, 0x11, bad_sub),                        // SSL sub-TLV past its TLV
      bytes_of("PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\r\n"),  // the other version
      {0x16, 0x03, 0x01, 0x00, 0xC8},                        // TLS ClientHello
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    expect_invalid_at_every_split(Version::kV2, cases[i]);
  }
}

// ---- encoding ----

TEST(ProxyProtocolEncode, V1Lines) {
  auto src4 = ip("192.0.2.10", 40000), dst4 = ip("10.0.0.5", 8883);
  EXPECT_EQ(encode_proxy_v1(sa(src4), sa(dst4)),
            bytes_of("PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\r\n"));
  auto src6 = ip("2001:db8::1", 1), dst6 = ip("::1", 8883);
  EXPECT_EQ(encode_proxy_v1(sa(src6), sa(dst6)),
            bytes_of("PROXY TCP6 2001:db8::1 ::1 1 8883\r\n"));
  // A dual-stack listener sees IPv4 clients as mapped IPv6: written as plain IPv4.
  auto mapped_src = ip("::ffff:192.0.2.10", 40000), mapped_dst = ip("::ffff:10.0.0.5", 8883);
  EXPECT_EQ(encode_proxy_v1(sa(mapped_src), sa(mapped_dst)),
            bytes_of("PROXY TCP4 192.0.2.10 10.0.0.5 40000 8883\r\n"));
  // Mixed families: the IPv4 side becomes mapped IPv6.
  EXPECT_EQ(encode_proxy_v1(sa(src4), sa(dst6)),
            bytes_of("PROXY TCP6 ::ffff:192.0.2.10 ::1 40000 8883\r\n"));
  EXPECT_EQ(encode_proxy_v1(nullptr, sa(dst4)), bytes_of("PROXY UNKNOWN\r\n"));
  sockaddr_storage unix_like{};
  unix_like.ss_family = AF_UNIX;
  EXPECT_EQ(encode_proxy_v1(sa(unix_like), sa(dst4)), bytes_of("PROXY UNKNOWN\r\n"));
}

TEST(ProxyProtocolEncode, V2ExactBytesWithSslTlvs) {
  auto src = ip("192.0.2.10", 40000), dst = ip("10.0.0.5", 8884);
  ProxyV2Tls tls{"TLSv1.3", "device-1", true, true};
  // Written from proxy-protocol.txt section 2.2: signature, 0x21 (v2, PROXY), 0x11 (TCP
  // over IPv4), length 41 = 12 address bytes + 3 + 26 for the SSL TLV, whose value is
  // client 0x03 (SSL | CERT_CONN), verify 0 (32-bit), then the VERSION and CN sub-TLVs.
  std::vector<uint8_t> expected = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
      0x21, 0x11, 0x00, 0x29,
      0xC0, 0x00, 0x02, 0x0A,  0x0A, 0x00, 0x00, 0x05,  0x9C, 0x40,  0x22, 0xB4,
      0x20, 0x00, 0x1A,
      0x03,  0x00, 0x00, 0x00, 0x00,
      0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3',
      0x22, 0x00, 0x08, 'd', 'e', 'v', 'i', 'c', 'e', '-', '1',
  };
  EXPECT_EQ(encode_proxy_v2(sa(src), sa(dst), &tls), expected);
}

TEST(ProxyProtocolEncode, V2SslClientBitsAndVerify) {
  auto src = ip("192.0.2.10", 40000), dst = ip("10.0.0.5", 8883);
  // One-way TLS (token listener): SSL only, verify non-zero (no certificate), no CN.
  ProxyV2Tls no_cert{"TLSv1.2", "", false, false};
  std::vector<uint8_t> tail = {0x20, 0x00, 0x0F, 0x01, 0x00, 0x00, 0x00, 0x01,
                               0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '2'};
  auto header = encode_proxy_v2(sa(src), sa(dst), &no_cert);
  ASSERT_GE(header.size(), tail.size());
  EXPECT_EQ(std::vector<uint8_t>(header.end() - tail.size(), header.end()), tail);
  // A presented but unverified certificate: CERT_CONN set, verify non-zero.
  ProxyV2Tls unverified{"", "cn", true, false};
  header = encode_proxy_v2(sa(src), sa(dst), &unverified);
  tail = {0x20, 0x00, 0x0A, 0x03, 0x00, 0x00, 0x00, 0x01, 0x22, 0x00, 0x02, 'c', 'n'};
  EXPECT_EQ(std::vector<uint8_t>(header.end() - tail.size(), header.end()), tail);
  // Without TLS facts: no TLV at all.
  EXPECT_EQ(encode_proxy_v2(sa(src), sa(dst), nullptr).size(), 28u);
  // An absurd CN is refused rather than truncated.
  ProxyV2Tls absurd{"TLSv1.3", std::string(5000, 'x'), true, true};
  EXPECT_TRUE(encode_proxy_v2(sa(src), sa(dst), &absurd).empty());
}

TEST(ProxyProtocolEncode, RoundTrips) {
  struct Case {
    const char* src;
    uint16_t sport;
    const char* dst;
    uint16_t dport;
    const char* want_src;
    const char* want_dst;
  };
  const Case cases[] = {
      {"192.0.2.10", 40000, "10.0.0.5", 8883, "192.0.2.10:40000", "10.0.0.5:8883"},
      {"2001:db8::7", 0, "fe80::1", 65535, "[2001:db8::7]:0", "[fe80::1]:65535"},
      {"::ffff:192.0.2.10", 1, "::ffff:10.0.0.5", 2, "192.0.2.10:1", "10.0.0.5:2"},
      {"192.0.2.10", 1, "::1", 2, "[::ffff:192.0.2.10]:1", "[::1]:2"},
  };
  ProxyV2Tls tls{"TLSv1.3", "CN with spaces/ünïcode", true, false};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    auto src = ip(c.src, c.sport), dst = ip(c.dst, c.dport);
    auto v1 = encode_proxy_v1(sa(src), sa(dst));
    Parsed p1 = parse(Version::kV1, v1);
    ASSERT_EQ(p1.status, Status::kDone);
    EXPECT_EQ(p1.consumed, v1.size());
    EXPECT_EQ(text_of(p1.header.source), c.want_src);
    EXPECT_EQ(text_of(p1.header.destination), c.want_dst);

    auto v2 = encode_proxy_v2(sa(src), sa(dst), &tls);
    Parsed p2 = parse(Version::kV2, v2);
    ASSERT_EQ(p2.status, Status::kDone);
    EXPECT_EQ(p2.consumed, v2.size());
    EXPECT_EQ(text_of(p2.header.source), c.want_src);
    EXPECT_EQ(text_of(p2.header.destination), c.want_dst);
    ASSERT_TRUE(p2.header.has_tls);
    EXPECT_EQ(p2.header.tls.version, tls.version);
    EXPECT_EQ(p2.header.tls.client_cn, tls.client_cn);
    EXPECT_TRUE(p2.header.tls.client_cert_presented);
    EXPECT_FALSE(p2.header.tls.client_cert_verified);
    expect_valid_at_every_split(Version::kV2, v2);
  }
  // Unknown families: v1 UNKNOWN and v2 UNSPEC both parse as local.
  EXPECT_TRUE(parse(Version::kV1, encode_proxy_v1(nullptr, nullptr)).header.local);
  auto unspec = encode_proxy_v2(nullptr, nullptr, &tls);
  Parsed p = parse(Version::kV2, unspec);
  ASSERT_EQ(p.status, Status::kDone);
  EXPECT_TRUE(p.header.local);
  EXPECT_EQ(p.consumed, unspec.size());
}

}  // namespace
}  // namespace proxy
