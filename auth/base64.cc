#include "auth/base64.h"

#include <openssl/base64.h>

namespace auth {

namespace {

bool is_standard_symbol(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

uint8_t symbol_value(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<uint8_t>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<uint8_t>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0' + 52);
  return c == '+' ? 62 : 63;
}

}  // namespace

std::optional<std::vector<uint8_t>> decode_base64(std::string_view text, Base64Variant variant,
                                                  size_t max_bytes) {
  // 4 symbols carry 3 bytes: longer text cannot fit |max_bytes|; refuse before copying.
  if (text.size() > (max_bytes / 3 + 1) * 4) return std::nullopt;
  std::string normalized;
  normalized.reserve(text.size() + 3);
  size_t padding = 0;
  for (char c : text) {
    if (c == '=' && variant == Base64Variant::kStandard) {
      ++padding;
      continue;
    }
    if (padding != 0) return std::nullopt;  // symbols after '='
    if (c == '.' && variant == Base64Variant::kUnpadded) c = '+';
    if (!is_standard_symbol(c)) return std::nullopt;
    normalized.push_back(c);
  }
  size_t tail = normalized.size() % 4;
  // One leftover symbol cannot encode a byte.
  if (tail == 1) return std::nullopt;
  // Standard base64 is padded to a multiple of 4; the unpadded variant never is.
  if (variant == Base64Variant::kStandard && padding != (4 - tail) % 4) return std::nullopt;
  // Canonical encodings only: the unused low bits of the last symbol must be zero, so each
  // secret has exactly one spelling.
  if (tail != 0) {
    uint8_t last = symbol_value(normalized.back());
    if ((tail == 2 && (last & 0x0F) != 0) || (tail == 3 && (last & 0x03) != 0)) {
      return std::nullopt;
    }
  }
  normalized.append((4 - tail) % 4, '=');

  size_t capacity = 0;
  if (!EVP_DecodedLength(&capacity, normalized.size())) return std::nullopt;
  std::vector<uint8_t> out(capacity);
  size_t out_len = 0;
  if (!EVP_DecodeBase64(out.data(), &out_len, out.size(),
                        reinterpret_cast<const uint8_t*>(normalized.data()), normalized.size())) {
    return std::nullopt;
  }
  if (out_len > max_bytes) return std::nullopt;
  out.resize(out_len);
  return out;
}

std::string encode_base64(std::span<const uint8_t> bytes) {
  size_t with_nul = 0;
  if (!EVP_EncodedLength(&with_nul, bytes.size())) return {};
  std::string out(with_nul, '\0');
  size_t written = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), bytes.data(),
                                   bytes.size());
  out.resize(written);
  return out;
}

}  // namespace auth
