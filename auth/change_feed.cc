#include "auth/change_feed.h"

#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

namespace auth {

bool parse_change(std::string_view message, ChangeKind* out_kind, std::string* out_id) {
  size_t space = message.find(' ');
  if (space == std::string_view::npos || space + 1 >= message.size()) return false;
  std::string_view kind = message.substr(0, space);
  if (kind == "device") *out_kind = ChangeKind::kDevice;
  else if (kind == "cert") *out_kind = ChangeKind::kCert;
  else if (kind == "kick") *out_kind = ChangeKind::kKick;
  else return false;
  out_id->assign(message.substr(space + 1));
  return true;
}

ChangeFeed::ChangeFeed(uv_loop_t* loop, RedisEndpoint endpoint, std::string channel,
                       ChangeFn on_change, SubscribedFn on_subscribed)
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      channel_(std::move(channel)),
      on_change_(std::move(on_change)),
      on_subscribed_(std::move(on_subscribed)) {
  uv_timer_init(loop_, &reconnect_timer_);
  reconnect_timer_.data = this;
  if (endpoint_.sentinel) resolver_ = std::make_unique<SentinelResolver>(loop_, *endpoint_.sentinel);
}

ChangeFeed::~ChangeFeed() = default;  // close() ran and the loop turned since

void ChangeFeed::start() { connect(); }

void ChangeFeed::close() {
  if (closed_) return;
  closed_ = true;
  if (resolver_) resolver_->close();
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(ctx);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&reconnect_timer_), nullptr);
}

void ChangeFeed::connect() {
  if (closed_) return;
  if (!resolver_) {
    connect_to(endpoint_.host, endpoint_.port);
    return;
  }
  resolver_->resolve([this](bool ok, const std::string& host, uint16_t port) {
    if (ok) connect_to(host, port);
    else schedule_reconnect();
  });
}

void ChangeFeed::connect_to(const std::string& host, uint16_t port) {
  if (closed_) return;
  std::string error;
  redisAsyncContext* ctx = open_on_loop(host, port, loop_, this, &ChangeFeed::on_connect,
                                        &ChangeFeed::on_disconnect, &error);
  if (ctx == nullptr) {
    schedule_reconnect();
    return;
  }
  ctx_ = ctx;
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      redisAsyncCommand(ctx, nullptr, nullptr, "AUTH %b", endpoint_.password.data(),
                        endpoint_.password.size());
    } else {
      redisAsyncCommand(ctx, nullptr, nullptr, "AUTH %b %b", endpoint_.username.data(),
                        endpoint_.username.size(), endpoint_.password.data(), endpoint_.password.size());
    }
  }
  redisAsyncCommand(ctx, &ChangeFeed::on_message, nullptr, "SUBSCRIBE %b", channel_.data(),
                    channel_.size());
  // Watchdog: a subscription not confirmed in time is dropped and retried.
  subscribed_ = false;
  uv_timer_start(&reconnect_timer_, [](uv_timer_t* t) {
    auto* self = static_cast<ChangeFeed*>(t->data);
    if (self->subscribed_ || self->ctx_ == nullptr) return;
    spdlog::warn("redis: change feed subscription timed out; retrying");
    redisAsyncContext* stuck = self->ctx_;
    self->ctx_ = nullptr;
    redisAsyncFree(stuck);
    self->schedule_reconnect();
  }, static_cast<uint64_t>(std::max<int64_t>(endpoint_.timeout.count(), 100)), 0);
}

void ChangeFeed::schedule_reconnect() {
  if (closed_) return;
  uv_timer_start(&reconnect_timer_, [](uv_timer_t* t) {
    static_cast<ChangeFeed*>(t->data)->connect();
  }, backoff_.count(), 0);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds{1000});
}

void ChangeFeed::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<ChangeFeed*>(ctx->data);
  if (status != REDIS_OK && self->ctx_ == ctx) {
    self->ctx_ = nullptr;
    self->schedule_reconnect();
  }
}

void ChangeFeed::on_disconnect(const redisAsyncContext* ctx, int) {
  auto* self = static_cast<ChangeFeed*>(ctx->data);
  if (self->ctx_ != ctx) return;
  spdlog::warn("redis: change feed lost; resubscribing");
  self->ctx_ = nullptr;
  self->schedule_reconnect();
}

void ChangeFeed::on_message(redisAsyncContext* ctx, void* reply_ptr, void*) {
  auto* self = static_cast<ChangeFeed*>(ctx->data);
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
  std::string_view type(reply->element[0]->str, reply->element[0]->len);
  if (type == "subscribe") {
    self->subscribed_ = true;
    uv_timer_stop(&self->reconnect_timer_);
    self->backoff_ = std::chrono::milliseconds{100};
    spdlog::info("redis: subscribed to {}", self->channel_);
    if (self->on_subscribed_) self->on_subscribed_();
    return;
  }
  if (type != "message" || reply->element[2]->type != REDIS_REPLY_STRING) return;
  std::string_view payload(reply->element[2]->str, reply->element[2]->len);
  ChangeKind kind;
  std::string id;
  if (!parse_change(payload, &kind, &id)) {
    spdlog::warn("redis: ignoring unknown change message on {}", self->channel_);
    return;
  }
  self->on_change_(kind, id);
}

}  // namespace auth
