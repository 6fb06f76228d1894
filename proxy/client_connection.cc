#include "proxy/client_connection.h"

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
namespace {

// A side whose peer has this much queued and unsent makes us stop reading the other side;
// reading resumes below kLowWater. Bounds the memory one connection can hold.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kLowWater = 64 * 1024;
// What a device may pipeline after CONNECT before the backend is connected.
constexpr size_t kMaxPipelined = 64 * 1024;
// How long a refusal or a close may take to flush before the sockets are dropped.
constexpr uint64_t kLingerMs = 2000;

// MQTT 5 DISCONNECT reason codes used when the proxy ends a session.
constexpr uint8_t kDisconnectNotAuthorized = 0x87;
constexpr uint8_t kDisconnectAdministrativeAction = 0x98;
constexpr uint8_t kDisconnectServerShuttingDown = 0x8B;

// Refusals that count towards brute-force bans: guesses at identities and keys. Disabled
// devices, bans themselves and outages do not.
bool counts_as_auth_failure(auth::Reason reason) {
  switch (reason) {
    case auth::Reason::kUnknownDevice:
    case auth::Reason::kBadSecret:
    case auth::Reason::kUsernameMismatch:
    case auth::Reason::kNoPassword:
    case auth::Reason::kWrongAuthType:
    case auth::Reason::kCertUnknown:
    case auth::Reason::kCertNotBound:
      return true;
    default:
      return false;
  }
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

ClientConnection* owner_of(const uv_handle_t* handle) {
  return static_cast<ClientConnection*>(handle->data);
}

}  // namespace

std::string_view state_name(ClientConnection::State state) {
  switch (state) {
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
    TlsSession::Status status = tls_->read(scratch, &got);
    if (status == TlsSession::Status::kOk) {
      handle_plaintext(scratch.first(got));
      continue;
    }
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
    self->close(nread == UV_EOF ? "backend_closed" : "backend_read_error");
    return;
  }
  std::span<const uint8_t> bytes{reinterpret_cast<const uint8_t*>(buf->base),
                                 static_cast<size_t>(nread)};
  if (!self->tls_->write(bytes)) {
    self->close("tls_write_error");
    return;
  }
  self->to_client_boundary_.advance(bytes);
  self->bytes_to_client_ += bytes.size();
  WorkerMetrics& metrics = self->services_.metrics();
  bump(metrics.bytes_to_device, bytes.size());
  if (!self->connack_relayed_) {
    // The broker's first bytes are its CONNACK.
    self->connack_relayed_ = true;
    metrics.connack_latency.observe(self->seconds_since_accept());
  }
  if (self->flush_to_client()) {
    self->tls_->trim();
    self->update_backpressure();
  }
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
  if (write_copy(backend_.stream(), bytes, &ClientConnection::on_backend_write_done) != 0) {
    close("backend_write_error");
    return false;
  }
  return true;
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
    self->close("backend_write_error");
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
    case State::kHandshaking:
    case State::kReadingConnect:
      self->close("connect_timeout");
      break;
    case State::kConnectingBackend:
      log_event(spdlog::level::warn, "backend_connect_failed",
                {{"backend", self->backend_name_}, {"reason", "timeout"}}, LogLimit::kLimited);
      self->count_backend_failure();
      self->backend_.reset();
      self->try_backend(self->backend_attempt_ + 1);
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
      if (plaintext.empty()) return;
      bump(services_.metrics().bytes_to_broker, plaintext.size());
      if (send_to_backend(plaintext)) update_backpressure();
      return;
    default:
      return;
  }
}

