// admin/http_server.cc: see http_server.h.
#include "admin/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <cstring>

#include "admin/console_asset.h"
#include "admin/event_stream.h"
#include "admin/routes.h"

namespace admin {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

// ConnectionState: the request body gathered across MHD's upload callbacks.
struct ConnectionState {
  std::string body;
  bool too_large = false;
};

// StreamState: an SSE response's source and the bytes not yet handed to MHD.
struct StreamState {
  std::unique_ptr<EventStream> stream;
  std::string pending;
  size_t offset = 0;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path reaches the handler undecoded so that an escaped '/' stays inside its segment.
size_t keep_escaped(void*, struct MHD_Connection*, char* text) { return std::strlen(text); }

MHD_Result collect_query(void* cls, enum MHD_ValueKind, const char* key, const char* value) {
  auto* request = static_cast<HttpRequest*>(cls);
  auto name = percent_decode(key ? key : "", true);
  auto decoded = percent_decode(value ? value : "", true);
  if (name && decoded) request->query[*name] = *decoded;
  return MHD_YES;
}

ssize_t read_stream(void* cls, uint64_t, char* buffer, size_t max) {
  auto* state = static_cast<StreamState*>(cls);
  if (state->offset >= state->pending.size()) {
    state->pending = state->stream->next_chunk();
    state->offset = 0;
    if (state->pending.empty()) return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  size_t n = std::min(max, state->pending.size() - state->offset);
  std::memcpy(buffer, state->pending.data() + state->offset, n);
  state->offset += n;
  return static_cast<ssize_t>(n);
}

void free_stream(void* cls) { delete static_cast<StreamState*>(cls); }

void request_completed(void*, struct MHD_Connection*, void** con_cls,
                       enum MHD_RequestTerminationCode) {
  std::unique_ptr<ConnectionState> owned(static_cast<ConnectionState*>(*con_cls));
  *con_cls = nullptr;
}

MHD_Result queue(struct MHD_Connection* connection, const HttpResponse& response) {
  struct MHD_Response* mhd = MHD_create_response_from_buffer(
      response.body.size(), const_cast<char*>(response.body.data()), MHD_RESPMEM_MUST_COPY);
  if (mhd == nullptr) return MHD_NO;
  MHD_add_response_header(mhd, "Content-Type", response.content_type.c_str());
  MHD_add_response_header(mhd, "X-Content-Type-Options", "nosniff");
  for (const auto& [name, value] : response.headers) {
    MHD_add_response_header(mhd, name.c_str(), value.c_str());
  }
  MHD_Result result = MHD_queue_response(connection, response.status, mhd);
  MHD_destroy_response(mhd);
  return result;
}

MHD_Result queue_stream(struct MHD_Connection* connection, const AdminSettings& settings) {
  const char* last_id = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Last-Event-ID");
  auto stream = EventStream::open(settings, last_id ? last_id : "");
  if (!stream) return queue(connection, error_response(503, "redis unavailable"));
  auto state = std::make_unique<StreamState>();
  state->stream = std::move(stream);
  struct MHD_Response* mhd =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, state.get(), free_stream);
  if (mhd == nullptr) return MHD_NO;
  state.release();  // owned by the response now; freed by free_stream
  MHD_add_response_header(mhd, "Content-Type", "text/event-stream");
  MHD_add_response_header(mhd, "Cache-Control", "no-store");
  MHD_Result result = MHD_queue_response(connection, 200, mhd);
  MHD_destroy_response(mhd);
  return result;
}

MHD_Result on_request(void* cls, struct MHD_Connection* connection, const char* url,
                      const char* method, const char*, const char* upload_data,
                      size_t* upload_data_size, void** con_cls) {
  auto* server = static_cast<HttpServer*>(cls);
  if (*con_cls == nullptr) {
    *con_cls = new ConnectionState();  // freed in request_completed
    return MHD_YES;
  }
  auto* state = static_cast<ConnectionState*>(*con_cls);
  if (*upload_data_size > 0) {
    if (state->body.size() + *upload_data_size > kMaxBody) {
      state->too_large = true;
    } else {
      state->body.append(upload_data, *upload_data_size);
    }
    *upload_data_size = 0;
    return MHD_YES;
  }

  HttpRequest request;
  request.method = method;
  request.body = std::move(state->body);
  MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, collect_query, &request);
  const char* authorization =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
  HttpResponse response;
  if (state->too_large) {
    response = error_response(413, "request body larger than 64 KiB", "body");
  } else {
    response = server->dispatch(request, url, authorization ? authorization : "");
  }
  spdlog::info("admin: {} {} -> {} token={}", request.method, url,
               response.event_stream ? 200u : response.status,
               request.token_name.empty() ? "-" : request.token_name);
  if (response.event_stream) return queue_stream(connection, server->settings());
  return queue(connection, response);
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> split_path(std::string_view raw_path) {
  if (raw_path.empty() || raw_path[0] != '/') return std::nullopt;
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= raw_path.size()) {
    size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    auto segment = percent_decode(raw_path.substr(start, end - start), false);
    if (!segment) return std::nullopt;
    if (!segment->empty()) segments.push_back(std::move(*segment));
    start = end + 1;
  }
  return segments;
}

void HttpServer::DaemonDeleter::operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }

