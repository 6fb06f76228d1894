// admin/http_server.h: the admin endpoint on libmicrohttpd (GnuTLS for HTTPS). Runs MHD's
// internal threads, one per connection (bounded), so that a route may block on Redis — and
// an SSE tail may block in XREAD — without stalling other clients; the proxy's event loops
// are in another process altogether.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>
#include <string>

#include "admin/api.h"
#include "admin/token_auth.h"
#include "config/config.h"

struct MHD_Daemon;

namespace admin {

struct ServerOptions {
  config::HostPort bind;
  std::string tls_cert_pem;  // empty: plain HTTP
  std::string tls_key_pem;
  unsigned max_connections = 64;
};

class HttpServer {
 public:
  HttpServer(AdminSettings settings, TokenAuth tokens);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // start binds and starts serving; false with |out_error| set when that fails.
  bool start(const ServerOptions& options, std::string* out_error);

  // dispatch: one complete request whose method, query and body are filled in; |raw_path|
  // is still percent-encoded. Unauthenticated API requests get 401; GET / is the console.
  // Sets request.token_name when a token matched.
  HttpResponse dispatch(HttpRequest& request, std::string_view raw_path,
                        std::string_view authorization) const;

  const AdminSettings& settings() const { return settings_; }
  const TokenAuth& tokens() const { return tokens_; }

 private:
  struct DaemonDeleter {
    void operator()(MHD_Daemon* daemon) const;
  };
  AdminSettings settings_;
  TokenAuth tokens_;
  ServerOptions options_;  // keeps the TLS PEM strings alive while serving
  std::unique_ptr<MHD_Daemon, DaemonDeleter> daemon_;
};

// percent_decode: %XX escapes (and '+' as a space when |plus_is_space|); nullopt for a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// split_path: "/api/devices/a%2Fb" → {"api", "devices", "a/b"}; nullopt when malformed.
std::optional<std::vector<std::string>> split_path(std::string_view raw_path);

}  // namespace admin
