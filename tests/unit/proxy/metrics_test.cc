// Prometheus rendering of hand-filled per-worker metrics: exact sample lines, sums across
// workers, omitted zero series, histogram bucket placement and cumulative buckets.
#include "proxy/metrics.h"

#include "proxy/http_endpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace proxy {
namespace {

config::Config two_listeners() {
  config::Config config;
  config.listeners.resize(2);
  config.listeners[0].name = "token";
  config.listeners[1].name = "cert";
  return config;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const std::string& l : lines_of(text)) {
    if (l == line) return true;
  }
  return false;
}

// Lines starting with |prefix|, in output order.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (const std::string& l : lines_of(text)) {
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  }
  return out;
}

size_t auth_index(auth::Reason reason) { return static_cast<size_t>(reason); }
size_t tls_index(TlsFailure failure) { return static_cast<size_t>(failure); }

class ProxyRenderMetrics : public ::testing::Test {
 protected:
  std::string render(const ProcessGauges& gauges = {}) {
    std::vector<const WorkerMetrics*> views{first_.get(), second_.get()};
    return render_metrics(config_, views, {"127.0.0.1:1883", "broker-b:1883"}, gauges);
  }

  config::Config config_ = two_listeners();
  std::unique_ptr<WorkerMetrics> first_ = std::make_unique<WorkerMetrics>();
  std::unique_ptr<WorkerMetrics> second_ = std::make_unique<WorkerMetrics>();
};

TEST_F(ProxyRenderMetrics, ConnectionCountersAreSummedPerListener) {
  bump(first_->listeners[0].accepted, 3);
  bump(second_->listeners[0].accepted, 2);
  bump(first_->listeners[0].closed, 1);
  bump(second_->listeners[1].accepted, 4);
  bump(second_->listeners[1].closed, 4);
  std::string text = render();
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_connections_accepted_total{listener="token"} 5)")) << text;
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_connections_accepted_total{listener="cert"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_connections_closed_total{listener="token"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_connections_active{listener="token"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_connections_active{listener="cert"} 0)")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE mqtt_auth_proxy_connections_accepted_total counter")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE mqtt_auth_proxy_connections_active gauge")) << text;
}

TEST_F(ProxyRenderMetrics, AuthenticationsByResultAndReasonOmitZeroSeries) {
  bump(first_->listeners[0].auth[auth_index(auth::Reason::kAccepted)], 2);
  bump(first_->listeners[0].auth[auth_index(auth::Reason::kBadSecret)], 1);
  bump(second_->listeners[0].auth[auth_index(auth::Reason::kBadSecret)], 1);
  bump(second_->listeners[1].auth[auth_index(auth::Reason::kCertNotBound)], 1);
  std::string text = render();
  EXPECT_EQ(lines_starting(text, "mqtt_auth_proxy_authentications_total"),
            (std::vector<std::string>{
                R"(mqtt_auth_proxy_authentications_total{listener="token",result="accepted",reason="accepted"} 2)",
                R"(mqtt_auth_proxy_authentications_total{listener="token",result="refused",reason="bad_secret"} 2)",
                R"(mqtt_auth_proxy_authentications_total{listener="cert",result="refused",reason="cert_not_bound"} 1)",
            }))
      << text;
}

TEST_F(ProxyRenderMetrics, TlsFailuresByReason) {
  bump(first_->listeners[0].tls_failures[tls_index(TlsFailure::kNotTls)]);
  bump(second_->listeners[1].tls_failures[tls_index(TlsFailure::kNoClientCertificate)], 2);
  std::string text = render();
  EXPECT_EQ(lines_starting(text, "mqtt_auth_proxy_tls_handshake_failures_total"),
            (std::vector<std::string>{
                R"(mqtt_auth_proxy_tls_handshake_failures_total{listener="token",reason="not_tls"} 1)",
                R"(mqtt_auth_proxy_tls_handshake_failures_total{listener="cert",reason="no_client_certificate"} 2)",
            }))
      << text;
}

