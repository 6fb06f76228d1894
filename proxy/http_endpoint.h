// proxy/http_endpoint.h: a minimal HTTP/1.1 server for /metrics, /healthz and /readyz: GET
// only, one request per connection, request head capped at 8 KiB and 5 s. Runs on one loop.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/config.h"
#include "proxy/uv_handle.h"

namespace proxy {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  // handler gets the request path (without query) of a GET; runs on the loop thread.
  using Handler = std::function<HttpResponse(std::string_view path)>;

  HttpEndpoint(uv_loop_t* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}
  ~HttpEndpoint();

  bool open(const config::HostPort& bind, std::string* out_error);
  void close();

 private:
  struct Exchange {
    HttpEndpoint* owner = nullptr;
    TcpHandle tcp;
    TimerHandle timer;
    std::string head;
    std::string reply;   // kept alive until the write completes
    uv_write_t write{};
    bool responded = false;
  };
  static void on_connection(uv_stream_t* server, int status);
  void finish(Exchange* exchange);

  uv_loop_t* loop_;
  Handler handler_;
  TcpHandle socket_;
  std::unordered_map<Exchange*, std::unique_ptr<Exchange>> exchanges_;
};

// parse_request_line: "GET /metrics?x HTTP/1.1" → method "GET", path "/metrics". False if
// the head has no complete request line. Exposed for tests.
bool parse_request_line(std::string_view head, std::string* out_method, std::string* out_path);

}  // namespace proxy
