#include "proxy/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace proxy {

void configure_logging(const config::LogConfig& log) {
  auto logger = spdlog::stderr_logger_mt("mqtt-auth-proxy");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log.level));
  if (log.format == config::LogFormat::kJson) {
    // Messages are key=value text; the JSON envelope carries time, level and thread.
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  }
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace proxy
