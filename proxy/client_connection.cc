#include "proxy/client_connection.h"
#include "proxy/client_connection_internal.h"
#include "proxy/peer_address.h"
#include "proxy/proxy_protocol.h"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>

#include "proxy/abuse_guard.h"
#include "proxy/connect_rewrite.h"
#include "proxy/log_event.h"
#include "proxy/peer_address.h"
#include "proxy/secret_check.h"
#include "proxy/worker_services.h"

namespace proxy {

using namespace connection_internal;

std::string_view state_name(ClientConnection::State state) {
  switch (state) {
    case ClientConnection::State::kReadingProxyHeader: return "reading_proxy_header";
    case ClientConnection::State::kHandshaking: return "handshaking";
    case ClientConnection::State::kReadingConnect: return "reading_connect";
    case ClientConnection::State::kLookingUp: return "looking_up";
    case ClientConnection::State::kVerifyingSecret: return "verifying_secret";
    case ClientConnection::State::kConnectingBackend: return "connecting_backend";
    case ClientConnection::State::kRelaying: return "relaying";
    case ClientConnection::State::kRefusing: return "refusing";
    case ClientConnection::State::kClosed: return "closed";
  }
  return "unknown";
}

ClientConnection::ClientConnection(WorkerServices& services, const ListenerRuntime& listener,
                                   TcpHandle client)
    : services_(services),
      listener_(listener),
      client_(std::move(client)),
      framer_(services.config().limits.max_connect_packet),
      accepted_at_(std::chrono::steady_clock::now()) {
  client_.get()->data = this;
  peer_ = peer_address_of(client_.get());
  ++open_connection_count();
}

ClientConnection::~ClientConnection() {
  if (lookup_ticket_ != auth::RedisStore::kNoTicket) services_.store().cancel(lookup_ticket_);
  if (secret_check_) secret_check_->owner = nullptr;
  --open_connection_count();
  if (ListenerMetrics* m = listener_metrics()) bump(m->closed);
  // client_, backend_ and deadline_ close themselves; their callbacks see data == nullptr.
}

void ClientConnection::start() {
  tls_ = std::make_unique<TlsSession>(*listener_.tls, &peer_cert_);
  uv_timer_t* timer = deadline_.allocate(this);
  uv_timer_init(services_.loop(), timer);
  if (!tls_->valid()) {
    close("tls_session_alloc_failed");
    return;
  }
  uv_timer_start(timer, &ClientConnection::on_deadline,
                 config().limits.connect_timeout.count(), 0);
  uv_tcp_nodelay(client_.get(), 1);
  if (listener_.config->proxy_protocol != config::ProxyProtocol::kOff) state_ = State::kReadingProxyHeader;
  ack_quickly();
  uv_read_start(client_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_client_read);
  client_reading_ = true;
}

// ---- dispatchers -------------------------------------------------------------------------

void ClientConnection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  std::span<uint8_t> space = owner_of(handle)->services_.read_buffer();
  *buf = uv_buf_init(reinterpret_cast<char*>(space.data()), static_cast<unsigned>(space.size()));
}

void ClientConnection::on_client_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(stream));
  if (self == nullptr || nread == 0) return;
  if (nread < 0) {
    self->close(nread == UV_EOF ? "client_closed" : "client_read_error");
    return;
  }
  self->bytes_from_client_ += static_cast<uint64_t>(nread);
  if (self->state_ == State::kHandshaking || self->state_ == State::kReadingConnect) {
    self->ack_quickly();
  }
  if (self->state_ == State::kReadingProxyHeader) {
    self->handle_proxy_header({reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)});
    return;
  }
  self->process_client_ciphertext(
      {reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)});
}

void ClientConnection::process_client_ciphertext(std::span<const uint8_t> ciphertext) {
  tls_->feed(ciphertext);
  if (state_ == State::kHandshaking) {
    handle_handshake();
    if (state_ == State::kHandshaking || state_ == State::kClosed) return;
  }
  drain_plaintext();
}

