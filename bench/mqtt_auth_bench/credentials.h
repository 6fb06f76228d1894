// bench/mqtt_auth_bench/credentials.h: who the bench connections claim to be.
#pragma once

#include <openssl/base.h>

#include <string>
#include <vector>

namespace bench {

struct Credential {
  std::string client_id;
  std::string username;
  std::string password;
  bssl::UniquePtr<X509> cert;    // mTLS only
  bssl::UniquePtr<EVP_PKEY> key;
};

// load_device_list reads "device_id username key" lines (blank lines and # comments
// skipped). False with |out_error| on an unreadable file or a malformed line.
bool load_device_list(const std::string& path, std::vector<Credential>* out,
                      std::string* out_error);

// load_cert_bundles reads every DIR/NAME_certs/NAME.{crt,key}, sorted by NAME.
bool load_cert_bundles(const std::string& dir, std::vector<Credential>* out,
                       std::string* out_error);

}  // namespace bench
