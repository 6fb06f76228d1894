// mqttparse/mqtt_string.h: the MQTT rules for UTF-8 Encoded Strings and Topic Names.
// Internal to mqttparse.
#pragma once

#include <cstdint>
#include <span>

namespace mqttparse {

// is_valid_mqtt_utf8 holds when |text| is well-formed UTF-8 (RFC 3629: no overlong forms,
// nothing above U+10FFFF, no surrogates U+D800..U+DFFF) and contains no U+0000
// ([MQTT-1.5.3-1], [MQTT-1.5.3-2] in 3.1.1; [MQTT-1.5.4-1], [MQTT-1.5.4-2] in 5.0).
// Control characters and non-characters are accepted: the specs only say a receiver MAY
// treat them as malformed, and the broker behind the proxy keeps that choice.
bool is_valid_mqtt_utf8(std::span<const uint8_t> text);

// is_valid_topic_name holds when |topic| is a valid UTF-8 string, at least one character
// long ([MQTT-4.7.3-1]), without the wildcards '+' and '#' ([MQTT-3.3.2-2] / 5.0
// [MQTT-3.3.2-2]): the rules for a Will Topic and a Response Topic, which name where a
// message is published.
bool is_valid_topic_name(std::span<const uint8_t> topic);

}  // namespace mqttparse
