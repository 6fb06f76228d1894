// admin/zip_writer.h: a ZIP archive of stored (uncompressed) files built in memory, for the
// certificate bundle. ZIP 2.0 local headers, central directory and end record; CRC-32 from
// zlib; no ZIP64 (each file and the archive stay far below 4 GiB).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace admin {

class ZipWriter {
 public:
  // add_file appends |path| (forward slashes, no leading slash) with |contents|; |mode| is
  // the Unix permission recorded for unzip (e.g. 0600 for a private key).
  void add_file(std::string_view path, std::string_view contents, uint32_t mode = 0644);
  // finish returns the archive; the writer must not be used afterwards.
  std::string finish();

 private:
  struct Entry {
    std::string path;
    uint32_t crc = 0;
    uint32_t size = 0;
    uint32_t offset = 0;
    uint32_t mode = 0;
  };
  std::string out_;
  std::vector<Entry> entries_;
};

}  // namespace admin
