// ctl/pki.cc: see pki.h.
#include "ctl/pki.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/buf.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "ctl/pem_files.h"

namespace ctl {
namespace {

// Certificates start five minutes in the past so that peers with a slightly slow clock
// accept them at once.
constexpr long kBackdateSeconds = 300;

std::string to_hex(const uint8_t* data, size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

std::string random_hex(size_t bytes) {
  std::vector<uint8_t> random(bytes);
  RAND_bytes(random.data(), random.size());
  return to_hex(random.data(), random.size());
}

template <typename T>
OpResult<T> crypto_failure(const std::string& what) {
  return OpResult<T>::failure(OpStatus::kInvalidArgument, "cannot " + what);
}

bssl::UniquePtr<EVP_PKEY> generate_key(KeyType type) {
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!key) return nullptr;
  if (type == KeyType::kEcP256) {
    bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
    if (!ec || !EC_KEY_generate_key(ec.get()) || !EVP_PKEY_set1_EC_KEY(key.get(), ec.get())) {
      return nullptr;
    }
    return key;
  }
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> exponent(BN_new());
  if (!rsa || !exponent || !BN_set_word(exponent.get(), RSA_F4) ||
      !RSA_generate_key_ex(rsa.get(), 2048, exponent.get(), nullptr) ||
      !EVP_PKEY_set1_RSA(key.get(), rsa.get())) {
    return nullptr;
  }
  return key;
}

// new_certificate: an unsigned v3 certificate with a random positive 128-bit serial,
// subject CN=|cn|, validity now-backdate .. now+|days|, and |key|'s public half.
bssl::UniquePtr<X509> new_certificate(const std::string& cn, int days, EVP_PKEY* key) {
  bssl::UniquePtr<X509> cert(X509_new());
  uint8_t serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] &= 0x7f;  // positive
  serial_bytes[0] |= 0x40;  // and a full 16 bytes long
  bssl::UniquePtr<BIGNUM> serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  bssl::UniquePtr<ASN1_INTEGER> serial_asn1(serial ? BN_to_ASN1_INTEGER(serial.get(), nullptr)
                                                   : nullptr);
  bssl::UniquePtr<X509_NAME> subject(X509_NAME_new());
  if (!cert || !serial_asn1 || !subject || !X509_set_version(cert.get(), X509_VERSION_3) ||
      !X509_set_serialNumber(cert.get(), serial_asn1.get()) ||
      !X509_NAME_add_entry_by_txt(subject.get(), "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(cn.data()),
                                  static_cast<int>(cn.size()), -1, 0) ||
      !X509_set_subject_name(cert.get(), subject.get()) ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) ||
      !X509_set_pubkey(cert.get(), key)) {
    return nullptr;
  }
  return cert;
}

// add_extension adds one extension given in OpenSSL config syntax, e.g.
// "critical,CA:TRUE". |issuer| may be |cert| for a self-signed certificate.
bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> extension(
      X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  return extension && X509_add_ext(cert, extension.get(), -1);
}

bool add_extensions(X509* cert, X509* issuer,
                    const std::vector<std::pair<int, std::string>>& extensions) {
  for (const auto& [nid, value] : extensions) {
    if (!add_extension(cert, issuer, nid, value)) return false;
  }
  return true;
}

struct LoadedCa {
  bssl::UniquePtr<X509> cert;
  bssl::UniquePtr<EVP_PKEY> key;
};

OpResult<LoadedCa> load_ca(const std::string& ca_dir) {
  using Result = OpResult<LoadedCa>;
  auto cert = read_cert_file(ca_dir + "/root_ca.crt");
  if (!cert.ok()) return Result::failure(cert.status, cert.message);
  auto key = read_key_file(ca_dir + "/root_ca.key");
  if (!key.ok()) return Result::failure(key.status, key.message);
  if (!X509_check_private_key(cert.value.get(), key.value.get())) {
    return Result::failure(OpStatus::kInvalidArgument,
                           ca_dir + "/root_ca.key does not match root_ca.crt");
  }
  Result result;
  result.value.cert = std::move(cert.value);
  result.value.key = std::move(key.value);
  return result;
}

