// ctl/pem_files.cc: see pem_files.h.
#include "ctl/pem_files.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ctl {
namespace {

OpResult<Empty> io_failure(const std::string& what, const std::string& path) {
  return OpResult<Empty>::failure(OpStatus::kIoError,
                                  what + " " + path + ": " + std::strerror(errno));
}

// write_with_mode writes |data| to |path| so that the file never exists with a wider mode.
OpResult<Empty> write_with_mode(const std::string& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_failure("cannot create", path);
  if (::fchmod(fd, mode) != 0) {
    ::close(fd);
    return io_failure("cannot chmod", path);
  }
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_failure("cannot write", path);
    }
    written += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return io_failure("cannot write", path);
  return {};
}

std::string_view bio_contents(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t length = 0;
  BIO_mem_contents(bio, &data, &length);
  return {reinterpret_cast<const char*>(data), length};
}

OpResult<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return OpResult<std::string>::failure(OpStatus::kIoError,
                                          "cannot read " + path + ": " + std::strerror(errno));
  }
  OpResult<std::string> result;
  result.value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

}  // namespace

OpResult<Empty> write_key_file(const std::string& path, EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return OpResult<Empty>::failure(OpStatus::kIoError, "cannot encode private key");
  }
  return write_with_mode(path, bio_contents(bio.get()), 0600);
}

OpResult<Empty> write_cert_file(const std::string& path, const std::vector<X509*>& certs) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  for (X509* cert : certs) {
    if (!bio || !PEM_write_bio_X509(bio.get(), cert)) {
      return OpResult<Empty>::failure(OpStatus::kIoError, "cannot encode certificate");
    }
  }
  return write_with_mode(path, bio_contents(bio.get()), 0644);
}

OpResult<bssl::UniquePtr<X509>> read_cert_file(const std::string& path) {
  using Result = OpResult<bssl::UniquePtr<X509>>;
  auto contents = read_whole_file(path);
  if (!contents.ok()) return Result::failure(contents.status, contents.message);
  Result result;
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(contents.value.data(), contents.value.size()));
  result.value.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!result.value) {
    const auto* der = reinterpret_cast<const uint8_t*>(contents.value.data());
    result.value.reset(d2i_X509(nullptr, &der, static_cast<long>(contents.value.size())));
  }
  if (!result.value) {
    return Result::failure(OpStatus::kInvalidArgument, path + " holds no PEM or DER certificate");
  }
  return result;
}

OpResult<bssl::UniquePtr<EVP_PKEY>> read_key_file(const std::string& path) {
  using Result = OpResult<bssl::UniquePtr<EVP_PKEY>>;
  auto contents = read_whole_file(path);
  if (!contents.ok()) return Result::failure(contents.status, contents.message);
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(contents.value.data(), contents.value.size()));
  Result result;
  result.value.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  OPENSSL_cleanse(contents.value.data(), contents.value.size());
  if (!result.value) {
    return Result::failure(OpStatus::kInvalidArgument, path + " holds no PEM private key");
  }
  return result;
}

OpResult<Empty> make_directory(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) {
    return OpResult<Empty>::failure(OpStatus::kIoError,
                                    "cannot create directory " + path + ": " + error.message());
  }
  return {};
}

bool file_exists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace ctl
