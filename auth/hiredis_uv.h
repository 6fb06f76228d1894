// auth/hiredis_uv.h: attaches a hiredis async context to a libuv loop. Replaces the adapter
// shipped with hiredis 0.14, which drops poll errors: a connect to a port that is down then
// never completes, so nothing reconnects until traffic times out. Here an error is handed
// to hiredis as readiness, and hiredis's own read/write then reports it.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

struct redisAsyncContext;

namespace auth {

// attach_to_loop: false if the context already has an event adapter or the poll handle
// cannot be created (the caller then frees the context).
bool attach_to_loop(redisAsyncContext* context, uv_loop_t* loop);

// open_on_loop starts a non-blocking connect to host:port on |loop| with |owner| as the
// context's data and the given callbacks (either may be null). Returns null, having freed
// whatever it made, when the connect cannot even start; *out_error then says why.
redisAsyncContext* open_on_loop(const std::string& host, uint16_t port, uv_loop_t* loop, void* owner,
                                void (*on_connect)(const redisAsyncContext*, int),
                                void (*on_disconnect)(const redisAsyncContext*, int),
                                std::string* out_error);

}  // namespace auth
