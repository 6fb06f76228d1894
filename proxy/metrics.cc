#include "proxy/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace proxy {
namespace {

uint64_t load(const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); }

// Label values are config names and fixed enums; escape anyway, per the format.
std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class Writer {
 public:
  void header(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP mqtt_auth_proxy_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE mqtt_auth_proxy_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += "mqtt_auth_proxy_";
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    char number[64];
    std::snprintf(number, sizeof number, " %.17g\n", value);
    out_ += number;
  }
  void histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& h) {
    header(name, "histogram", help);
    uint64_t cumulative = 0;
    std::string bucket_name = std::string(name) + "_bucket";
    for (size_t i = 0; i < Histogram::kBounds.size(); ++i) {
      cumulative += h.buckets[i];
      char le[48];
      std::snprintf(le, sizeof le, "le=\"%g\"", Histogram::kBounds[i]);
      sample(bucket_name, le, static_cast<double>(cumulative));
    }
    cumulative += h.buckets.back();
    sample(bucket_name, "le=\"+Inf\"", static_cast<double>(cumulative));
    sample(std::string(name) + "_sum", "", h.sum);
    sample(std::string(name) + "_count", "", static_cast<double>(h.count));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string listener_label(const config::ListenerConfig& listener) {
  return "listener=\"" + escape_label(listener.name) + "\"";
}

}  // namespace

TlsFailure classify_tls_failure(std::string_view reason) {
  if (reason == "not_tls") return TlsFailure::kNotTls;
  if (reason == "no_client_certificate") return TlsFailure::kNoClientCertificate;
  if (reason == "certificate_verify_failed") return TlsFailure::kCertificateVerify;
  if (reason == "certificate_expired" || reason == "certificate_not_yet_valid") {
    return TlsFailure::kCertificateExpired;
  }
  if (reason == "certificate_revoked") return TlsFailure::kCertificateRevoked;
  return TlsFailure::kProtocol;
}

std::string_view tls_failure_name(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::kNotTls: return "not_tls";
    case TlsFailure::kNoClientCertificate: return "no_client_certificate";
    case TlsFailure::kCertificateVerify: return "certificate_verify_failed";
    case TlsFailure::kCertificateExpired: return "certificate_expired";
    case TlsFailure::kCertificateRevoked: return "certificate_revoked";
    case TlsFailure::kProtocol: return "protocol_error";
    case TlsFailure::kCount: break;
  }
  return "unknown";
}

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::add_to(Snapshot* out) const {
  for (size_t i = 0; i < buckets_.size(); ++i) out->buckets[i] += load(buckets_[i]);
  out->count += load(count_);
  out->sum += static_cast<double>(load(sum_micros_)) / 1e6;
}

