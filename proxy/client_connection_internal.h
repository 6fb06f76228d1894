// proxy/client_connection_internal.h: constants and helpers shared by the three files that
// implement ClientConnection (client_connection.cc: I/O and dispatch,
// client_connection_auth.cc: CONNECT to decision to backend, client_connection_session.cc:
// live sessions). Not for use elsewhere.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "auth/decision.h"

namespace proxy {

class ClientConnection;

namespace connection_internal {


// A side whose peer has this much queued and unsent makes us stop reading the other side;
// reading resumes below kLowWater. Bounds the memory one connection can hold.
inline constexpr size_t kHighWater = 256 * 1024;
inline constexpr size_t kLowWater = 64 * 1024;
// What a device may pipeline after CONNECT before the backend is connected.
inline constexpr size_t kMaxPipelined = 64 * 1024;
// How long a refusal or a close may take to flush before the sockets are dropped.
inline constexpr uint64_t kLingerMs = 2000;

// MQTT 5 DISCONNECT reason codes used when the proxy ends a session.
inline constexpr uint8_t kDisconnectNotAuthorized = 0x87;
inline constexpr uint8_t kDisconnectAdministrativeAction = 0x98;
inline constexpr uint8_t kDisconnectServerShuttingDown = 0x8B;

// Refusals that count towards brute-force bans: guesses at identities and keys. Disabled
// devices, bans themselves and outages do not.
inline bool counts_as_auth_failure(auth::Reason reason) {
  switch (reason) {
    case auth::Reason::kUnknownDevice:
    case auth::Reason::kBadSecret:
    case auth::Reason::kUsernameMismatch:
    case auth::Reason::kNoPassword:
    case auth::Reason::kWrongAuthType:
    case auth::Reason::kCertUnknown:
    case auth::Reason::kCertNotBound:
      return true;
    default:
      return false;
  }
}

inline int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

inline ClientConnection* owner_of(const uv_handle_t* handle) {
  return static_cast<ClientConnection*>(handle->data);
}


}  // namespace connection_internal
}  // namespace proxy
