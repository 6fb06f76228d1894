#include "proxy/http_endpoint.h"

#include <cstring>

#include "proxy/listener.h"

namespace proxy {
namespace {

constexpr size_t kMaxHead = 8 * 1024;
constexpr uint64_t kRequestTimeoutMs = 5000;

std::string_view status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

bool parse_request_line(std::string_view head, std::string* out_method, std::string* out_path) {
  size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return false;
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) return false;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.empty() || target.front() != '/') return false;
  *out_method = std::string(line.substr(0, sp1));
  *out_path = std::string(target.substr(0, target.find('?')));
  return true;
}

HttpEndpoint::~HttpEndpoint() { close(); }

bool HttpEndpoint::open(const config::HostPort& bind, std::string* out_error) {
  sockaddr_storage address{};
  if (!resolve_bind_address(bind, &address, out_error)) return false;
  uv_tcp_t* tcp = socket_.allocate(this);
  uv_tcp_init(loop_, tcp);
  int rc = uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&address), 0);
  if (rc == 0) rc = uv_listen(socket_.stream(), 128, &HttpEndpoint::on_connection);
  if (rc != 0) {
    *out_error = "metrics on " + bind.to_string() + ": " + uv_strerror(rc);
    socket_.reset();
    return false;
  }
  return true;
}

void HttpEndpoint::close() {
  socket_.reset();
  exchanges_.clear();
}

void HttpEndpoint::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<HttpEndpoint*>(server->data);
  if (self == nullptr || status < 0) return;
  auto exchange = std::make_unique<Exchange>();
  Exchange* raw = exchange.get();
  raw->owner = self;
  uv_tcp_init(self->loop_, raw->tcp.allocate(raw));
  if (uv_accept(server, raw->tcp.stream()) != 0) return;
  uv_timer_init(self->loop_, raw->timer.allocate(raw));
  uv_timer_start(raw->timer.get(), [](uv_timer_t* t) {
    if (auto* ex = static_cast<Exchange*>(t->data)) ex->owner->finish(ex);
  }, kRequestTimeoutMs, 0);
  self->exchanges_.emplace(raw, std::move(exchange));
  uv_read_start(
      raw->tcp.stream(),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static thread_local char space[2048];
        *buf = uv_buf_init(space, sizeof space);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* ex = static_cast<Exchange*>(stream->data);
        if (ex == nullptr || ex->responded) return;
        if (nread < 0) {
          ex->owner->finish(ex);
          return;
        }
        ex->head.append(buf->base, static_cast<size_t>(nread));
        bool complete = ex->head.find("\r\n\r\n") != std::string::npos;
        if (!complete && ex->head.size() < kMaxHead) return;
        HttpResponse response;
        std::string method, path;
        if (!complete || !parse_request_line(ex->head, &method, &path)) {
          response = {400, "text/plain; charset=utf-8", "bad request\n"};
        } else if (method != "GET") {
          response = {405, "text/plain; charset=utf-8", "only GET\n"};
        } else {
          response = ex->owner->handler_(path);
        }
        ex->responded = true;
        uv_read_stop(stream);
        ex->reply = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(status_text(response.status)) + "\r\nContent-Type: " +
                    response.content_type + "\r\nContent-Length: " +
                    std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n" +
                    response.body;
        ex->write.data = ex;
        uv_buf_t out = uv_buf_init(ex->reply.data(), static_cast<unsigned>(ex->reply.size()));
        if (uv_write(&ex->write, stream, &out, 1, [](uv_write_t* req, int) {
              if (req->handle->data == nullptr) return;  // exchange already gone
              auto* done = static_cast<Exchange*>(req->data);
              done->owner->finish(done);
            }) != 0) {
          ex->owner->finish(ex);
        }
      });
}

void HttpEndpoint::finish(Exchange* exchange) {
  // Destroying the exchange closes its handles; a pending write is cancelled and its
  // callback sees the detached handle.
  exchanges_.erase(exchange);
}

}  // namespace proxy
