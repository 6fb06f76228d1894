#include "auth/redis_link.h"

#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace auth {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};

}  // namespace

RedisLink::RedisLink(uv_loop_t* loop, RedisLinkSettings settings, Locator locate, ReplyFn on_reply,
                     ReadyFn on_ready)
    : loop_(loop),
      settings_(std::move(settings)),
      locate_(std::move(locate)),
      on_reply_(std::move(on_reply)),
      on_ready_(std::move(on_ready)) {
  for (uv_timer_t* timer : {&reconnect_timer_, &timeout_timer_}) {
    uv_timer_init(loop_, timer);
    timer->data = this;
  }
}

RedisLink::~RedisLink() = default;  // close() ran and the loop turned since

void RedisLink::start() {
  connect();
  auto interval = std::max<uint64_t>(10, settings_.timeout.count() / 4);
  uv_timer_start(&timeout_timer_, [](uv_timer_t* t) {
    static_cast<RedisLink*>(t->data)->check_timeouts();
  }, interval, interval);
}

void RedisLink::close() {
  if (state_ == State::kClosed) return;
  drop_connection(nullptr);
  set_state(State::kClosed);
  for (uv_timer_t* timer : {&reconnect_timer_, &timeout_timer_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  }
}

void RedisLink::connect() {
  if (state_ == State::kClosed) return;
  set_state(State::kLocating);  // nothing can be sent until the node is found
  locate_([this](bool ok, const std::string& host, uint16_t port) {
    if (state_ != State::kLocating) return;  // closed meanwhile
    if (!ok) {
      schedule_reconnect();
      return;
    }
    connect_to(host, port);
  });
}

void RedisLink::connect_to(const std::string& host, uint16_t port) {
  address_ = host + ":" + std::to_string(port);
  std::string error;
  redisAsyncContext* ctx = open_on_loop(host, port, loop_, this, &RedisLink::on_connect,
                                        &RedisLink::on_disconnect, &error);
  if (ctx == nullptr) {
    spdlog::warn("redis {}: connect to {} failed: {}", settings_.role, address_, error);
    schedule_reconnect();
    return;
  }
  ctx_ = ctx;
  set_state(State::kConnecting);
  // AUTH and SELECT go first on the wire; other commands queue behind them.
  if (!settings_.password.empty()) {
    std::vector<std::string> auth_cmd{"AUTH"};
    if (!settings_.username.empty()) auth_cmd.push_back(settings_.username);
    auth_cmd.push_back(settings_.password);
    send_setup(auth_cmd, false);
  }
  if (settings_.database != 0) send_setup({"SELECT", std::to_string(settings_.database)}, false);
  if (!settings_.check_command.empty()) {
    send_setup(settings_.check_command, true);
    last_check_ = std::chrono::steady_clock::now();
  }
  // PING marks the end of set-up: its reply makes the link ready.
  send_setup({"PING"}, false);
}

void RedisLink::send_setup(const std::vector<std::string>& argv, bool is_check) {
  // privdata only tells a health check from the other set-up commands.
  queue_command(&RedisLink::on_setup_thunk, is_check ? this : nullptr, argv);
}

bool RedisLink::queue_command(void (*callback)(redisAsyncContext*, void*, void*), void* privdata,
                              const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAsyncCommandArgv(ctx_, callback, privdata, static_cast<int>(args.size()), args.data(),
                            lens.data()) != REDIS_OK) {
    return false;
  }
  sent_at_.push_back(std::chrono::steady_clock::now());
  return true;
}

void RedisLink::schedule_reconnect() {
  if (state_ == State::kClosed) return;
  set_state(State::kIdle);
  uv_timer_start(&reconnect_timer_, [](uv_timer_t* t) {
    static_cast<RedisLink*>(t->data)->connect();
  }, backoff_.count(), 0);
  backoff_ = std::min(backoff_ * 2, settings_.max_backoff);
}

void RedisLink::reconnect(const char* why) {
  if (ctx_ != nullptr) drop_connection(why);
}