TEST_F(ProxyRenderMetrics, WorkerWideCountersAndProcessGauges) {
  bump(first_->backend_connect_failures[1], 2);
  bump(second_->backend_connect_failures[1], 1);
  bump(first_->bytes_to_broker, 100);
  bump(second_->bytes_to_broker, 23);
  bump(first_->bytes_to_device, 7);
  bump(first_->kicks, 2);
  bump(second_->redis_lookup_errors, 3);
  bump(first_->redis_dropped_writes, 4);
  first_->redis_lookups_master.store(6);
  second_->redis_lookups_master.store(1);
  second_->redis_lookups_replica.store(9);
  first_->redis_connected.store(true);
  ProcessGauges gauges;
  gauges.resident_bytes = 4096;
  gauges.open_fds = 12;
  gauges.bans = 5;
  gauges.ready = true;
  std::string text = render(gauges);
  for (const char* line : {
           R"(mqtt_auth_proxy_backend_connect_failures_total{server="127.0.0.1:1883"} 0)",
           R"(mqtt_auth_proxy_backend_connect_failures_total{server="broker-b:1883"} 3)",
           R"(mqtt_auth_proxy_relayed_bytes_total{direction="to_broker"} 123)",
           R"(mqtt_auth_proxy_relayed_bytes_total{direction="to_device"} 7)",
           "mqtt_auth_proxy_kicks_total 2",
           "mqtt_auth_proxy_bans_total 5",
           "mqtt_auth_proxy_redis_errors_total 3",
           "mqtt_auth_proxy_redis_dropped_writes_total 4",
           R"(mqtt_auth_proxy_redis_lookups_total{node="master"} 7)",
           R"(mqtt_auth_proxy_redis_lookups_total{node="replica"} 9)",
           "mqtt_auth_proxy_redis_connected 1",
           "mqtt_auth_proxy_ready 1",
           "process_resident_memory_bytes 4096",
           "process_open_fds 12",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\n" << text;
  }
  EXPECT_TRUE(has_line(render(), "mqtt_auth_proxy_ready 0"));
}

TEST_F(ProxyRenderMetrics, EveryFamilyHasHelpThenTypeBeforeItsSamples) {
  std::string text = render();
  std::string current;  // family whose TYPE line was seen last
  for (const std::string& line : lines_of(text)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    bool belongs = name == current || name == current + "_bucket" || name == current + "_sum" ||
                   name == current + "_count";
    EXPECT_TRUE(belongs) << "sample " << line << " after TYPE of " << current;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(ProxyRenderMetrics, HistogramBucketsAreCumulativeAndEndWithInf) {
  first_->connack_latency.observe(0.0005);  // le=0.001
  first_->connack_latency.observe(0.001);   // on the bound: le=0.001
  second_->connack_latency.observe(0.002);  // le=0.0025
  second_->connack_latency.observe(0.3);    // le=0.5
  first_->connack_latency.observe(7.0);     // only +Inf
  std::string text = render();
  std::vector<std::string> series = lines_starting(text, "mqtt_auth_proxy_connack_latency_seconds_");
  for (std::string& line : series) {
    if (line.rfind("mqtt_auth_proxy_connack_latency_seconds_sum ", 0) == 0) line.resize(line.find(' '));
  }
  EXPECT_EQ(series,
            (std::vector<std::string>{
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.001"} 2)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.0025"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.005"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.01"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.025"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.05"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.1"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.25"} 3)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="0.5"} 4)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="1"} 4)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="2.5"} 4)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="5"} 4)",
                R"(mqtt_auth_proxy_connack_latency_seconds_bucket{le="+Inf"} 5)",
                "mqtt_auth_proxy_connack_latency_seconds_sum",  // value checked below
                "mqtt_auth_proxy_connack_latency_seconds_count 5",
            }))
      << text;
  std::vector<std::string> sum = lines_starting(text, "mqtt_auth_proxy_connack_latency_seconds_sum ");
  ASSERT_EQ(sum.size(), 1u) << text;
  EXPECT_NEAR(std::stod(sum[0].substr(sum[0].find(' ') + 1)), 7.3035, 1e-5);
  EXPECT_TRUE(has_line(text, "# TYPE mqtt_auth_proxy_connack_latency_seconds histogram")) << text;
  EXPECT_TRUE(has_line(text, R"(mqtt_auth_proxy_redis_lookup_seconds_bucket{le="+Inf"} 0)")) << text;
  EXPECT_TRUE(has_line(text, "mqtt_auth_proxy_redis_lookup_seconds_count 0")) << text;
}

