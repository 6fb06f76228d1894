// mqttparse/mqtt_string.cc: UTF-8 and Topic Name validation.
#include "mqttparse/mqtt_string.h"

#include <cstddef>

namespace mqttparse {

bool is_valid_mqtt_utf8(std::span<const uint8_t> text) {
  size_t i = 0;
  while (i < text.size()) {
    uint8_t lead = text[i];
    if (lead < 0x80) {
      if (lead == 0x00) return false;
      ++i;
      continue;
    }
    // Number of continuation bytes and the allowed range of the first of them; the narrowed
    // ranges exclude overlong forms, surrogates and code points above U+10FFFF.
    size_t continuation = 0;
    uint8_t first_min = 0x80;
    uint8_t first_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) first_min = 0xA0;
      if (lead == 0xED) first_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) first_min = 0x90;
      if (lead == 0xF4) first_max = 0x8F;
    } else {
      return false;  // a stray continuation byte, C0/C1, or F5..FF
    }
    if (text.size() - i - 1 < continuation) return false;
    uint8_t first = text[i + 1];
    if (first < first_min || first > first_max) return false;
    for (size_t k = 2; k <= continuation; ++k) {
      uint8_t byte = text[i + k];
      if (byte < 0x80 || byte > 0xBF) return false;
    }
    i += 1 + continuation;
  }
  return true;
}

bool is_valid_topic_name(std::span<const uint8_t> topic) {
  if (topic.empty() || !is_valid_mqtt_utf8(topic)) return false;
  for (uint8_t byte : topic) {
    if (byte == '+' || byte == '#') return false;
  }
  return true;
}

}  // namespace mqttparse
