// mqttparse/properties.h: validation of MQTT 5 property lists, which mqttparse keeps as raw
// bytes so that a decoded packet re-encodes byte for byte. Internal to mqttparse.
#pragma once

#include <cstdint>
#include <span>

namespace mqttparse {

// Which property list is being checked: each allows its own identifiers.
enum class PropertyContext {
  kConnect,  // CONNECT properties (MQTT 5.0 section 3.1.2.11)
  kWill,     // Will Properties in the CONNECT payload (section 3.1.3.2)
};

struct PropertySummary {
  bool has_authentication_method = false;  // 0x15 present
};

// validate_properties checks a property list (without its length prefix): every identifier
// is known for |context| and minimally encoded, every value lies within the list, strings
// are valid UTF-8, a Response Topic is a valid Topic Name, no property other than User
// Property (0x26) appears twice, and the value rules of the spec hold (Receive Maximum and
// Maximum Packet Size not 0, the two Request flags and Payload Format Indicator 0 or 1,
// Authentication Data only with an Authentication Method). false means a Malformed Packet
// or Protocol Error: either way the connection is closed.
bool validate_properties(std::span<const uint8_t> properties, PropertyContext context,
                         PropertySummary* out_summary);

}  // namespace mqttparse
