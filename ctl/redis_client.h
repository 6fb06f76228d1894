// ctl/redis_client.h: a small synchronous Redis client for mqtt-authctl and the admin API.
// Wraps hiredis' blocking API; one RedisClient is one connection, not thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctl {

// RedisUrl: where the data node is. Either redis://[[user]:password@]host[:port][/db], or
// sentinel://[[user]:password@]h1[:port],h2[:port]/master[/db]: then host/port are found
// at connect time by asking the sentinels. Empty user/password mean no AUTH.
struct RedisUrl {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;
  std::string password;
  int db = 0;
  // Sentinel mode (sentinels not empty): the sentinels to ask, in order, the monitored
  // master's name, and the password the sentinels want (empty: no AUTH to them).
  std::vector<std::pair<std::string, uint16_t>> sentinels;
  std::string sentinel_master;
  std::string sentinel_password;
};

// parse_redis_url returns nullopt when |url| is not of one of the forms above.
std::optional<RedisUrl> parse_redis_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// Reply: one owned hiredis reply. A null reply means the connection failed (I/O error).
class Reply {
 public:
  Reply() = default;
  explicit Reply(ReplyPtr reply) : reply_(std::move(reply)) {}

  bool io_failed() const { return reply_ == nullptr; }
  bool is_error() const { return reply_ == nullptr || reply_->type == REDIS_REPLY_ERROR; }
  bool is_nil() const { return reply_ != nullptr && reply_->type == REDIS_REPLY_NIL; }
  bool is_array() const { return reply_ != nullptr && reply_->type == REDIS_REPLY_ARRAY; }
  // integer: the value of an integer reply, 0 for any other type.
  long long integer() const;
  // str: the bytes of a string, status or error reply; empty otherwise.
  std::string_view str() const;
  // elements: the elements of an array reply as non-owning views into this reply.
  std::vector<const redisReply*> elements() const;
  const redisReply* raw() const { return reply_.get(); }

 private:
  ReplyPtr reply_;
};

// element_str: the bytes of a string element of an array reply (empty for other types).
std::string_view element_str(const redisReply* element);

class RedisClient {
 public:
  enum class ConnectStatus { kOk, kConnectFailed, kAuthFailed, kSelectFailed };

  // connect opens a connection, then sends AUTH and SELECT when |url| asks for them. In
  // sentinel mode it first asks each sentinel in turn for the master's address and only
  // keeps a node that says it is the master (a sentinel may not have seen a failover yet).
  // |out_error| receives a message free of secrets on failure.
  static ConnectStatus connect(const RedisUrl& url, std::unique_ptr<RedisClient>* out_client,
                               std::string* out_error);

  // command sends one command with binary-safe arguments and waits for its reply.
  Reply command(const std::vector<std::string>& args);

  // Pipelined commands: append any number, then read one reply per appended command.
  void append(const std::vector<std::string>& args);
  Reply read_reply();

  // last_error: hiredis' message for the last I/O failure.
  std::string last_error() const;

  explicit RedisClient(ContextPtr context) : context_(std::move(context)) {}

 private:
  // connect_node: connect() to url.host:url.port itself (sentinels ignored).
  static ConnectStatus connect_node(const RedisUrl& url, std::unique_ptr<RedisClient>* out_client,
                                    std::string* out_error);

  ContextPtr context_;
};

// scan_keys collects every key matching |pattern| with SCAN (never KEYS). Returns false on
// a Redis error.
bool scan_keys(RedisClient& client, const std::string& pattern, std::vector<std::string>* out_keys);

// hash_to_pairs: an HGETALL reply as ordered field/value pairs.
std::vector<std::pair<std::string, std::string>> hash_to_pairs(const Reply& reply);

// glob_escape escapes the SCAN/KEYS glob metacharacters in |literal|.
std::string glob_escape(std::string_view literal);

}  // namespace ctl
