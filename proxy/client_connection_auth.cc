#include "proxy/client_connection.h"
#include "proxy/client_connection_internal.h"
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
  // A replica may answer (read_from: replica): a device added a moment ago may be refused
  // for the replication delay. Re-checks of live sessions read the master (revalidate()).
  lookup_ticket_ = services_.store().lookup(
      device_id_, cert_id, [this](auth::LookupResult&& result) { on_lookup(std::move(result)); },
      auth::ReadPreference::kReplicaOk);
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

bool ClientConnection::send_proxy_header_to_backend() {
  config::ProxyProtocol mode = config().backend.proxy_protocol;
  if (mode == config::ProxyProtocol::kOff) return true;
  sockaddr_storage source{}, destination{};
  int length = sizeof source;
  if (real_peer_) {
    source = *real_peer_;  // kept until relaying: every backend attempt sends the header
  } else {
    uv_tcp_getpeername(client_.get(), reinterpret_cast<sockaddr*>(&source), &length);
  }
  length = sizeof destination;
  uv_tcp_getsockname(client_.get(), reinterpret_cast<sockaddr*>(&destination), &length);
  std::vector<uint8_t> header;
  if (mode == config::ProxyProtocol::kV1) {
    header = encode_proxy_v1(reinterpret_cast<const sockaddr*>(&source),
                             reinterpret_cast<const sockaddr*>(&destination));
  } else {
    ProxyV2Tls tls;
    tls.version = tls_->protocol_version();
    if (listener_.tls->requires_client_cert()) {
      tls.client_cn = peer_cert_.cn;
      tls.client_cert_presented = true;
      tls.client_cert_verified = true;  // the handshake fails otherwise
    }
    header = encode_proxy_v2(reinterpret_cast<const sockaddr*>(&source),
                             reinterpret_cast<const sockaddr*>(&destination), &tls);
  }
  if (header.empty()) {
    close("proxy_header_not_encodable");
    return false;
  }
  return write_to_backend_socket(header);
}

bool ClientConnection::prepare_topic_policy() {
  if (!needs_topic_rewriter(*listener_.config)) return true;
  RewriteVariables vars{listener_.config->name, &device_,
                        listener_.tls->requires_client_cert() ? &peer_cert_ : nullptr};
  TopicPolicy policy;
  std::string why;
  if (resolve_policy(*listener_.config, template_lookup(*connect_, vars), &policy, &why) !=
      PolicyStatus::kOk) {
    log_event(spdlog::level::warn, "topic_policy_refused",
              {{"device", device_id_}, {"listener", listener_.config->name}, {"reason", why}},
              LogLimit::kLimited);
    refuse(auth::Reason::kTopicPolicy);
    return false;
  }
  if (connect_->will) {
    if (!acl_allows_publish(policy, connect_->will_topic)) {
      log_event(spdlog::level::info, "topic_policy_refused",
                {{"device", device_id_}, {"listener", listener_.config->name}, {"reason", "will_topic_denied"}},
                LogLimit::kLimited);
      refuse(auth::Reason::kTopicPolicy);
      return false;
    }
    connect_->will_topic = mount_topic(policy, connect_->will_topic);
  }
  topic_policy_ = std::move(policy);
  return true;
}

void ClientConnection::connect_backend() {
  if (!prepare_topic_policy()) return;
  state_ = State::kConnectingBackend;
  backend_order_ = services_.backends().attempt_order(device_id_);
  try_backend(0);
}

void ClientConnection::try_backend(size_t attempt) {
  BackendPool& pool = services_.backends();
  if (attempt >= backend_order_.size()) {
    refuse(auth::Reason::kBackendUnavailable);
    return;
  }
  backend_attempt_ = attempt;
  const BackendServer& server = pool.server(backend_order_[attempt]);
  backend_name_ = server.name;
  if (listener_.backend_tls) {
    backend_tls_ = listener_.backend_tls->new_session(server.host);
    if (!backend_tls_) {
      close("tls_session_alloc_failed");
      return;
    }
  }
  uv_tcp_t* tcp = backend_.allocate(this);
  uv_tcp_init(services_.loop(), tcp);
  connect_request_.data = nullptr;
  int rc = uv_tcp_connect(&connect_request_, tcp, reinterpret_cast<const sockaddr*>(&server.address),
                          &ClientConnection::on_backend_connected);
  if (rc != 0) {
    backend_attempt_failed(uv_strerror(rc));
    return;
  }
  // Per attempt: TCP connect, and with backend.tls the handshake too.
  uv_timer_start(deadline_.get(), &ClientConnection::on_deadline,
                 config().backend.connect_timeout.count(), 0);
}

