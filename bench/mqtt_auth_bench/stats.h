// bench/mqtt_auth_bench/stats.h: what one worker thread counts; merged after the run.
#pragma once

#include <array>
#include <cstdint>

#include "bench/mqtt_auth_bench/histogram.h"

namespace bench {

// Failure: why a connection attempt did not reach CONNACK 0.
enum class Failure { kTcp, kTls, kConnackRefused, kTimeout, kClosedBeforeConnack, kCount };

inline const char* failure_name(Failure failure) {
  switch (failure) {
    case Failure::kTcp: return "tcp";
    case Failure::kTls: return "tls";
    case Failure::kConnackRefused: return "connack_refused";
    case Failure::kTimeout: return "timeout";
    case Failure::kClosedBeforeConnack: return "closed_before_connack";
    case Failure::kCount: break;
  }
  return "?";
}

struct Stats {
  uint64_t attempted = 0;
  uint64_t connected = 0;  // CONNACK 0
  uint64_t resumed = 0;    // TLS handshakes that resumed a session
  uint64_t dropped = 0;    // established connections the server closed
  std::array<uint64_t, static_cast<size_t>(Failure::kCount)> failures{};
  std::array<uint64_t, 256> connack_codes{};  // refusals by return/reason code
  Histogram connack_latency;                  // TCP connect start to CONNACK, us
  Histogram handshake_latency;                // TCP connect start to TLS finished, us
  // Counted only during the measured publish window:
  uint64_t published = 0;
  uint64_t received = 0;
  uint64_t acked = 0;
  Histogram e2e_latency;  // publish written to PUBLISH received by the subscriber, us

  void add_failure(Failure failure) { ++failures[static_cast<size_t>(failure)]; }
  void merge(const Stats& other) {
    attempted += other.attempted;
    connected += other.connected;
    resumed += other.resumed;
    dropped += other.dropped;
    for (size_t i = 0; i < failures.size(); ++i) failures[i] += other.failures[i];
    for (size_t i = 0; i < connack_codes.size(); ++i) connack_codes[i] += other.connack_codes[i];
    connack_latency.merge(other.connack_latency);
    handshake_latency.merge(other.handshake_latency);
    published += other.published;
    received += other.received;
    acked += other.acked;
    e2e_latency.merge(other.e2e_latency);
  }
};

}  // namespace bench
