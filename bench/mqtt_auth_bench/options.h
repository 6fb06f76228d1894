// bench/mqtt_auth_bench/options.h: mqtt-auth-bench's command line.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8883;
  bool tls = true;             // --plain turns it off
  std::string tls_version;     // "1.2", "1.3" or "" (both)
  std::string ca_file;         // verify the server against it; no verification when empty
  std::string sni;             // server name sent; none when empty
  bool resume = false;         // reuse each thread's last SSL_SESSION
  std::string devices_file;    // lines "device_id username key"
  std::string certs_dir;       // a folder of NAME_certs/{NAME.crt,NAME.key} (mTLS)
  int protocol_level = 4;      // 4 (3.1.1) or 5
  uint16_t keepalive = 0;      // CONNECT keepalive; 0 = none (idle holds stay silent)
  int threads = 1;
  uint64_t connections = 100;  // target concurrency
  double rate = 0;             // new connections per second, 0 = as fast as allowed
  bool churn = false;          // close after CONNACK and open another, for --duration
  double duration = 10;        // seconds of churn or publish load
  double timeout = 10;         // seconds from TCP connect to CONNACK
  double publish_rate = -1;    // messages/s in total; <0: no publishing; 0: closed loop
  int qos = 0;
  size_t payload = 256;        // bytes, at least 8 (the send timestamp)
  uint64_t window = 200;       // per thread: messages sent but not yet received
  double hold = 0;             // seconds to keep the connections open after connecting
  std::string ready_file;      // written (connect-phase JSON) once connecting is done
  bool json = false;
};

// parse_options fills |out|; on failure returns false with a message in |out_error|.
// --help sets |out_help|.
bool parse_options(int argc, char** argv, Options* out, bool* out_help, std::string* out_error);

extern const char* const kUsage;

}  // namespace bench