void ClientConnection::handle_connect_packet(std::span<const uint8_t> packet) {
  uv_timer_stop(deadline_.get());
  connect_.emplace();
  switch (mqttparse::decode_connect(packet, &*connect_)) {
    case mqttparse::ConnectStatus::kOk:
      break;
    case mqttparse::ConnectStatus::kUnsupportedProtocolLevel:
      // The client's level is unknown: answer in the 3.1.1 format, as the 3.1.1 spec asks.
      refuse(auth::Reason::kUnsupportedProtocol);
      return;
    case mqttparse::ConnectStatus::kNotConnect:
      close("first_packet_not_connect");
      return;
    case mqttparse::ConnectStatus::kMalformed:
      close("malformed_connect");
      return;
  }
  device_id_ = connect_->client_id;
  version_ = connect_->version;
  if (services_.abuse().banned(ip_of(peer_), device_id_)) {
    refuse(auth::Reason::kBanned);  // no lookup, no hashing
    return;
  }

  auth::ConnectFacts facts = connect_facts();
  auth::Reason early = auth::precheck(facts);
  if (early != auth::Reason::kAccepted) {
    refuse(early);
    return;
  }
  state_ = State::kLookingUp;
  lookup_started_ = std::chrono::steady_clock::now();
  const std::string* cert_id = listener_.tls->requires_client_cert() ? &peer_cert_.cert_id : nullptr;
  lookup_ticket_ = services_.store().lookup(
      device_id_, cert_id, [this](auth::LookupResult&& result) { on_lookup(std::move(result)); });
}

auth::ConnectFacts ClientConnection::connect_facts() const {
  auth::ConnectFacts facts;
  facts.listener_auth = listener_.config->auth;
  facts.version = connect_->version;
  facts.client_id = connect_->client_id;
  if (connect_->username) facts.username = std::string_view(*connect_->username);
  facts.has_password = connect_->password.has_value();
  facts.has_authentication_method = connect_->has_authentication_method;
  facts.peer_cert = listener_.tls->requires_client_cert() ? &peer_cert_ : nullptr;
  return facts;
}

void ClientConnection::on_lookup(auth::LookupResult&& result) {
  lookup_ticket_ = auth::RedisStore::kNoTicket;
  services_.metrics().lookup_latency.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - lookup_started_).count());
  if (result.status != auth::LookupStatus::kOk) {
    bump(services_.metrics().redis_lookup_errors);
    refuse(auth::Reason::kStoreUnavailable);
    return;
  }
  device_ = std::move(result.device);
  auth::CertRecord* cert = result.cert ? &*result.cert : nullptr;
  auth::Decision decision = auth::decide(connect_facts(), device_, cert, unix_now());
  if (connect_->username) username_ = *connect_->username;
  secret_fingerprint_ = std::hash<std::string_view>{}(device_.secret());
  switch (decision.verdict) {
    case auth::Verdict::kRefuse:
      refuse(decision.reason);
      return;
    case auth::Verdict::kAccept:
      connect_backend();
      return;
    case auth::Verdict::kVerifySecret:
      break;
  }
  state_ = State::kVerifyingSecret;
  std::string_view stored = device_.secret();
  std::span<const uint8_t> password(*connect_->password);
  bool plaintext_allowed = config().auth.plaintext_secrets;
  if (auth::secret_is_slow(stored)) {
    secret_check_ = SecretCheck::start(services_.loop(), this, stored, password, plaintext_allowed);
    return;
  }
  on_secret_verified(auth::verify_secret(stored, password, plaintext_allowed));
}

void ClientConnection::on_secret_verified(auth::VerifyResult result) {
  secret_check_ = nullptr;
  switch (result) {
    case auth::VerifyResult::kMatch:
      connect_backend();
      return;
    case auth::VerifyResult::kMismatch:
      refuse(auth::Reason::kBadSecret);
      return;
    case auth::VerifyResult::kUnsupportedFormat:
      log_event(spdlog::level::err, "unsupported_secret_format", {{"device", device_id_}}, LogLimit::kLimited);
      refuse(auth::Reason::kUnsupportedSecret);
      return;
  }
}

void ClientConnection::connect_backend() {
  state_ = State::kConnectingBackend;
  backend_first_ = services_.backends().first_choice();
  try_backend(0);
}

void ClientConnection::try_backend(size_t attempt) {
  BackendPool& pool = services_.backends();
  if (attempt >= pool.size()) {
    refuse(auth::Reason::kBackendUnavailable);
    return;
  }
  backend_attempt_ = attempt;
  const BackendServer& server = pool.server(backend_first_ + attempt);
  backend_name_ = server.name;
  uv_tcp_t* tcp = backend_.allocate(this);
  uv_tcp_init(services_.loop(), tcp);
  connect_request_.data = nullptr;
  int rc = uv_tcp_connect(&connect_request_, tcp, reinterpret_cast<const sockaddr*>(&server.address),
                          &ClientConnection::on_backend_connected);
  if (rc != 0) {
    log_event(spdlog::level::warn, "backend_connect_failed",
              {{"backend", server.name}, {"reason", uv_strerror(rc)}}, LogLimit::kLimited);
    backend_.reset();
    try_backend(attempt + 1);
    return;
  }
  uv_timer_start(deadline_.get(), &ClientConnection::on_deadline,
                 config().backend.connect_timeout.count(), 0);
}

