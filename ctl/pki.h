// ctl/pki.h: the certificates mqtt-authctl issues (device CA, server certificate, device
// client certificates) and the identity of an existing certificate. BoringSSL only; writes
// files but touches no Redis — the caller registers client certificates with cert_ops.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/op_result.h"

namespace ctl {

enum class KeyType { kEcP256, kRsa2048 };

// CertIdentity: what the Redis schema records about a certificate.
struct CertIdentity {
  std::string cert_id;    // lowercase hex SHA-256 of the DER encoding
  std::string cn;         // subject CN, empty if none
  int64_t not_after = 0;  // unix seconds
};

struct IssuedFiles {
  CertIdentity identity;
  std::string cert_path;
  std::string key_path;
  std::string ca_copy_path;  // cert create only: the CA certificate next to the leaf
};

// Default lifetimes in days.
inline constexpr int kCaDays = 3650;
inline constexpr int kServerDays = 825;
inline constexpr int kClientDays = 365;

// cert_identity computes the cert_id, CN and notAfter of |cert|.
CertIdentity cert_identity(X509* cert);

// identify_cert_file reads a PEM or DER certificate and returns its identity.
OpResult<CertIdentity> identify_cert_file(const std::string& path);

// ca_init writes DIR/root_ca.crt and DIR/root_ca.key (0600): a self-signed ECDSA P-256 CA.
// Refuses (kRefused) to overwrite an existing root_ca.key.
OpResult<IssuedFiles> ca_init(const std::string& out_dir, const std::string& cn, int days);

// issue_server_cert writes DIR/server.crt (the leaf only; clients already trust the CA)
// and DIR/server.key (0600). |sans| are DNS names or IP literals; |cn| is the only DNS SAN
// when |sans| is empty.
OpResult<IssuedFiles> issue_server_cert(const std::string& ca_dir, const std::string& cn,
                                        const std::vector<std::string>& sans, KeyType key_type,
                                        int days, const std::string& out_dir);

// issue_client_cert writes DIR/NAME_certs/{NAME.crt, NAME.key (0600), root_ca.crt}; the
// subject CN is 32 random hex characters. Refuses (kRefused) to overwrite NAME.key.
OpResult<IssuedFiles> issue_client_cert(const std::string& ca_dir, const std::string& name,
                                        KeyType key_type, int days, const std::string& out_dir);

// IssuedPem: a client certificate bundle held only in memory (the admin API zips it and
// returns it once; the private key is never written to disk).
struct IssuedPem {
  CertIdentity identity;
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 PEM
  std::string ca_pem;   // the issuing CA's certificate
};

// issue_client_cert_pem: issue_client_cert without files; the CA is read from |ca_dir|.
OpResult<IssuedPem> issue_client_cert_pem(const std::string& ca_dir, KeyType key_type, int days);

// identify_cert_pem: the identity of the first PEM certificate in |pem| (kInvalidArgument
// when there is none).
OpResult<CertIdentity> identify_cert_pem(std::string_view pem);

// valid_file_name: |name| can be used as NAME in the paths above ([A-Za-z0-9._-], no
// leading dot, 1..128 bytes).
bool valid_file_name(const std::string& name);

}  // namespace ctl
