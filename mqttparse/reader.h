// mqttparse/reader.h: ByteReader, a bounds-checked cursor over a byte span, with the MQTT
// data representations (big-endian integers, Variable Byte Integer, length-prefixed data).
// Internal to mqttparse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mqttparse {

// ByteReader never reads past the end of its span: a read that does not fit returns false
// and leaves the cursor unchanged. The span must outlive the reader and the views it returns.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  size_t position() const { return pos_; }

  bool read_u8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = data_[pos_++];
    return true;
  }

  bool read_u16(uint16_t* out) {
    if (remaining() < 2) return false;
    *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }

  bool read_u32(uint32_t* out) {
    if (remaining() < 4) return false;
    *out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
           (uint32_t{data_[pos_ + 2]} << 8) | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return true;
  }

  // read_bytes views the next |n| bytes.
  bool read_bytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) return false;
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

  // read_prefixed reads a Two Byte Integer length followed by that many bytes (the wire
  // form of both UTF-8 Encoded Strings and Binary Data). No UTF-8 check here.
  bool read_prefixed(std::span<const uint8_t>* out) {
    size_t start = pos_;
    uint16_t length = 0;
    if (!read_u16(&length) || !read_bytes(length, out)) {
      pos_ = start;
      return false;
    }
    return true;
  }

  // read_varint reads a Variable Byte Integer of at most 4 bytes in its minimal form.
  // A 5th byte and a non-minimal encoding (a last byte of 0x00 after a continuation byte,
  // which MQTT 5 forbids in [MQTT-1.5.5-1]) both fail.
  bool read_varint(uint32_t* out) {
    uint32_t value = 0;
    for (size_t i = 0; i < 4; ++i) {
      if (pos_ + i >= data_.size()) return false;
      uint8_t byte = data_[pos_ + i];
      value |= uint32_t{byte & 0x7Fu} << (7 * i);
      if ((byte & 0x80) == 0) {
        if (i > 0 && byte == 0) return false;
        pos_ += i + 1;
        *out = value;
        return true;
      }
    }
    return false;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace mqttparse