void ClientConnection::on_backend_connected(uv_connect_t* request, int status) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(request->handle));
  if (self == nullptr || self->state_ != State::kConnectingBackend) return;
  uv_timer_stop(self->deadline_.get());
  if (status < 0) {
    log_event(spdlog::level::warn, "backend_connect_failed",
              {{"backend", self->backend_name_}, {"reason", uv_strerror(status)}}, LogLimit::kLimited);
    self->count_backend_failure();
    self->backend_.reset();
    self->try_backend(self->backend_attempt_ + 1);
    return;
  }
  self->on_backend_ready();
}

void ClientConnection::on_backend_ready() {
  state_ = State::kRelaying;
  uv_tcp_nodelay(backend_.get(), 1);
  RewriteVariables vars{listener_.config->name, &device_,
                        listener_.tls->requires_client_cert() ? &peer_cert_ : nullptr};
  std::vector<uint8_t> rewritten =
      mqttparse::encode_connect(rewrite_connect(*connect_, config().backend.rewrite, vars));
  // The password, the rest of the CONNECT, the buffered packet and the device record are not
  // needed while relaying: an idle session keeps only what revalidation uses.
  connect_.reset();
  framer_ = mqttparse::PacketFramer(0);
  device_ = auth::DeviceRecord{};
  if (rewritten.empty()) {
    // A template produced a field MQTT cannot carry (over 65535 bytes): an operator error.
    log_event(spdlog::level::err, "rewrite_not_encodable", {{"device", device_id_}}, LogLimit::kLimited);
    refuse(auth::Reason::kBackendUnavailable);
    return;
  }
  log_event(spdlog::level::info, "connect_accepted",
            {{"device", device_id_}, {"listener", listener_.config->name}, {"peer", peer_},
             {"backend", backend_name_}, {"duration", seconds_since_accept()}});
  connected_at_ = unix_now();
  conn_id_ = services_.next_conn_id();
  if (ListenerMetrics* m = listener_metrics()) bump(m->auth[static_cast<size_t>(auth::Reason::kAccepted)]);
  services_.session_started(this);
  services_.journal().opened(session_facts());
  arm_certificate_expiry();
  if (!send_to_backend(rewritten)) return;
  if (!pending_to_backend_.empty()) {
    std::vector<uint8_t> pipelined = std::move(pending_to_backend_);
    pending_to_backend_ = {};
    if (!send_to_backend(pipelined)) return;
  }
  uv_read_start(backend_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_backend_read);
  backend_reading_ = true;
  if (!client_reading_) {
    uv_read_start(client_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_client_read);
    client_reading_ = true;
  }
  update_backpressure();
}

