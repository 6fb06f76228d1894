// bench/mqtt_auth_bench/connection.cc: see connection.h.
#include "bench/mqtt_auth_bench/connection.h"

#include <openssl/err.h>

#include <cstring>
#include <memory>

#include "bench/mqtt_auth_bench/credentials.h"
#include "bench/mqtt_auth_bench/worker.h"

namespace bench {
namespace {

// WriteRequest: a uv_write and the bytes it sends; freed in the write callback.
struct WriteRequest {
  uv_write_t request{};
  Bytes data;
};

uint64_t micros_since(uint64_t start_ns) { return (uv_hrtime() - start_ns) / 1000; }

}  // namespace

Connection::Connection(Worker& worker, size_t slot, const Credential* credential, Role role)
    : worker_(worker), slot_(slot), credential_(credential), role_(role) {
  tcp_.data = this;
  connect_request_.data = this;
}

uint16_t Connection::next_packet_id() {
  if (++packet_id_ == 0) packet_id_ = 1;
  return packet_id_;
}

void Connection::start(const sockaddr* address) {
  started_ns_ = uv_hrtime();
  uv_tcp_init(worker_.loop(), &tcp_);
  uv_tcp_nodelay(&tcp_, 1);
  int status = uv_tcp_connect(&connect_request_, &tcp_, address, on_connect);
  if (status != 0) close(Failure::kTcp);  // e.g. out of ephemeral ports or descriptors
}

void Connection::on_connect(uv_connect_t* request, int status) {
  auto* self = static_cast<Connection*>(request->data);
  if (self->state_ == State::kClosing) return;
  if (status != 0) {
    self->close(Failure::kTcp);
    return;
  }
  uv_read_start(reinterpret_cast<uv_stream_t*>(&self->tcp_), on_alloc, on_read);
  if (self->worker_.options().tls) {
    self->begin_tls();
  } else {
    self->after_handshake();
  }
}

void Connection::begin_tls() {
  state_ = State::kTlsHandshake;
  ssl_.reset(SSL_new(worker_.ssl_ctx()));
  if (!ssl_) {
    close(Failure::kTls);
    return;
  }
  SSL_set_app_data(ssl_.get(), this);
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_.get(), network_in_, network_out_);
  SSL_set_connect_state(ssl_.get());
  const Options& options = worker_.options();
  if (!options.sni.empty()) SSL_set_tlsext_host_name(ssl_.get(), options.sni.c_str());
  if (options.resume && worker_.resumable_session() != nullptr) {
    SSL_set_session(ssl_.get(), worker_.resumable_session());
  }
  if (credential_ != nullptr && credential_->cert) {
    if (!SSL_use_certificate(ssl_.get(), credential_->cert.get()) ||
        !SSL_use_PrivateKey(ssl_.get(), credential_->key.get())) {
      close(Failure::kTls);
      return;
    }
  }
  drive_handshake();
}

void Connection::drive_handshake() {
  int result = SSL_do_handshake(ssl_.get());
  flush_tls();
  if (state_ == State::kClosing) return;
  if (result == 1) {
    worker_.mutable_stats().handshake_latency.record(micros_since(started_ns_));
    if (SSL_session_reused(ssl_.get())) ++worker_.mutable_stats().resumed;
    after_handshake();
    return;
  }
  if (SSL_get_error(ssl_.get(), result) != SSL_ERROR_WANT_READ) {
    ERR_clear_error();
    close(Failure::kTls);
  }
}

void Connection::after_handshake() {
  state_ = State::kAwaitConnack;
  std::string_view client_id, username, password;
  std::string generated;
  if (credential_ != nullptr) {
    client_id = credential_->client_id;
    username = credential_->username;
    password = credential_->password;
  } else {
    generated = "bench-" + std::to_string(worker_.index()) + "-" + std::to_string(slot_);
    client_id = generated;
  }
  send(encode_connect(worker_.options().protocol_level, client_id, username, password,
                      worker_.options().keepalive));
}

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* out) {
  *out = static_cast<Connection*>(handle->data)->worker_.read_buffer();
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread == 0 || self->state_ == State::kClosing) return;
  if (nread < 0) {
    self->close(self->failure_for_state());
    return;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(buf->base);
  if (!self->ssl_) {
    self->receive(bytes, static_cast<size_t>(nread));
    return;
  }
  BIO_write(self->network_in_, bytes, static_cast<int>(nread));
  if (self->state_ == State::kTlsHandshake) {
    self->drive_handshake();
    if (self->state_ == State::kTlsHandshake || self->state_ == State::kClosing) return;
  }
  std::span<uint8_t> plain = self->worker_.plain_buffer();
  for (;;) {
    int n = SSL_read(self->ssl_.get(), plain.data(), static_cast<int>(plain.size()));
    if (n > 0) {
      self->receive(plain.data(), static_cast<size_t>(n));
      if (self->state_ == State::kClosing) return;
      continue;
    }
    int error = SSL_get_error(self->ssl_.get(), n);
    self->flush_tls();  // post-handshake messages may need an answer
    if (error == SSL_ERROR_WANT_READ) return;
    ERR_clear_error();
    if (self->state_ != State::kClosing) self->close(self->failure_for_state());
    return;
  }
}

