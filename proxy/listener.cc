#include "proxy/listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include <spdlog/spdlog.h>

namespace proxy {

bool resolve_bind_address(const config::HostPort& bind, sockaddr_storage* out, std::string* out_error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(bind.port);
  int rc = getaddrinfo(bind.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    *out_error = bind.to_string() + ": " + gai_strerror(rc);
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  std::memcpy(out, found->ai_addr, found->ai_addrlen);
  return true;
}

bool Listener::open(uv_loop_t* loop, std::string* out_error) {
  sockaddr_storage address{};
  if (!resolve_bind_address(runtime_.config->bind, &address, out_error)) return false;
  const std::string where = "listener " + runtime_.config->name + " on " + runtime_.config->bind.to_string();
  // libuv 1.44 has no SO_REUSEPORT flag: make the socket ourselves and hand it over.
  int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *out_error = where + ": socket: " + std::strerror(errno);
    return false;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  socklen_t len = address.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), len) != 0) {
    *out_error = where + ": bind: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  uv_tcp_t* tcp = socket_.allocate(this);
  uv_tcp_init(loop, tcp);
  if (int rc = uv_tcp_open(tcp, fd); rc != 0) {
    *out_error = where + ": " + uv_strerror(rc);
    ::close(fd);
    socket_.reset();
    return false;
  }
  if (int rc = uv_listen(socket_.stream(), 4096, &Listener::on_connection); rc != 0) {
    *out_error = where + ": listen: " + uv_strerror(rc);
    socket_.reset();
    return false;
  }
  return true;
}

void Listener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Listener*>(server->data);
  if (self == nullptr) return;
  if (status < 0) {
    spdlog::warn("listener {}: accept failed: {}", self->runtime_.config->name, uv_strerror(status));
    return;
  }
  TcpHandle client;
  uv_tcp_t* tcp = client.allocate(nullptr);
  uv_tcp_init(server->loop, tcp);
  if (uv_accept(server, client.stream()) != 0) return;  // client closes itself
  self->on_accept_(self->runtime_, std::move(client));
}

}  // namespace proxy