void ClientConnection::refuse(auth::Reason reason) {
  // version_ is 3.1.1 until a CONNECT decoded: an unknown level gets the 3.1.1 format.
  mqttparse::ProtocolVersion version = version_;
  uint8_t code = auth::connack_code(reason, version);
  if (ListenerMetrics* m = listener_metrics()) bump(m->auth[static_cast<size_t>(reason)]);
  services_.metrics().connack_latency.observe(seconds_since_accept());
  char code_text[8];
  std::snprintf(code_text, sizeof code_text, "0x%02x", code);
  log_event(spdlog::level::info, "connect_refused",
            {{"device", device_id_}, {"listener", listener_.config->name}, {"peer", peer_},
             {"reason", auth::reason_name(reason)}, {"connack", code_text},
             {"duration", seconds_since_accept()}},
            LogLimit::kLimited);
  if (counts_as_auth_failure(reason)) services_.abuse().record_failure(ip_of(peer_), device_id_);
  services_.journal().auth_failed(device_id_, listener_.config->name, peer_, auth::reason_name(reason));
  backend_.reset();
  state_ = State::kRefusing;
  std::vector<uint8_t> connack = mqttparse::encode_connack(version, code);
  if (!tls_->write(connack)) {
    close("tls_write_error");
    return;
  }
  tls_->shutdown();
  if (!flush_to_client()) return;
  close("refused");
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

void ClientConnection::count_backend_failure() {
  size_t index = (backend_first_ + backend_attempt_) % std::max<size_t>(1, services_.backends().size());
  if (index < kMaxBackends) bump(services_.metrics().backend_connect_failures[index]);
}

// ---- live sessions -----------------------------------------------------------------------

SessionFacts ClientConnection::session_facts() const {
  SessionFacts facts;
  facts.device_id = device_id_;
  facts.listener = listener_.config->name;
  facts.peer = peer_;
  facts.cert_id = peer_cert_.cert_id;
  facts.conn_id = conn_id_;
  facts.connected_at = connected_at_;
  return facts;
}

void ClientConnection::arm_certificate_expiry() {
  if (!listener_.tls->requires_client_cert()) return;
  int64_t remaining_ms = (peer_cert_.not_after - unix_now()) * 1000;
  uv_timer_start(deadline_.get(), &ClientConnection::on_deadline,
                 static_cast<uint64_t>(std::max<int64_t>(remaining_ms, 0)), 0);
}

void ClientConnection::revalidate() {
  if (state_ != State::kRelaying || lookup_ticket_ != auth::RedisStore::kNoTicket) return;
  const std::string* cert_id = listener_.tls->requires_client_cert() ? &peer_cert_.cert_id : nullptr;
  lookup_ticket_ = services_.store().lookup(
      device_id_, cert_id, [this](auth::LookupResult&& result) { on_revalidated(std::move(result)); });
}

void ClientConnection::on_revalidated(auth::LookupResult&& result) {
  lookup_ticket_ = auth::RedisStore::kNoTicket;
  if (state_ != State::kRelaying) return;
  // Redis being unreachable is no reason to drop live devices: keep them until it answers.
  if (result.status != auth::LookupStatus::kOk) return;
  auth::ConnectFacts facts;
  facts.listener_auth = listener_.config->auth;
  facts.version = version_;
  facts.client_id = device_id_;
  facts.username = std::string_view(username_);
  facts.has_password = true;
  facts.peer_cert = listener_.tls->requires_client_cert() ? &peer_cert_ : nullptr;
  auth::CertRecord* cert = result.cert ? &*result.cert : nullptr;
  auth::Decision decision = auth::decide(facts, result.device, cert, unix_now());
  if (decision.verdict == auth::Verdict::kRefuse) {
    // The device itself was switched off or removed: an administrative action. A credential
    // that no longer holds (certificate, binding): not authorized.
    bool device_gone = decision.reason == auth::Reason::kDeviceDisabled ||
                       decision.reason == auth::Reason::kUnknownDevice;
    kick(auth::reason_name(decision.reason),
         device_gone ? kDisconnectAdministrativeAction : kDisconnectNotAuthorized);
    return;
  }
  if (decision.verdict == auth::Verdict::kVerifySecret &&
      std::hash<std::string_view>{}(result.device.secret()) != secret_fingerprint_) {
    kick("key_changed", kDisconnectNotAuthorized);
  }
}

void ClientConnection::kick(std::string_view why, uint8_t disconnect_reason) {
  if (state_ != State::kRelaying) return;
  log_event(spdlog::level::info, "session_kicked",
            {{"device", device_id_}, {"listener", listener_.config->name}, {"peer", peer_}, {"reason", why}});
  bump(services_.metrics().kicks);
  services_.journal().kicked(session_facts(), why);
  end_session("kicked:" + std::string(why), disconnect_reason);
}

void ClientConnection::end_for_shutdown() {
  if (state_ == State::kRelaying) {
    end_session("server_shutting_down", kDisconnectServerShuttingDown);
  } else {
    close("shutdown");
  }
}

void ClientConnection::end_session(std::string_view why, uint8_t disconnect_reason) {
  // Injected only between the broker's packets: mid-packet it would corrupt the stream, and
  // then the plain close alone is the honest signal.
  if (version_ == mqttparse::ProtocolVersion::kV5 && to_client_boundary_.at_boundary()) {
    tls_->write(mqttparse::encode_disconnect_v5(disconnect_reason));
  }
  close(why);
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
  client_.reset();
  backend_.reset();
  deadline_.reset();
  services_.release(this);
}

}  // namespace proxy
