// config/cidr.cc: parsed networks (listeners[].trusted_proxies) and address matching.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "config/config.h"
#include "config/values.h"

namespace config {
namespace {

// The first |prefix_len| bits of |a| and |b| are equal.
bool prefix_equal(const uint8_t* a, const uint8_t* b, int prefix_len) {
  int full_bytes = prefix_len / 8;
  if (std::memcmp(a, b, static_cast<size_t>(full_bytes)) != 0) return false;
  int rest_bits = prefix_len % 8;
  if (rest_bits == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest_bits));
  return (a[full_bytes] & mask) == (b[full_bytes] & mask);
}

// Zeroes every bit at or after |prefix_len| in the |size|-byte |bytes|.
void clear_host_bits(uint8_t* bytes, size_t size, int prefix_len) {
  for (size_t i = 0; i < size; ++i) {
    int bit_start = static_cast<int>(i) * 8;
    if (prefix_len >= bit_start + 8) continue;
    int keep = prefix_len > bit_start ? prefix_len - bit_start : 0;
    bytes[i] &= static_cast<uint8_t>(0xFF << (8 - keep));
  }
}

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

}  // namespace

bool Cidr::contains(const sockaddr* addr) const {
  if (addr == nullptr) return false;
  if (addr->sa_family == AF_INET) {
    if (family != AF_INET) return false;
    sockaddr_in v4;
    std::memcpy(&v4, addr, sizeof v4);
    return prefix_equal(reinterpret_cast<const uint8_t*>(&v4.sin_addr), address.data(),
                        prefix_len);
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, addr, sizeof v6);
    const uint8_t* bytes = v6.sin6_addr.s6_addr;
    if (family == AF_INET6) return prefix_equal(bytes, address.data(), prefix_len);
    // ::ffff:a.b.c.d is how a dual-stack socket reports an IPv4 peer.
    if (family == AF_INET && std::memcmp(bytes, kV4MappedPrefix, 12) == 0) {
      return prefix_equal(bytes + 12, address.data(), prefix_len);
    }
  }
  return false;
}

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family != AF_INET && family != AF_INET6) return "";
  if (inet_ntop(family, address.data(), text, sizeof text) == nullptr) return "";
  return std::string(text) + "/" + std::to_string(prefix_len);
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string* out_error) {
  auto fail = [&](std::string message) -> std::optional<Cidr> {
    if (out_error) *out_error = std::move(message);
    return std::nullopt;
  };
  size_t slash = text.find('/');
  std::string host(text.substr(0, slash));
  Cidr out;
  int max_prefix = 0;
  if (inet_pton(AF_INET, host.c_str(), out.address.data()) == 1) {
    out.family = AF_INET;
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), out.address.data()) == 1) {
    out.family = AF_INET6;
    max_prefix = 128;
  } else {
    return fail("\"" + std::string(text) +
                "\" is not an IP network (use e.g. \"10.0.0.0/8\", \"::1/128\" or an address)");
  }
  out.prefix_len = max_prefix;
  if (slash != std::string_view::npos) {
    std::optional<uint64_t> prefix = parse_uint(text.substr(slash + 1), nullptr);
    if (!prefix || *prefix > static_cast<uint64_t>(max_prefix)) {
      return fail("the prefix length after \"/\" in \"" + std::string(text) +
                  "\" must be a number from 0 to " + std::to_string(max_prefix));
    }
    out.prefix_len = static_cast<int>(*prefix);
  }
  Cidr network = out;
  clear_host_bits(network.address.data(), out.family == AF_INET ? 4 : 16, out.prefix_len);
  if (network.address != out.address) {
    return fail("\"" + std::string(text) + "\" has bits set after the /" +
                std::to_string(out.prefix_len) + " prefix (did you mean \"" +
                network.to_string() + "\"?)");
  }
  return out;
}

}  // namespace config
