// proxy/proxy_protocol.h: the PROXY protocol (HAProxy's proxy-protocol.txt), versions 1
// (text) and 2 (binary). Inbound: an incremental parser for the header a load balancer puts
// in front of the TLS bytes. Outbound: encoders for the header the proxy sends to a broker.
// Pure code: no sockets, no TLS, no allocation beyond the returned vectors and strings.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace proxy {

enum class ProxyProtocolVersion { kV1, kV2 };

enum class ProxyHeaderStatus {
  kNeedMore,  // a valid prefix so far; call again with more bytes
  kDone,      // a whole valid header; *out and *out_consumed are set
  kInvalid,   // not a header of the expected version, or malformed: close the connection
};

// Longest v1 line, "PROXY " through CRLF, as the spec bounds it.
inline constexpr size_t kProxyV1MaxLine = 107;
// Longest v2 header accepted (16-byte fixed part + address block + TLVs). The spec allows
// 16 + 65535; nothing a load balancer sends to us needs more than this.
inline constexpr size_t kProxyV2MaxHeader = 4096;
// The 12 bytes every v2 header starts with.
inline constexpr uint8_t kProxyV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// TLS facts carried in a v2 PP2_TYPE_SSL TLV (0x20).
struct ProxyV2Tls {
  std::string version;                 // PP2_SUBTYPE_SSL_VERSION, e.g. "TLSv1.3"; "" = absent
  std::string client_cn;               // PP2_SUBTYPE_SSL_CN; "" = absent
  bool client_cert_presented = false;  // PP2_CLIENT_CERT_CONN
  bool client_cert_verified = false;   // verify field == 0 (only meaningful when presented)
};

// ProxyHeader: what a received header says about the connection.
struct ProxyHeader {
  ProxyProtocolVersion version = ProxyProtocolVersion::kV1;
  // local: "PROXY UNKNOWN" (v1), the LOCAL command, or an address family without IP
  // addresses (v2 UNSPEC, UNIX): the addresses below are unset and the real client is the
  // TCP peer.
  bool local = false;
  sockaddr_storage source{};       // AF_INET or AF_INET6 with port, when !local
  sockaddr_storage destination{};  // likewise
  // v2 only: set when the header carried a well-formed PP2_TYPE_SSL TLV.
  bool has_tls = false;
  ProxyV2Tls tls;
};

// parse_proxy_header looks for a header of version |expected| at the start of |in|, which is
// every byte received on the connection so far (callers append and call again on
// kNeedMore). On kDone, *out_consumed is the header's length: the bytes after it belong to
// the application. A header of the other version is kInvalid, as are a v1 line over
// kProxyV1MaxLine bytes or without CRLF, v1 fields that are not exactly
// "PROXY TCP4|TCP6 SRC DST SPORT DPORT" (addresses as inet_pton reads them for the named
// family, ports decimal 0..65535 without leading zeros), a v2 header with a wrong
// signature, version or command, a length over kProxyV2MaxHeader, an address block shorter
// than its family needs, a UDP transport, or a TLV running past the header's end. Unknown
// TLVs are skipped. |out| and |out_consumed| are written only on kDone.
ProxyHeaderStatus parse_proxy_header(ProxyProtocolVersion expected,
                                     std::span<const uint8_t> in, ProxyHeader* out,
                                     size_t* out_consumed);

// encode_proxy_v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" for |src| (the client) and
// |dst| (the address the client connected to). IPv4-mapped IPv6 addresses are written as
// IPv4 when both are IPv4 or mapped; when the families still differ the IPv4 one is written
// as mapped IPv6. A null pointer or a family other than AF_INET/AF_INET6 gives
// "PROXY UNKNOWN\r\n". Pointers are not retained.
std::vector<uint8_t> encode_proxy_v1(const sockaddr* src, const sockaddr* dst);

// encode_proxy_v2: a PROXY-command v2 header for |src| and |dst| (families reconciled as in
// encode_proxy_v1; otherwise AF_UNSPEC without addresses). When |tls| is non-null it adds a
// PP2_TYPE_SSL TLV: client = PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN (when a certificate was
// presented), verify = 0 only when a presented certificate was verified (1 otherwise), and
// sub-TLVs PP2_SUBTYPE_SSL_VERSION and PP2_SUBTYPE_SSL_CN for the non-empty strings.
// Returns an empty vector when the result would exceed kProxyV2MaxHeader (an absurd CN).
std::vector<uint8_t> encode_proxy_v2(const sockaddr* src, const sockaddr* dst,
                                     const ProxyV2Tls* tls);

}  // namespace proxy