HttpServer::HttpServer(AdminSettings settings, TokenAuth tokens)
    : settings_(std::move(settings)), tokens_(std::move(tokens)) {}

HttpServer::~HttpServer() = default;

HttpResponse HttpServer::dispatch(HttpRequest& request, std::string_view raw_path,
                                  std::string_view authorization) const {
  auto segments = split_path(raw_path);
  if (!segments) return error_response(400, "malformed path", "path");
  request.segments = std::move(*segments);
  if (request.segments.empty() || (request.segments.size() == 1 &&
                                   request.segments[0] == "index.html")) {
    if (request.method != "GET" && request.method != "HEAD") return method_not_allowed();
    HttpResponse page;
    page.content_type = "text/html; charset=utf-8";
    page.body = std::string(console_html());
    page.headers.emplace_back("Content-Security-Policy",
                              "default-src 'self'; script-src 'unsafe-inline'; "
                              "style-src 'unsafe-inline'; img-src 'self' data:");
    page.headers.emplace_back("X-Frame-Options", "DENY");
    return page;
  }
  if (request.segments[0] != "api") return error_response(404, "not found");
  auto name = tokens_.authenticate(authorization);
  if (!name) {
    HttpResponse denied = error_response(401, "a valid bearer token is required");
    denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mqtt-auth-admin\"");
    return denied;
  }
  request.token_name = *name;
  return route_request(settings_, request);
}

bool HttpServer::start(const ServerOptions& options, std::string* out_error) {
  options_ = options;
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.bind.port);
  if (getaddrinfo(options_.bind.host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    *out_error = "cannot resolve " + options_.bind.to_string();
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> address(found, freeaddrinfo);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
  if (address->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
  const bool tls = !options_.tls_cert_pem.empty();
  if (tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_SOCK_ADDR, 0, address->ai_addr},
      {MHD_OPTION_CONNECTION_LIMIT, options_.max_connections, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, 60, nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 128 * 1024, nullptr},
      {MHD_OPTION_UNESCAPE_CALLBACK, reinterpret_cast<intptr_t>(&keep_escaped), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&request_completed), nullptr},
  };
  if (tls) {
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(options_.tls_cert_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(options_.tls_key_pem.c_str())});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_.reset(MHD_start_daemon(flags, 0, nullptr, nullptr, &on_request, this,
                                 MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END));
  if (!daemon_) {
    *out_error = "cannot listen on " + options_.bind.to_string();
    return false;
  }
  return true;
}

}  // namespace admin
