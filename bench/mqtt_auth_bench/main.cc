// bench/mqtt_auth_bench/main.cc: mqtt-auth-bench, the load generator. Phases: connect
// (or churn for --duration), then the publish window, then --hold; then a report.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "bench/mqtt_auth_bench/credentials.h"
#include "bench/mqtt_auth_bench/options.h"
#include "bench/mqtt_auth_bench/report.h"
#include "bench/mqtt_auth_bench/worker.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// raise_fd_limit: soft RLIMIT_NOFILE up to the hard limit; warns when even that is short.
void raise_fd_limit(uint64_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < needed) {
    std::cerr << "mqtt-auth-bench: warning: RLIMIT_NOFILE hard limit " << limit.rlim_max
              << " < " << needed << " needed\n";
  }
}

bool resolve(const bench::Options& options, sockaddr_storage* out, std::string* out_error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(options.port);
  if (getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    *out_error = "cannot resolve " + options.host;
    return false;
  }
  std::memcpy(out, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  return true;
}

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options options;
  bool help = false;
  std::string error;
  if (!bench::parse_options(argc, argv, &options, &help, &error)) {
    std::cerr << "mqtt-auth-bench: " << error << "\n" << bench::kUsage;
    return 2;
  }
  if (help) {
    std::cout << bench::kUsage;
    return 0;
  }
  std::vector<bench::Credential> credentials;
  if (!options.devices_file.empty() &&
      !bench::load_device_list(options.devices_file, &credentials, &error)) {
    std::cerr << "mqtt-auth-bench: " << error << "\n";
    return 2;
  }
  if (!options.certs_dir.empty() &&
      !bench::load_cert_bundles(options.certs_dir, &credentials, &error)) {
    std::cerr << "mqtt-auth-bench: " << error << "\n";
    return 2;
  }
  if (!credentials.empty() && credentials.size() < options.connections && !options.churn) {
    std::cerr << "mqtt-auth-bench: warning: " << credentials.size() << " credentials for "
              << options.connections << " connections: client IDs repeat (brokers kick "
              << "the older session)\n";
  }
  sockaddr_storage address{};
  if (!resolve(options, &address, &error)) {
    std::cerr << "mqtt-auth-bench: " << error << "\n";
    return 2;
  }
  raise_fd_limit(options.connections + 64);

  bench::RunControl control;
  std::vector<std::unique_ptr<bench::Worker>> workers;
  for (int i = 0; i < options.threads; ++i) {
    workers.push_back(
        std::make_unique<bench::Worker>(i, options, credentials, address, control));
    if (!workers.back()->init(&error)) {
      std::cerr << "mqtt-auth-bench: " << error << "\n";
      return 2;
    }
  }
  auto live = [&] {
    uint64_t total = 0;
    for (auto& worker : workers) total += worker->live();
    return total;
  };
  bench::RunTimes times;
  Clock::time_point start = Clock::now();
  for (auto& worker : workers) worker->start();

  if (options.churn) {
    std::this_thread::sleep_for(std::chrono::duration<double>(options.duration));
    times.connect_seconds = seconds_since(start);
    times.peak_live = live();
  } else {
    for (;;) {
      bool done = true;
      for (auto& worker : workers) done = done && worker->connect_phase_done();
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    times.connect_seconds = seconds_since(start);
    times.peak_live = live();
  }
  if (!options.ready_file.empty()) {
    std::ofstream(options.ready_file) << times.peak_live << "\n";
  }
  if (options.publish_rate >= 0 && !options.churn) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // SUBACKs
    Clock::time_point load_start = Clock::now();
    control.set(bench::Phase::kLoad);
    std::this_thread::sleep_for(std::chrono::duration<double>(options.duration));
    control.set(bench::Phase::kDrain);
    times.load_seconds = seconds_since(load_start);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (options.hold > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(options.hold));
  }
  control.set(bench::Phase::kStop);
  bench::Stats total;
  for (auto& worker : workers) {
    worker->join();
    total.merge(worker->stats());
  }
  times.bench_max_rss_kib = max_rss_kib();
  std::cout << (options.json ? bench::render_json(options, total, times)
                             : bench::render_table(options, total, times))
            << "\n";
  return total.connected > 0 ? 0 : 1;
}
