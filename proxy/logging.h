// proxy/logging.h: spdlog set-up from the log section of the config.
#pragma once

#include "config/config.h"

namespace proxy {

// configure_logging applies level and format to the default logger (thread-safe sinks).
void configure_logging(const config::LogConfig& log);

}  // namespace proxy