void ClientConnection::drain_plaintext() {
  std::span<uint8_t> scratch = services_.plaintext_buffer();
  while (state_ != State::kClosed && state_ != State::kRefusing) {
    size_t got = 0;
    TlsSession::Status status = tls_->read_records(scratch, &got);
    if (got > 0) handle_plaintext(scratch.first(got));
    if (status == TlsSession::Status::kOk) continue;  // the buffer was full: read on
    if (state_ == State::kClosed || state_ == State::kRefusing) break;
    if (status == TlsSession::Status::kClosed) close("client_closed");
    else if (status == TlsSession::Status::kError) close("tls_error");
    break;
  }
  if (state_ != State::kClosed && flush_to_client()) tls_->trim();
}

void ClientConnection::on_backend_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(stream));
  if (self == nullptr || nread == 0) return;
  if (nread < 0) {
    if (self->state_ == State::kConnectingBackend) {
      // Only with backend.tls: the broker hung up during the handshake (e.g. not TLS).
      if (nread == UV_EOF) {
        self->backend_attempt_failed("tls_closed_in_handshake");
      } else {
        self->backend_attempt_failed("tls_handshake_read_error", uv_strerror(static_cast<int>(nread)));
      }
      return;
    }
    self->close(nread == UV_EOF ? "backend_closed" : "backend_read_error");
    return;
  }
  std::span<const uint8_t> bytes{reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(nread)};
  if (self->backend_tls_) {
    self->process_backend_ciphertext(bytes);
  } else {
    self->relay_from_broker(bytes);
  }
}

void ClientConnection::process_backend_ciphertext(std::span<const uint8_t> ciphertext) {
  backend_tls_->feed(ciphertext);
  if (state_ == State::kConnectingBackend) {
    handle_backend_handshake();
    return;
  }
  drain_backend_plaintext();
}

void ClientConnection::drain_backend_plaintext() {
  std::span<uint8_t> scratch = services_.plaintext_buffer();
  while (state_ == State::kRelaying) {
    size_t got = 0;
    TlsSession::Status status = backend_tls_->read_records(scratch, &got);
    if (got > 0) relay_from_broker(scratch.first(got));
    if (status == TlsSession::Status::kOk) continue;  // the buffer was full: read on
    if (state_ != State::kRelaying) break;
    if (status == TlsSession::Status::kClosed) close("backend_closed");
    else if (status == TlsSession::Status::kError) on_backend_tls_error();
    break;
  }
  // Reading can queue records of its own (alerts, key updates).
  if (state_ == State::kRelaying && flush_to_backend()) backend_tls_->trim();
}

void ClientConnection::relay_from_broker(std::span<const uint8_t> bytes) {
  if (!rewriter_) {
    deliver_to_device(bytes);
    return;
  }
  if (broker_connack_) {
    // The broker's CONNACK goes to the device as it is; the rewriter starts after it.
    size_t consumed = 0;
    mqttparse::FrameStatus status = broker_connack_->feed(bytes, &consumed);
    if (status == mqttparse::FrameStatus::kNeedMore) return;
    if (status != mqttparse::FrameStatus::kPacket) {
      close("broker_protocol_error");
      return;
    }
    std::vector<uint8_t> connack(broker_connack_->packet().begin(), broker_connack_->packet().end());
    broker_connack_.reset();
    if (!deliver_to_device(connack)) return;
    bytes = bytes.subspan(consumed);
    if (bytes.empty()) return;
  }
  std::vector<uint8_t> to_device, to_broker;
  TopicRewriter::Result result = rewriter_->from_broker(bytes, &to_device, &to_broker);
  if (!to_broker.empty() && !send_to_backend(to_broker)) return;
  if (!to_device.empty() && !deliver_to_device(to_device)) return;
  if (result == TopicRewriter::Result::kClose) close("broker_protocol_error");
}

bool ClientConnection::deliver_to_device(std::span<const uint8_t> bytes) {
  if (!tls_->write(bytes)) {
    close("tls_write_error");
    return false;
  }
  to_client_boundary_.advance(bytes);
  bytes_to_client_ += bytes.size();
  WorkerMetrics& metrics = services_.metrics();
  bump(metrics.bytes_to_device, bytes.size());
  if (!connack_relayed_) {
    // The broker's first bytes are its CONNACK.
    connack_relayed_ = true;
    metrics.connack_latency.observe(seconds_since_accept());
  }
  if (!flush_to_client()) return false;
  tls_->trim();
  update_backpressure();
  return true;
}

