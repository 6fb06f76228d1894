#include "auth/redis_store.h"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "auth/replica_choice.h"

namespace auth {
namespace {

constexpr std::chrono::milliseconds kMasterMaxBackoff{1000};

uint64_t reply_tag(RedisStore::Ticket ticket, uint8_t slot) { return (ticket << 2) | slot; }

RedisLinkSettings link_settings(const RedisEndpoint& endpoint, const char* role,
                                std::chrono::milliseconds max_backoff) {
  RedisLinkSettings settings;
  settings.role = role;
  settings.database = endpoint.database;
  settings.username = endpoint.username;
  settings.password = endpoint.password;
  settings.timeout = endpoint.timeout;
  settings.max_backoff = max_backoff;
  return settings;
}

// Errors with which a replica says it cannot answer reads at all for now (loading its data
// set; or, with replica-serve-stale-data no, cut off from the master).
bool replica_unavailable(const redisReply* reply) {
  std::string_view error(reply->str, reply->len);
  return error.starts_with("LOADING") || error.starts_with("MASTERDOWN");
}

bool replica_role_healthy(const redisReply* reply) {
  std::vector<std::string> role;
  return parse_role_reply(reply, &role) && replica_in_sync(role);
}

}  // namespace

bool parse_role_reply(const void* reply_ptr, std::vector<std::string>* out) {
  const auto* reply = static_cast<const redisReply*>(reply_ptr);
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return false;
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* element = reply->element[i];
    if (element->type == REDIS_REPLY_STRING || element->type == REDIS_REPLY_STATUS) {
      out->emplace_back(element->str, element->len);
    } else if (element->type == REDIS_REPLY_INTEGER) {
      out->push_back(std::to_string(element->integer));
    } else {
      out->emplace_back();
    }
  }
  return true;
}

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
    : loop_(loop),
      endpoint_(std::move(endpoint)),
      keys_(std::move(keys)),
      master_(loop_, link_settings(endpoint_, "master", kMasterMaxBackoff),
              [this](RedisLink::Found found) { locate_master(std::move(found)); },
              [this](uint64_t tag, const redisReply* reply) { on_reply(RedisNode::kMaster, tag, reply); },
              [this](bool ready) { on_master_ready(ready); }) {
  if (endpoint_.sentinel) {
    master_resolver_ = std::make_unique<SentinelResolver>(loop_, *endpoint_.sentinel);
    if (endpoint_.read_from_replica) {
      replica_locator_ = std::make_unique<SentinelResolver>(loop_, *endpoint_.sentinel);
      replica_checker_ = std::make_unique<SentinelResolver>(loop_, *endpoint_.sentinel);
      // A missing replica costs nothing but load on the master: look for one at the
      // re-check pace rather than every second.
      RedisLinkSettings settings = link_settings(endpoint_, "replica", kReplicaRecheck);
      settings.check_command = {"ROLE"};
      settings.healthy = &replica_role_healthy;
      settings.check_failure = "it is not a replica in sync with its master";
      settings.check_interval = kReplicaRecheck;
      replica_ = std::make_unique<RedisLink>(
          loop_, std::move(settings),
          [this](RedisLink::Found found) { locate_replica(std::move(found)); },
          [this](uint64_t tag, const redisReply* reply) { on_reply(RedisNode::kReplica, tag, reply); },
          nullptr);
    }
  }
  for (uv_timer_t* timer : {&deferred_timer_, &recheck_timer_}) {
    uv_timer_init(loop_, timer);
    timer->data = this;
  }
}

RedisStore::~RedisStore() {
  // close() must have run and the loop turned since; handles are embedded in *this.
}

void RedisStore::start() {
  master_.start();
  if (!replica_) return;
  replica_->start();
  uv_timer_start(&recheck_timer_, [](uv_timer_t* t) {
    static_cast<RedisStore*>(t->data)->recheck_replica();
  }, kReplicaRecheck.count(), kReplicaRecheck.count());
}

void RedisStore::close() {
  if (closed_) return;
  closed_ = true;
  // Lookups in flight get their null replies now and fail (closed_: no fallback).
  if (replica_) replica_->close();
  master_.close();
  for (auto* resolver : {master_resolver_.get(), replica_locator_.get(), replica_checker_.get()}) {
    if (resolver) resolver->close();
  }
  // Fail whatever is still waiting, synchronously: the owner is shutting down.
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [ticket, p] : pending) {
    p.result.status = LookupStatus::kUnavailable;
    if (p.done) p.done(std::move(p.result));
  }
  for (uv_timer_t* timer : {&deferred_timer_, &recheck_timer_}) {
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  }
}

void RedisStore::locate_master(RedisLink::Found found) {
  if (!master_resolver_) {
    found(true, endpoint_.host, endpoint_.port);
    return;
  }
  master_resolver_->resolve([this, found = std::move(found)](bool ok, const std::string& host, uint16_t port) {
    if (!ok) spdlog::warn("redis: no sentinel named a master for {}", endpoint_.sentinel->master);
    found(ok, host, port);
  });
}

