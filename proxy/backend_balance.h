// proxy/backend_balance.h: which backend server a new connection goes to, and where it
// fails over to. Pure selection logic over server indices: no sockets, no clocks. One
// balancer per worker loop, used only on that loop's thread (not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"

namespace proxy {

class BackendBalancer {
 public:
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
  static constexpr size_t kDefaultVirtualNodes = 100;

  // Servers are identified by |server_names| (backend.servers as configured, "host:port"):
  // the client_id_hash ring is built from the names, so every proxy with the same list
  // agrees on a device's server, and removing one name from the list moves only the
  // devices that were on it. Every server starts healthy with no connections.
  BackendBalancer(config::Balance policy, std::vector<std::string> server_names,
                  size_t virtual_nodes = kDefaultVirtualNodes);
  // Servers named "0".."servers-1" (for callers that only have a count).
  BackendBalancer(config::Balance policy, size_t servers);

  size_t size() const { return servers_.size(); }
  config::Balance policy() const { return policy_; }

  // pick: the server for a new connection of |client_id| (only client_id_hash reads it).
  // Unhealthy servers are skipped; when none is healthy, health is ignored (a connect
  // attempt is then the only way to notice a server came back). kNone only when size()==0.
  // round_robin advances its rotation; least_connections takes the fewest active
  // connections, ties broken by the rotation; client_id_hash walks the ring clockwise from
  // the client ID's hash to the first healthy server.
  size_t pick(std::string_view client_id);

  // next_after: the server to try after a connect to |failed| failed: the first healthy
  // server other than |failed| after it in the client's order (index order for
  // round_robin and least_connections, ring order for client_id_hash). kNone when no other
  // server is healthy. Callers mark |failed| unhealthy first if the failure says so.
  size_t next_after(size_t failed, std::string_view client_id) const;

  // attempt_order: every server once, in the order a connection should try them: healthy
  // servers in policy order (what pick would choose first), then unhealthy ones in the same
  // order. Advances the round_robin rotation like pick. For callers that want to try each
  // server at most once without re-reading health between attempts.
  std::vector<size_t> attempt_order(std::string_view client_id);

  void set_healthy(size_t server, bool healthy);
  bool healthy(size_t server) const;

  // connection_opened / connection_closed: a relayed connection to |server| started or
  // ended (least_connections counts them). A close without an open is ignored.
  void connection_opened(size_t server);
  void connection_closed(size_t server);
  uint64_t active_connections(size_t server) const;

  // ring_order: distinct servers in the order the hash ring meets them from
  // |client_id|'s point, ignoring health (exposed for tests and for logs).
  std::vector<size_t> ring_order(std::string_view client_id) const;

 private:
  struct Server {
    std::string name;
    bool healthy = true;
    uint64_t active = 0;
  };
  struct RingPoint {
    uint64_t hash;
    size_t server;
  };

  // order_for: every server in policy order for |client_id|, starting at |rotation| for the
  // index-ordered policies; the caller filters by health.
  std::vector<size_t> order_for(std::string_view client_id, size_t rotation) const;
  size_t ring_start(std::string_view client_id) const;
  bool any_healthy() const;

  config::Balance policy_;
  std::vector<Server> servers_;
  std::vector<RingPoint> ring_;   // sorted by hash, then server; empty unless client_id_hash
  size_t rotation_ = 0;
};

// stable_hash64: a 64-bit hash that is the same in every process and on every platform
// (FNV-1a, then a finalizing mix), so proxies agree on the ring.
uint64_t stable_hash64(std::string_view bytes);

}  // namespace proxy
