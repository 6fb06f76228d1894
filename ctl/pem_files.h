// ctl/pem_files.h: reading and writing certificates and private keys as PEM files.
// Private keys are always written with mode 0600, certificates with 0644.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "ctl/op_result.h"

namespace ctl {

// write_key_file writes |key| as PKCS#8 PEM, creating or truncating |path| with mode 0600
// (and forcing 0600 on an existing file before anything is written).
OpResult<Empty> write_key_file(const std::string& path, EVP_PKEY* key);

// write_cert_file writes |certs| as consecutive PEM blocks, mode 0644.
OpResult<Empty> write_cert_file(const std::string& path, const std::vector<X509*>& certs);

// read_cert_file: the first certificate in |path|, PEM or DER.
OpResult<bssl::UniquePtr<X509>> read_cert_file(const std::string& path);

OpResult<bssl::UniquePtr<EVP_PKEY>> read_key_file(const std::string& path);

// make_directory creates |path| (and parents) with mode 0755 if missing.
OpResult<Empty> make_directory(const std::string& path);

bool file_exists(const std::string& path);

}  // namespace ctl
