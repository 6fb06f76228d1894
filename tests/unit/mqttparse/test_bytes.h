// tests/unit/mqttparse/test_bytes.h: helpers to write expected packets by hand in tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mqttparse::test {

using Bytes = std::vector<uint8_t>;

// hex parses whitespace-separated hex bytes: hex("10 0f 00 04").
Bytes hex(std::string_view text);

// ascii returns the bytes of |text| as written.
Bytes ascii(std::string_view text);

// repeat returns |count| copies of |byte|.
Bytes repeat(uint8_t byte, size_t count);

// Concatenation, so expected packets read left to right like the spec's byte tables.
Bytes operator+(Bytes left, const Bytes& right);

// framed prefixes |body| with |first_byte| and a one-byte Remaining Length (the body must
// be shorter than 128 bytes), so malformed cases can focus on the body.
Bytes framed(uint8_t first_byte, const Bytes& body);

// to_hex renders bytes for failure messages.
std::string to_hex(const Bytes& bytes);

}  // namespace mqttparse::test