void RedisStore::locate_replica(RedisLink::Found found) {
  replica_locator_->resolve_replicas([this, found = std::move(found)](std::vector<ReplicaAddress> usable) {
    std::optional<ReplicaAddress> chosen = choose_replica(usable, endpoint_.replica_pick);
    if (!chosen) {
      if (!replica_missing_logged_) {
        spdlog::warn("redis: no usable replica of {}; lookups go to the master", endpoint_.sentinel->master);
      }
      replica_missing_logged_ = true;
      found(false, {}, 0);
      return;
    }
    replica_missing_logged_ = false;
    found(true, chosen->host, chosen->port);
  });
}

void RedisStore::recheck_replica() {
  if (!replica_->ready()) return;  // it is locating anyway
  replica_checker_->resolve_replicas([this, current = replica_->address()](std::vector<ReplicaAddress> usable) {
    if (!replica_->ready() || replica_->address() != current) return;
    for (const ReplicaAddress& replica : usable) {
      if (replica.to_string() == current) return;
    }
    // Gone down, cut off from the master (its data grows old), promoted, or no sentinel
    // answered: the master is always right.
    replica_->reconnect("Sentinel no longer lists it as a usable replica");
  });
}

void RedisStore::on_master_ready(bool ready) {
  if (ready) {
    // A failover changes roles: the replica read from may be the new master, or follow it.
    if (replica_ && !master_address_.empty() && master_address_ != master_.address()) {
      replica_->reconnect("the master moved");
    }
    master_address_ = master_.address();
  }
  if (connected_listener_) connected_listener_(ready);
}

RedisStore::Ticket RedisStore::lookup(std::string_view device_id, const std::string* cert_id,
                                      LookupCallback done, ReadPreference where) {
  Ticket ticket = next_ticket_++;
  Pending& p = pending_[ticket];
  p.device_id = device_id;
  if (cert_id) p.cert_id = *cert_id;
  p.done = std::move(done);
  bool sent = where == ReadPreference::kReplicaOk && replica_ && replica_->ready() &&
              send_lookup(ticket, p, RedisNode::kReplica);
  if (!sent) sent = send_lookup(ticket, p, RedisNode::kMaster);
  if (!sent) {
    p.failed = true;
    fail_later(ticket);
  }
  return ticket;
}

bool RedisStore::send_lookup(Ticket ticket, Pending& p, RedisNode node) {
  RedisLink& link = node == RedisNode::kMaster ? master_ : *replica_;
  // A fresh attempt: replies to an earlier one (on the other node) no longer count.
  p.node = node;
  p.failed = false;
  p.replies_left = 0;
  p.result = LookupResult{};
  if (p.cert_id) p.result.cert.emplace();
  bool sent = link.send(reply_tag(ticket, static_cast<uint8_t>(Slot::kDevice)),
                        {"HGETALL", keys_.device(p.device_id)});
  if (sent && p.cert_id) {
    sent = link.send(reply_tag(ticket, static_cast<uint8_t>(Slot::kCert)), {"HGETALL", keys_.cert(*p.cert_id)}) &&
           link.send(reply_tag(ticket, static_cast<uint8_t>(Slot::kBinding)),
                     {"SISMEMBER", keys_.cert_devices(*p.cert_id), p.device_id});
  }
  if (sent) p.replies_left = p.cert_id ? 3 : 1;
  return sent;
}

void RedisStore::fall_back_to_master(Ticket ticket, Pending& p) {
  if (!closed_ && send_lookup(ticket, p, RedisNode::kMaster)) return;
  p.failed = true;
  fail_later(ticket);
}

bool RedisStore::execute(const std::vector<std::string>& argv) {
  if (!master_.ready() || !master_.send(kWriteTicket, argv)) {
    ++dropped_writes_;
    return false;
  }
  return true;
}

void RedisStore::cancel(Ticket ticket) {
  auto it = pending_.find(ticket);
  if (it != pending_.end()) it->second.done = nullptr;
}

void RedisStore::on_write_reply(const redisReply* reply) {
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) ++dropped_writes_;
  // A master demoted by a failover still answers reads; its first refused write tells us
  // to find the new master.
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR &&
      std::string_view(reply->str, reply->len).starts_with("READONLY")) {
    master_.reconnect("the server is now a replica");
  }
}

void RedisStore::on_reply(RedisNode node, uint64_t tag, const redisReply* reply) {
  if (tag == kWriteTicket) {
    on_write_reply(reply);  // writes only ever go to the master
    return;
  }
  auto it = pending_.find(tag >> 2);
  if (it == pending_.end()) return;
  Pending& p = it->second;
  if (p.node != node) return;  // an attempt given up for the master
  if (node == RedisNode::kReplica && (reply == nullptr || reply->type == REDIS_REPLY_ERROR)) {
    if (reply != nullptr && replica_unavailable(reply)) {
      replica_->reconnect(std::string(reply->str, reply->len).c_str());
    }
    fall_back_to_master(it->first, p);
    return;
  }
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
    p.failed = true;
  } else {
    switch (static_cast<Slot>(tag & 3)) {
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
    }
  }
  if (--p.replies_left == 0) finish(it->first);
}

void RedisStore::finish(Ticket ticket) {
  auto node = pending_.extract(ticket);
  if (node.empty()) return;
  Pending& p = node.mapped();
  p.result.status = p.failed ? LookupStatus::kUnavailable : LookupStatus::kOk;
  if (!p.failed) ++(p.node == RedisNode::kMaster ? answered_by_master_ : answered_by_replica_);
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

}  // namespace auth