// san_entry: "IP:<addr>" for an IPv4/IPv6 literal, "DNS:<name>" for a host name; empty when
// |name| is neither (the config syntax would misread commas, so they are rejected).
std::string san_entry(const std::string& name) {
  uint8_t address[16];
  if (inet_pton(AF_INET, name.c_str(), address) == 1 ||
      inet_pton(AF_INET6, name.c_str(), address) == 1) {
    return "IP:" + name;
  }
  if (name.empty() || name.size() > 253) return {};
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '*' || c == '_';
    if (!allowed) return {};
  }
  return "DNS:" + name;
}

template <typename T, typename U>
OpResult<T> failed(const OpResult<U>& result) {
  return OpResult<T>::failure(result.status, result.message);
}

// sign_and_write signs |cert| with |signer|, then writes |key| to files.key_path, |cert| to
// files.cert_path and, when |ca_copy| is set, |ca_copy| to files.ca_copy_path.
OpResult<Empty> sign_and_write(X509* cert, EVP_PKEY* signer, EVP_PKEY* key,
                               const IssuedFiles& files, X509* ca_copy) {
  if (!X509_sign(cert, signer, EVP_sha256())) {
    return OpResult<Empty>::failure(OpStatus::kInvalidArgument, "cannot sign the certificate");
  }
  if (auto written = write_key_file(files.key_path, key); !written.ok()) return written;
  if (auto written = write_cert_file(files.cert_path, {cert}); !written.ok()) return written;
  if (ca_copy != nullptr) return write_cert_file(files.ca_copy_path, {ca_copy});
  return {};
}

}  // namespace

bool valid_file_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_';
    if (!allowed) return false;
  }
  return true;
}

CertIdentity cert_identity(X509* cert) {
  CertIdentity identity;
  uint8_t* der = nullptr;
  int der_length = i2d_X509(cert, &der);
  if (der_length > 0) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(der, static_cast<size_t>(der_length), digest);
    identity.cert_id = to_hex(digest, sizeof(digest));
  }
  OPENSSL_free(der);

  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    uint8_t* utf8 = nullptr;
    int utf8_length = ASN1_STRING_to_UTF8(&utf8, data);
    if (utf8_length >= 0) identity.cn.assign(reinterpret_cast<char*>(utf8), utf8_length);
    OPENSSL_free(utf8);
  }

  bssl::UniquePtr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0;
  int seconds = 0;
  if (epoch && ASN1_TIME_diff(&days, &seconds, epoch.get(), X509_get0_notAfter(cert))) {
    identity.not_after = static_cast<int64_t>(days) * 86400 + seconds;
  }
  return identity;
}

OpResult<CertIdentity> identify_cert_file(const std::string& path) {
  auto cert = read_cert_file(path);
  if (!cert.ok()) return OpResult<CertIdentity>::failure(cert.status, cert.message);
  OpResult<CertIdentity> result;
  result.value = cert_identity(cert.value.get());
  return result;
}

OpResult<IssuedFiles> ca_init(const std::string& out_dir, const std::string& cn, int days) {
  using Result = OpResult<IssuedFiles>;
  if (days <= 0) return Result::failure(OpStatus::kInvalidArgument, "--days must be positive");
  Result result;
  result.value.cert_path = out_dir + "/root_ca.crt";
  result.value.key_path = out_dir + "/root_ca.key";
  if (file_exists(result.value.key_path)) {
    return Result::failure(OpStatus::kRefused,
                           result.value.key_path + " exists; refusing to replace a CA key");
  }
  if (auto made = make_directory(out_dir); !made.ok()) return failed<IssuedFiles>(made);

  bssl::UniquePtr<EVP_PKEY> key = generate_key(KeyType::kEcP256);
  if (!key) return crypto_failure<IssuedFiles>("generate a key");
  bssl::UniquePtr<X509> cert = new_certificate(cn, days, key.get());
  if (!cert || !X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) ||
      !add_extensions(cert.get(), cert.get(),
                      {{NID_basic_constraints, "critical,CA:TRUE"},
                       {NID_key_usage, "critical,keyCertSign,cRLSign"},
                       {NID_subject_key_identifier, "hash"}})) {
    return crypto_failure<IssuedFiles>("build the CA certificate");
  }
  auto written = sign_and_write(cert.get(), key.get(), key.get(), result.value, nullptr);
  if (!written.ok()) return failed<IssuedFiles>(written);
  result.value.identity = cert_identity(cert.get());
  return result;
}

