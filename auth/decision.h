// auth/decision.h: the authentication decision, as pure functions of what the CONNECT,
// the TLS handshake and the Redis records say. No I/O; unit-tested row by row against the
// CONNACK table of DESIGN.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "mqttparse/connect.h"

namespace auth {

// How a listener authenticates devices, and how a device record says it must be.
enum class AuthMethod { kToken, kCert };

// Why a connection was refused. Each maps to one CONNACK code per protocol version
// (connack_code), and names the exact reason in logs and events (reason_name).
enum class Reason {
  kAccepted,
  kUnknownDevice,
  kBadSecret,
  kUsernameMismatch,
  kNoPassword,           // token listener, CONNECT without password
  kWrongAuthType,        // device's auth differs from the listener's
  kUnsupportedSecret,    // stored secret in a format we do not accept (logged as such)
  kDeviceDisabled,
  kCertUnknown,          // client certificate not registered
  kCertDisabled,
  kCertNotBound,         // registered but not bound to this device
  kCertExpired,
  kBanned,
  kEmptyClientId,
  kUnsupportedProtocol,
  kEnhancedAuth,         // MQTT 5 Authentication Method present
  kTopicPolicy,          // mountpoint/ACL cannot be built safely for this device, or its
                         // will topic is outside what the ACL allows
  kStoreUnavailable,     // Redis unreachable or timed out
  kBackendUnavailable,   // no backend accepted the connection
};

// reason_name: a stable snake_case name ("bad_secret"), used in logs, events, metrics.
std::string_view reason_name(Reason reason);

// connack_code: the single mapping from a refusal to the CONNACK code of |version|
// (DESIGN.md, "CONNACK on refusal"). kEnhancedAuth has no 3.x code and maps to 4 there
// (only an MQTT 5 CONNECT can carry an Authentication Method). Must not be called with
// kAccepted (returns 0, "success", if it is).
uint8_t connack_code(Reason reason, mqttparse::ProtocolVersion version);

// What the TLS handshake established about the client certificate (cert listeners only).
struct PeerCertificate {
  std::string cert_id;   // hex SHA-256 of the leaf DER, or CN (cert_identity: cn)
  std::string cn;
  int64_t not_after = 0; // unix seconds; must be set: 0 counts as expired
};

// What the decision needs from a CONNECT.
struct ConnectFacts {
  AuthMethod listener_auth = AuthMethod::kToken;
  mqttparse::ProtocolVersion version = mqttparse::ProtocolVersion::kV311;
  std::string_view client_id;
  std::optional<std::string_view> username;
  bool has_password = false;
  bool has_authentication_method = false;
  const PeerCertificate* peer_cert = nullptr;  // non-owning; set on cert listeners
};

// A `device:<id>` hash as read from Redis. found = false when the key does not exist.
struct DeviceRecord {
  bool found = false;
  std::map<std::string, std::string> fields;  // all fields, as stored
  // Accessors over |fields| with the schema's defaults.
  std::string_view username() const;         // "" when absent
  std::optional<AuthMethod> auth() const;    // nullopt when absent or not token|cert
  std::string_view secret() const;           // "" when absent
  bool enabled() const;                      // absent or "1" = enabled; "0" or anything
                                             // else = disabled (fails closed)
};

// A `cert:<cert_id>` hash plus the binding check `SISMEMBER cert:<id>:devices <device>`.
struct CertRecord {
  bool found = false;
  bool enabled = false;
  int64_t not_after = 0;                     // 0 = not recorded
  bool bound_to_device = false;
};

// precheck: what can be refused from the CONNECT alone, before any lookup. In order:
// MQTT 5 with an Authentication Method → kEnhancedAuth; empty client id → kEmptyClientId;
// token listener without a password → kNoPassword. On a cert listener a password is
// allowed and ignored. Returns kAccepted when a lookup is needed.
Reason precheck(const ConnectFacts& facts);

enum class Verdict {
  kRefuse,        // refuse with .reason
  kVerifySecret,  // token device: verify the password against DeviceRecord::secret()
  kAccept,        // cert device: all checks passed
};

struct Decision {
  Verdict verdict = Verdict::kRefuse;
  Reason reason = Reason::kUnknownDevice;
};

// decide: the decision after the lookup. |cert| is ignored on token listeners. |now| is
// unix seconds. Precondition: precheck(facts) returned kAccepted.
//
// The client must learn as little as possible, so checks run from the least to the most
// revealing, and the first failure wins:
//   1. device record absent → kUnknownDevice;
//   2. device `auth` absent or not token|cert (a broken record), or different from the
//      listener's → kWrongAuthType;
//   3. device disabled → kDeviceDisabled;
//   4. CONNECT without username, device without username, or different → kUsernameMismatch;
//   5. token: empty stored secret → kUnsupportedSecret; otherwise kVerifySecret (reason
//      kAccepted): the caller runs verify_secret (auth/secret.h) and refuses kBadSecret on
//      kMismatch, kUnsupportedSecret on kUnsupportedFormat. This function does no crypto.
//   6. cert: no peer certificate, |cert| null or not found → kCertUnknown; disabled →
//      kCertDisabled; not bound to this device → kCertNotBound; expired (record not_after
//      set and <= now, or peer not_after <= now) → kCertExpired; otherwise kAccept.
Decision decide(const ConnectFacts& facts, const DeviceRecord& device,
                const CertRecord* cert, int64_t now);

}  // namespace auth
