// mqtt-auth-proxy: the daemon's entry point. Parses the command line, validates the config
// and hands over to proxy::Server.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

#include "config/config.h"
#include "proxy/log_event.h"
#include "proxy/server.h"

namespace {

constexpr const char* kUsage =
    "usage: mqtt-auth-proxy --config FILE        run the proxy\n"
    "       mqtt-auth-proxy --check-config FILE  validate FILE (and its TLS files), print OK or errors\n"
    "       mqtt-auth-proxy --reload PIDFILE     ask a running proxy to reload (SIGHUP)\n"
    "       mqtt-auth-proxy --version\n";

int send_reload(const char* pid_file) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    std::fprintf(stderr, "%s: no process id in the file\n", pid_file);
    return 1;
  }
  if (kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    std::fprintf(stderr, "cannot signal process %ld: %s\n", pid, std::strerror(errno));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--config" || arg == "-c" || arg == "--check-config") && i + 1 < argc) {
      check_only |= arg == "--check-config";
      config_path = argv[++i];
    } else if (arg == "--reload" && i + 1 < argc) {
      return send_reload(argv[i + 1]);
    } else if (arg == "--version") {
      std::printf("mqtt-auth-proxy 0.1.0\n");
      return 0;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  config::LoadResult loaded = config::load_config_file(config_path);
  for (const auto& warning : loaded.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.to_string().c_str());
  }
  if (!loaded.errors.empty()) {
    for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
    return 1;
  }
  proxy::Runtime runtime;
  std::vector<std::string> errors;
  if (!proxy::build_runtime(std::make_shared<const config::Config>(std::move(*loaded.config)),
                            &runtime, &errors)) {
    for (const auto& error : errors) std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  if (check_only) {
    std::printf("%s: OK\n", config_path.c_str());
    return 0;
  }

  proxy::configure_logging(runtime.config->log);
  signal(SIGPIPE, SIG_IGN);
  proxy::Server server(config_path, std::move(runtime));
  return server.run();
}
