// proxy/backend_pool.h: the broker addresses of backend.servers, resolved once at start-up,
// and round-robin selection. One pool per worker (not shared across threads).
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace proxy {

struct BackendServer {
  std::string name;            // "host:port" as configured, for logs
  sockaddr_storage address{};
};

class BackendPool {
 public:
  // resolve turns every configured server into an address (blocking name resolution: call
  // it before the loops start). Returns false with *out_error on a name that does not resolve.
  static bool resolve(const std::vector<config::HostPort>& servers,
                      std::vector<BackendServer>* out, std::string* out_error);

  explicit BackendPool(std::vector<BackendServer> servers) : servers_(std::move(servers)) {}

  size_t size() const { return servers_.size(); }
  const BackendServer& server(size_t index) const { return servers_[index % servers_.size()]; }

  // first_choice: the index the next connection starts at; each failed connect moves on
  // to the next index, wrapping, for at most size() attempts.
  size_t first_choice() { return next_++ % servers_.size(); }

 private:
  std::vector<BackendServer> servers_;
  size_t next_ = 0;
};

}  // namespace proxy