void RedisLink::drop_connection(const char* why) {
  if (ctx_ == nullptr) return;
  if (why) spdlog::warn("redis {}: dropping connection to {}: {}", settings_.role, address_, why);
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  sent_at_.clear();
  schedule_reconnect();
  // Runs every pending reply callback with a null reply (deferred by hiredis when called
  // from inside one), then on_disconnect, which sees ctx_ != ctx.
  redisAsyncFree(ctx);
}

void RedisLink::set_state(State state) {
  bool was_ready = state_ == State::kReady;
  state_ = state;
  bool ready = state_ == State::kReady;
  if (was_ready != ready && on_ready_) on_ready_(ready);
}

void RedisLink::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisLink*>(ctx->data);
  if (status == REDIS_OK || self->ctx_ != ctx) return;
  // hiredis frees the context after this callback and fails its queued commands.
  spdlog::warn("redis {}: cannot connect to {}: {}", self->settings_.role, self->address_, ctx->errstr);
  self->ctx_ = nullptr;
  self->sent_at_.clear();
  self->schedule_reconnect();
}

void RedisLink::on_disconnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisLink*>(ctx->data);
  if (self->ctx_ != ctx) return;  // dropped by us; already rescheduled
  spdlog::warn("redis {}: connection to {} lost: {}", self->settings_.role, self->address_,
               status == REDIS_OK ? "closed" : ctx->errstr);
  self->ctx_ = nullptr;
  self->sent_at_.clear();
  self->schedule_reconnect();
}

bool RedisLink::send(uint64_t tag, const std::vector<std::string>& argv) {
  if (ctx_ == nullptr) return false;
  return queue_command(&RedisLink::on_reply_thunk, reinterpret_cast<void*>(tag), argv);
}

void RedisLink::on_reply_thunk(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<RedisLink*>(ctx->data);
  // Null replies of a context already dropped belong to no deadline of the current one.
  if (self->ctx_ == ctx && !self->sent_at_.empty()) self->sent_at_.pop_front();
  self->on_reply_(reinterpret_cast<uint64_t>(privdata), static_cast<const redisReply*>(reply));
}

void RedisLink::on_setup_thunk(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<RedisLink*>(ctx->data);
  if (self->ctx_ != ctx) return;  // a dropped connection's set-up: nothing to do
  if (!self->sent_at_.empty()) self->sent_at_.pop_front();
  self->on_setup_reply(static_cast<const redisReply*>(reply), privdata != nullptr);
}

void RedisLink::on_setup_reply(const redisReply* reply, bool is_check) {
  if (reply == nullptr) return;  // connection went away; on_disconnect handles it
  if (is_check) {
    if (!settings_.healthy(reply)) drop_connection(settings_.check_failure.c_str());
    return;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    spdlog::error("redis {}: set-up command refused by {}: {}", settings_.role, address_,
                  std::string(reply->str, reply->len));
    drop_connection("authentication or database selection failed");
    return;
  }
  if (reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == "PONG" &&
      state_ == State::kConnecting) {
    spdlog::info("redis {}: connected to {}", settings_.role, address_);
    set_state(State::kReady);
    backoff_ = kFirstBackoff;
  }
}

void RedisLink::check_timeouts() {
  if (ctx_ == nullptr) return;
  auto now = std::chrono::steady_clock::now();
  // Replies come in order, so an overdue oldest command means the connection is stuck. The
  // set-up commands count too: a connect not done in time is retried even without traffic,
  // so readiness and the session writes recover on their own.
  if (!sent_at_.empty() && now - sent_at_.front() > settings_.timeout) {
    drop_connection(state_ == State::kReady ? "command timed out" : "connect timed out");
    return;
  }
  if (state_ == State::kReady && !settings_.check_command.empty() &&
      settings_.check_interval.count() > 0 && now - last_check_ >= settings_.check_interval) {
    send_setup(settings_.check_command, true);
    last_check_ = now;
  }
}

}  // namespace auth
