// proxy/backend_tls.h: TLS from the proxy to the brokers (backend.tls). One client-side
// SSL_CTX per config, built on the main thread and then only read by the workers; each
// backend attempt gets its own TlsSession in the client role from it.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "proxy/tls_session.h"

namespace proxy {

// BackendPeerName: the name a broker's certificate must carry, and how it is checked.
struct BackendPeerName {
  std::string name;
  bool is_ip = false;  // checked against IP SANs, and never sent as SNI (RFC 6066)
};

// backend_peer_name: |server_name| when configured, else the server's |host|.
BackendPeerName backend_peer_name(std::string_view server_name, std::string_view host);

class BackendTlsContext {
 public:
  // create loads the CA and, when configured, the client certificate and key. On failure
  // returns nullptr with *out_error naming the file and the reason.
  static std::shared_ptr<const BackendTlsContext> create(const config::BackendTls& tls,
                                                         std::string* out_error);

  // new_session prepares the client side of a handshake with the server whose configured
  // host is |host|: SNI and the verified name per backend_peer_name. Nullptr when BoringSSL
  // cannot allocate.
  std::unique_ptr<TlsSession> new_session(std::string_view host) const;

 private:
  bssl::UniquePtr<SSL_CTX> ctx_;
  std::string server_name_;  // backend.tls.server_name; empty = each server's host
  bool verify_ = true;
};

}  // namespace proxy
