// ctl/redis_client.cc: see redis_client.h.
#include "ctl/redis_client.h"

#include <sys/time.h>

#include <charconv>

#include "config/values.h"

namespace ctl {
std::optional<RedisUrl> parse_redis_url(std::string_view url) {
  // One grammar for every tool: the config loader's.
  std::string error;
  std::optional<config::RedisUrl> parsed = config::parse_redis_url(url, &error);
  if (!parsed) return std::nullopt;
  RedisUrl out;
  out.host = parsed->address.host;
  out.port = parsed->address.port;
  out.user = parsed->username;
  out.password = parsed->password;
  out.db = parsed->database;
  if (parsed->mode == config::RedisMode::kSentinel) {
    for (const config::HostPort& sentinel : parsed->sentinels) {
      out.sentinels.emplace_back(sentinel.host, sentinel.port);
    }
    out.sentinel_master = parsed->sentinel_master;
  }
  return out;
}

long long Reply::integer() const {
  return reply_ != nullptr && reply_->type == REDIS_REPLY_INTEGER ? reply_->integer : 0;
}

std::string_view Reply::str() const { return element_str(reply_.get()); }

std::vector<const redisReply*> Reply::elements() const {
  std::vector<const redisReply*> out;
  if (!is_array()) return out;
  out.reserve(reply_->elements);
  for (size_t i = 0; i < reply_->elements; ++i) out.push_back(reply_->element[i]);
  return out;
}

std::string_view element_str(const redisReply* element) {
  if (element == nullptr) return {};
  switch (element->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string_view(element->str, element->len);
    default:
      return {};
  }
}

namespace {

constexpr timeval kTimeout{5, 0};
constexpr timeval kSentinelTimeout{2, 0};

// ask_sentinel returns the master address one sentinel reports, or nullopt with a reason.
std::optional<std::pair<std::string, uint16_t>> ask_sentinel(const RedisUrl& url,
                                                            const std::string& host, uint16_t port,
                                                            std::string* out_why) {
  ContextPtr context(redisConnectWithTimeout(host.c_str(), port, kSentinelTimeout));
  if (context == nullptr || context->err != 0) {
    *out_why = context == nullptr ? "cannot connect" : context->errstr;
    return std::nullopt;
  }
  redisSetTimeout(context.get(), kSentinelTimeout);
  RedisClient sentinel(std::move(context));
  if (!url.sentinel_password.empty()) {
    Reply reply = sentinel.command({"AUTH", url.sentinel_password});
    if (reply.is_error()) {
      *out_why = "AUTH failed";
      return std::nullopt;
    }
  }
  Reply reply = sentinel.command({"SENTINEL", "get-master-addr-by-name", url.sentinel_master});
  if (reply.is_error()) {
    *out_why = reply.io_failed() ? sentinel.last_error() : std::string(reply.str());
    return std::nullopt;
  }
  std::vector<const redisReply*> address = reply.elements();
  int master_port = 0;
  if (address.size() == 2) {
    std::string_view text = element_str(address[1]);
    std::from_chars(text.data(), text.data() + text.size(), master_port);
  }
  if (master_port <= 0 || master_port > 65535) {
    *out_why = reply.is_nil() ? "does not monitor " + url.sentinel_master
                              : "no master address in its reply";
    return std::nullopt;
  }
  return std::make_pair(std::string(element_str(address[0])), static_cast<uint16_t>(master_port));
}

// is_master: ROLE's first element, so a node demoted by a failover is never written to.
bool is_master(RedisClient& client) {
  Reply role = client.command({"ROLE"});
  std::vector<const redisReply*> elements = role.elements();
  return !elements.empty() && element_str(elements[0]) == "master";
}

}  // namespace

RedisClient::ConnectStatus RedisClient::connect(const RedisUrl& url,
                                                std::unique_ptr<RedisClient>* out_client,
                                                std::string* out_error) {
  if (url.sentinels.empty()) return connect_node(url, out_client, out_error);
  std::string tried;
  for (const auto& [host, port] : url.sentinels) {
    std::string why;
    auto master = ask_sentinel(url, host, port, &why);
    if (master) {
      RedisUrl node = url;
      node.sentinels.clear();
      node.host = master->first;
      node.port = master->second;
      std::unique_ptr<RedisClient> client;
      ConnectStatus status = connect_node(node, &client, out_error);
      if (status == ConnectStatus::kAuthFailed || status == ConnectStatus::kSelectFailed) {
        return status;
      }
      if (status == ConnectStatus::kOk && is_master(*client)) {
        *out_client = std::move(client);
        return ConnectStatus::kOk;
      }
      why = status == ConnectStatus::kOk
                ? master->first + ":" + std::to_string(master->second) + " is not a master"
                : *out_error;
    }
    tried += (tried.empty() ? "" : "; ") + host + ":" + std::to_string(port) + ": " + why;
  }
  *out_error = "no sentinel gave a reachable master for " + url.sentinel_master + " (" + tried + ")";
  return ConnectStatus::kConnectFailed;
}

RedisClient::ConnectStatus RedisClient::connect_node(const RedisUrl& url,
                                                     std::unique_ptr<RedisClient>* out_client,
                                                     std::string* out_error) {
  timeval timeout = kTimeout;
  ContextPtr context(redisConnectWithTimeout(url.host.c_str(), url.port, timeout));
  if (context == nullptr || context->err != 0) {
    *out_error = "cannot connect to redis at " + url.host + ":" + std::to_string(url.port);
    if (context != nullptr) *out_error += ": " + std::string(context->errstr);
    return ConnectStatus::kConnectFailed;
  }
  redisSetTimeout(context.get(), timeout);
  auto client = std::make_unique<RedisClient>(std::move(context));
  if (!url.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!url.user.empty()) auth.push_back(url.user);
    auth.push_back(url.password);
    Reply reply = client->command(auth);
    if (reply.is_error()) {
      // The server's message never echoes the password.
      *out_error = "redis AUTH failed: " +
                   (reply.io_failed() ? client->last_error() : std::string(reply.str()));
      return ConnectStatus::kAuthFailed;
    }
  }
  if (url.db != 0) {
    Reply reply = client->command({"SELECT", std::to_string(url.db)});
    if (reply.is_error()) {
      *out_error = "redis SELECT " + std::to_string(url.db) + " failed: " +
                   (reply.io_failed() ? client->last_error() : std::string(reply.str()));
      return ConnectStatus::kSelectFailed;
    }
  }
  *out_client = std::move(client);
  return ConnectStatus::kOk;
}

