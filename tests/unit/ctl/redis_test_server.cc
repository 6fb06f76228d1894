// tests/unit/ctl/redis_test_server.cc: see redis_test_server.h.
#include "redis_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

extern char** environ;

namespace ctl_test {
namespace {

uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

bool RedisTestServer::start(const std::vector<std::string>& extra_args) {
  std::string password;
  for (size_t i = 0; i + 1 < extra_args.size(); ++i) {
    if (extra_args[i] == "--requirepass") password = extra_args[i + 1];
  }
  // The port is free when picked but may be taken by another test process (ctest -j)
  // before redis-server binds it; then the server exits and we try another port.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (try_start(extra_args, password)) return true;
    stop();
  }
  ADD_FAILURE() << "redis-server did not come up";
  return false;
}

bool RedisTestServer::try_start(const std::vector<std::string>& extra_args,
                                const std::string& password) {
  port_ = pick_free_port();
  if (port_ == 0) return false;
  std::string port = std::to_string(port_);
  std::vector<std::string> args = {"redis-server", "--port",     port,     "--bind",
                                   "127.0.0.1",    "--save",     "",       "--appendonly",
                                   "no",           "--loglevel", "warning"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    return false;
  }
  // Only our own server will do: a server that answers on the port but has another
  // process_id belongs to someone else.
  const std::string own_pid = "process_id:" + std::to_string(pid_) + "\r";
  for (int attempt = 0; attempt < 200; ++attempt) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // exited: the port was taken
      return false;
    }
    if (auto client = connect_client(port_, password)) {
      ctl::Reply info = client->command({"INFO", "server"});
      return info.str().find(own_pid) != std::string_view::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

void RedisTestServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::unique_ptr<ctl::RedisClient> connect_client(uint16_t port, const std::string& password) {
  ctl::RedisUrl url;
  url.port = port;
  url.password = password;
  std::unique_ptr<ctl::RedisClient> client;
  std::string error;
  if (ctl::RedisClient::connect(url, &client, &error) != ctl::RedisClient::ConnectStatus::kOk) {
    return nullptr;
  }
  if (client->command({"PING"}).is_error()) return nullptr;
  return client;
}

ChangeListener::ChangeListener(uint16_t port, const std::string& channel)
    : context_(redisConnect("127.0.0.1", port)) {
  ctl::ReplyPtr reply(static_cast<redisReply*>(
      redisCommand(context_.get(), "SUBSCRIBE %b", channel.data(), channel.size())));
  EXPECT_NE(reply, nullptr);
}

std::vector<std::string> ChangeListener::collect(size_t count, std::chrono::milliseconds timeout) {
  std::vector<std::string> messages;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (messages.size() < count) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) break;
    if (raw == nullptr) {  // nothing buffered: wait for the socket, then read
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd readable{context_->fd, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) break;
      if (redisBufferRead(context_.get()) != REDIS_OK) break;
      continue;
    }
    ctl::ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
        ctl::element_str(reply->element[0]) == "message") {
      messages.emplace_back(ctl::element_str(reply->element[2]));
    }
  }
  return messages;
}

std::unique_ptr<RedisTestServer> CtlRedisFixture::server_;

void CtlRedisFixture::SetUpTestSuite() {
  server_ = std::make_unique<RedisTestServer>();
  server_->start();
}

void CtlRedisFixture::TearDownTestSuite() { server_.reset(); }

void CtlRedisFixture::SetUp() {
  client_ = connect_client(port());
  ASSERT_NE(client_, nullptr);
  client_->command({"FLUSHALL"});
  ctx_ = std::make_unique<ctl::OpContext>(ctl::OpContext{*client_, auth::RedisKeys("t:")});
}

std::vector<std::pair<std::string, std::string>> CtlRedisFixture::hgetall(const std::string& key) {
  auto pairs = ctl::hash_to_pairs(client_->command({"HGETALL", key}));
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

std::vector<std::string> CtlRedisFixture::smembers(const std::string& key) {
  std::vector<std::string> members;
  ctl::Reply reply = client_->command({"SMEMBERS", key});
  for (const redisReply* element : reply.elements()) {
    members.emplace_back(ctl::element_str(element));
  }
  std::sort(members.begin(), members.end());
  return members;
}

}  // namespace ctl_test