void ClientConnection::relay_from_device(std::span<const uint8_t> plaintext) {
  bump(services_.metrics().bytes_to_broker, plaintext.size());
  if (!rewriter_) {
    if (send_to_backend(plaintext)) update_backpressure();
    return;
  }
  std::vector<uint8_t> to_broker, to_device;
  TopicRewriter::Result result = rewriter_->from_device(plaintext, &to_broker, &to_device);
  if (!to_broker.empty() && !send_to_backend(to_broker)) return;
  if (!to_device.empty() && !deliver_to_device(to_device)) return;
  if (result == TopicRewriter::Result::kClose) {
    close("topic_policy_close");
    return;
  }
  update_backpressure();
}

bool ClientConnection::flush_to_client() {
  std::span<uint8_t> scratch = services_.ciphertext_buffer();
  while (tls_->pending_output() > 0) {
    size_t n = tls_->take_output(scratch);
    if (n == 0) break;
    if (write_copy(client_.stream(), scratch.first(n), &ClientConnection::on_client_write_done) != 0) {
      close("client_write_error");
      return false;
    }
  }
  return true;
}

bool ClientConnection::send_to_backend(std::span<const uint8_t> bytes) {
  if (!backend_tls_) return write_to_backend_socket(bytes);
  if (!backend_tls_->write(bytes)) {
    close("backend_tls_write_error");
    return false;
  }
  if (!flush_to_backend()) return false;
  backend_tls_->trim();
  return true;
}

bool ClientConnection::flush_to_backend() {
  std::span<uint8_t> scratch = services_.ciphertext_buffer();
  while (backend_tls_->pending_output() > 0) {
    size_t n = backend_tls_->take_output(scratch);
    if (n == 0) break;
    if (!write_to_backend_socket(scratch.first(n))) return false;
  }
  return true;
}

bool ClientConnection::write_to_backend_socket(std::span<const uint8_t> bytes) {
  int rc = write_copy(backend_.stream(), bytes, &ClientConnection::on_backend_write_done);
  if (rc == 0) return true;
  if (state_ == State::kConnectingBackend) {
    backend_attempt_failed(uv_strerror(rc));
  } else {
    close("backend_write_error");
  }
  return false;
}

void ClientConnection::on_client_write_done(uv_write_t* request, int status) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(request->handle));
  if (self == nullptr) return;
  if (status < 0) {
    self->close("client_write_error");
    return;
  }
  self->update_backpressure();
}

void ClientConnection::on_backend_write_done(uv_write_t* request, int status) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(request->handle));
  if (self == nullptr) return;
  if (status < 0) {
    if (self->state_ == State::kConnectingBackend) {
      self->backend_attempt_failed(uv_strerror(status));
    } else {
      self->close("backend_write_error");
    }
    return;
  }
  self->update_backpressure();
}

void ClientConnection::update_backpressure() {
  if (state_ != State::kRelaying) return;
  size_t to_backend = uv_stream_get_write_queue_size(backend_.stream());
  size_t to_client = uv_stream_get_write_queue_size(client_.stream());
  if (client_reading_ && to_backend > kHighWater) {
    uv_read_stop(client_.stream());
    client_reading_ = false;
  } else if (!client_reading_ && to_backend < kLowWater) {
    uv_read_start(client_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_client_read);
    client_reading_ = true;
  }
  if (backend_reading_ && to_client > kHighWater) {
    uv_read_stop(backend_.stream());
    backend_reading_ = false;
  } else if (!backend_reading_ && to_client < kLowWater) {
    uv_read_start(backend_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_backend_read);
    backend_reading_ = true;
  }
}