void Connection::receive(const uint8_t* data, size_t size) {
  inbox_.insert(inbox_.end(), data, data + size);
  process_inbox();
}

void Connection::process_inbox() {
  size_t consumed = 0;
  while (state_ != State::kClosing) {
    Frame frame;
    size_t size = 0;
    std::span<const uint8_t> rest(inbox_.data() + consumed, inbox_.size() - consumed);
    SplitStatus status = split_frame(rest, &frame, &size);
    if (status == SplitStatus::kNeedMore) break;
    if (status == SplitStatus::kMalformed) {
      close(failure_for_state());
      return;
    }
    handle_frame(frame);
    consumed += size;
  }
  if (state_ == State::kClosing) return;
  inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<long>(consumed));
  // An idle connection keeps no receive buffer.
  if (inbox_.empty() && inbox_.capacity() > 256) Bytes().swap(inbox_);
}

void Connection::handle_connack(const Frame& frame) {
  Stats& stats = worker_.mutable_stats();
  uint8_t code = frame.body.size() >= 2 ? frame.body[1] : 0xff;
  if (code != 0) {
    ++stats.connack_codes[code];
    close(Failure::kConnackRefused);
    return;
  }
  ++stats.connected;
  stats.connack_latency.record(micros_since(started_ns_));
  if (worker_.options().churn) {
    send(encode_disconnect());
    state_ = State::kEstablished;
    worker_.on_established(*this);
    close(std::nullopt);
    return;
  }
  if (role_ == Role::kSubscriber) {
    state_ = State::kSubscribing;
    std::string filter = "bench/" + std::to_string(worker_.index()) + "/#";
    send(encode_subscribe(worker_.options().protocol_level, next_packet_id(), filter,
                          worker_.options().qos));
    return;
  }
  state_ = State::kEstablished;
  worker_.on_established(*this);
}

void Connection::handle_frame(const Frame& frame) {
  uint8_t type = frame.header >> 4;
  switch (type) {
    case 2:  // CONNACK
      if (state_ == State::kAwaitConnack) handle_connack(frame);
      return;
    case 9:  // SUBACK
      if (state_ == State::kSubscribing) {
        state_ = State::kEstablished;
        worker_.on_established(*this);
      }
      return;
    case 3: {  // PUBLISH
      PublishView publish;
      if (!parse_publish(worker_.options().protocol_level, frame, &publish)) return;
      if (publish.qos == 1) send(encode_puback(publish.packet_id));
      if (publish.payload.size() >= 8) {
        uint64_t sent_ns = 0;
        std::memcpy(&sent_ns, publish.payload.data(), sizeof(sent_ns));
        worker_.on_publish_received(sent_ns);
      }
      return;
    }
    case 4:  // PUBACK
      if (worker_.measuring()) ++worker_.mutable_stats().acked;
      return;
    case 14:  // DISCONNECT from a v5 server
      close(failure_for_state());
      return;
    default:
      return;
  }
}

bool Connection::send(const Bytes& packet) {
  if (state_ == State::kClosing) return false;
  if (!ssl_) return write_raw(packet.data(), packet.size());
  int n = SSL_write(ssl_.get(), packet.data(), static_cast<int>(packet.size()));
  if (n <= 0) {
    ERR_clear_error();
    close(failure_for_state());
    return false;
  }
  flush_tls();
  return state_ != State::kClosing;
}

void Connection::flush_tls() {
  size_t pending = BIO_pending(network_out_);
  if (pending == 0) return;
  auto request = std::make_unique<WriteRequest>();
  request->data.resize(pending);
  BIO_read(network_out_, request->data.data(), static_cast<int>(pending));
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(request->data.data()),
                             static_cast<unsigned>(pending));
  request->request.data = request.get();
  if (uv_write(&request->request, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_write) != 0) {
    close(failure_for_state());
    return;
  }
  request.release();  // owned by the write callback now
}

bool Connection::write_raw(const uint8_t* data, size_t size) {
  auto request = std::make_unique<WriteRequest>();
  request->data.assign(data, data + size);
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(request->data.data()),
                             static_cast<unsigned>(size));
  request->request.data = request.get();
  if (uv_write(&request->request, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_write) != 0) {
    close(failure_for_state());
    return false;
  }
  request.release();  // owned by the write callback now
  return true;
}

void Connection::on_write(uv_write_t* request, int status) {
  std::unique_ptr<WriteRequest> owned(static_cast<WriteRequest*>(request->data));
  (void)status;  // a failed write shows up as a read error or a timeout
}

Failure Connection::failure_for_state() const {
  switch (state_) {
    case State::kTcpConnecting: return Failure::kTcp;
    case State::kTlsHandshake: return Failure::kTls;
    default: return Failure::kClosedBeforeConnack;
  }
}

void Connection::close(std::optional<Failure> failure) {
  if (state_ == State::kClosing) return;
  bool was_established = state_ == State::kEstablished;
  bool was_subscribing = state_ == State::kSubscribing;
  if (!was_established && !was_subscribing && failure) {
    worker_.mutable_stats().add_failure(*failure);
  } else if (failure) {
    ++worker_.mutable_stats().dropped;
  }
  state_ = State::kClosing;
  worker_.on_closed(*this, was_established || was_subscribing);
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::on_close(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  self->worker_.release(self->slot_);  // destroys *self
}

}  // namespace bench
