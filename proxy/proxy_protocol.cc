// proxy/proxy_protocol.cc: PROXY protocol v1/v2 parsing and encoding (see the header).
#include "proxy/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>

namespace proxy {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kV2FixedPart = 16;

// v2 byte 12: version (high nibble, always 2) and command (low nibble).
constexpr uint8_t kV2CommandLocal = 0x20;
constexpr uint8_t kV2CommandProxy = 0x21;
// v2 byte 13: address family (high nibble) and transport (low nibble).
constexpr uint8_t kV2FamilyUnspec = 0x00;
constexpr uint8_t kV2Tcp4 = 0x11;
constexpr uint8_t kV2Tcp6 = 0x21;
constexpr uint8_t kV2UnixStream = 0x31;
constexpr size_t kV2AddressLen4 = 4 + 4 + 2 + 2;
constexpr size_t kV2AddressLen6 = 16 + 16 + 2 + 2;
constexpr size_t kV2AddressLenUnix = 108 + 108;

constexpr size_t kTlvHeader = 3;  // type, length (16-bit big endian)
constexpr uint8_t kPp2TypeSsl = 0x20;
constexpr uint8_t kPp2SubtypeSslVersion = 0x21;
constexpr uint8_t kPp2SubtypeSslCn = 0x22;
constexpr uint8_t kPp2ClientSsl = 0x01;
constexpr uint8_t kPp2ClientCertConn = 0x02;
constexpr size_t kPp2SslFixedPart = 1 + 4;  // client bits, verify (32-bit big endian)

uint16_t read_be16(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint16_t>((in[at] << 8) | in[at + 1]);
}

uint32_t read_be32(std::span<const uint8_t> in, size_t at) {
  return (uint32_t{in[at]} << 24) | (uint32_t{in[at + 1]} << 16) | (uint32_t{in[at + 2]} << 8) |
         uint32_t{in[at + 3]};
}

void append_be16(std::vector<uint8_t>* out, size_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value));
}

void append_bytes(std::vector<uint8_t>* out, std::string_view bytes) {
  out->insert(out->end(), bytes.begin(), bytes.end());
}

// An IP address with its port, family-independent: 4 or 16 significant bytes.
struct IpEndpoint {
  int family = AF_UNSPEC;
  std::array<uint8_t, 16> address{};
  uint16_t port = 0;  // host byte order
};

void store_endpoint(const IpEndpoint& endpoint, sockaddr_storage* out) {
  *out = sockaddr_storage{};
  if (endpoint.family == AF_INET) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(endpoint.port);
    std::memcpy(&sin.sin_addr, endpoint.address.data(), 4);
    std::memcpy(out, &sin, sizeof sin);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(endpoint.port);
    std::memcpy(&sin6.sin6_addr, endpoint.address.data(), 16);
    std::memcpy(out, &sin6, sizeof sin6);
  }
}

std::optional<IpEndpoint> load_endpoint(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  IpEndpoint endpoint;
  if (address->sa_family == AF_INET) {
    sockaddr_in sin;
    std::memcpy(&sin, address, sizeof sin);
    endpoint.family = AF_INET;
    std::memcpy(endpoint.address.data(), &sin.sin_addr, 4);
    endpoint.port = ntohs(sin.sin_port);
    return endpoint;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, address, sizeof sin6);
    endpoint.family = AF_INET6;
    std::memcpy(endpoint.address.data(), &sin6.sin6_addr, 16);
    endpoint.port = ntohs(sin6.sin6_port);
    return endpoint;
  }
  return std::nullopt;
}

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

bool is_v4_mapped(const IpEndpoint& endpoint) {
  return endpoint.family == AF_INET6 &&
         std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), endpoint.address.begin());
}

void unmap_to_v4(IpEndpoint* endpoint) {
  std::array<uint8_t, 16> v4{};
  std::copy_n(endpoint->address.begin() + 12, 4, v4.begin());
  endpoint->address = v4;
  endpoint->family = AF_INET;
}

void map_to_v6(IpEndpoint* endpoint) {
  std::array<uint8_t, 16> v6{};
  std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), v6.begin());
  std::copy_n(endpoint->address.begin(), 4, v6.begin() + 12);
  endpoint->address = v6;
  endpoint->family = AF_INET6;
}

