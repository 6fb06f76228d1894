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
    std::memcpy(&server.address, found->ai_addr, found->ai_addrlen);
    out->push_back(std::move(server));
  }
  return true;
}

}  // namespace proxy
