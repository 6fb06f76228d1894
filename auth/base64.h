// auth/base64.h: the base64 variants found in stored secrets, over BoringSSL's codec.
// Internal to auth_secrets.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace auth {

enum class Base64Variant {
  // RFC 4648 alphabet (+ /), padded with '=' to a multiple of 4 symbols.
  // mosquitto's $6$/$7$, mosquitto-go-auth's PBKDF2$ form.
  kStandard,
  // PHC / passlib "adapted base64": '.' (passlib) or '+' (PHC) for 62, '/' for 63, no
  // padding allowed.
  kUnpadded,
};

// decode_base64: the bytes |text| encodes, or nullopt when it is not valid in |variant|,
// not canonical (unused low bits of the last symbol set), or would decode to more than
// |max_bytes| (checked before anything is allocated). Empty text decodes to no bytes.
std::optional<std::vector<uint8_t>> decode_base64(std::string_view text, Base64Variant variant,
                                                  size_t max_bytes);

// encode_base64: standard, padded base64 of |bytes|.
std::string encode_base64(std::span<const uint8_t> bytes);

}  // namespace auth
