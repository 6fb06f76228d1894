// proxy/client_connection.h: one device connection, from accept to close, as one state
// machine. Owned by its Worker; runs only on the worker's loop thread.
//
//   [kReadingProxyHeader] → kHandshaking → kReadingConnect → kLookingUp → [kVerifyingSecret] → kConnectingBackend
//     → kRelaying → kClosed
//   any state before kRelaying → kRefusing (CONNACK sent, then closed) or kClosed
//
// kConnectingBackend covers the TCP connect and, with backend.tls, the PROXY header (in
// clear) and the TLS handshake to the broker; any failure there tries the next server.
//
// Only the dispatch functions (on_client_read, on_backend_read, flush_*, send_to_backend)
// touch sockets and the TLS sessions; the per-state handlers decide.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/decision.h"
#include "auth/redis_store.h"
#include "auth/secret.h"
#include "mqttparse/connect.h"
#include "mqttparse/packet.h"
#include "proxy/session_journal.h"
#include "proxy/packet_boundary.h"
#include "proxy/tls_session.h"
#include "proxy/topic_rewriter.h"
#include "proxy/uv_handle.h"
#include "proxy/worker_services.h"

namespace proxy {

struct SecretCheck;

class ClientConnection {
 public:
  enum class State {
    kReadingProxyHeader,  // listeners with proxy_protocol: the header precedes TLS
    kHandshaking,
    kReadingConnect,
    kLookingUp,
    kVerifyingSecret,
    kConnectingBackend,
    kRelaying,
    kRefusing,
    kClosed,
  };

  // |client| is an accepted, initialised TCP handle; the connection takes it over.
  ClientConnection(WorkerServices& services, const ListenerRuntime& listener, TcpHandle client);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // start begins reading and arms the CONNECT deadline.
  void start();

  // close ends the connection now (shutdown, drain, kick). Safe in any state.
  void close(std::string_view why);

  State state() const { return state_; }
  const std::string& device_id() const { return device_id_; }
  // cert_id: the client certificate's identity on cert listeners, else empty.
  const std::string& cert_id() const { return peer_cert_.cert_id; }
  SessionFacts session_facts() const;

  // revalidate re-reads the device (and certificate) records, from the master, and closes
  // the session if it would no longer be accepted. Only while relaying. Asked while a re-check
  // is in flight (which may have read before the newest change), it runs again after it.
  void revalidate();

  // kick closes a relaying session on an administrator's request: MQTT 5 clients first get
  // DISCONNECT with |disconnect_reason| (0x98 administrative action, 0x87 not authorized).
  void kick(std::string_view why, uint8_t disconnect_reason);

  // end_for_shutdown closes the connection as the proxy stops: a relaying MQTT 5 session
  // first gets DISCONNECT 0x8B (server shutting down).
  void end_for_shutdown();

  // Called by SecretCheck on the loop thread when the thread-pool verification is done.
  void on_secret_verified(auth::VerifyResult result);

 private:
  // Dispatchers: the only functions that move bytes.
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_client_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_backend_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_backend_connected(uv_connect_t* request, int status);
  static void on_client_write_done(uv_write_t* request, int status);
  static void on_backend_write_done(uv_write_t* request, int status);
  static void on_deadline(uv_timer_t* timer);
  void process_client_ciphertext(std::span<const uint8_t> ciphertext);
  void drain_plaintext();
  bool flush_to_client();
  // send_to_backend: MQTT bytes for the broker, encrypted first with backend.tls.
  bool send_to_backend(std::span<const uint8_t> bytes);
  // write_to_backend_socket: bytes as they go on the wire (the PROXY header, TLS records).
  bool write_to_backend_socket(std::span<const uint8_t> bytes);
  bool flush_to_backend();
  void process_backend_ciphertext(std::span<const uint8_t> ciphertext);
  void drain_backend_plaintext();

