#include "proxy/connect_rewrite.h"

namespace proxy {

config::TemplateLookup template_lookup(const mqttparse::ConnectPacket& connect,
                                       const RewriteVariables& vars) {
  return [&connect, &vars](std::string_view name) -> std::optional<std::string_view> {
    // The device ID is the client ID on both listener kinds (DESIGN.md).
    if (name == "client_id" || name == "device_id") return std::string_view(connect.client_id);
    if (name == "username") {
      if (!connect.username) return std::nullopt;
      return std::string_view(*connect.username);
    }
    if (name == "listener") return vars.listener;
    if (name == "cert_id") {
      if (!vars.peer_cert) return std::nullopt;
      return std::string_view(vars.peer_cert->cert_id);
    }
    if (name == "cert_cn") {
      if (!vars.peer_cert) return std::nullopt;
      return std::string_view(vars.peer_cert->cn);
    }
    constexpr std::string_view kDevicePrefix = "device.";
    if (name.starts_with(kDevicePrefix) && vars.device) {
      auto it = vars.device->fields.find(std::string(name.substr(kDevicePrefix.size())));
      if (it != vars.device->fields.end()) return std::string_view(it->second);
    }
    return std::nullopt;
  };
}

mqttparse::ConnectPacket rewrite_connect(const mqttparse::ConnectPacket& original,
                                         const config::RewriteConfig& rewrite,
                                         const RewriteVariables& vars) {
  config::TemplateLookup lookup = template_lookup(original, vars);
  mqttparse::ConnectPacket out = original;
  out.client_id = rewrite.client_id.expand(lookup);
  std::string username = rewrite.username.expand(lookup);
  std::string password = rewrite.password.expand(lookup);
  if (username.empty()) {
    // MQTT 3.1.1 forbids a password without a username; keep the rule for every version.
    out.username.reset();
    out.password.reset();
    return out;
  }
  out.username = std::move(username);
  if (password.empty()) {
    out.password.reset();
  } else {
    out.password = std::vector<uint8_t>(password.begin(), password.end());
  }
  return out;
}

}  // namespace proxy
