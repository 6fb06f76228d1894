// proxy/connect_rewrite.h: the CONNECT forwarded to the broker, from the device's CONNECT
// and the backend.rewrite templates. Pure code.
#pragma once

#include <string_view>

#include "auth/decision.h"
#include "config/config.h"
#include "mqttparse/connect.h"

namespace proxy {

// What the templates may refer to for one authenticated connection. Non-owning views.
struct RewriteVariables {
  std::string_view listener;
  const auth::DeviceRecord* device = nullptr;
  const auth::PeerCertificate* peer_cert = nullptr;  // null on token listeners
};

// rewrite_connect returns |original| with client id, username and password replaced by the
// expanded templates. An empty username drops username and password; an empty password
// drops the password. Everything else (will, properties, keep-alive) is kept as is.
mqttparse::ConnectPacket rewrite_connect(const mqttparse::ConnectPacket& original,
                                         const config::RewriteConfig& rewrite,
                                         const RewriteVariables& vars);

// template_lookup resolves the template variables of DESIGN.md for one connection.
config::TemplateLookup template_lookup(const mqttparse::ConnectPacket& connect,
                                       const RewriteVariables& vars);

}  // namespace proxy
