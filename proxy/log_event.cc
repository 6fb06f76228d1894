#include "proxy/log_event.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>

namespace proxy {
namespace {

// Marks a payload that log_event already rendered as JSON members.
constexpr char kJsonMarker = '\x1f';

std::atomic<config::LogFormat> g_format{config::LogFormat::kText};

bool needs_quotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Renders every line as one JSON object: ts, level, then the event's members or "msg".
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto since_epoch = msg.time.time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[40];
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
    std::string line = "{\"ts\":\"";
    line += ts;
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",";
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kJsonMarker) {
      line.append(payload.substr(1));
    } else {
      line += "\"msg\":\"";
      json_escape(payload, &line);
      line += '"';
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Per-event budget for LogLimit::kLimited lines.
class LineBudget {
 public:
  // take: true if the line may be written; *out_suppressed gets the count dropped since the
  // last line of this event that was written.
  bool take(std::string_view event, uint64_t* out_suppressed) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& state = events_[std::string(event)];
    if (now - state.window_start >= std::chrono::seconds(1)) {
      state.window_start = now;
      state.written = 0;
    }
    if (state.written >= kLimitedPerSecond) {
      ++state.suppressed;
      return false;
    }
    ++state.written;
    *out_suppressed = state.suppressed;
    state.suppressed = 0;
    return true;
  }

 private:
  struct State {
    std::chrono::steady_clock::time_point window_start{};
    int written = 0;
    uint64_t suppressed = 0;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, State> events_;  // keys are the few event names in code
};

LineBudget& budget() {
  static LineBudget instance;
  return instance;
}

}  // namespace

void json_escape(std::string_view text, std::string* out) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

std::string render_event(config::LogFormat format, std::string_view event,
                         std::initializer_list<LogField> fields, uint64_t suppressed) {
  std::string out;
  if (format == config::LogFormat::kJson) {
    out.push_back(kJsonMarker);
    out += "\"event\":\"";
    json_escape(event, &out);
    out += '"';
    for (const LogField& field : fields) {
      out += ",\"";
      json_escape(field.key, &out);
      out += "\":\"";
      json_escape(field.value, &out);
      out += '"';
    }
    if (suppressed > 0) out += ",\"suppressed\":\"" + std::to_string(suppressed) + "\"";
    return out;
  }
  out.append(event);
  for (const LogField& field : fields) {
    out += ' ';
    out.append(field.key);
    out += '=';
    if (needs_quotes(field.value)) {
      out += '"';
      json_escape(field.value, &out);
      out += '"';
    } else {
      out += field.value;
    }
  }
  if (suppressed > 0) out += " suppressed=" + std::to_string(suppressed);
  return out;
}

void log_event(spdlog::level::level_enum level, std::string_view event,
               std::initializer_list<LogField> fields, LogLimit limit) {
  if (!spdlog::should_log(level)) return;
  uint64_t suppressed = 0;
  if (limit == LogLimit::kLimited) {
    // Budgets are per event and reason: a flood of one kind of refusal must not hide a
    // different one (a ban starting, say).
    std::string key(event);
    for (const LogField& field : fields) {
      if (field.key == "reason") key.append("|").append(field.value);
    }
    if (!budget().take(key, &suppressed)) return;
  }
  spdlog::log(level, "{}", render_event(g_format.load(std::memory_order_relaxed), event, fields, suppressed));
}

void configure_logging(const config::LogConfig& log) {
  auto logger = spdlog::stderr_logger_mt("mqtt-auth-proxy");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log.level));
  g_format.store(log.format, std::memory_order_relaxed);
  if (log.format == config::LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%t] %v");
  }
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace proxy
