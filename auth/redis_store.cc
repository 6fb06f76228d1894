#include "auth/redis_store.h"

#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace auth {
namespace {

void* encode_privdata(RedisStore::Ticket ticket, uint8_t slot) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>((ticket << 2) | slot));
}

constexpr std::chrono::milliseconds kMaxBackoff{1000};

}  // namespace

bool parse_hash_reply(const void* reply_ptr, std::map<std::string, std::string>* out) {
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) {
    return false;
  }
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    const redisReply* key = reply->element[i];
    const redisReply* value = reply->element[i + 1];
    if (key->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) return false;
    out->emplace(std::string(key->str, key->len), std::string(value->str, value->len));
  }
  return true;
}

RedisStore::RedisStore(uv_loop_t* loop, RedisEndpoint endpoint, RedisKeys keys)
    : loop_(loop), endpoint_(std::move(endpoint)), keys_(std::move(keys)) {
  if (endpoint_.sentinel) resolver_ = std::make_unique<SentinelResolver>(loop_, *endpoint_.sentinel);
  for (uv_timer_t* timer : {&reconnect_timer_, &timeout_timer_, &deferred_timer_}) {
    uv_timer_init(loop_, timer);
    timer->data = this;
    ++open_handles_;
  }
}

RedisStore::~RedisStore() {
  // close() must have run and the loop turned since; handles are embedded in *this.
}

void RedisStore::start() {
  connect();
  auto interval = std::max<uint64_t>(10, endpoint_.timeout.count() / 4);
  uv_timer_start(&timeout_timer_, [](uv_timer_t* t) {
    static_cast<RedisStore*>(t->data)->check_timeouts();
  }, interval, interval);
}

void RedisStore::close() {
  if (state_ == State::kClosed) return;
  drop_connection(nullptr);
  set_state(State::kClosed);
  if (resolver_) resolver_->close();
  // Fail whatever is still waiting, synchronously: the owner is shutting down.
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [ticket, p] : pending) {
    p.result.status = LookupStatus::kUnavailable;
    if (p.done) p.done(std::move(p.result));
  }
  for (uv_timer_t* timer : {&reconnect_timer_, &timeout_timer_, &deferred_timer_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) {
      --static_cast<RedisStore*>(h->data)->open_handles_;
    });
  }
}

void RedisStore::connect() {
  if (state_ == State::kClosed) return;
  if (!resolver_) {
    connect_to(endpoint_.host, endpoint_.port);
    return;
  }
  set_state(State::kConnecting);  // lookups fail fast until a master is found
  resolver_->resolve([this](bool ok, const std::string& host, uint16_t port) {
    if (!ok) {
      spdlog::warn("redis: no sentinel named a master for {}", endpoint_.sentinel->master);
      schedule_reconnect();
      return;
    }
    connect_to(host, port);
  });
}

void RedisStore::connect_to(const std::string& host, uint16_t port) {
  if (state_ == State::kClosed) return;
  connected_to_ = host + ":" + std::to_string(port);
  std::string error;
  redisAsyncContext* ctx = open_on_loop(host, port, loop_, this, &RedisStore::on_connect,
                                        &RedisStore::on_disconnect, &error);
  if (ctx == nullptr) {
    spdlog::warn("redis: connect to {} failed: {}", connected_to_, error);
    schedule_reconnect();
    return;
  }
  ctx_ = ctx;
  set_state(State::kConnecting);
  connect_started_ = std::chrono::steady_clock::now();
  // AUTH and SELECT go first on the wire; lookups queue behind them.
  if (!endpoint_.password.empty()) {
    std::vector<std::string> auth_cmd{"AUTH"};
    if (!endpoint_.username.empty()) auth_cmd.push_back(endpoint_.username);
    auth_cmd.push_back(endpoint_.password);
    send(0, Slot::kSetup, auth_cmd);
  }
  if (endpoint_.database != 0) send(0, Slot::kSetup, {"SELECT", std::to_string(endpoint_.database)});
  // PING marks the end of set-up: its reply moves the store to kReady.
  send(0, Slot::kSetup, {"PING"});
}

void RedisStore::schedule_reconnect() {
  if (state_ == State::kClosed) return;
  set_state(State::kIdle);
  uv_timer_start(&reconnect_timer_, [](uv_timer_t* t) {
    static_cast<RedisStore*>(t->data)->connect();
  }, backoff_.count(), 0);
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

void RedisStore::drop_connection(const char* why) {
  if (ctx_ == nullptr) return;
  if (why) spdlog::warn("redis: dropping connection to {}: {}", connected_to_, why);
  redisAsyncContext* ctx = ctx_;
  ctx_ = nullptr;
  // Runs every pending reply callback with a null reply, then on_disconnect.
  redisAsyncFree(ctx);
  schedule_reconnect();
}

void RedisStore::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisStore*>(ctx->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback and fails its queued commands.
    spdlog::warn("redis: cannot connect to {}: {}", self->connected_to_, ctx->errstr);
    if (self->ctx_ == ctx) {
      self->ctx_ = nullptr;
      self->schedule_reconnect();
    }
  }
}

void RedisStore::on_disconnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisStore*>(ctx->data);
  if (self->ctx_ != ctx) return;  // dropped by us; already rescheduled
  spdlog::warn("redis: connection to {} lost: {}", self->connected_to_,
               status == REDIS_OK ? "closed" : ctx->errstr);
  self->ctx_ = nullptr;
  self->schedule_reconnect();
}

bool RedisStore::send(Ticket ticket, Slot slot, const std::vector<std::string>& argv) {
  if (ctx_ == nullptr) return false;
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  return redisAsyncCommandArgv(ctx_, &RedisStore::on_reply_thunk,
                               encode_privdata(ticket, static_cast<uint8_t>(slot)),
                               static_cast<int>(args.size()), args.data(), lens.data()) == REDIS_OK;
}