std::string render_metrics(const config::Config& config,
                           const std::vector<const WorkerMetrics*>& workers,
                           const std::vector<std::string>& backend_names, const ProcessGauges& process) {
  Writer w;
  size_t listener_count = std::min(config.listeners.size(), kMaxListeners);
  auto sum_listener = [&](size_t l, auto field) {
    uint64_t total = 0;
    for (const WorkerMetrics* m : workers) total += field(m->listeners[l]);
    return static_cast<double>(total);
  };

  w.header("connections_accepted_total", "counter", "TCP connections accepted, per listener.");
  for (size_t l = 0; l < listener_count; ++l) {
    w.sample("connections_accepted_total", listener_label(config.listeners[l]),
             sum_listener(l, [](const ListenerMetrics& m) { return load(m.accepted); }));
  }
  w.header("connections_closed_total", "counter", "Device connections closed, per listener.");
  for (size_t l = 0; l < listener_count; ++l) {
    w.sample("connections_closed_total", listener_label(config.listeners[l]),
             sum_listener(l, [](const ListenerMetrics& m) { return load(m.closed); }));
  }
  w.header("connections_active", "gauge", "Device connections open now, per listener.");
  for (size_t l = 0; l < listener_count; ++l) {
    w.sample("connections_active", listener_label(config.listeners[l]),
             sum_listener(l, [](const ListenerMetrics& m) { return load(m.accepted) - load(m.closed); }));
  }
  w.header("tls_handshake_failures_total", "counter", "Failed TLS handshakes, per listener and reason.");
  for (size_t l = 0; l < listener_count; ++l) {
    for (size_t f = 0; f < static_cast<size_t>(TlsFailure::kCount); ++f) {
      double value = sum_listener(l, [f](const ListenerMetrics& m) { return load(m.tls_failures[f]); });
      if (value == 0) continue;
      w.sample("tls_handshake_failures_total",
               listener_label(config.listeners[l]) + ",reason=\"" +
                   std::string(tls_failure_name(static_cast<TlsFailure>(f))) + "\"",
               value);
    }
  }
  w.header("authentications_total", "counter", "Authentication outcomes, per listener, result and reason.");
  for (size_t l = 0; l < listener_count; ++l) {
    for (size_t r = 0; r < kReasonCount; ++r) {
      double value = sum_listener(l, [r](const ListenerMetrics& m) { return load(m.auth[r]); });
      if (value == 0) continue;
      auto reason = static_cast<auth::Reason>(r);
      std::string labels = listener_label(config.listeners[l]) + ",result=\"" +
                           (reason == auth::Reason::kAccepted ? "accepted" : "refused") +
                           "\",reason=\"" + std::string(auth::reason_name(reason)) + "\"";
      w.sample("authentications_total", labels, value);
    }
  }
  auto sum_worker = [&](auto field) {
    uint64_t total = 0;
    for (const WorkerMetrics* m : workers) total += field(*m);
    return static_cast<double>(total);
  };
  w.header("backend_connect_failures_total", "counter", "Failed connects to a backend server.");
  for (size_t b = 0; b < std::min(backend_names.size(), kMaxBackends); ++b) {
    w.sample("backend_connect_failures_total", "server=\"" + escape_label(backend_names[b]) + "\"",
             sum_worker([b](const WorkerMetrics& m) { return load(m.backend_connect_failures[b]); }));
  }
  w.header("relayed_bytes_total", "counter", "Application bytes relayed, per direction.");
  w.sample("relayed_bytes_total", "direction=\"to_broker\"",
           sum_worker([](const WorkerMetrics& m) { return load(m.bytes_to_broker); }));
  w.sample("relayed_bytes_total", "direction=\"to_device\"",
           sum_worker([](const WorkerMetrics& m) { return load(m.bytes_to_device); }));
  w.header("kicks_total", "counter", "Live sessions closed by revocation, kick or certificate expiry.");
  w.sample("kicks_total", "", sum_worker([](const WorkerMetrics& m) { return load(m.kicks); }));
  w.header("bans_total", "counter", "Bans started for too many failed authentications.");
  w.sample("bans_total", "", static_cast<double>(process.bans));
  w.header("redis_errors_total", "counter", "Redis lookups failed (unreachable, timed out, bad reply).");
  w.sample("redis_errors_total", "", sum_worker([](const WorkerMetrics& m) { return load(m.redis_lookup_errors); }));
  w.header("redis_dropped_writes_total", "counter", "Session and event writes dropped while Redis was unavailable.");
  w.sample("redis_dropped_writes_total", "",
           sum_worker([](const WorkerMetrics& m) { return load(m.redis_dropped_writes); }));
  w.header("redis_lookups_total", "counter", "Redis lookups answered, per node that answered them.");
  w.sample("redis_lookups_total", "node=\"master\"",
           sum_worker([](const WorkerMetrics& m) { return load(m.redis_lookups_master); }));
  w.sample("redis_lookups_total", "node=\"replica\"",
           sum_worker([](const WorkerMetrics& m) { return load(m.redis_lookups_replica); }));
  w.header("redis_connected", "gauge", "Workers whose Redis connection is up.");
  w.sample("redis_connected", "", sum_worker([](const WorkerMetrics& m) {
             return static_cast<uint64_t>(m.redis_connected.load(std::memory_order_relaxed));
           }));

  Histogram::Snapshot connack, lookup;
  for (const WorkerMetrics* m : workers) {
    m->connack_latency.add_to(&connack);
    m->lookup_latency.add_to(&lookup);
  }
  w.histogram("connack_latency_seconds", "Time from accept to the CONNACK sent to the device.", connack);
  w.histogram("redis_lookup_seconds", "Round trip of the Redis lookup of one CONNECT.", lookup);

  w.header("ready", "gauge", "1 when listeners are up, Redis is reachable and a backend answers.");
  w.sample("ready", "", process.ready ? 1 : 0);
  std::string text = w.take();
  // Standard process metrics, without our prefix.
  text += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
          "# TYPE process_resident_memory_bytes gauge\n"
          "process_resident_memory_bytes " + std::to_string(process.resident_bytes) + "\n"
          "# HELP process_open_fds Number of open file descriptors.\n"
          "# TYPE process_open_fds gauge\n"
          "process_open_fds " + std::to_string(process.open_fds) + "\n";
  return text;
}

void read_process_gauges(ProcessGauges* out) {
  std::unique_ptr<FILE, decltype(&fclose)> statm(std::fopen("/proc/self/statm", "r"), &fclose);
  unsigned long long size = 0, resident = 0;
  if (statm && std::fscanf(statm.get(), "%llu %llu", &size, &resident) == 2) {
    out->resident_bytes = resident * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
  }
  std::unique_ptr<DIR, decltype(&closedir)> dir(opendir("/proc/self/fd"), &closedir);
  uint64_t fds = 0;
  if (dir) {
    while (dirent* entry = readdir(dir.get())) {
      if (entry->d_name[0] != '.') ++fds;
    }
    if (fds > 0) --fds;  // the directory stream itself
  }
  out->open_fds = fds;
}

}  // namespace proxy
