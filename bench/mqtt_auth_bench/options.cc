// bench/mqtt_auth_bench/options.cc: see options.h.
#include "bench/mqtt_auth_bench/options.h"

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace bench {

const char* const kUsage = R"(usage: mqtt-auth-bench [options]
target:
  --host H (127.0.0.1)  --port P (8883)  --plain (no TLS)
  --tls-version 1.2|1.3  --ca FILE (verify server)  --sni NAME  --resume (reuse sessions)
credentials (client_id = device ID):
  --devices FILE        lines "device_id username key" (password = key)
  --certs DIR           mTLS: DIR/NAME_certs/{NAME.crt,NAME.key}; client_id = username = NAME
  (neither: client IDs bench-<thread>-<n>, no username)
  --mqtt 3.1.1|5 (3.1.1)  --keepalive S (0)
load:
  --threads N (1)  --connections N (100, target concurrency)  --rate R (new conns/s, 0 = max)
  --churn               DISCONNECT after CONNACK and reconnect, for --duration
  --duration S (10)     churn or publish time
  --timeout S (10)      TCP connect to CONNACK
  --publish-rate R      messages/s in total (0 = closed loop limited by --window)
  --qos 0|1 (0)  --payload BYTES (256)  --window N (200 per thread)
  --hold S              keep connections open S seconds (memory tests)
  --ready-file PATH     written when the connect phase is over
output: human table, or --json
)";

namespace {

bool parse_number(std::string_view text, double* out) {
  char* end = nullptr;
  std::string copy(text);
  double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || value < 0) return false;
  *out = value;
  return true;
}

template <typename T>
bool parse_integer(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool parse_options(int argc, char** argv, Options* out, bool* out_help, std::string* out_error) {
  *out_help = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view name = argv[i];
    auto flag = [&](std::string_view wanted) { return name == wanted; };
    if (flag("--help")) {
      *out_help = true;
      return true;
    }
    if (flag("--plain")) { out->tls = false; continue; }
    if (flag("--resume")) { out->resume = true; continue; }
    if (flag("--churn")) { out->churn = true; continue; }
    if (flag("--json")) { out->json = true; continue; }
    if (i + 1 >= argc) {
      *out_error = std::string(name) + ": unknown option or missing value";
      return false;
    }
    std::string_view value = argv[++i];
    bool ok = true;
    double number = 0;
    if (flag("--host")) out->host = value;
    else if (flag("--port")) ok = parse_integer(value, &out->port);
    else if (flag("--tls-version")) {
      out->tls_version = value;
      ok = value == "1.2" || value == "1.3";
    } else if (flag("--ca")) out->ca_file = value;
    else if (flag("--sni")) out->sni = value;
    else if (flag("--devices")) out->devices_file = value;
    else if (flag("--certs")) out->certs_dir = value;
    else if (flag("--mqtt")) {
      ok = value == "3.1.1" || value == "5";
      out->protocol_level = value == "5" ? 5 : 4;
    } else if (flag("--keepalive")) ok = parse_integer(value, &out->keepalive);
    else if (flag("--threads")) ok = parse_integer(value, &out->threads) && out->threads > 0;
    else if (flag("--connections")) ok = parse_integer(value, &out->connections);
    else if (flag("--rate")) ok = parse_number(value, &out->rate);
    else if (flag("--duration")) ok = parse_number(value, &out->duration);
    else if (flag("--timeout")) ok = parse_number(value, &out->timeout) && out->timeout > 0;
    else if (flag("--publish-rate")) ok = parse_number(value, &out->publish_rate);
    else if (flag("--qos")) ok = parse_integer(value, &out->qos) && out->qos >= 0 && out->qos <= 1;
    else if (flag("--payload")) ok = parse_integer(value, &out->payload) && out->payload >= 8;
    else if (flag("--window")) ok = parse_integer(value, &out->window) && out->window > 0;
    else if (flag("--hold")) ok = parse_number(value, &out->hold);
    else if (flag("--ready-file")) out->ready_file = value;
    else {
      *out_error = "unknown option " + std::string(name);
      return false;
    }
    (void)number;
    if (!ok) {
      *out_error = "bad value for " + std::string(name) + ": '" + std::string(value) + "'";
      return false;
    }
  }
  if (!out->devices_file.empty() && !out->certs_dir.empty()) {
    *out_error = "--devices and --certs are exclusive";
    return false;
  }
  if (!out->certs_dir.empty() && !out->tls) {
    *out_error = "--certs needs TLS";
    return false;
  }
  if (out->publish_rate >= 0 && out->connections < 2ull * out->threads) {
    *out_error = "publishing needs at least 2 connections per thread (1 subscriber + publishers)";
    return false;
  }
  return true;
}

}  // namespace bench