void ClientConnection::backend_attempt_failed(std::string_view reason, std::string_view detail) {
  uv_timer_stop(deadline_.get());
  if (detail.empty()) {
    log_event(spdlog::level::warn, "backend_connect_failed",
              {{"backend", backend_name_}, {"reason", reason}}, LogLimit::kLimited);
  } else {
    log_event(spdlog::level::warn, "backend_connect_failed",
              {{"backend", backend_name_}, {"reason", reason}, {"detail", detail}}, LogLimit::kLimited);
  }
  if (backend_attempt_ < backend_order_.size()) count_backend_failure(backend_order_[backend_attempt_]);
  backend_.reset();
  backend_tls_.reset();
  backend_reading_ = false;
  try_backend(backend_attempt_ + 1);
}

void ClientConnection::on_backend_connected(uv_connect_t* request, int status) {
  ClientConnection* self = owner_of(reinterpret_cast<uv_handle_t*>(request->handle));
  if (self == nullptr || self->state_ != State::kConnectingBackend) return;
  if (status < 0) {
    self->backend_attempt_failed(uv_strerror(status));
    return;
  }
  if (self->backend_tls_) {
    self->start_backend_handshake();  // the deadline keeps running: it bounds the handshake
    return;
  }
  uv_timer_stop(self->deadline_.get());
  self->on_backend_ready();
}

void ClientConnection::start_backend_handshake() {
  // The PROXY header goes first and in clear: HAProxy and EMQX read it before TLS.
  if (!send_proxy_header_to_backend()) return;
  uv_tcp_nodelay(backend_.get(), 1);
  uv_read_start(backend_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_backend_read);
  backend_reading_ = true;
  handle_backend_handshake();
}

void ClientConnection::handle_backend_handshake() {
  TlsSession::Status status = backend_tls_->handshake();
  // Whatever the status, what the handshake wrote (ClientHello, Finished, an alert) goes out.
  if (!flush_to_backend()) return;
  switch (status) {
    case TlsSession::Status::kWantRead:
      return;
    case TlsSession::Status::kOk:
      uv_timer_stop(deadline_.get());
      on_backend_ready();
      // Records that came with the server's last flight (TLS 1.3 session tickets).
      if (state_ == State::kRelaying) drain_backend_plaintext();
      return;
    case TlsSession::Status::kClosed:
      backend_attempt_failed("tls_closed_in_handshake");
      return;
    case TlsSession::Status::kError:
      backend_attempt_failed("tls_" + backend_tls_->error_reason(), backend_tls_->error_detail());
      return;
  }
}

void ClientConnection::on_backend_tls_error() {
  if (connack_relayed_) {
    log_event(spdlog::level::info, "backend_tls_error",
              {{"backend", backend_name_}, {"device", device_id_}, {"reason", backend_tls_->error_reason()},
               {"detail", backend_tls_->error_detail()}},
              LogLimit::kLimited);
    close("backend_tls_error");
    return;
  }
  // The broker refused the TLS session before answering the CONNECT: with TLS 1.3 a
  // rejected (or missing) proxy certificate is only reported after the handshake. The
  // CONNECT is gone, so no other server is tried; the device gets the answer for an
  // unreachable backend rather than a bare close.
  log_event(spdlog::level::warn, "backend_connect_failed",
            {{"backend", backend_name_}, {"reason", "tls_" + backend_tls_->error_reason()},
             {"detail", backend_tls_->error_detail()}},
            LogLimit::kLimited);
  count_backend_failure(backend_index_);
  uint8_t code = auth::connack_code(auth::Reason::kBackendUnavailable, version_);
  if (!tls_->write(mqttparse::encode_connack(version_, code))) {
    close("tls_write_error");
    return;
  }
  close("backend_tls_refused");
}

void ClientConnection::on_backend_ready() {
  state_ = State::kRelaying;
  backend_index_ = backend_order_[backend_attempt_];
  services_.backends().connect_succeeded(backend_index_);
  backend_order_ = {};
  // With backend.tls the header went out before the handshake.
  if (!backend_tls_ && !send_proxy_header_to_backend()) return;
  real_peer_.reset();
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
  if (topic_policy_) {
    rewriter_ = std::make_unique<TopicRewriter>(std::move(*topic_policy_), version_,
                                                config().limits.max_connect_packet);
    topic_policy_.reset();
    broker_connack_ = std::make_unique<mqttparse::PacketFramer>(64);
  }
  if (!pending_to_backend_.empty()) {
    std::vector<uint8_t> pipelined = std::move(pending_to_backend_);
    pending_to_backend_ = {};
    relay_from_device(pipelined);
    if (state_ != State::kRelaying) return;
  }
  if (!backend_reading_) {
    uv_read_start(backend_.stream(), &ClientConnection::on_alloc, &ClientConnection::on_backend_read);
    backend_reading_ = true;
  }
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
  backend_tls_.reset();
  backend_reading_ = false;
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

}  // namespace proxy