void ClientConnection::on_deadline(uv_timer_t* timer) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(timer));
  if (self == nullptr) return;
  switch (self->state_) {
    case State::kReadingProxyHeader:
    case State::kHandshaking:
    case State::kReadingConnect:
      self->close("connect_timeout");
      break;
    case State::kConnectingBackend:
      // With backend.tls the broker is read from once TCP is up: then the handshake timed out.
      self->backend_attempt_failed(self->backend_reading_ ? "tls_handshake_timeout" : "timeout");
      break;
    case State::kRelaying:
      self->kick("certificate_expired", kDisconnectNotAuthorized);
      break;
    case State::kRefusing:
    case State::kClosed:
      self->finish_close();
      break;
    default:
      break;
  }
}

// ---- per-state handlers ------------------------------------------------------------------

void ClientConnection::handle_handshake() {
  switch (tls_->handshake()) {
    case TlsSession::Status::kOk:
      state_ = State::kReadingConnect;
      if (listener_.tls->cert_identity() == config::CertIdentity::kCommonName) {
        peer_cert_.cert_id = peer_cert_.cn;  // PKIs that re-issue certificates keep the CN
      }
      flush_to_client();
      break;
    case TlsSession::Status::kWantRead:
      flush_to_client();
      break;
    case TlsSession::Status::kClosed:
      close("tls_closed_in_handshake");
      break;
    case TlsSession::Status::kError:
      flush_to_client();  // the alert tells the client why
      if (ListenerMetrics* m = listener_metrics()) {
        bump(m->tls_failures[static_cast<size_t>(classify_tls_failure(tls_->error_reason()))]);
      }
      log_event(spdlog::level::info, "tls_handshake_failed",
                {{"listener", listener_.config->name}, {"peer", peer_}, {"reason", tls_->error_reason()}},
                LogLimit::kLimited);
      close("tls_handshake_failed");
      break;
  }
}

void ClientConnection::handle_proxy_header(std::span<const uint8_t> bytes) {
  ProxyProtocolVersion expected = listener_.config->proxy_protocol == config::ProxyProtocol::kV1
                                      ? ProxyProtocolVersion::kV1
                                      : ProxyProtocolVersion::kV2;
  proxy_header_.insert(proxy_header_.end(), bytes.begin(), bytes.end());
  ProxyHeader header;
  size_t consumed = 0;
  switch (parse_proxy_header(expected, proxy_header_, &header, &consumed)) {
    case ProxyHeaderStatus::kNeedMore:
      if (proxy_header_.size() > kProxyV2MaxHeader) close("proxy_header_too_large");
      return;
    case ProxyHeaderStatus::kInvalid:
      log_event(spdlog::level::info, "proxy_header_invalid",
                {{"listener", listener_.config->name}, {"peer", peer_}}, LogLimit::kLimited);
      close("proxy_header_invalid");
      return;
    case ProxyHeaderStatus::kDone:
      break;
  }
  if (!header.local) {
    real_peer_ = std::make_unique<sockaddr_storage>(header.source);
    peer_ = format_address(reinterpret_cast<const sockaddr*>(&header.source));
  }
  if (!services_.abuse().admit_connection(ip_of(peer_))) {
    close("connection_rate_limited");
    return;
  }
  std::vector<uint8_t> rest(proxy_header_.begin() + static_cast<std::ptrdiff_t>(consumed), proxy_header_.end());
  proxy_header_ = {};
  state_ = State::kHandshaking;
  if (!rest.empty()) process_client_ciphertext(rest);
}

void ClientConnection::handle_plaintext(std::span<const uint8_t> plaintext) {
  switch (state_) {
    case State::kReadingConnect: {
      size_t consumed = 0;
      mqttparse::FrameStatus status = framer_.feed(plaintext, &consumed);
      if (status == mqttparse::FrameStatus::kNeedMore) return;
      if (status != mqttparse::FrameStatus::kPacket) {
        close(status == mqttparse::FrameStatus::kTooLarge ? "connect_too_large" : "malformed_header");
        return;
      }
      handle_connect_packet(framer_.packet());
      if (state_ == State::kClosed || state_ == State::kRefusing) return;
      handle_plaintext(plaintext.subspan(consumed));
      return;
    }
    case State::kLookingUp:
    case State::kVerifyingSecret:
    case State::kConnectingBackend:
      if (plaintext.empty()) return;
      pending_to_backend_.insert(pending_to_backend_.end(), plaintext.begin(), plaintext.end());
      if (pending_to_backend_.size() > kMaxPipelined && client_reading_) {
        uv_read_stop(client_.stream());
        client_reading_ = false;
      }
      return;
    case State::kRelaying:
      if (!plaintext.empty()) relay_from_device(plaintext);
      return;
    default:
      return;
  }
}

