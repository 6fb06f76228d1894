#include "proxy/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdio>

namespace proxy {

std::string last_ssl_error() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bssl::UniquePtr<SSL_CTX> new_ssl_ctx(const SSL_METHOD* method, std::string* out_error) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(method));
  if (!ctx) {
    *out_error = "SSL_CTX_new: " + last_ssl_error();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  // Smaller per-connection footprint: release read/write buffers while idle.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

namespace {

std::string hex_lower(const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(len * 2, '\0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

int64_t asn1_time_to_unix(const ASN1_TIME* time) {
  bssl::UniquePtr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0, seconds = 0;
  if (!epoch || !ASN1_TIME_diff(&days, &seconds, epoch.get(), time)) return 0;
  return int64_t{days} * 86400 + seconds;
}

// Records the leaf's identity while the chain is verified, so the connection never needs
// to keep the peer certificate after the handshake.
int verify_and_record_leaf(int preverify_ok, X509_STORE_CTX* store_ctx) {
  if (!preverify_ok || X509_STORE_CTX_get_error_depth(store_ctx) != 0) return preverify_ok;
  auto* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* out = static_cast<auth::PeerCertificate*>(SSL_get_ex_data(ssl, peer_certificate_slot()));
  X509* leaf = X509_STORE_CTX_get_current_cert(store_ctx);
  if (out == nullptr || leaf == nullptr) return 0;

  uint8_t* der = nullptr;
  int der_len = i2d_X509(leaf, &der);
  if (der_len <= 0) return 0;
  bssl::UniquePtr<uint8_t> der_owner(der);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<size_t>(der_len), digest);
  out->cert_id = hex_lower(digest, sizeof digest);

  char cn[256] = {0};
  int cn_len = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
                                         sizeof cn);
  out->cn = cn_len > 0 ? std::string(cn, static_cast<size_t>(cn_len)) : std::string();
  out->not_after = asn1_time_to_unix(X509_get0_notAfter(leaf));
  return 1;
}

bool load_client_ca(SSL_CTX* ctx, const config::TlsSettings& tls, std::string* out_error) {
  if (!SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr)) {
    *out_error = tls.client_ca_file + ": " + last_ssl_error();
    return false;
  }
  if (tls.crl_file.empty()) return true;
  bssl::UniquePtr<BIO> bio(BIO_new_file(tls.crl_file.c_str(), "r"));
  if (!bio) {
    *out_error = tls.crl_file + ": cannot open";
    return false;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int loaded = 0;
  while (bssl::UniquePtr<X509_CRL> crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
    if (!X509_STORE_add_crl(store, crl.get())) {
      *out_error = tls.crl_file + ": " + last_ssl_error();
      return false;
    }
    ++loaded;
  }
  ERR_clear_error();  // the loop ends on a PEM "no start line" error
  if (loaded == 0) {
    *out_error = tls.crl_file + ": no CRL found";
    return false;
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return true;
}

}  // namespace

int peer_certificate_slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

std::shared_ptr<const TlsContext> TlsContext::create(const config::ListenerConfig& listener,
                                                     std::string* out_error) {
  const config::TlsSettings& tls = listener.tls;
  bssl::UniquePtr<SSL_CTX> ctx = new_ssl_ctx(TLS_server_method(), out_error);
  if (!ctx) return nullptr;
  if (!SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str())) {
    *out_error = tls.cert_file + ": " + last_ssl_error();
    return nullptr;
  }
  if (!SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM)) {
    *out_error = tls.key_file + ": " + last_ssl_error();
    return nullptr;
  }
  if (!SSL_CTX_check_private_key(ctx.get())) {
    *out_error = tls.key_file + ": key does not match " + tls.cert_file;
    return nullptr;
  }

  auto result = std::make_shared<TlsContext>();
  if (listener.auth == auth::AuthMethod::kCert) {
    if (!load_client_ca(ctx.get(), tls, out_error)) return nullptr;
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       verify_and_record_leaf);
    SSL_CTX_set_verify_depth(ctx.get(), 4);
    // The verify callback recorded what the decision needs; sessions need not keep the chain.
    SSL_CTX_set_retain_only_sha256_of_client_certs(ctx.get(), 1);
    result->requires_client_cert_ = true;
  }
  // Session resumption would skip the verify callback; keep it off on mTLS listeners
  // until resumption restores the recorded identity too.
  if (result->requires_client_cert_) {
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  }
  result->cert_identity_ = listener.cert_identity;
  result->ctx_ = std::move(ctx);
  return result;
}

}  // namespace proxy
