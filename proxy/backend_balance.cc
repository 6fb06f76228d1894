// proxy/backend_balance.cc: backend selection policies (see the header).
#include "proxy/backend_balance.h"

#include <algorithm>

namespace proxy {

uint64_t stable_hash64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64-bit offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;             // FNV-1a 64-bit prime
  }
  // FNV-1a alone clusters similar short strings ("srv#1", "srv#2"); this finalizer (from
  // splitmix64) spreads them over the whole ring.
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash;
}

namespace {

std::vector<std::string> index_names(size_t servers) {
  std::vector<std::string> names;
  names.reserve(servers);
  for (size_t i = 0; i < servers; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace

BackendBalancer::BackendBalancer(config::Balance policy, std::vector<std::string> server_names,
                                 size_t virtual_nodes)
    : policy_(policy) {
  servers_.reserve(server_names.size());
  for (std::string& name : server_names) servers_.push_back(Server{std::move(name)});
  if (policy_ != config::Balance::kClientIdHash) return;
  ring_.reserve(servers_.size() * virtual_nodes);
  for (size_t s = 0; s < servers_.size(); ++s) {
    for (size_t v = 0; v < virtual_nodes; ++v) {
      ring_.push_back(RingPoint{stable_hash64(servers_[s].name + "#" + std::to_string(v)), s});
    }
  }
  std::sort(ring_.begin(), ring_.end(), [](const RingPoint& a, const RingPoint& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.server < b.server;
  });
}

BackendBalancer::BackendBalancer(config::Balance policy, size_t servers)
    : BackendBalancer(policy, index_names(servers)) {}

size_t BackendBalancer::ring_start(std::string_view client_id) const {
  uint64_t point = stable_hash64(client_id);
  auto it = std::lower_bound(ring_.begin(), ring_.end(), point,
                             [](const RingPoint& p, uint64_t h) { return p.hash < h; });
  return it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
}

std::vector<size_t> BackendBalancer::ring_order(std::string_view client_id) const {
  std::vector<size_t> order;
  if (ring_.empty()) return order;
  std::vector<bool> seen(servers_.size(), false);
  size_t start = ring_start(client_id);
  for (size_t step = 0; step < ring_.size() && order.size() < servers_.size(); ++step) {
    size_t server = ring_[(start + step) % ring_.size()].server;
    if (!seen[server]) {
      seen[server] = true;
      order.push_back(server);
    }
  }
  // A server with no ring points (virtual_nodes == 0) is never chosen by the ring; still
  // list it last so failover can reach it.
  for (size_t s = 0; s < servers_.size(); ++s) {
    if (!seen[s]) order.push_back(s);
  }
  return order;
}

std::vector<size_t> BackendBalancer::order_for(std::string_view client_id,
                                               size_t rotation) const {
  if (policy_ == config::Balance::kClientIdHash) return ring_order(client_id);
  std::vector<size_t> order;
  order.reserve(servers_.size());
  for (size_t i = 0; i < servers_.size(); ++i) order.push_back((rotation + i) % servers_.size());
  if (policy_ == config::Balance::kLeastConnections) {
    std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
      return servers_[a].active < servers_[b].active;
    });
  }
  return order;
}

bool BackendBalancer::any_healthy() const {
  return std::any_of(servers_.begin(), servers_.end(),
                     [](const Server& s) { return s.healthy; });
}

size_t BackendBalancer::pick(std::string_view client_id) {
  if (servers_.empty()) return kNone;
  std::vector<size_t> order = attempt_order(client_id);
  return order.front();
}

std::vector<size_t> BackendBalancer::attempt_order(std::string_view client_id) {
  if (servers_.empty()) return {};
  size_t rotation = rotation_;
  if (policy_ != config::Balance::kClientIdHash) rotation_ = (rotation_ + 1) % servers_.size();
  std::vector<size_t> order = order_for(client_id, rotation);
  if (any_healthy()) {
    std::stable_partition(order.begin(), order.end(),
                          [this](size_t s) { return servers_[s].healthy; });
  }
  return order;
}

size_t BackendBalancer::next_after(size_t failed, std::string_view client_id) const {
  size_t n = servers_.size();
  if (failed >= n) return kNone;
  // Index order for the rotating policies (loads change between attempts; a fixed walk
  // cannot revisit a server before it has tried the others), ring order for the hash.
  std::vector<size_t> order;
  if (policy_ == config::Balance::kClientIdHash) {
    order = ring_order(client_id);
  } else {
    for (size_t i = 0; i < n; ++i) order.push_back(i);
  }
  size_t position = static_cast<size_t>(std::find(order.begin(), order.end(), failed) -
                                        order.begin());
  for (size_t step = 1; step < n; ++step) {
    size_t candidate = order[(position + step) % n];
    if (servers_[candidate].healthy) return candidate;
  }
  return kNone;
}

void BackendBalancer::set_healthy(size_t server, bool healthy) {
  if (server < servers_.size()) servers_[server].healthy = healthy;
}

bool BackendBalancer::healthy(size_t server) const {
  return server < servers_.size() && servers_[server].healthy;
}

void BackendBalancer::connection_opened(size_t server) {
  if (server < servers_.size()) ++servers_[server].active;
}

void BackendBalancer::connection_closed(size_t server) {
  if (server < servers_.size() && servers_[server].active > 0) --servers_[server].active;
}

uint64_t BackendBalancer::active_connections(size_t server) const {
  return server < servers_.size() ? servers_[server].active : 0;
}

}  // namespace proxy
