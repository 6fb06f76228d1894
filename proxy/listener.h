// proxy/listener.h: one TLS listening socket of one worker. Every worker binds its own socket
// to the same address with SO_REUSEPORT, so the kernel spreads connections across workers
// and nothing is shared on the accept path.
#pragma once

#include <functional>
#include <string>

#include "proxy/uv_handle.h"
#include "proxy/worker_services.h"

namespace proxy {

class Listener {
 public:
  // on_accept receives each accepted, initialised client handle.
  using AcceptFn = std::function<void(const ListenerRuntime& listener, TcpHandle client)>;

  Listener(ListenerRuntime runtime, AcceptFn on_accept)
      : runtime_(std::move(runtime)), on_accept_(std::move(on_accept)) {}

  // open binds and listens on |loop|. False with *out_error on failure.
  bool open(uv_loop_t* loop, std::string* out_error);
  void close() { socket_.reset(); }

  const ListenerRuntime& runtime() const { return runtime_; }
  // set_runtime applies a reloaded config and TLS context to connections accepted from now on.
  void set_runtime(ListenerRuntime runtime) { runtime_ = std::move(runtime); }

 private:
  static void on_connection(uv_stream_t* server, int status);

  ListenerRuntime runtime_;
  AcceptFn on_accept_;
  TcpHandle socket_;
};

// resolve_bind_address turns "host:port" into a socket address (blocking for names).
bool resolve_bind_address(const config::HostPort& bind, sockaddr_storage* out, std::string* out_error);

}  // namespace proxy