OpResult<IssuedFiles> issue_server_cert(const std::string& ca_dir, const std::string& cn,
                                        const std::vector<std::string>& sans, KeyType key_type,
                                        int days, const std::string& out_dir) {
  using Result = OpResult<IssuedFiles>;
  if (days <= 0) return Result::failure(OpStatus::kInvalidArgument, "--days must be positive");
  if (cn.empty()) return Result::failure(OpStatus::kInvalidArgument, "--cn must not be empty");
  std::string san_value;
  for (const std::string& name : sans.empty() ? std::vector<std::string>{cn} : sans) {
    std::string entry = san_entry(name);
    if (entry.empty()) {
      return Result::failure(OpStatus::kInvalidArgument,
                             "not a DNS name or IP address: '" + name + "'");
    }
    san_value += (san_value.empty() ? "" : ",") + entry;
  }
  auto ca = load_ca(ca_dir);
  if (!ca.ok()) return failed<IssuedFiles>(ca);
  if (auto made = make_directory(out_dir); !made.ok()) return failed<IssuedFiles>(made);

  bssl::UniquePtr<EVP_PKEY> key = generate_key(key_type);
  if (!key) return crypto_failure<IssuedFiles>("generate a key");
  bssl::UniquePtr<X509> cert = new_certificate(cn, days, key.get());
  X509* issuer = ca.value.cert.get();
  const char* usage = key_type == KeyType::kEcP256 ? "critical,digitalSignature"
                                                   : "critical,digitalSignature,keyEncipherment";
  if (!cert || !X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) ||
      !add_extensions(cert.get(), issuer,
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_key_usage, usage},
                       {NID_ext_key_usage, "serverAuth"},
                       {NID_subject_alt_name, san_value},
                       {NID_subject_key_identifier, "hash"},
                       {NID_authority_key_identifier, "keyid"}})) {
    return crypto_failure<IssuedFiles>("build the server certificate");
  }
  Result result;
  result.value.cert_path = out_dir + "/server.crt";
  result.value.key_path = out_dir + "/server.key";
  auto written = sign_and_write(cert.get(), ca.value.key.get(), key.get(), result.value, nullptr);
  if (!written.ok()) return failed<IssuedFiles>(written);
  result.value.identity = cert_identity(cert.get());
  return result;
}

namespace {

// ClientCert: a freshly issued client certificate with its private key, not yet written.
struct ClientCert {
  bssl::UniquePtr<EVP_PKEY> key;
  bssl::UniquePtr<X509> cert;
};

// issue_signed_client_cert makes a key and a client certificate (CN = 32 random hex
// characters) signed by |ca|. Shared by the file and in-memory variants.
OpResult<ClientCert> issue_signed_client_cert(const LoadedCa& ca, KeyType key_type, int days) {
  using Result = OpResult<ClientCert>;
  Result result;
  result.value.key = generate_key(key_type);
  if (!result.value.key) return crypto_failure<ClientCert>("generate a key");
  result.value.cert = new_certificate(random_hex(16), days, result.value.key.get());
  X509* cert = result.value.cert.get();
  X509* issuer = ca.cert.get();
  if (!cert || !X509_set_issuer_name(cert, X509_get_subject_name(issuer)) ||
      !add_extensions(cert, issuer,
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_key_usage, "critical,digitalSignature"},
                       {NID_ext_key_usage, "clientAuth"},
                       {NID_subject_key_identifier, "hash"},
                       {NID_authority_key_identifier, "keyid"}})) {
    return crypto_failure<ClientCert>("build the client certificate");
  }
  if (!X509_sign(cert, ca.key.get(), EVP_sha256())) {
    return crypto_failure<ClientCert>("sign the certificate");
  }
  return result;
}

