// admin/zip_writer.cc: see zip_writer.h. Layout per APPNOTE.TXT 4.3: local file header +
// data per file, then the central directory, then the end of central directory record.
#include "admin/zip_writer.h"

#include <zlib.h>

namespace admin {
namespace {

void put16(std::string* out, uint32_t value) {
  out->push_back(static_cast<char>(value & 0xff));
  out->push_back(static_cast<char>((value >> 8) & 0xff));
}

void put32(std::string* out, uint32_t value) {
  put16(out, value & 0xffff);
  put16(out, value >> 16);
}

// A fixed DOS timestamp (1980-01-01 00:00): bundles carry no meaningful file times.
constexpr uint32_t kDosTime = 0;
constexpr uint32_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr uint32_t kVersion = 20;          // 2.0: stored files in folders
constexpr uint32_t kMadeByUnix = (3 << 8) | kVersion;

}  // namespace

void ZipWriter::add_file(std::string_view path, std::string_view contents, uint32_t mode) {
  Entry entry;
  entry.path = std::string(path);
  entry.crc = static_cast<uint32_t>(
      crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(contents.data()),
            static_cast<uInt>(contents.size())));
  entry.size = static_cast<uint32_t>(contents.size());
  entry.offset = static_cast<uint32_t>(out_.size());
  entry.mode = mode;

  put32(&out_, 0x04034b50);
  put16(&out_, kVersion);
  put16(&out_, 0);  // flags
  put16(&out_, 0);  // method: stored
  put16(&out_, kDosTime);
  put16(&out_, kDosDate);
  put32(&out_, entry.crc);
  put32(&out_, entry.size);  // compressed size
  put32(&out_, entry.size);
  put16(&out_, static_cast<uint32_t>(entry.path.size()));
  put16(&out_, 0);  // extra length
  out_.append(entry.path);
  out_.append(contents);
  entries_.push_back(std::move(entry));
}

std::string ZipWriter::finish() {
  const auto directory_offset = static_cast<uint32_t>(out_.size());
  for (const Entry& entry : entries_) {
    put32(&out_, 0x02014b50);
    put16(&out_, kMadeByUnix);
    put16(&out_, kVersion);
    put16(&out_, 0);  // flags
    put16(&out_, 0);  // stored
    put16(&out_, kDosTime);
    put16(&out_, kDosDate);
    put32(&out_, entry.crc);
    put32(&out_, entry.size);
    put32(&out_, entry.size);
    put16(&out_, static_cast<uint32_t>(entry.path.size()));
    put16(&out_, 0);  // extra
    put16(&out_, 0);  // comment
    put16(&out_, 0);  // disk
    put16(&out_, 0);  // internal attributes
    put32(&out_, (0100000u | entry.mode) << 16);  // external: Unix regular file + mode
    put32(&out_, entry.offset);
    out_.append(entry.path);
  }
  const auto directory_size = static_cast<uint32_t>(out_.size()) - directory_offset;
  put32(&out_, 0x06054b50);
  put16(&out_, 0);
  put16(&out_, 0);
  put16(&out_, static_cast<uint32_t>(entries_.size()));
  put16(&out_, static_cast<uint32_t>(entries_.size()));
  put32(&out_, directory_size);
  put32(&out_, directory_offset);
  put16(&out_, 0);  // comment length
  return std::move(out_);
}

}  // namespace admin
