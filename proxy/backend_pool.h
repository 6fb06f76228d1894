// proxy/backend_pool.h: the broker addresses of backend.servers, resolved once at start-up,
// and the choice of server per connection (backend.balance) with health from two sources: a
// server whose connect failed is tried last for a while (passive), and with
// backend.health_check the periodic TCP check marks servers down and up (active).
// One pool per worker, used on its loop only (least_connections counts this worker's).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "proxy/backend_balance.h"

namespace proxy {

struct BackendServer {
  std::string name;            // "host:port" as configured, for logs
  std::string host;            // the configured host: the name backend.tls verifies by default
  sockaddr_storage address{};
};

class BackendPool {
 public:
  // resolve turns every configured server into an address (blocking name resolution: call
  // it before the loops start). Returns false with *out_error on a name that does not resolve.
  static bool resolve(const std::vector<config::HostPort>& servers,
                      std::vector<BackendServer>* out, std::string* out_error);

  BackendPool(std::vector<BackendServer> servers, config::Balance policy);

  size_t size() const { return servers_.size(); }
  const BackendServer& server(size_t index) const { return servers_[index]; }

  // attempt_order: the servers to try for |client_id|, best first, each once.
  std::vector<size_t> attempt_order(std::string_view client_id);

  void connect_failed(size_t index);
  void connect_succeeded(size_t index);
  void connection_closed(size_t index) { balancer_.connection_closed(index); }

  // probe_result: the periodic check (backend.health_check) reached the server named |name|
  // or not. A server it could not reach is skipped until a check reaches it again; one it
  // reached is healthy at once. Names not in this pool (a reload changed the list) are ignored.
  void probe_result(std::string_view name, bool reachable);

 private:
  static constexpr std::chrono::seconds kBenchTime{5};
  std::vector<BackendServer> servers_;
  BackendBalancer balancer_;
  std::vector<std::chrono::steady_clock::time_point> benched_until_;
};

}  // namespace proxy
