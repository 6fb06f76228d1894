// proxy_protocol_fuzz: proxy::parse_proxy_header (v1 and v2) on arbitrary bytes.
//
// Checks, beyond "no crash, no sanitizer report":
//  - the parser is incremental as documented: on a prefix of a header it says kNeedMore,
//    once a header is kDone a longer input is kDone with the same length, and once
//    kInvalid a longer input stays kInvalid;
//  - the header length is within the input and the version's bound;
//  - for an accepted header, encoding what was parsed gives a header that parses back to
//    something that encodes to the same bytes (encode ∘ parse is stable).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "proxy/proxy_protocol.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

struct Parsed {
  proxy::ProxyHeaderStatus status;
  proxy::ProxyHeader header;
  size_t consumed = 0;
};

Parsed parse(proxy::ProxyProtocolVersion version, std::span<const uint8_t> in) {
  Parsed out;
  out.status = proxy::parse_proxy_header(version, in, &out.header, &out.consumed);
  if (out.status == proxy::ProxyHeaderStatus::kDone) require(out.consumed <= in.size());
  return out;
}

std::vector<uint8_t> encode(proxy::ProxyProtocolVersion version, const proxy::ProxyHeader& h) {
  const sockaddr* src = h.local ? nullptr : reinterpret_cast<const sockaddr*>(&h.source);
  const sockaddr* dst = h.local ? nullptr : reinterpret_cast<const sockaddr*>(&h.destination);
  if (version == proxy::ProxyProtocolVersion::kV1) return proxy::encode_proxy_v1(src, dst);
  return proxy::encode_proxy_v2(src, dst, h.has_tls ? &h.tls : nullptr);
}

void check_version(proxy::ProxyProtocolVersion version, std::span<const uint8_t> input) {
  Parsed whole = parse(version, input);
  const size_t bound = version == proxy::ProxyProtocolVersion::kV1 ? proxy::kProxyV1MaxLine
                                                                   : proxy::kProxyV2MaxHeader;
  if (whole.status == proxy::ProxyHeaderStatus::kDone) require(whole.consumed <= bound);

  // Prefixes, at byte-chosen steps so long inputs stay cheap.
  proxy::ProxyHeaderStatus previous = proxy::ProxyHeaderStatus::kNeedMore;
  size_t done_length = 0;
  for (size_t length = 0; length <= input.size();
       length += (length < input.size() ? input[length] % 13u : 0) + 1) {
    Parsed prefix = parse(version, input.first(length));
    if (previous == proxy::ProxyHeaderStatus::kInvalid) {
      require(prefix.status == proxy::ProxyHeaderStatus::kInvalid);
    } else if (previous == proxy::ProxyHeaderStatus::kDone) {
      require(prefix.status == proxy::ProxyHeaderStatus::kDone && prefix.consumed == done_length);
    } else if (prefix.status == proxy::ProxyHeaderStatus::kDone) {
      done_length = prefix.consumed;
    }
    previous = prefix.status;
  }
  if (previous != proxy::ProxyHeaderStatus::kNeedMore) require(previous == whole.status);
  if (whole.status != proxy::ProxyHeaderStatus::kDone) return;

  std::vector<uint8_t> first = encode(version, whole.header);
  if (first.empty()) return;  // v2 with a CN too long to re-encode
  Parsed again = parse(version, first);
  require(again.status == proxy::ProxyHeaderStatus::kDone && again.consumed == first.size());
  require(encode(version, again.header) == first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  check_version(proxy::ProxyProtocolVersion::kV1, input);
  check_version(proxy::ProxyProtocolVersion::kV2, input);
  return 0;
}