RedisStore::Ticket RedisStore::lookup(std::string_view device_id, const std::string* cert_id,
                                      LookupCallback done) {
  Ticket ticket = next_ticket_++;
  Pending& p = pending_[ticket];
  p.done = std::move(done);
  p.deadline = std::chrono::steady_clock::now() + endpoint_.timeout;
  if (cert_id) p.result.cert.emplace();

  bool sent = send(ticket, Slot::kDevice, {"HGETALL", keys_.device(device_id)});
  if (sent && cert_id) {
    sent = send(ticket, Slot::kCert, {"HGETALL", keys_.cert(*cert_id)}) &&
           send(ticket, Slot::kBinding,
                {"SISMEMBER", keys_.cert_devices(*cert_id), std::string(device_id)});
  }
  if (!sent) {
    p.failed = true;
    fail_later(ticket);
    return ticket;
  }
  p.replies_left = cert_id ? 3 : 1;
  return ticket;
}

void RedisStore::set_state(State state) {
  bool was_ready = state_ == State::kReady;
  state_ = state;
  bool ready = state_ == State::kReady;
  if (was_ready != ready && connected_listener_) connected_listener_(ready);
}

bool RedisStore::execute(const std::vector<std::string>& argv) {
  if (state_ != State::kReady || !send(kWriteTicket, Slot::kSetup, argv)) {
    ++dropped_writes_;
    return false;
  }
  return true;
}

void RedisStore::cancel(Ticket ticket) {
  auto it = pending_.find(ticket);
  if (it != pending_.end()) it->second.done = nullptr;
}

void RedisStore::on_reply_thunk(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<RedisStore*>(ctx->data);
  auto bits = reinterpret_cast<uintptr_t>(privdata);
  self->on_reply(bits >> 2, static_cast<Slot>(bits & 3), reply);
}

void RedisStore::on_reply(Ticket ticket, Slot slot, void* reply_ptr) {
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (slot == Slot::kSetup && ticket == kWriteTicket) {
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) ++dropped_writes_;
    // A master demoted by a failover still answers reads; its first refused write tells us
    // to find the new master.
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
        std::string_view(reply->str, reply->len).starts_with("READONLY")) {
      drop_connection("the server is now a replica");
    }
    return;
  }
  if (slot == Slot::kSetup) {
    if (reply == nullptr) return;  // connection went away; on_disconnect handles it
    if (reply->type == REDIS_REPLY_ERROR) {
      spdlog::error("redis: set-up command refused: {}", std::string(reply->str, reply->len));
      drop_connection("authentication or database selection failed");
      return;
    }
    if (reply->type == REDIS_REPLY_STATUS && std::string_view(reply->str, reply->len) == "PONG") {
      if (state_ == State::kConnecting) {
        spdlog::info("redis: connected to {}", connected_to_);
      }
      set_state(State::kReady);
      backoff_ = std::chrono::milliseconds{100};
    }
    return;
  }

  auto it = pending_.find(ticket);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
    p.failed = true;
  } else {
    switch (slot) {
      case Slot::kDevice:
        p.failed |= !parse_hash_reply(reply, &p.result.device.fields);
        p.result.device.found = !p.result.device.fields.empty();
        break;
      case Slot::kCert: {
        std::map<std::string, std::string> fields;
        p.failed |= !parse_hash_reply(reply, &fields);
        CertRecord& cert = *p.result.cert;
        cert.found = !fields.empty();
        // Same rule as devices: absent or "1" is enabled, anything else fails closed.
        auto enabled = fields.find("enabled");
        cert.enabled = enabled == fields.end() || enabled->second == "1";
        auto not_after = fields.find("not_after");
        if (not_after != fields.end()) cert.not_after = std::strtoll(not_after->second.c_str(), nullptr, 10);
        break;
      }
      case Slot::kBinding:
        if (reply->type != REDIS_REPLY_INTEGER) p.failed = true;
        else p.result.cert->bound_to_device = reply->integer == 1;
        break;
      case Slot::kSetup:
        break;
    }
  }
  if (--p.replies_left == 0) finish(ticket);
}

void RedisStore::finish(Ticket ticket) {
  auto node = pending_.extract(ticket);
  if (node.empty()) return;
  Pending& p = node.mapped();
  p.result.status = p.failed ? LookupStatus::kUnavailable : LookupStatus::kOk;
  if (p.done) p.done(std::move(p.result));
}

void RedisStore::fail_later(Ticket ticket) {
  deferred_failures_.push_back(ticket);
  uv_timer_start(&deferred_timer_, [](uv_timer_t* t) {
    static_cast<RedisStore*>(t->data)->run_deferred();
  }, 0, 0);
}

void RedisStore::run_deferred() {
  auto tickets = std::move(deferred_failures_);
  deferred_failures_.clear();
  for (Ticket ticket : tickets) finish(ticket);
}

void RedisStore::check_timeouts() {
  if (ctx_ == nullptr) return;
  // A connection (or its AUTH/SELECT/PING) not done in time is retried even without traffic,
  // so readiness and the session writes recover on their own.
  if (state_ == State::kConnecting &&
      std::chrono::steady_clock::now() - connect_started_ > endpoint_.timeout) {
    drop_connection("connect timed out");
    return;
  }
  if (pending_.empty()) return;
  const Pending& oldest = pending_.begin()->second;
  if (oldest.failed || oldest.deadline > std::chrono::steady_clock::now()) return;
  // Replies come in order, so an overdue oldest command means the connection is stuck.
  drop_connection("command timed out");
}

}  // namespace auth
