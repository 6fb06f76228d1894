#include "auth/sentinel_resolver.h"

#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace auth {

SentinelResolver::SentinelResolver(uv_loop_t* loop, SentinelSettings settings)
    : loop_(loop), settings_(std::move(settings)) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

SentinelResolver::~SentinelResolver() = default;  // close() ran and the loop turned since

void SentinelResolver::resolve(Done done) {
  if (closed_) return;
  give_up_on_current();
  done_ = std::move(done);
  ask(0);
}

void SentinelResolver::close() {
  if (closed_) return;
  closed_ = true;
  done_ = nullptr;
  give_up_on_current();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

void SentinelResolver::give_up_on_current() {
  uv_timer_stop(&timer_);
  if (ctx_ == nullptr) return;
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  redisAsyncFree(ctx);  // its callbacks see ctx_ != ctx and ignore the outcome
}

void SentinelResolver::ask(size_t index) {
  if (index >= settings_.sentinels.size()) {
    finish(false, {}, 0);
    return;
  }
  index_ = index;
  const auto& sentinel = settings_.sentinels[index];
  std::string error;
  redisAsyncContext* ctx = open_on_loop(sentinel.host, sentinel.port, loop_, this,
                                        &SentinelResolver::on_connect, nullptr, &error);
  if (ctx == nullptr) {
    // Move on from a fresh loop turn: callers never see done_ inside resolve().
    uv_timer_start(&timer_, [](uv_timer_t* t) {
      auto* self = static_cast<SentinelResolver*>(t->data);
      self->ask(self->index_ + 1);
    }, 0, 0);
    return;
  }
  ctx_ = ctx;
  if (!settings_.password.empty()) {
    redisAsyncCommand(ctx, nullptr, nullptr, "AUTH %b", settings_.password.data(),
                      settings_.password.size());
  }
  redisAsyncCommand(ctx, &SentinelResolver::on_reply, nullptr, "SENTINEL get-master-addr-by-name %b",
                    settings_.master.data(), settings_.master.size());
  uv_timer_start(&timer_, [](uv_timer_t* t) {
    auto* self = static_cast<SentinelResolver*>(t->data);
    spdlog::warn("redis sentinel {}:{} did not answer in time", self->settings_.sentinels[self->index_].host,
                 self->settings_.sentinels[self->index_].port);
    self->give_up_on_current();
    self->ask(self->index_ + 1);
  }, static_cast<uint64_t>(settings_.timeout.count()), 0);
}

void SentinelResolver::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<SentinelResolver*>(ctx->data);
  if (status == REDIS_OK || self->ctx_ != ctx) return;
  // hiredis frees the context after this callback.
  self->ctx_ = nullptr;
  uv_timer_stop(&self->timer_);
  uv_timer_start(&self->timer_, [](uv_timer_t* t) {
    auto* resolver = static_cast<SentinelResolver*>(t->data);
    resolver->ask(resolver->index_ + 1);
  }, 0, 0);
}

void SentinelResolver::on_reply(redisAsyncContext* ctx, void* reply_ptr, void*) {
  auto* self = static_cast<SentinelResolver*>(ctx->data);
  if (self->ctx_ != ctx) return;
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  bool ok = reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING;
  std::string host;
  uint16_t port = 0;
  if (ok) {
    host.assign(reply->element[0]->str, reply->element[0]->len);
    long value = std::strtol(reply->element[1]->str, nullptr, 10);
    ok = value > 0 && value < 65536;
    port = static_cast<uint16_t>(value);
  }
  uv_timer_stop(&self->timer_);
  self->ctx_ = nullptr;
  redisAsyncDisconnect(ctx);  // allowed inside a reply callback; hiredis frees it afterwards
  if (ok) {
    self->finish(true, host, port);
  } else {
    // Unknown master name or no answer: ask the next sentinel from a fresh turn.
    uv_timer_start(&self->timer_, [](uv_timer_t* t) {
      auto* resolver = static_cast<SentinelResolver*>(t->data);
      resolver->ask(resolver->index_ + 1);
    }, 0, 0);
  }
}

void SentinelResolver::finish(bool ok, const std::string& host, uint16_t port) {
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(ok, host, port);
}

}  // namespace auth
