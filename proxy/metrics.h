// proxy/metrics.h: counters and histograms for /metrics. Each worker writes only its own
// WorkerMetrics (relaxed atomics, no locks, no sharing on the hot path); a scrape sums them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/decision.h"
#include "config/config.h"

namespace proxy {

inline constexpr size_t kMaxListeners = 16;
inline constexpr size_t kMaxBackends = 32;
inline constexpr size_t kReasonCount = static_cast<size_t>(auth::Reason::kBackendUnavailable) + 1;

// Why a TLS handshake failed, as a bounded label set.
enum class TlsFailure : uint8_t {
  kNotTls, kNoClientCertificate, kCertificateVerify, kCertificateExpired, kCertificateRevoked,
  kProtocol, kCount,
};
TlsFailure classify_tls_failure(std::string_view reason);
std::string_view tls_failure_name(TlsFailure failure);

// Fixed-bucket latency histogram in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 12> kBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
  void observe(double seconds);
  // Summed across workers for rendering.
  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> buckets{};  // last: +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  void add_to(Snapshot* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_micros_{0};
  std::atomic<uint64_t> count_{0};
};

struct ListenerMetrics {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed{0};
  std::array<std::atomic<uint64_t>, kReasonCount> auth{};   // by auth::Reason (kAccepted = ok)
  std::array<std::atomic<uint64_t>, static_cast<size_t>(TlsFailure::kCount)> tls_failures{};
};

// One worker's metrics. Written by that worker's thread only.
struct WorkerMetrics {
  std::array<ListenerMetrics, kMaxListeners> listeners;
  std::array<std::atomic<uint64_t>, kMaxBackends> backend_connect_failures{};
  std::atomic<uint64_t> bytes_to_broker{0};
  std::atomic<uint64_t> bytes_to_device{0};
  std::atomic<uint64_t> kicks{0};
  std::atomic<uint64_t> redis_lookup_errors{0};
  std::atomic<uint64_t> redis_dropped_writes{0};
  std::atomic<uint64_t> redis_lookups_master{0};    // lookups answered by the master
  std::atomic<uint64_t> redis_lookups_replica{0};   // ... by a replica (read_from: replica)
  std::atomic<bool> redis_connected{false};
  Histogram connack_latency;   // accept → CONNACK sent to the device (ours or the broker's)
  Histogram lookup_latency;    // Redis lookup round trip
};

inline void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

// Process-wide gauges the scrape adds (filled by the caller).
struct ProcessGauges {
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
  uint64_t bans = 0;
  bool ready = false;
};

// render_metrics: Prometheus text exposition format 0.0.4.
std::string render_metrics(const config::Config& config,
                           const std::vector<const WorkerMetrics*>& workers,
                           const std::vector<std::string>& backend_names, const ProcessGauges& process);

// read_process_gauges: RSS and open file descriptors from /proc/self.
void read_process_gauges(ProcessGauges* out);

}  // namespace proxy