// reconcile_endpoints: both addresses in one family, IPv4 where possible (see the header).
// nullopt when either is not an IP address.
std::optional<std::pair<IpEndpoint, IpEndpoint>> reconcile_endpoints(const sockaddr* src,
                                                                     const sockaddr* dst) {
  std::optional<IpEndpoint> source = load_endpoint(src);
  std::optional<IpEndpoint> destination = load_endpoint(dst);
  if (!source || !destination) return std::nullopt;
  if (is_v4_mapped(*source)) unmap_to_v4(&*source);
  if (is_v4_mapped(*destination)) unmap_to_v4(&*destination);
  if (source->family != destination->family) {
    map_to_v6(source->family == AF_INET ? &*source : &*destination);
  }
  return std::make_pair(*source, *destination);
}

// ---- v1 ----

// next_field: the text up to the next single space (or the end) of |*rest|, which then
// starts after that space. Empty result for an empty field (two spaces, trailing space).
std::string_view next_field(std::string_view* rest) {
  size_t space = rest->find(' ');
  std::string_view field = rest->substr(0, space);
  *rest = space == std::string_view::npos ? std::string_view{} : rest->substr(space + 1);
  return field;
}

bool parse_v1_port(std::string_view text, uint16_t* out) {
  if (text.empty() || text.size() > 5) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  *out = static_cast<uint16_t>(value);
  return true;
}