TEST(ProxyHistogram, SnapshotPlacesEachObservationInItsBucket) {
  Histogram h;
  for (size_t i = 0; i < Histogram::kBounds.size(); ++i) h.observe(Histogram::kBounds[i]);
  h.observe(1e9);
  h.observe(0);
  Histogram::Snapshot s;
  h.add_to(&s);
  EXPECT_EQ(s.buckets[0], 2u);  // 0 and 0.001
  for (size_t i = 1; i < Histogram::kBounds.size(); ++i) EXPECT_EQ(s.buckets[i], 1u) << i;
  EXPECT_EQ(s.buckets.back(), 1u);
  EXPECT_EQ(s.count, Histogram::kBounds.size() + 2);
  Histogram::Snapshot twice = s;
  h.add_to(&twice);  // add_to adds: a scrape sums workers into one snapshot
  EXPECT_EQ(twice.count, 2 * s.count);
  EXPECT_EQ(twice.buckets[0], 4u);
}

TEST(ProxyTlsFailure, ClassifiesHandshakeReasons) {
  EXPECT_EQ(classify_tls_failure("not_tls"), TlsFailure::kNotTls);
  EXPECT_EQ(classify_tls_failure("no_client_certificate"), TlsFailure::kNoClientCertificate);
  EXPECT_EQ(classify_tls_failure("certificate_verify_failed"), TlsFailure::kCertificateVerify);
  EXPECT_EQ(classify_tls_failure("certificate_expired"), TlsFailure::kCertificateExpired);
  EXPECT_EQ(classify_tls_failure("certificate_not_yet_valid"), TlsFailure::kCertificateExpired);
  EXPECT_EQ(classify_tls_failure("certificate_revoked"), TlsFailure::kCertificateRevoked);
  EXPECT_EQ(classify_tls_failure("NO_SHARED_CIPHER"), TlsFailure::kProtocol);
  EXPECT_EQ(classify_tls_failure(""), TlsFailure::kProtocol);
}

TEST(ProxyTlsFailure, NamesRoundTripThroughClassification) {
  for (size_t f = 0; f < static_cast<size_t>(TlsFailure::kCount); ++f) {
    auto failure = static_cast<TlsFailure>(f);
    EXPECT_EQ(classify_tls_failure(tls_failure_name(failure)), failure) << tls_failure_name(failure);
  }
  EXPECT_EQ(tls_failure_name(TlsFailure::kProtocol), "protocol_error");
}

TEST(ProxyHttpRequestLine, MethodAndPathWithoutQuery) {
  std::string method, path;
  ASSERT_TRUE(parse_request_line("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\n\r\n", &method, &path));
  EXPECT_EQ(method, "GET");
  EXPECT_EQ(path, "/metrics");
  ASSERT_TRUE(parse_request_line("POST /readyz HTTP/1.0\r\n\r\n", &method, &path));
  EXPECT_EQ(method, "POST");
  EXPECT_EQ(path, "/readyz");
  ASSERT_TRUE(parse_request_line("GET / HTTP/1.1\r\n", &method, &path));
  EXPECT_EQ(path, "/");
}

TEST(ProxyHttpRequestLine, RejectsIncompleteOrMalformedLines) {
  std::string method = "unchanged", path = "unchanged";
  EXPECT_FALSE(parse_request_line("GET /metrics HTTP/1.1", &method, &path));  // no CRLF yet
  EXPECT_FALSE(parse_request_line("", &method, &path));
  EXPECT_FALSE(parse_request_line("GET\r\n", &method, &path));
  EXPECT_FALSE(parse_request_line("GET /metrics\r\n", &method, &path));          // HTTP/0.9
  EXPECT_FALSE(parse_request_line("GET metrics HTTP/1.1\r\n", &method, &path));  // not origin-form
  EXPECT_FALSE(parse_request_line("GET http://h/metrics HTTP/1.1\r\n", &method, &path));
  EXPECT_FALSE(parse_request_line("GET /metrics SPDY/3\r\n", &method, &path));
  EXPECT_FALSE(parse_request_line("GET  /metrics HTTP/1.1\r\n", &method, &path));  // empty target
  EXPECT_EQ(method, "unchanged");
  EXPECT_EQ(path, "unchanged");
}

}  // namespace
}  // namespace proxy
