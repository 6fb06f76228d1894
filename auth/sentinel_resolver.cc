#include "auth/sentinel_resolver.h"

#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "auth/redis_store.h"

namespace auth {

bool parse_sentinel_entries(const void* reply_ptr, std::vector<SentinelEntry>* out) {
  // An array with one flat field/value array per node.
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return false;
  for (size_t i = 0; i < reply->elements; ++i) {
    if (!parse_hash_reply(reply->element[i], &out->emplace_back())) return false;
  }
  return true;
}

SentinelResolver::SentinelResolver(uv_loop_t* loop, SentinelSettings settings)
    : loop_(loop), settings_(std::move(settings)) {
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
}

SentinelResolver::~SentinelResolver() = default;  // close() ran and the loop turned since

void SentinelResolver::resolve(Done done) {
  if (closed_) return;
  give_up_on_current();
  replicas_done_ = nullptr;
  done_ = std::move(done);
  ask(0);
}

void SentinelResolver::resolve_replicas(ReplicasDone done) {
  if (closed_) return;
  give_up_on_current();
  done_ = nullptr;
  replicas_done_ = std::move(done);
  ask(0);
}

void SentinelResolver::close() {
  if (closed_) return;
  closed_ = true;
  done_ = nullptr;
  replicas_done_ = nullptr;
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
    if (replicas_done_) finish_replicas({});
    else finish(false, {}, 0);
    return;
  }
  index_ = index;
  const auto& sentinel = settings_.sentinels[index];
  std::string error;
  redisAsyncContext* ctx = open_on_loop(sentinel.host, sentinel.port, loop_, this,
                                        &SentinelResolver::on_connect, nullptr, &error);
  if (ctx == nullptr) {
    ask_next_later();  // callers never see their callback inside resolve()
    return;
  }
  ctx_ = ctx;
  if (!settings_.password.empty()) {
    redisAsyncCommand(ctx, nullptr, nullptr, "AUTH %b", settings_.password.data(),
                      settings_.password.size());
  }
  const char* format = replicas_done_ ? "SENTINEL REPLICAS %b" : "SENTINEL get-master-addr-by-name %b";
  redisAsyncCommand(ctx, &SentinelResolver::on_reply, nullptr, format, settings_.master.data(),
                    settings_.master.size());
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
  self->ask_next_later();
}

void SentinelResolver::ask_next_later() {
  uv_timer_stop(&timer_);
  uv_timer_start(&timer_, [](uv_timer_t* t) {
    auto* resolver = static_cast<SentinelResolver*>(t->data);
    resolver->ask(resolver->index_ + 1);
  }, 0, 0);
}

void SentinelResolver::on_reply(redisAsyncContext* ctx, void* reply_ptr, void*) {
  auto* self = static_cast<SentinelResolver*>(ctx->data);
  if (self->ctx_ != ctx) return;
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  uv_timer_stop(&self->timer_);
  self->ctx_ = nullptr;
  if (self->replicas_done_) {
    std::vector<SentinelEntry> entries;
    bool ok = parse_sentinel_entries(reply, &entries);
    std::vector<ReplicaAddress> usable = ok ? usable_replicas(entries) : std::vector<ReplicaAddress>{};
    redisAsyncDisconnect(ctx);  // allowed inside a reply callback; hiredis frees it afterwards
    if (!usable.empty()) self->finish_replicas(std::move(usable));
    else self->ask_next_later();
    return;
  }
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
  redisAsyncDisconnect(ctx);  // allowed inside a reply callback; hiredis frees it afterwards
  if (ok) {
    self->finish(true, host, port);
  } else {
    self->ask_next_later();  // unknown master name or no answer
  }
}

void SentinelResolver::finish(bool ok, const std::string& host, uint16_t port) {
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(ok, host, port);
}

void SentinelResolver::finish_replicas(std::vector<ReplicaAddress> usable) {
  ReplicasDone done = std::move(replicas_done_);
  replicas_done_ = nullptr;
  if (done) done(std::move(usable));
}

}  // namespace auth
