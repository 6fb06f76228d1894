// proxy/tls_context.h: a listener's server-side TLS configuration (BoringSSL SSL_CTX), built
// once from config::TlsSettings and shared, immutable, by every worker's connections.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "auth/decision.h"
#include "config/config.h"

namespace proxy {

class TlsContext {
 public:
  // create loads certificate chain, key, and for cert listeners the client CA and CRL.
  // On failure returns nullptr with *out_error naming the file and the reason.
  static std::shared_ptr<const TlsContext> create(const config::ListenerConfig& listener,
                                                  std::string* out_error);

  SSL_CTX* ctx() const { return ctx_.get(); }
  bool requires_client_cert() const { return requires_client_cert_; }
  config::CertIdentity cert_identity() const { return cert_identity_; }

 private:
  bssl::UniquePtr<SSL_CTX> ctx_;
  bool requires_client_cert_ = false;
  config::CertIdentity cert_identity_ = config::CertIdentity::kFingerprint;
};

// new_ssl_ctx: an SSL_CTX for |method| (server or client) with what every context of the
// proxy shares: TLS 1.2 to 1.3, and record buffers released while a connection is idle.
// Null with *out_error on failure.
bssl::UniquePtr<SSL_CTX> new_ssl_ctx(const SSL_METHOD* method, std::string* out_error);

// last_ssl_error: BoringSSL's text for the oldest queued error; clears the queue.
std::string last_ssl_error();

// peer_certificate_slot: the SSL ex_data index under which the verify callback stores the
// facts of a verified client leaf (an auth::PeerCertificate owned by the connection).
int peer_certificate_slot();

}  // namespace proxy