namespace {

void to_argv(const std::vector<std::string>& args, std::vector<const char*>* out_argv,
             std::vector<size_t>* out_lengths) {
  out_argv->reserve(args.size());
  out_lengths->reserve(args.size());
  for (const std::string& arg : args) {
    out_argv->push_back(arg.data());
    out_lengths->push_back(arg.size());
  }
}

}  // namespace

Reply RedisClient::command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  to_argv(args, &argv, &lengths);
  void* raw =
      redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
  return Reply(ReplyPtr(static_cast<redisReply*>(raw)));
}

void RedisClient::append(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  to_argv(args, &argv, &lengths);
  redisAppendCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(),
                         lengths.data());
}

Reply RedisClient::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK) return Reply();
  return Reply(ReplyPtr(static_cast<redisReply*>(raw)));
}

std::string RedisClient::last_error() const {
  return context_->err != 0 ? std::string(context_->errstr) : std::string("no error");
}

bool scan_keys(RedisClient& client, const std::string& pattern,
               std::vector<std::string>* out_keys) {
  std::string cursor = "0";
  do {
    Reply reply = client.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"});
    if (!reply.is_array()) return false;
    auto parts = reply.elements();
    if (parts.size() != 2 || parts[1]->type != REDIS_REPLY_ARRAY) return false;
    cursor = std::string(element_str(parts[0]));
    for (size_t i = 0; i < parts[1]->elements; ++i) {
      out_keys->emplace_back(element_str(parts[1]->element[i]));
    }
  } while (cursor != "0");
  return true;
}

std::vector<std::pair<std::string, std::string>> hash_to_pairs(const Reply& reply) {
  std::vector<std::pair<std::string, std::string>> out;
  auto items = reply.elements();
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    out.emplace_back(element_str(items[i]), element_str(items[i + 1]));
  }
  return out;
}

std::string glob_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace ctl