std::string cert_pem(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return {};
  const uint8_t* data = nullptr;
  size_t length = 0;
  if (!BIO_mem_contents(bio.get(), &data, &length)) return {};
  return std::string(reinterpret_cast<const char*>(data), length);
}

std::string key_pem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return {};
  }
  const uint8_t* data = nullptr;
  size_t length = 0;
  if (!BIO_mem_contents(bio.get(), &data, &length)) return {};
  std::string pem(reinterpret_cast<const char*>(data), length);
  // The BIO's buffer held the key: wipe it before it is freed.
  BUF_MEM* buffer = nullptr;
  if (BIO_get_mem_ptr(bio.get(), &buffer) && buffer != nullptr && buffer->data != nullptr) {
    OPENSSL_cleanse(buffer->data, buffer->length);
  }
  return pem;
}

}  // namespace

OpResult<IssuedFiles> issue_client_cert(const std::string& ca_dir, const std::string& name,
                                        KeyType key_type, int days, const std::string& out_dir) {
  using Result = OpResult<IssuedFiles>;
  if (days <= 0) return Result::failure(OpStatus::kInvalidArgument, "--days must be positive");
  if (!valid_file_name(name)) {
    return Result::failure(OpStatus::kInvalidArgument, "--name may hold only A-Z a-z 0-9 . _ -");
  }
  auto ca = load_ca(ca_dir);
  if (!ca.ok()) return failed<IssuedFiles>(ca);
  const std::string dir = out_dir + "/" + name + "_certs";
  Result result;
  result.value.cert_path = dir + "/" + name + ".crt";
  result.value.key_path = dir + "/" + name + ".key";
  result.value.ca_copy_path = dir + "/root_ca.crt";
  if (file_exists(result.value.key_path)) {
    return Result::failure(OpStatus::kRefused,
                           result.value.key_path + " exists; choose another name");
  }
  if (auto made = make_directory(dir); !made.ok()) return failed<IssuedFiles>(made);

  auto issued = issue_signed_client_cert(ca.value, key_type, days);
  if (!issued.ok()) return failed<IssuedFiles>(issued);
  X509* cert = issued.value.cert.get();
  if (auto written = write_key_file(result.value.key_path, issued.value.key.get());
      !written.ok()) {
    return failed<IssuedFiles>(written);
  }
  if (auto written = write_cert_file(result.value.cert_path, {cert}); !written.ok()) {
    return failed<IssuedFiles>(written);
  }
  if (auto written = write_cert_file(result.value.ca_copy_path, {ca.value.cert.get()});
      !written.ok()) {
    return failed<IssuedFiles>(written);
  }
  result.value.identity = cert_identity(cert);
  return result;
}

OpResult<IssuedPem> issue_client_cert_pem(const std::string& ca_dir, KeyType key_type, int days) {
  using Result = OpResult<IssuedPem>;
  if (days <= 0) return Result::failure(OpStatus::kInvalidArgument, "days must be positive");
  auto ca = load_ca(ca_dir);
  if (!ca.ok()) return failed<IssuedPem>(ca);
  auto issued = issue_signed_client_cert(ca.value, key_type, days);
  if (!issued.ok()) return failed<IssuedPem>(issued);
  Result result;
  result.value.identity = cert_identity(issued.value.cert.get());
  result.value.cert_pem = cert_pem(issued.value.cert.get());
  result.value.key_pem = key_pem(issued.value.key.get());
  result.value.ca_pem = cert_pem(ca.value.cert.get());
  if (result.value.cert_pem.empty() || result.value.key_pem.empty() ||
      result.value.ca_pem.empty()) {
    return crypto_failure<IssuedPem>("encode the certificate bundle");
  }
  return result;
}

OpResult<CertIdentity> identify_cert_pem(std::string_view pem) {
  using Result = OpResult<CertIdentity>;
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
  bssl::UniquePtr<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)
                                 : nullptr);
  if (!cert) return Result::failure(OpStatus::kInvalidArgument, "no PEM certificate");
  Result result;
  result.value = cert_identity(cert.get());
  return result;
}

}  // namespace ctl