bool parse_v1_address(int family, std::string_view text, IpEndpoint* out) {
  if (text.empty() || text.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  std::string terminated(text);
  out->family = family;
  return inet_pton(family, terminated.c_str(), out->address.data()) == 1;
}

// parse_v1_fields: |line| is the text between "PROXY " and CRLF.
bool parse_v1_fields(std::string_view line, ProxyHeader* out) {
  std::string_view rest = line;
  std::string_view protocol = next_field(&rest);
  if (protocol == "UNKNOWN") {
    out->local = true;  // whatever follows is informational and ignored, as the spec says
    return true;
  }
  int family;
  if (protocol == "TCP4") {
    family = AF_INET;
  } else if (protocol == "TCP6") {
    family = AF_INET6;
  } else {
    return false;
  }
  IpEndpoint source;
  IpEndpoint destination;
  if (!parse_v1_address(family, next_field(&rest), &source)) return false;
  if (!parse_v1_address(family, next_field(&rest), &destination)) return false;
  if (!parse_v1_port(next_field(&rest), &source.port)) return false;
  // The last field runs to the end: a further space would leave it non-numeric.
  if (!parse_v1_port(rest, &destination.port)) return false;
  store_endpoint(source, &out->source);
  store_endpoint(destination, &out->destination);
  return true;
}

ProxyHeaderStatus parse_v1(std::span<const uint8_t> in, ProxyHeader* out,
                           size_t* out_consumed) {
  size_t prefix_seen = std::min(in.size(), kV1Prefix.size());
  if (!std::equal(in.begin(), in.begin() + prefix_seen, kV1Prefix.begin())) {
    return ProxyHeaderStatus::kInvalid;
  }
  size_t scan = std::min(in.size(), kProxyV1MaxLine);
  for (size_t i = kV1Prefix.size(); i < scan; ++i) {
    uint8_t c = in[i];
    if (c == '\r') {
      if (i + 1 >= kProxyV1MaxLine) return ProxyHeaderStatus::kInvalid;  // no room for LF
      if (i + 1 == in.size()) return ProxyHeaderStatus::kNeedMore;
      if (in[i + 1] != '\n') return ProxyHeaderStatus::kInvalid;
      std::string_view line(reinterpret_cast<const char*>(in.data()) + kV1Prefix.size(),
                            i - kV1Prefix.size());
      ProxyHeader header;
      header.version = ProxyProtocolVersion::kV1;
      if (!parse_v1_fields(line, &header)) return ProxyHeaderStatus::kInvalid;
      *out = header;
      *out_consumed = i + 2;
      return ProxyHeaderStatus::kDone;
    }
    if (c < 0x20 || c > 0x7E) return ProxyHeaderStatus::kInvalid;  // LF alone, NUL, binary
  }
  return in.size() >= kProxyV1MaxLine ? ProxyHeaderStatus::kInvalid
                                      : ProxyHeaderStatus::kNeedMore;
}

// ---- v2 ----

// parse_tlv_walk: calls |visit(type, value)| for each TLV filling |block| exactly; false
// when a TLV runs past the end or fewer than 3 bytes are left over, or when |visit| is.
template <typename Visit>
bool parse_tlv_walk(std::span<const uint8_t> block, Visit visit) {
  size_t at = 0;
  while (at < block.size()) {
    if (block.size() - at < kTlvHeader) return false;
    uint8_t type = block[at];
    size_t length = read_be16(block, at + 1);
    if (block.size() - at - kTlvHeader < length) return false;
    if (!visit(type, block.subspan(at + kTlvHeader, length))) return false;
    at += kTlvHeader + length;
  }
  return true;
}

bool parse_ssl_tlv(std::span<const uint8_t> value, ProxyV2Tls* out) {
  if (value.size() < kPp2SslFixedPart) return false;
  uint8_t client = value[0];
  uint32_t verify = read_be32(value, 1);
  out->client_cert_presented = (client & kPp2ClientCertConn) != 0;
  out->client_cert_verified = out->client_cert_presented && verify == 0;
  return parse_tlv_walk(value.subspan(kPp2SslFixedPart),
                        [out](uint8_t type, std::span<const uint8_t> sub) {
                          std::string text(sub.begin(), sub.end());
                          if (type == kPp2SubtypeSslVersion) out->version = std::move(text);
                          if (type == kPp2SubtypeSslCn) out->client_cn = std::move(text);
                          return true;
                        });
}

IpEndpoint read_v2_endpoint(int family, std::span<const uint8_t> bytes) {
  IpEndpoint endpoint;
  endpoint.family = family;
  std::copy(bytes.begin(), bytes.end(), endpoint.address.begin());
  return endpoint;
}

ProxyHeaderStatus parse_v2(std::span<const uint8_t> in, ProxyHeader* out,
                           size_t* out_consumed) {
  size_t signature_seen = std::min(in.size(), sizeof kProxyV2Signature);
  if (!std::equal(in.begin(), in.begin() + signature_seen, std::begin(kProxyV2Signature))) {
    return ProxyHeaderStatus::kInvalid;
  }
  if (in.size() > 12 && in[12] != kV2CommandLocal && in[12] != kV2CommandProxy) {
    return ProxyHeaderStatus::kInvalid;
  }
  bool local_command = in.size() > 12 && in[12] == kV2CommandLocal;
  if (in.size() > 13 && !local_command && in[13] != kV2FamilyUnspec && in[13] != kV2Tcp4 &&
      in[13] != kV2Tcp6 && in[13] != kV2UnixStream) {
    return ProxyHeaderStatus::kInvalid;  // UDP or an unassigned family
  }
  if (in.size() < kV2FixedPart) return ProxyHeaderStatus::kNeedMore;
  size_t total = kV2FixedPart + read_be16(in, 14);
  if (total > kProxyV2MaxHeader) return ProxyHeaderStatus::kInvalid;
  if (in.size() < total) return ProxyHeaderStatus::kNeedMore;

  ProxyHeader header;
  header.version = ProxyProtocolVersion::kV2;
  std::span<const uint8_t> block = in.subspan(kV2FixedPart, total - kV2FixedPart);
  uint8_t family = in[13];
  if (local_command || family == kV2FamilyUnspec) {
    // The receiver ignores the block (its layout is unknown): the TCP peer is the client.
    header.local = true;
    *out = header;
    *out_consumed = total;
    return ProxyHeaderStatus::kDone;
  }
  size_t address_len = family == kV2Tcp4   ? kV2AddressLen4
                       : family == kV2Tcp6 ? kV2AddressLen6
                                           : kV2AddressLenUnix;
  if (block.size() < address_len) return ProxyHeaderStatus::kInvalid;
  if (family == kV2UnixStream) {
    header.local = true;  // a path says nothing about the device; use the TCP peer
  } else {
    size_t ip_len = family == kV2Tcp4 ? 4 : 16;
    int af = family == kV2Tcp4 ? AF_INET : AF_INET6;
    IpEndpoint source = read_v2_endpoint(af, block.subspan(0, ip_len));
    IpEndpoint destination = read_v2_endpoint(af, block.subspan(ip_len, ip_len));
    source.port = read_be16(block, 2 * ip_len);
    destination.port = read_be16(block, 2 * ip_len + 2);
    store_endpoint(source, &header.source);
    store_endpoint(destination, &header.destination);
  }
  bool tlvs_ok = parse_tlv_walk(block.subspan(address_len),
                                [&header](uint8_t type, std::span<const uint8_t> value) {
                                  if (type != kPp2TypeSsl) return true;
                                  header.has_tls = true;
                                  return parse_ssl_tlv(value, &header.tls);
                                });
  if (!tlvs_ok) return ProxyHeaderStatus::kInvalid;
  *out = header;
  *out_consumed = total;
  return ProxyHeaderStatus::kDone;
}

// ---- encoding ----

std::string format_ip(const IpEndpoint& endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(endpoint.family, endpoint.address.data(), text, sizeof text);
  return text;
}

void append_tlv(std::vector<uint8_t>* out, uint8_t type, std::string_view value) {
  out->push_back(type);
  append_be16(out, value.size());
  append_bytes(out, value);
}

std::vector<uint8_t> encode_ssl_tlv(const ProxyV2Tls& tls) {
  std::vector<uint8_t> value;
  uint8_t client = kPp2ClientSsl;
  if (tls.client_cert_presented) client |= kPp2ClientCertConn;
  value.push_back(client);
  uint8_t verify_failed = (tls.client_cert_presented && tls.client_cert_verified) ? 0 : 1;
  value.insert(value.end(), {0, 0, 0, verify_failed});
  if (!tls.version.empty()) append_tlv(&value, kPp2SubtypeSslVersion, tls.version);
  if (!tls.client_cn.empty()) append_tlv(&value, kPp2SubtypeSslCn, tls.client_cn);
  std::vector<uint8_t> tlv{kPp2TypeSsl};
  append_be16(&tlv, value.size());
  tlv.insert(tlv.end(), value.begin(), value.end());
  return tlv;
}

}  // namespace