void ClientConnection::ack_quickly() {
  // Many device stacks leave Nagle on: their CONNECT waits for the ACK of the TLS Finished,
  // which a delayed ACK holds back ~40 ms. Quick ACKs while the CONNECT is awaited avoid
  // that stall. Linux leaves quick-ACK mode on its own, so it is renewed on each read.
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(client_.get()), &fd) == 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }
}

ListenerMetrics* ClientConnection::listener_metrics() {
  return listener_.index < kMaxListeners ? &services_.metrics().listeners[listener_.index] : nullptr;
}

double ClientConnection::seconds_since_accept() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - accepted_at_).count();
}

void ClientConnection::count_backend_failure(size_t index) {
  services_.backends().connect_failed(index);
  if (index < kMaxBackends) bump(services_.metrics().backend_connect_failures[index]);
}

// ---- closing -----------------------------------------------------------------------------

void ClientConnection::close(std::string_view why) {
  if (state_ == State::kClosed) return;
  bool was_relaying = state_ == State::kRelaying;
  state_ = State::kClosed;
  if (lookup_ticket_ != auth::RedisStore::kNoTicket) {
    services_.store().cancel(lookup_ticket_);
    lookup_ticket_ = auth::RedisStore::kNoTicket;
  }
  if (secret_check_) {
    secret_check_->owner = nullptr;
    secret_check_ = nullptr;
  }
  if (was_relaying) {
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - accepted_at_).count();
    log_event(spdlog::level::info, "disconnect",
              {{"device", device_id_}, {"listener", listener_.config->name}, {"peer", peer_},
               {"reason", why}, {"bytes_in", bytes_from_client_}, {"bytes_out", bytes_to_client_},
               {"duration", seconds}});
    services_.session_ended(this);
    services_.journal().closed(session_facts(), why, bytes_from_client_, bytes_to_client_, seconds);
    tls_->shutdown();
    flush_to_client();
    if (backend_tls_ && backend_) {
      backend_tls_->shutdown();
      flush_to_backend();
    }
  } else if (why != "refused") {
    log_event(spdlog::level::debug, "connection_closed",
              {{"listener", listener_.config->name}, {"peer", peer_}, {"reason", why},
               {"duration", seconds_since_accept()}},
              LogLimit::kLimited);
  }
  // Let queued bytes (a CONNACK, the broker's last packets) reach their peers, then close.
  for (TcpHandle* side : {&client_, &backend_}) {
    if (!*side) continue;
    uv_read_stop(side->stream());
    if (uv_stream_get_write_queue_size(side->stream()) == 0) {
      side->reset();
      continue;
    }
    auto request = std::make_unique<uv_shutdown_t>();
    if (uv_shutdown(request.get(), side->stream(), [](uv_shutdown_t* req, int) {
          std::unique_ptr<uv_shutdown_t> owned(req);
          ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(req->handle));
          if (self != nullptr && --self->pending_shutdowns_ == 0) self->finish_close();
        }) == 0) {
      request.release();  // reclaimed in the callback
      ++pending_shutdowns_;
    } else {
      side->reset();
    }
  }
  if (pending_shutdowns_ == 0) {
    finish_close();
    return;
  }
  uv_timer_start(deadline_.get(), &ClientConnection::on_deadline, kLingerMs, 0);
}

void ClientConnection::finish_close() {
  if (released_) return;
  released_ = true;
  if (backend_index_ != SIZE_MAX) services_.backends().connection_closed(backend_index_);
  client_.reset();
  backend_.reset();
  deadline_.reset();
  services_.release(this);
}

}  // namespace proxy
