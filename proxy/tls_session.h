// proxy/tls_session.h: one TLS session driven through memory BIOs: the server side of a
// device connection, or the client side of a broker connection (backend.tls). It never
// touches a socket: the connection feeds it ciphertext and drains the ciphertext it produces,
// so all I/O stays in the connection's dispatcher.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <span>
#include <string>

#include "auth/decision.h"
#include "proxy/tls_context.h"

namespace proxy {

class TlsSession {
 public:
  enum class Status {
    kOk,        // progress made (handshake done, or bytes read)
    kWantRead,  // needs more ciphertext from the peer
    kClosed,    // the peer sent close_notify
    kError,     // fatal TLS error; error_reason() says which
  };

  // The most plaintext one TLS record carries: a read into a buffer this large never
  // leaves part of a record behind.
  static constexpr size_t kMaxRecordPlaintext = 16384;

  // |peer_out| receives the verified client leaf's identity during the handshake (cert
  // listeners); it must outlive the session. Non-owning.
  TlsSession(const TlsContext& context, auth::PeerCertificate* peer_out);

  // Client side: |client_ssl| is configured by its maker (BackendTlsContext::new_session:
  // SNI, name to verify); the session runs the client handshake.
  explicit TlsSession(bssl::UniquePtr<SSL> client_ssl);

  bool valid() const { return ssl_ != nullptr; }

  // feed appends ciphertext received from the peer.
  void feed(std::span<const uint8_t> ciphertext);

  // handshake advances the handshake; kOk once it is complete.
  Status handshake();
  bool handshake_done() const { return SSL_is_init_finished(ssl_.get()); }

  // read decrypts into |out|; *out_read > 0 with kOk, else a terminal or waiting status.
  Status read(std::span<uint8_t> out, size_t* out_read);

  // read_records decrypts record after record into |out| (at least kMaxRecordPlaintext
  // long) while another whole record fits. kOk: |out| filled up and more may be waiting.
  // Any other status ends the batch; *out_read bytes decrypted before it still count.
  // One SSL_read yields one record, and peers often send one small record per packet:
  // gathering them turns a read chunk into one write to the other side, not one per record.
  Status read_records(std::span<uint8_t> out, size_t* out_read);

  // write encrypts all of |plaintext| into the output queue. False on a fatal error.
  bool write(std::span<const uint8_t> plaintext);

  // shutdown queues a close_notify alert.
  void shutdown();

  // take_output moves up to out.size() bytes of pending ciphertext into |out|.
  size_t take_output(std::span<uint8_t> out);
  size_t pending_output() const;

  // protocol_version: "TLSv1.3", "TLSv1.2" once the handshake is done.
  std::string protocol_version() const { return SSL_get_version(ssl_.get()); }

  // trim releases memory BIO buffers that grew past a small size and are now empty, so an
  // idle connection holds no copy of its largest burst. Call after draining both ways.
  void trim();

  // error_reason: a short lowercase reason for the last kError ("no_client_certificate",
  // "certificate_verify_failed", "protocol_error", ...), for logs and metrics.
  const std::string& error_reason() const { return error_reason_; }

  // error_detail: BoringSSL's words for the last kError ("Hostname mismatch", "unable to get
  // local issuer certificate", "TLSV1_ALERT_CERTIFICATE_REQUIRED", ...), for logs. Static
  // storage; "" when there is none.
  const char* error_detail() const { return error_detail_; }

 private:
  bool attach_memory_bios();
  Status classify(int ret);

  bssl::UniquePtr<SSL> ssl_;
  BIO* input_ = nullptr;   // owned by ssl_
  BIO* output_ = nullptr;  // owned by ssl_
  std::string error_reason_;
  const char* error_detail_ = "";
};

}  // namespace proxy
