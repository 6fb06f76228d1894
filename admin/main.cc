// admin/main.cc: mqtt-auth-admin --config FILE. Reads the proxy's YAML (`admin:` and
// `redis:`), serves the admin API and console until SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "admin/http_server.h"
#include "config/config.h"

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

int usage() {
  std::fprintf(stderr, "usage: mqtt-auth-admin --config FILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "--config") return usage();
  config::LoadResult loaded = config::load_config_file(argv[2]);
  for (const auto& error : loaded.errors) {
    std::fprintf(stderr, "%s:%d: %s\n", error.file.c_str(), error.line, error.message.c_str());
  }
  if (!loaded.config) return 2;
  const config::Config& cfg = *loaded.config;
  spdlog::set_level(spdlog::level::from_str(cfg.log.level));
  if (!cfg.admin.bind) {
    std::fprintf(stderr, "%s: admin.bind is not set; nothing to serve\n", argv[2]);
    return 2;
  }
  admin::AdminSettings settings;
  settings.redis.host = cfg.redis.address.host;
  settings.redis.port = cfg.redis.address.port;
  settings.redis.user = cfg.redis.username;
  settings.redis.password = cfg.redis.password;
  settings.redis.db = cfg.redis.database;
  // Sentinel mode: every API request's connection asks the sentinels, so a failover is
  // followed without a restart.
  for (const config::HostPort& sentinel : cfg.redis.sentinels) {
    settings.redis.sentinels.emplace_back(sentinel.host, sentinel.port);
  }
  settings.redis.sentinel_master = cfg.redis.sentinel_master;
  settings.redis.sentinel_password = cfg.redis.sentinel_password;
  settings.key_prefix = cfg.redis.key_prefix;
  settings.ca_dir = cfg.admin.ca_dir;

  admin::ServerOptions options;
  options.bind = *cfg.admin.bind;
  if (!cfg.admin.tls.cert_file.empty()) {
    if (!read_file(cfg.admin.tls.cert_file, &options.tls_cert_pem) ||
        !read_file(cfg.admin.tls.key_file, &options.tls_key_pem)) {
      std::fprintf(stderr, "cannot read admin.tls files\n");
      return 2;
    }
  }

  // Signals are taken synchronously by this thread; MHD's threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  admin::HttpServer server(settings, admin::TokenAuth(cfg.admin.tokens));
  std::string error;
  if (!server.start(options, &error)) {
    spdlog::critical("admin: {}", error);
    return 1;
  }
  spdlog::info("admin: serving {} on {}", options.tls_cert_pem.empty() ? "http" : "https",
               options.bind.to_string());
  int received = 0;
  sigwait(&stop_signals, &received);
  spdlog::info("admin: stopping on signal {}", received);
  return 0;
}
