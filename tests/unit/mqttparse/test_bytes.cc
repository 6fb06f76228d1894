#include "test_bytes.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace mqttparse::test {

Bytes hex(std::string_view text) {
  Bytes out;
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    if (token.size() != 2) throw std::invalid_argument("hex byte must be 2 digits: " + token);
    out.push_back(static_cast<uint8_t>(std::strtoul(token.c_str(), nullptr, 16)));
    token.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n') flush();
    else token.push_back(c);
  }
  flush();
  return out;
}

Bytes ascii(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes repeat(uint8_t byte, size_t count) { return Bytes(count, byte); }

Bytes operator+(Bytes left, const Bytes& right) {
  left.insert(left.end(), right.begin(), right.end());
  return left;
}

Bytes framed(uint8_t first_byte, const Bytes& body) {
  if (body.size() >= 128) throw std::invalid_argument("framed: body too long");
  return Bytes{first_byte, static_cast<uint8_t>(body.size())} + body;
}

std::string to_hex(const Bytes& bytes) {
  std::string out;
  char buf[4];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x ", b);
    out += buf;
  }
  return out;
}

}  // namespace mqttparse::test
