#include "proxy/backend_pool.h"

#include <netdb.h>

#include <cstring>
#include <memory>

namespace proxy {

bool BackendPool::resolve(const std::vector<config::HostPort>& servers,
                          std::vector<BackendServer>* out, std::string* out_error) {
  for (const auto& hp : servers) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(hp.port);
    int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0 || found == nullptr) {
      *out_error = "backend " + hp.to_string() + ": " + gai_strerror(rc);
      return false;
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
    BackendServer server;
    server.name = hp.to_string();
    server.host = hp.host;
    std::memcpy(&server.address, found->ai_addr, found->ai_addrlen);
    out->push_back(std::move(server));
  }
  return true;
}

namespace {

std::vector<std::string> names_of(const std::vector<BackendServer>& servers) {
  std::vector<std::string> names;
  names.reserve(servers.size());
  for (const auto& server : servers) names.push_back(server.name);
  return names;
}

}  // namespace

BackendPool::BackendPool(std::vector<BackendServer> servers, config::Balance policy)
    : servers_(std::move(servers)),
      balancer_(policy, names_of(servers_)),
      benched_until_(servers_.size()) {}

std::vector<size_t> BackendPool::attempt_order(std::string_view client_id) {
  auto now = std::chrono::steady_clock::now();
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (!balancer_.healthy(i) && benched_until_[i] <= now) balancer_.set_healthy(i, true);
  }
  return balancer_.attempt_order(client_id);
}

void BackendPool::connect_failed(size_t index) {
  balancer_.set_healthy(index, false);
  benched_until_[index] = std::chrono::steady_clock::now() + kBenchTime;
}

void BackendPool::probe_result(std::string_view name, bool reachable) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i].name != name) continue;
    benched_until_[i] = reachable ? std::chrono::steady_clock::time_point{}
                                  : std::chrono::steady_clock::time_point::max();
    balancer_.set_healthy(i, reachable);
  }
}

void BackendPool::connect_succeeded(size_t index) {
  balancer_.set_healthy(index, true);
  balancer_.connection_opened(index);
}

}  // namespace proxy
