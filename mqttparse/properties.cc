// mqttparse/properties.cc: MQTT 5 property list validation.
#include "mqttparse/properties.h"

#include <bitset>

#include "mqttparse/mqtt_string.h"
#include "mqttparse/reader.h"

namespace mqttparse {

namespace {

enum class ValueType { kByte, kTwoByte, kFourByte, kUtf8, kTopicName, kBinary, kStringPair };

// Identifiers from MQTT 5.0 section 2.2.2.2, limited to those CONNECT may carry.
enum : uint32_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSessionExpiryInterval = 0x11,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kMaximumPacketSize = 0x27,
  kUserProperty = 0x26,
};

// value_type_for answers the type of |id| in |context|, or false when |id| is not allowed.
bool value_type_for(uint32_t id, PropertyContext context, ValueType* out_type) {
  if (id == kUserProperty) {
    *out_type = ValueType::kStringPair;
    return true;
  }
  if (context == PropertyContext::kConnect) {
    switch (id) {
      case kSessionExpiryInterval:
      case kMaximumPacketSize:
        *out_type = ValueType::kFourByte;
        return true;
      case kReceiveMaximum:
      case kTopicAliasMaximum:
        *out_type = ValueType::kTwoByte;
        return true;
      case kRequestResponseInformation:
      case kRequestProblemInformation:
        *out_type = ValueType::kByte;
        return true;
      case kAuthenticationMethod:
        *out_type = ValueType::kUtf8;
        return true;
      case kAuthenticationData:
        *out_type = ValueType::kBinary;
        return true;
      default:
        return false;
    }
  }
  switch (id) {
    case kWillDelayInterval:
    case kMessageExpiryInterval:
      *out_type = ValueType::kFourByte;
      return true;
    case kPayloadFormatIndicator:
      *out_type = ValueType::kByte;
      return true;
    case kContentType:
      *out_type = ValueType::kUtf8;
      return true;
    case kResponseTopic:
      *out_type = ValueType::kTopicName;
      return true;
    case kCorrelationData:
      *out_type = ValueType::kBinary;
      return true;
    default:
      return false;
  }
}

// read_value reads one value of |type|; |out_number| receives integer values.
bool read_value(ByteReader* reader, ValueType type, uint32_t* out_number) {
  std::span<const uint8_t> bytes;
  switch (type) {
    case ValueType::kByte: {
      uint8_t value = 0;
      if (!reader->read_u8(&value)) return false;
      *out_number = value;
      return true;
    }
    case ValueType::kTwoByte: {
      uint16_t value = 0;
      if (!reader->read_u16(&value)) return false;
      *out_number = value;
      return true;
    }
    case ValueType::kFourByte:
      return reader->read_u32(out_number);
    case ValueType::kUtf8:
      return reader->read_prefixed(&bytes) && is_valid_mqtt_utf8(bytes);
    case ValueType::kTopicName:
      return reader->read_prefixed(&bytes) && is_valid_topic_name(bytes);
    case ValueType::kBinary:
      return reader->read_prefixed(&bytes);
    case ValueType::kStringPair:
      return reader->read_prefixed(&bytes) && is_valid_mqtt_utf8(bytes) &&
             reader->read_prefixed(&bytes) && is_valid_mqtt_utf8(bytes);
  }
  return false;
}

// value_allowed applies the per-property value rules of sections 3.1.2.11 and 3.1.3.2.
bool value_allowed(uint32_t id, uint32_t value) {
  switch (id) {
    case kReceiveMaximum:
    case kMaximumPacketSize:
      return value != 0;
    case kRequestResponseInformation:
    case kRequestProblemInformation:
    case kPayloadFormatIndicator:
      return value <= 1;
    default:
      return true;
  }
}

}  // namespace

bool validate_properties(std::span<const uint8_t> properties, PropertyContext context,
                         PropertySummary* out_summary) {
  ByteReader reader(properties);
  std::bitset<128> seen;  // every identifier allowed in CONNECT is below 0x80
  while (!reader.empty()) {
    uint32_t id = 0;
    ValueType type;
    if (!reader.read_varint(&id) || !value_type_for(id, context, &type)) return false;
    if (id != kUserProperty && seen.test(id)) return false;
    seen.set(id);
    uint32_t number = 0;
    if (!read_value(&reader, type, &number) || !value_allowed(id, number)) return false;
  }
  if (seen.test(kAuthenticationData) && !seen.test(kAuthenticationMethod)) return false;
  out_summary->has_authentication_method = seen.test(kAuthenticationMethod);
  return true;
}

}  // namespace mqttparse