ProxyHeaderStatus parse_proxy_header(ProxyProtocolVersion expected,
                                     std::span<const uint8_t> in, ProxyHeader* out,
                                     size_t* out_consumed) {
  return expected == ProxyProtocolVersion::kV1 ? parse_v1(in, out, out_consumed)
                                               : parse_v2(in, out, out_consumed);
}

std::vector<uint8_t> encode_proxy_v1(const sockaddr* src, const sockaddr* dst) {
  std::string line = "PROXY UNKNOWN\r\n";
  if (auto endpoints = reconcile_endpoints(src, dst)) {
    const auto& [source, destination] = *endpoints;
    line = std::string("PROXY ") + (source.family == AF_INET ? "TCP4 " : "TCP6 ") +
           format_ip(source) + " " + format_ip(destination) + " " +
           std::to_string(source.port) + " " + std::to_string(destination.port) + "\r\n";
  }
  return std::vector<uint8_t>(line.begin(), line.end());
}

std::vector<uint8_t> encode_proxy_v2(const sockaddr* src, const sockaddr* dst,
                                     const ProxyV2Tls* tls) {
  // Bounds every length written below to 16 bits before anything is encoded.
  if (tls != nullptr && tls->version.size() + tls->client_cn.size() > kProxyV2MaxHeader) {
    return {};
  }
  std::vector<uint8_t> block;
  uint8_t family = kV2FamilyUnspec;
  if (auto endpoints = reconcile_endpoints(src, dst)) {
    const auto& [source, destination] = *endpoints;
    size_t ip_len = source.family == AF_INET ? 4 : 16;
    family = source.family == AF_INET ? kV2Tcp4 : kV2Tcp6;
    block.insert(block.end(), source.address.begin(), source.address.begin() + ip_len);
    block.insert(block.end(), destination.address.begin(),
                 destination.address.begin() + ip_len);
    append_be16(&block, source.port);
    append_be16(&block, destination.port);
  }
  if (tls != nullptr) {
    std::vector<uint8_t> ssl = encode_ssl_tlv(*tls);
    block.insert(block.end(), ssl.begin(), ssl.end());
  }
  if (kV2FixedPart + block.size() > kProxyV2MaxHeader) return {};
  std::vector<uint8_t> header(std::begin(kProxyV2Signature), std::end(kProxyV2Signature));
  header.push_back(kV2CommandProxy);
  header.push_back(family);
  append_be16(&header, block.size());
  header.insert(header.end(), block.begin(), block.end());
  return header;
}

}  // namespace proxy
