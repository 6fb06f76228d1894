// bench/mqtt_auth_bench/credentials.cc: see credentials.h.
#include "bench/mqtt_auth_bench/credentials.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bench {
namespace {

struct FileCloser {
  void operator()(FILE* file) const { std::fclose(file); }
};

template <typename T, typename Reader>
bssl::UniquePtr<T> read_pem(const std::string& path, Reader reader) {
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
  if (!file) return nullptr;
  return bssl::UniquePtr<T>(reader(file.get(), nullptr, nullptr, nullptr));
}

}  // namespace

bool load_device_list(const std::string& path, std::vector<Credential>* out,
                      std::string* out_error) {
  std::ifstream in(path);
  if (!in) {
    *out_error = "cannot read " + path;
    return false;
  }
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Credential credential;
    std::string extra;
    if (!(fields >> credential.client_id >> credential.username >> credential.password) ||
        (fields >> extra)) {
      *out_error = path + ":" + std::to_string(number) + ": expected 'device_id username key'";
      return false;
    }
    out->push_back(std::move(credential));
  }
  if (out->empty()) {
    *out_error = path + ": no devices";
    return false;
  }
  return true;
}

bool load_cert_bundles(const std::string& dir, std::vector<Credential>* out,
                       std::string* out_error) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string folder = entry.path().filename().string();
    constexpr std::string_view kSuffix = "_certs";
    if (entry.is_directory() && folder.size() > kSuffix.size() && folder.ends_with(kSuffix)) {
      names.push_back(folder.substr(0, folder.size() - kSuffix.size()));
    }
  }
  if (error) {
    *out_error = "cannot list " + dir + ": " + error.message();
    return false;
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string base = dir + "/" + name + "_certs/" + name;
    Credential credential;
    credential.client_id = name;
    credential.username = name;
    credential.cert = read_pem<X509>(base + ".crt", PEM_read_X509);
    credential.key = read_pem<EVP_PKEY>(base + ".key", PEM_read_PrivateKey);
    if (!credential.cert || !credential.key) {
      *out_error = "cannot read " + base + ".crt/.key";
      return false;
    }
    out->push_back(std::move(credential));
  }
  if (out->empty()) {
    *out_error = dir + ": no NAME_certs folders";
    return false;
  }
  return true;
}

}  // namespace bench
