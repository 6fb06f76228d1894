#include "proxy/client_connection.h"
#include "proxy/client_connection_internal.h"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>
#include <utility>

#include "proxy/abuse_guard.h"
#include "proxy/connect_rewrite.h"
#include "proxy/log_event.h"
#include "proxy/peer_address.h"
#include "proxy/secret_check.h"
#include "proxy/worker_services.h"

namespace proxy {

using namespace connection_internal;

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
  if (state_ != State::kRelaying) return;
  if (lookup_ticket_ != auth::RedisStore::kNoTicket) {
    revalidate_again_ = true;
    return;
  }
  const std::string* cert_id = listener_.tls->requires_client_cert() ? &peer_cert_.cert_id : nullptr;
  // From the master even with read_from: replica: a re-check triggered by the change feed
  // must see the change that triggered it, which a replica may not have yet.
  lookup_ticket_ = services_.store().lookup(
      device_id_, cert_id, [this](auth::LookupResult&& result) { on_revalidated(std::move(result)); },
      auth::ReadPreference::kMaster);
}

void ClientConnection::on_revalidated(auth::LookupResult&& result) {
  lookup_ticket_ = auth::RedisStore::kNoTicket;
  if (state_ != State::kRelaying) return;
  // Another change came while this re-check was in flight: this answer may predate it, so
  // the next one decides.
  if (std::exchange(revalidate_again_, false)) {
    revalidate();
    return;
  }
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

}  // namespace proxy
