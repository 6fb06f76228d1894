// auth/decision.cc: the authentication decision and the CONNACK mapping. Pure code.
#include "auth/decision.h"

namespace auth {

namespace {

using mqttparse::ProtocolVersion;

// The CONNACK codes of MQTT 3.1/3.1.1 (return codes) and 5.0 (reason codes) we send.
struct ConnackPair {
  uint8_t v3;
  uint8_t v5;
};
constexpr ConnackPair kNotAuthorized = {5, 0x87};
constexpr ConnackPair kBadCredentials = {4, 0x86};  // 3.x: bad user name or password
constexpr ConnackPair kBanned = {5, 0x8A};
constexpr ConnackPair kBadClientId = {2, 0x85};
constexpr ConnackPair kBadProtocol = {1, 0x84};
constexpr ConnackPair kBadAuthMethod = {4, 0x8C};   // 3.x has no enhanced auth
constexpr ConnackPair kUnavailable = {3, 0x88};

ConnackPair connack_pair(Reason reason) {
  switch (reason) {
    case Reason::kAccepted:
      return {0, 0};
    case Reason::kUnknownDevice:
    case Reason::kBadSecret:
    case Reason::kUsernameMismatch:
    case Reason::kNoPassword:
    case Reason::kWrongAuthType:
    case Reason::kUnsupportedSecret:
      return kBadCredentials;
    case Reason::kDeviceDisabled:
    case Reason::kCertUnknown:
    case Reason::kCertDisabled:
    case Reason::kCertNotBound:
    case Reason::kCertExpired:
    case Reason::kTopicPolicy:
      return kNotAuthorized;
    case Reason::kBanned:
      return kBanned;
    case Reason::kEmptyClientId:
      return kBadClientId;
    case Reason::kUnsupportedProtocol:
      return kBadProtocol;
    case Reason::kEnhancedAuth:
      return kBadAuthMethod;
    case Reason::kStoreUnavailable:
    case Reason::kBackendUnavailable:
      return kUnavailable;
  }
  return kNotAuthorized;
}

Decision refuse(Reason reason) { return Decision{Verdict::kRefuse, reason}; }

Decision decide_cert(const ConnectFacts& facts, const CertRecord* cert, int64_t now) {
  if (facts.peer_cert == nullptr || cert == nullptr || !cert->found) {
    return refuse(Reason::kCertUnknown);
  }
  if (!cert->enabled) return refuse(Reason::kCertDisabled);
  if (!cert->bound_to_device) return refuse(Reason::kCertNotBound);
  bool record_expired = cert->not_after != 0 && cert->not_after <= now;
  if (record_expired || facts.peer_cert->not_after <= now) return refuse(Reason::kCertExpired);
  return Decision{Verdict::kAccept, Reason::kAccepted};
}

}  // namespace

std::string_view reason_name(Reason reason) {
  switch (reason) {
    case Reason::kAccepted: return "accepted";
    case Reason::kUnknownDevice: return "unknown_device";
    case Reason::kBadSecret: return "bad_secret";
    case Reason::kUsernameMismatch: return "username_mismatch";
    case Reason::kNoPassword: return "no_password";
    case Reason::kWrongAuthType: return "wrong_auth_type";
    case Reason::kUnsupportedSecret: return "unsupported_secret";
    case Reason::kDeviceDisabled: return "device_disabled";
    case Reason::kCertUnknown: return "cert_unknown";
    case Reason::kCertDisabled: return "cert_disabled";
    case Reason::kCertNotBound: return "cert_not_bound";
    case Reason::kCertExpired: return "cert_expired";
    case Reason::kBanned: return "banned";
    case Reason::kEmptyClientId: return "empty_client_id";
    case Reason::kUnsupportedProtocol: return "unsupported_protocol";
    case Reason::kEnhancedAuth: return "enhanced_auth";
    case Reason::kTopicPolicy: return "topic_policy";
    case Reason::kStoreUnavailable: return "store_unavailable";
    case Reason::kBackendUnavailable: return "backend_unavailable";
  }
  return "unknown";
}

uint8_t connack_code(Reason reason, ProtocolVersion version) {
  ConnackPair pair = connack_pair(reason);
  return version == ProtocolVersion::kV5 ? pair.v5 : pair.v3;
}

std::string_view DeviceRecord::username() const {
  auto it = fields.find("username");
  return it == fields.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<AuthMethod> DeviceRecord::auth() const {
  auto it = fields.find("auth");
  if (it == fields.end()) return std::nullopt;
  if (it->second == "token") return AuthMethod::kToken;
  if (it->second == "cert") return AuthMethod::kCert;
  return std::nullopt;
}

std::string_view DeviceRecord::secret() const {
  auto it = fields.find("secret");
  return it == fields.end() ? std::string_view() : std::string_view(it->second);
}

bool DeviceRecord::enabled() const {
  auto it = fields.find("enabled");
  return it == fields.end() || it->second == "1";
}

Reason precheck(const ConnectFacts& facts) {
  if (facts.version == ProtocolVersion::kV5 && facts.has_authentication_method) {
    return Reason::kEnhancedAuth;
  }
  if (facts.client_id.empty()) return Reason::kEmptyClientId;
  if (facts.listener_auth == AuthMethod::kToken && !facts.has_password) {
    return Reason::kNoPassword;
  }
  return Reason::kAccepted;
}

Decision decide(const ConnectFacts& facts, const DeviceRecord& device, const CertRecord* cert,
                int64_t now) {
  if (!device.found) return refuse(Reason::kUnknownDevice);
  std::optional<AuthMethod> device_auth = device.auth();
  if (!device_auth || *device_auth != facts.listener_auth) {
    return refuse(Reason::kWrongAuthType);
  }
  if (!device.enabled()) return refuse(Reason::kDeviceDisabled);
  std::string_view expected_username = device.username();
  if (expected_username.empty() || !facts.username || *facts.username != expected_username) {
    return refuse(Reason::kUsernameMismatch);
  }
  if (facts.listener_auth == AuthMethod::kCert) return decide_cert(facts, cert, now);
  if (device.secret().empty()) return refuse(Reason::kUnsupportedSecret);
  return Decision{Verdict::kVerifySecret, Reason::kAccepted};
}

}  // namespace auth