  // Per-state handlers.
  void handle_handshake();
  void handle_proxy_header(std::span<const uint8_t> bytes);
  bool send_proxy_header_to_backend();
  void handle_plaintext(std::span<const uint8_t> plaintext);
  void handle_connect_packet(std::span<const uint8_t> packet);
  auth::ConnectFacts connect_facts() const;
  void on_lookup(auth::LookupResult&& result);
  void connect_backend();
  void try_backend(size_t attempt);
  void backend_attempt_failed(std::string_view reason, std::string_view detail = {});
  void start_backend_handshake();
  void handle_backend_handshake();
  void on_backend_ready();
  void on_backend_tls_error();
  void refuse(auth::Reason reason);
  void on_revalidated(auth::LookupResult&& result);
  void end_session(std::string_view why, uint8_t disconnect_reason);
  void arm_certificate_expiry();
  void finish_close();
  void update_backpressure();
  bool prepare_topic_policy();
  void relay_from_device(std::span<const uint8_t> plaintext);
  void relay_from_broker(std::span<const uint8_t> bytes);
  bool deliver_to_device(std::span<const uint8_t> bytes);
  ListenerMetrics* listener_metrics();
  void ack_quickly();
  double seconds_since_accept() const;
  void count_backend_failure(size_t index);

  WorkerServices& services_;
  const ListenerRuntime listener_;
  const config::Config& config() const { return *listener_.config_owner; }
  State state_ = State::kHandshaking;
  TcpHandle client_;
  TcpHandle backend_;
  TimerHandle deadline_;
  std::unique_ptr<TlsSession> tls_;
  std::unique_ptr<TlsSession> backend_tls_;   // backend.tls only: the broker side, client role
  auth::PeerCertificate peer_cert_;
  mqttparse::PacketFramer framer_;
  std::optional<mqttparse::ConnectPacket> connect_;
  auth::DeviceRecord device_;
  PacketBoundary to_client_boundary_;         // the broker's packets as relayed to the device
  // Mountpoint/ACL listeners only: the policy until relaying starts, then the rewriter, and
  // the broker's CONNACK, which passes through unparsed before the rewriter sees anything.
  std::optional<TopicPolicy> topic_policy_;
  std::unique_ptr<TopicRewriter> rewriter_;
  std::unique_ptr<mqttparse::PacketFramer> broker_connack_;
  std::vector<uint8_t> pending_to_backend_;   // bytes the client sent after CONNECT
  uv_connect_t connect_request_{};
  auth::RedisStore::Ticket lookup_ticket_ = auth::RedisStore::kNoTicket;
  bool revalidate_again_ = false;             // revalidate() asked while one was in flight
  SecretCheck* secret_check_ = nullptr;       // non-owning; owned by the thread-pool work
  std::vector<size_t> backend_order_;          // servers to try, best first (connect phase)
  size_t backend_attempt_ = 0;
  size_t backend_index_ = SIZE_MAX;            // the server relaying, once connected
  // PROXY protocol in: the header bytes so far, then the real client address it named.
  std::vector<uint8_t> proxy_header_;
  std::unique_ptr<sockaddr_storage> real_peer_;
  bool client_reading_ = false;
  bool backend_reading_ = false;
  bool counted_ = true;
  std::string peer_;                          // "ip:port" of the device
  std::string device_id_;
  std::string backend_name_;
  std::string conn_id_;
  // Kept from the CONNECT for re-checks while relaying (the packet itself is dropped).
  std::string username_;
  mqttparse::ProtocolVersion version_ = mqttparse::ProtocolVersion::kV311;
  size_t secret_fingerprint_ = 0;             // hash of the stored secret accepted at connect
  int64_t connected_at_ = 0;                  // unix seconds
  std::chrono::steady_clock::time_point accepted_at_;
  std::chrono::steady_clock::time_point lookup_started_;
  bool connack_relayed_ = false;
  uint64_t bytes_from_client_ = 0;
  uint64_t bytes_to_client_ = 0;
  int pending_shutdowns_ = 0;
  bool released_ = false;
};

std::string_view state_name(ClientConnection::State state);

}  // namespace proxy
