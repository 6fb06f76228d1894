// proxy/peer_address.h: printable socket addresses for logs and events.
#pragma once

#include <uv.h>

#include <string>

namespace proxy {

// format_address: "1.2.3.4:5678" or "[::1]:5678"; "unknown" for other families.
std::string format_address(const sockaddr* address);

// peer_address_of: the remote address of a connected TCP handle, formatted.
std::string peer_address_of(const uv_tcp_t* tcp);

}  // namespace proxy
