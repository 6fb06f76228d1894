// bench/mqtt_auth_bench/report.cc: see report.h.
#include "bench/mqtt_auth_bench/report.h"

#include <cstdio>
#include <sstream>

namespace bench {
namespace {

double per_second(uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

std::string fixed(double value, int decimals = 1) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

void json_percentiles(std::ostringstream& out, const char* name, const Histogram& histogram) {
  out << "\"" << name << "\":{\"count\":" << histogram.count()
      << ",\"p50\":" << histogram.percentile(0.50) << ",\"p90\":" << histogram.percentile(0.90)
      << ",\"p99\":" << histogram.percentile(0.99) << ",\"max\":" << histogram.max() << "}";
}

std::string ms(uint64_t micros) { return fixed(static_cast<double>(micros) / 1000.0, 2); }

}  // namespace

std::string render_json(const Options& options, const Stats& stats, const RunTimes& times) {
  std::ostringstream out;
  out << "{\"target\":{\"host\":\"" << options.host << "\",\"port\":" << options.port
      << ",\"tls\":" << (options.tls ? "true" : "false") << ",\"tls_version\":\""
      << (options.tls_version.empty() ? "any" : options.tls_version)
      << "\",\"resume\":" << (options.resume ? "true" : "false")
      << ",\"mqtt\":" << options.protocol_level << "},";
  out << "\"threads\":" << options.threads << ",\"attempted\":" << stats.attempted
      << ",\"connected\":" << stats.connected << ",\"resumed\":" << stats.resumed
      << ",\"dropped\":" << stats.dropped << ",\"peak_live\":" << times.peak_live
      << ",\"connect_seconds\":" << fixed(times.connect_seconds, 3)
      << ",\"connections_per_second\":"
      << fixed(per_second(stats.connected, times.connect_seconds)) << ",";
  out << "\"failures\":{";
  for (size_t i = 0; i < stats.failures.size(); ++i) {
    out << (i ? "," : "") << "\"" << failure_name(static_cast<Failure>(i))
        << "\":" << stats.failures[i];
  }
  out << "},\"connack_codes\":{";
  bool first = true;
  for (size_t code = 0; code < stats.connack_codes.size(); ++code) {
    if (stats.connack_codes[code] == 0) continue;
    out << (first ? "" : ",") << "\"" << code << "\":" << stats.connack_codes[code];
    first = false;
  }
  out << "},\"latency_us\":{";
  json_percentiles(out, "connack", stats.connack_latency);
  out << ",";
  json_percentiles(out, "tls_handshake", stats.handshake_latency);
  out << ",";
  json_percentiles(out, "end_to_end", stats.e2e_latency);
  out << "},\"messages\":{\"qos\":" << options.qos << ",\"payload\":" << options.payload
      << ",\"seconds\":" << fixed(times.load_seconds, 3) << ",\"published\":" << stats.published
      << ",\"received\":" << stats.received << ",\"acked\":" << stats.acked
      << ",\"published_per_second\":" << fixed(per_second(stats.published, times.load_seconds))
      << ",\"received_per_second\":" << fixed(per_second(stats.received, times.load_seconds))
      << "},\"bench_max_rss_kib\":" << times.bench_max_rss_kib << "}";
  return out.str();
}

std::string render_table(const Options& options, const Stats& stats, const RunTimes& times) {
  std::ostringstream out;
  auto row = [&](const std::string& name, const std::string& value) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-28s %s\n", name.c_str(), value.c_str());
    out << line;
  };
  out << "mqtt-auth-bench " << options.host << ":" << options.port << " "
      << (options.tls ? "TLS " + (options.tls_version.empty() ? std::string("1.2/1.3")
                                                              : options.tls_version)
                      : std::string("plain TCP"))
      << (options.resume ? " (resumption)" : "") << ", MQTT "
      << (options.protocol_level == 5 ? "5" : "3.1.1") << ", " << options.threads
      << " thread(s)\n";
  row("attempted / connected", std::to_string(stats.attempted) + " / " +
                                   std::to_string(stats.connected));
  row(options.churn ? "churn seconds" : "connect phase seconds", fixed(times.connect_seconds, 3));
  row("connections/s (to CONNACK)", fixed(per_second(stats.connected, times.connect_seconds)));
  row("peak open connections", std::to_string(times.peak_live));
  if (options.tls) row("resumed handshakes", std::to_string(stats.resumed));
  const Histogram& c = stats.connack_latency;
  row("CONNACK latency ms", "p50 " + ms(c.percentile(0.5)) + "  p90 " + ms(c.percentile(0.9)) +
                                "  p99 " + ms(c.percentile(0.99)) + "  max " + ms(c.max()));
  std::string failures;
  for (size_t i = 0; i < stats.failures.size(); ++i) {
    if (stats.failures[i] == 0) continue;
    failures += std::string(failure_name(static_cast<Failure>(i))) + "=" +
                std::to_string(stats.failures[i]) + " ";
  }
  for (size_t code = 0; code < stats.connack_codes.size(); ++code) {
    if (stats.connack_codes[code] == 0) continue;
    failures += "code" + std::to_string(code) + "=" + std::to_string(stats.connack_codes[code]) +
                " ";
  }
  row("failures", failures.empty() ? "none" : failures);
  row("dropped after CONNACK", std::to_string(stats.dropped));
  if (options.publish_rate >= 0) {
    row("messages/s sent (QoS " + std::to_string(options.qos) + ")",
        fixed(per_second(stats.published, times.load_seconds)));
    row("messages/s received", fixed(per_second(stats.received, times.load_seconds)));
    const Histogram& e = stats.e2e_latency;
    row("end-to-end latency ms", "p50 " + ms(e.percentile(0.5)) + "  p90 " +
                                     ms(e.percentile(0.9)) + "  p99 " + ms(e.percentile(0.99)) +
                                     "  max " + ms(e.max()));
  }
  row("bench max RSS", std::to_string(times.bench_max_rss_kib / 1024) + " MiB");
  return out.str();
}

}  // namespace bench
