#include "proxy/session_journal.h"

#include <chrono>

namespace proxy {
namespace {

// Deletes the session record only if it is still ours: the device may already have
// reconnected elsewhere and written its own.
constexpr const char* kDeleteIfOurs =
    "if redis.call('HGET', KEYS[1], 'conn') == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
    "return 0";

std::string now_millis() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

SessionJournal::SessionJournal(auth::RedisStore& store, const config::Config& config, std::string node)
    : store_(store), node_(std::move(node)) {
  reconfigure(config);
}

void SessionJournal::reconfigure(const config::Config& config) {
  events_ = config.events;
  ttl_seconds_ = std::to_string(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(config.sessions.ttl).count()));
}

void SessionJournal::event(std::vector<std::string> fields) {
  if (!events_.enabled) return;
  std::vector<std::string> argv{"XADD", store_.keys().events(), "MAXLEN", "~",
                                std::to_string(events_.maxlen), "*"};
  argv.insert(argv.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
  argv.insert(argv.end(), {"node", node_, "ts_ms", now_millis()});
  store_.execute(argv);
}

void SessionJournal::opened(const SessionFacts& s) {
  std::string key = store_.keys().session(s.device_id);
  store_.execute({"HSET", key, "node", node_, "listener", std::string(s.listener), "peer",
                  std::string(s.peer), "connected_at", std::to_string(s.connected_at), "cert_id",
                  std::string(s.cert_id), "conn", std::string(s.conn_id)});
  store_.execute({"EXPIRE", key, ttl_seconds_});
  event({"type", "connect", "device", std::string(s.device_id), "listener", std::string(s.listener),
         "peer", std::string(s.peer), "cert_id", std::string(s.cert_id)});
}

void SessionJournal::closed(const SessionFacts& s, std::string_view reason, uint64_t bytes_in,
                            uint64_t bytes_out, double duration_seconds) {
  store_.execute({"EVAL", kDeleteIfOurs, "1", store_.keys().session(s.device_id), std::string(s.conn_id)});
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", duration_seconds);
  event({"type", "disconnect", "device", std::string(s.device_id), "listener", std::string(s.listener),
         "peer", std::string(s.peer), "reason", std::string(reason), "bytes_in", std::to_string(bytes_in),
         "bytes_out", std::to_string(bytes_out), "duration", duration});
}

void SessionJournal::kicked(const SessionFacts& s, std::string_view reason) {
  event({"type", "kicked", "device", std::string(s.device_id), "listener", std::string(s.listener),
         "peer", std::string(s.peer), "reason", std::string(reason)});
}

void SessionJournal::auth_failed(std::string_view device_id, std::string_view listener,
                                 std::string_view peer, std::string_view reason) {
  event({"type", "auth_failed", "device", std::string(device_id), "listener", std::string(listener),
         "peer", std::string(peer), "reason", std::string(reason)});
}

void SessionJournal::refresh(std::string_view device_id) {
  store_.execute({"EXPIRE", store_.keys().session(device_id), ttl_seconds_});
}

}  // namespace proxy
