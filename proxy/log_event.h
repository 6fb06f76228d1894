// proxy/log_event.h: structured log lines. One call logs one event with named fields; the
// configured format renders it as `event key=value ...` (text) or one JSON object per line
// (json: ts, level, event and the fields). Lines not written through log_event still render
// as valid JSON, with their text under "msg". Secrets are never passed here.
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "config/config.h"

namespace proxy {

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename Number, typename = std::enable_if_t<std::is_arithmetic_v<Number>>>
  LogField(std::string_view k, Number v) : key(k), value(format_number(v)) {}

 private:
  template <typename Number>
  static std::string format_number(Number v) {
    if constexpr (std::is_floating_point_v<Number>) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(v));
      return buf;
    } else {
      return std::to_string(v);
    }
  }
};

enum class LogLimit {
  kAlways,   // every occurrence is logged (normal connection outcomes)
  kLimited,  // at most kLimitedPerSecond a second per event and reason; the rest are counted
             // and the next line of that kind that gets through says how many were suppressed
};
inline constexpr int kLimitedPerSecond = 20;

void log_event(spdlog::level::level_enum level, std::string_view event,
               std::initializer_list<LogField> fields, LogLimit limit = LogLimit::kAlways);

// configure_logging applies level and format to the default logger (thread-safe sinks).
void configure_logging(const config::LogConfig& log);

// json_escape appends |text| to |out| as the inside of a JSON string. Exposed for tests.
void json_escape(std::string_view text, std::string* out);

// render_event: the payload log_event hands to spdlog for |format|. Exposed for tests.
std::string render_event(config::LogFormat format, std::string_view event,
                         std::initializer_list<LogField> fields, uint64_t suppressed);

}  // namespace proxy
