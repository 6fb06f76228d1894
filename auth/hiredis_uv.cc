#include "auth/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

namespace auth {
namespace {

// Owned by hiredis through ev.data from attach until cleanup; freed in the close callback.
struct Watch {
  redisAsyncContext* context = nullptr;  // null once hiredis has cleaned up
  uv_poll_t poll{};
  int events = 0;
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* watch = static_cast<Watch*>(handle->data);
  // On an error, every interest is reported ready so hiredis reads or writes, sees the
  // socket error, and fails the context (connect callback / disconnect callback).
  int ready = status < 0 ? watch->events : events;
  if (watch->context != nullptr && (ready & UV_READABLE)) redisAsyncHandleRead(watch->context);
  if (watch->context != nullptr && (ready & UV_WRITABLE)) redisAsyncHandleWrite(watch->context);
}

void update(Watch* watch) {
  if (watch->events != 0) {
    uv_poll_start(&watch->poll, watch->events, &on_poll);
  } else {
    uv_poll_stop(&watch->poll);
  }
}

void add_read(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->events |= UV_READABLE;
  update(watch);
}

void del_read(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->events &= ~UV_READABLE;
  update(watch);
}

void add_write(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->events |= UV_WRITABLE;
  update(watch);
}

void del_write(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->events &= ~UV_WRITABLE;
  update(watch);
}

void cleanup(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->context = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), [](uv_handle_t* handle) {
    std::unique_ptr<Watch> owned(static_cast<Watch*>(handle->data));
  });
}

}  // namespace

bool attach_to_loop(redisAsyncContext* context, uv_loop_t* loop) {
  if (context->ev.data != nullptr) return false;
  auto watch = std::make_unique<Watch>();
  if (uv_poll_init(loop, &watch->poll, context->c.fd) != 0) return false;
  watch->context = context;
  watch->poll.data = watch.get();
  context->ev.addRead = &add_read;
  context->ev.delRead = &del_read;
  context->ev.addWrite = &add_write;
  context->ev.delWrite = &del_write;
  context->ev.cleanup = &cleanup;
  context->ev.data = watch.release();  // reclaimed by cleanup's close callback
  return true;
}

redisAsyncContext* open_on_loop(const std::string& host, uint16_t port, uv_loop_t* loop, void* owner,
                                void (*on_connect)(const redisAsyncContext*, int),
                                void (*on_disconnect)(const redisAsyncContext*, int),
                                std::string* out_error) {
  redisAsyncContext* context = redisAsyncConnect(host.c_str(), port);
  if (context == nullptr || context->err) {
    *out_error = context ? context->errstr : "out of memory";
    if (context) redisAsyncFree(context);
    return nullptr;
  }
  context->data = owner;
  if (!attach_to_loop(context, loop)) {
    *out_error = "cannot watch the socket";
    redisAsyncFree(context);
    return nullptr;
  }
  if (on_connect) redisAsyncSetConnectCallback(context, on_connect);
  if (on_disconnect) redisAsyncSetDisconnectCallback(context, on_disconnect);
  return context;
}

}  // namespace auth
