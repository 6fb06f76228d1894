#include "proxy/tls_session.h"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace proxy {
namespace {

std::string reason_from_error_queue(SSL* ssl, const char** out_detail) {
  // The SSL error comes first: with no client certificate at all the verify result is not
  // X509_V_OK either, but the precise reason is the missing certificate.
  uint32_t err = ERR_peek_error();
  long verify = SSL_get_verify_result(ssl);
  const char* detail = err != 0 ? ERR_reason_error_string(err) : nullptr;
  std::string reason;
  if (err != 0 && ERR_GET_LIB(err) == ERR_LIB_SSL &&
      ERR_GET_REASON(err) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    reason = "no_client_certificate";
  } else if (err != 0 && ERR_GET_LIB(err) == ERR_LIB_SSL &&
             ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
    switch (verify) {
      case X509_V_ERR_CERT_HAS_EXPIRED: reason = "certificate_expired"; break;
      case X509_V_ERR_CERT_REVOKED: reason = "certificate_revoked"; break;
      case X509_V_ERR_CERT_NOT_YET_VALID: reason = "certificate_not_yet_valid"; break;
      default: reason = "certificate_verify_failed"; break;
    }
    detail = X509_verify_cert_error_string(verify);
  } else if (err != 0 && ERR_GET_LIB(err) == ERR_LIB_SSL) {
    switch (ERR_GET_REASON(err)) {
      case SSL_R_WRONG_VERSION_NUMBER: reason = "not_tls"; break;
      case SSL_R_HTTP_REQUEST: reason = "not_tls"; break;
      case SSL_R_NO_SHARED_CIPHER: reason = "no_shared_cipher"; break;
      case SSL_R_UNSUPPORTED_PROTOCOL: reason = "unsupported_protocol"; break;
      default: reason = "protocol_error"; break;
    }
  } else {
    reason = "protocol_error";
  }
  ERR_clear_error();
  *out_detail = detail != nullptr ? detail : "";
  return reason;
}

}  // namespace

TlsSession::TlsSession(const TlsContext& context, auth::PeerCertificate* peer_out)
    : ssl_(SSL_new(context.ctx())) {
  if (!attach_memory_bios()) return;
  SSL_set_accept_state(ssl_.get());
  SSL_set_ex_data(ssl_.get(), peer_certificate_slot(), peer_out);
}

TlsSession::TlsSession(bssl::UniquePtr<SSL> client_ssl) : ssl_(std::move(client_ssl)) {
  if (!attach_memory_bios()) return;
  SSL_set_connect_state(ssl_.get());
}

bool TlsSession::attach_memory_bios() {
  if (!ssl_) return false;
  input_ = BIO_new(BIO_s_mem());
  output_ = BIO_new(BIO_s_mem());
  if (input_ == nullptr || output_ == nullptr) {
    BIO_free(input_);
    BIO_free(output_);
    ssl_.reset();
    return false;
  }
  // An empty memory BIO reports "retry", not EOF, so SSL_read answers WANT_READ.
  BIO_set_mem_eof_return(input_, -1);
  SSL_set_bio(ssl_.get(), input_, output_);
  return true;
}

void TlsSession::feed(std::span<const uint8_t> ciphertext) {
  if (!ciphertext.empty()) BIO_write(input_, ciphertext.data(), static_cast<int>(ciphertext.size()));
}

TlsSession::Status TlsSession::classify(int ret) {
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return Status::kWantRead;
    case SSL_ERROR_ZERO_RETURN:
      return Status::kClosed;
    default:
      error_reason_ = reason_from_error_queue(ssl_.get(), &error_detail_);
      return Status::kError;
  }
}

TlsSession::Status TlsSession::handshake() {
  int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) {
    // The handshake configuration (certificates, keys, CA list) is no longer needed.
    SSL_set_shed_handshake_config(ssl_.get(), 1);
    return Status::kOk;
  }
  return classify(ret);
}

TlsSession::Status TlsSession::read(std::span<uint8_t> out, size_t* out_read) {
  *out_read = 0;
  int ret = SSL_read(ssl_.get(), out.data(), static_cast<int>(out.size()));
  if (ret > 0) {
    *out_read = static_cast<size_t>(ret);
    return Status::kOk;
  }
  return classify(ret);
}

TlsSession::Status TlsSession::read_records(std::span<uint8_t> out, size_t* out_read) {
  *out_read = 0;
  do {
    size_t got = 0;
    Status status = read(out.subspan(*out_read), &got);
    if (status != Status::kOk) return status;
    *out_read += got;
  } while (out.size() - *out_read >= kMaxRecordPlaintext);
  return Status::kOk;
}

bool TlsSession::write(std::span<const uint8_t> plaintext) {
  // Memory BIOs never block, so SSL_write takes everything or fails.
  size_t done = 0;
  while (done < plaintext.size()) {
    int ret = SSL_write(ssl_.get(), plaintext.data() + done,
                        static_cast<int>(plaintext.size() - done));
    if (ret <= 0) {
      classify(ret);
      return false;
    }
    done += static_cast<size_t>(ret);
  }
  return true;
}

void TlsSession::shutdown() {
  if (handshake_done()) SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

size_t TlsSession::take_output(std::span<uint8_t> out) {
  int n = BIO_read(output_, out.data(), static_cast<int>(out.size()));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

size_t TlsSession::pending_output() const { return BIO_pending(output_); }

namespace {

// A memory BIO never shrinks its buffer; a fresh one starts empty.
constexpr size_t kKeepBioBytes = 1024;

bool grown_and_empty(BIO* bio) {
  BUF_MEM* mem = nullptr;
  return BIO_get_mem_ptr(bio, &mem) == 1 && mem != nullptr && mem->length == 0 &&
         mem->max > kKeepBioBytes;
}

}  // namespace

void TlsSession::trim() {
  if (grown_and_empty(input_)) {
    BIO* fresh = BIO_new(BIO_s_mem());
    if (fresh != nullptr) {
      BIO_set_mem_eof_return(fresh, -1);
      SSL_set0_rbio(ssl_.get(), fresh);  // frees the old one
      input_ = fresh;
    }
  }
  if (grown_and_empty(output_)) {
    BIO* fresh = BIO_new(BIO_s_mem());
    if (fresh != nullptr) {
      SSL_set0_wbio(ssl_.get(), fresh);
      output_ = fresh;
    }
  }
}

}  // namespace proxy
