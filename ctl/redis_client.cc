// ctl/redis_client.cc: see redis_client.h.
#include "ctl/redis_client.h"

#include <sys/time.h>

#include <charconv>

namespace ctl {
namespace {

bool parse_uint(std::string_view text, unsigned long max, unsigned long* out_value) {
  if (text.empty()) return false;
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  *out_value = value;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// percent_decode: userinfo may carry reserved characters as %XX.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_digit(text[i + 1]);
    int low = hex_digit(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<RedisUrl> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;

  // The password may contain '@' or '/' only percent-encoded, so the last '@' before the
  // first '/' ends the userinfo.
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return std::nullopt;  // "user@" alone is ambiguous
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) return std::nullopt;
    out.user = *user;
    out.password = *password;
    if (!out.user.empty() && out.password.empty()) return std::nullopt;
  }

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  unsigned long value = 0;
  if (!port.empty()) {
    if (!parse_uint(port, 65535, &value) || value == 0) return std::nullopt;
    out.port = static_cast<uint16_t>(value);
  }
  if (!path.empty()) {
    if (!parse_uint(path, 1u << 20, &value)) return std::nullopt;
    out.db = static_cast<int>(value);
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

RedisClient::ConnectStatus RedisClient::connect(const RedisUrl& url,
                                                std::unique_ptr<RedisClient>* out_client,
                                                std::string* out_error) {
  timeval timeout{5, 0};
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
