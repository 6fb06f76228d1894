#include "proxy/backend_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "proxy/tls_context.h"

namespace proxy {
namespace {

bool is_ip_literal(const std::string& text) {
  in6_addr address;
  return inet_pton(AF_INET, text.c_str(), &address) == 1 ||
         inet_pton(AF_INET6, text.c_str(), &address) == 1;
}

}  // namespace

BackendPeerName backend_peer_name(std::string_view server_name, std::string_view host) {
  BackendPeerName out;
  out.name = std::string(server_name.empty() ? host : server_name);
  out.is_ip = is_ip_literal(out.name);
  return out;
}

std::shared_ptr<const BackendTlsContext> BackendTlsContext::create(const config::BackendTls& tls,
                                                                   std::string* out_error) {
  bssl::UniquePtr<SSL_CTX> ctx = new_ssl_ctx(TLS_client_method(), out_error);
  if (!ctx) return nullptr;
  // The CA is loaded even with verify: false, so a wrong path fails the same way either way.
  if (!SSL_CTX_load_verify_locations(ctx.get(), tls.ca_file.c_str(), nullptr)) {
    *out_error = tls.ca_file + ": " + last_ssl_error();
    return nullptr;
  }
  if (!tls.cert_file.empty()) {
    if (!SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str())) {
      *out_error = tls.cert_file + ": " + last_ssl_error();
      return nullptr;
    }
    if (!SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) ||
        !SSL_CTX_check_private_key(ctx.get())) {
      // BoringSSL already compares the key with the certificate while loading it.
      uint32_t err = ERR_peek_last_error();
      bool mismatch = err == 0 || (ERR_GET_LIB(err) == ERR_LIB_X509 &&
                                   ERR_GET_REASON(err) == X509_R_KEY_VALUES_MISMATCH);
      *out_error = tls.key_file + (mismatch ? ": key does not match " + tls.cert_file
                                            : ": " + last_ssl_error());
      ERR_clear_error();
      return nullptr;
    }
  }
  SSL_CTX_set_verify(ctx.get(), tls.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_verify_depth(ctx.get(), 4);

  auto result = std::make_shared<BackendTlsContext>();
  result->ctx_ = std::move(ctx);
  result->server_name_ = tls.server_name;
  result->verify_ = tls.verify;
  return result;
}

std::unique_ptr<TlsSession> BackendTlsContext::new_session(std::string_view host) const {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  if (!ssl) return nullptr;
  BackendPeerName peer = backend_peer_name(server_name_, host);
  if (!peer.is_ip && !SSL_set_tlsext_host_name(ssl.get(), peer.name.c_str())) return nullptr;
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    int ok = peer.is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, peer.name.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, peer.name.data(), peer.name.size());
    if (!ok) return nullptr;
  }
  auto session = std::make_unique<TlsSession>(std::move(ssl));
  if (!session->valid()) return nullptr;
  return session;
}

}  // namespace proxy
