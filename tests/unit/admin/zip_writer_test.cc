// tests/unit/admin/zip_writer_test.cc: the stored-file ZIP of the certificate bundle, checked
// field by field and by Python's zipfile (a real reader) when python3 is present.
#include "admin/zip_writer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace admin_test {
namespace {

uint32_t le32(const std::string& data, size_t at) {
  return static_cast<uint8_t>(data[at]) | static_cast<uint8_t>(data[at + 1]) << 8 |
         static_cast<uint8_t>(data[at + 2]) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(data[at + 3])) << 24;
}

TEST(AdminZip, LocalHeaderCentralDirectoryAndEndRecord) {
  admin::ZipWriter zip;
  zip.add_file("b_certs/b.crt", "CERT");
  zip.add_file("b_certs/b.key", "KEY", 0600);
  std::string archive = zip.finish();
  EXPECT_EQ(le32(archive, 0), 0x04034b50u);
  EXPECT_EQ(le32(archive, 14), crc32(0, reinterpret_cast<const Bytef*>("CERT"), 4));
  EXPECT_EQ(le32(archive, 18), 4u);
  EXPECT_EQ(archive.substr(30, 13), "b_certs/b.crt");
  EXPECT_EQ(archive.substr(43, 4), "CERT");
  // End of central directory: the last 22 bytes, two entries.
  size_t end = archive.size() - 22;
  EXPECT_EQ(le32(archive, end), 0x06054b50u);
  EXPECT_EQ(static_cast<uint8_t>(archive[end + 10]), 2);
  uint32_t directory = le32(archive, end + 16);
  EXPECT_EQ(le32(archive, directory), 0x02014b50u);
  // The key's external attributes carry mode 0600.
  size_t second = directory + 46 + 13;
  EXPECT_EQ(le32(archive, second + 38) >> 16, 0100600u);
}

TEST(AdminZip, PythonZipfileReadsIt) {
  if (std::system("python3 -c 'import zipfile' >/dev/null 2>&1") != 0) GTEST_SKIP();
  admin::ZipWriter zip;
  zip.add_file("n_certs/n.crt", std::string(5000, 'c'));
  zip.add_file("n_certs/root_ca.crt", "");
  const std::string path =
      (std::filesystem::temp_directory_path() / ("admin-zip-" + std::to_string(getpid()))).string();
  std::ofstream(path, std::ios::binary) << zip.finish();
  const std::string check = "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                            "assert z.testzip() is None; "
                            "assert z.namelist()==['n_certs/n.crt','n_certs/root_ca.crt']; "
                            "assert z.read('n_certs/n.crt')==b'c'*5000\" " + path;
  EXPECT_EQ(std::system(check.c_str()), 0);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace admin_test
