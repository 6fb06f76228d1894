// bench/mqtt_auth_bench/connection.h: one client connection of the load generator:
// TCP connect, optional TLS (memory BIOs driven by libuv reads), CONNECT, CONNACK, then
// the role's traffic. Owned by its Worker's slot table; loop thread only.
#pragma once

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "bench/mqtt_auth_bench/mqtt_wire.h"
#include "bench/mqtt_auth_bench/stats.h"

namespace bench {

class Worker;
struct Credential;

class Connection {
 public:
  enum class State { kTcpConnecting, kTlsHandshake, kAwaitConnack, kSubscribing, kEstablished,
                     kClosing };
  enum class Role { kIdle, kSubscriber, kPublisher };

  // |credential| is non-owning and outlives the connection (the run's credential table).
  Connection(Worker& worker, size_t slot, const Credential* credential, Role role);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // start begins the TCP connect; failures are reported through the worker, never inline.
  void start(const sockaddr* address);
  // close releases the socket; |failure| is counted when the attempt had not succeeded.
  // The Worker frees this object in the handle's close callback.
  void close(std::optional<Failure> failure);
  // send writes an MQTT packet (through TLS when enabled). False once closing.
  bool send(const Bytes& packet);

  State state() const { return state_; }
  Role role() const { return role_; }
  size_t slot() const { return slot_; }
  uint64_t started_ns() const { return started_ns_; }
  uint16_t next_packet_id();
  Worker& worker() { return worker_; }

 private:
  static void on_connect(uv_connect_t* request, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* out);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_close(uv_handle_t* handle);

  void begin_tls();
  void drive_handshake();
  void after_handshake();
  void receive(const uint8_t* data, size_t size);
  void process_inbox();
  void handle_frame(const Frame& frame);
  void handle_connack(const Frame& frame);
  bool write_raw(const uint8_t* data, size_t size);
  void flush_tls();
  Failure failure_for_state() const;

  Worker& worker_;
  size_t slot_;
  const Credential* credential_;
  Role role_;
  State state_ = State::kTcpConnecting;
  uv_tcp_t tcp_{};
  uv_connect_t connect_request_{};
  bssl::UniquePtr<SSL> ssl_;
  BIO* network_in_ = nullptr;   // owned by ssl_: bytes read from the socket
  BIO* network_out_ = nullptr;  // owned by ssl_: bytes to write to the socket
  std::vector<uint8_t> inbox_;  // an incomplete MQTT packet, if any
  uint64_t started_ns_ = 0;
  uint16_t packet_id_ = 0;
};

}  // namespace bench
