// auth/hiredis_uv.h: attaches a hiredis async context to a libuv loop. Replaces the adapter
// shipped with hiredis 0.14, which drops poll errors: a connect to a port that is down then
// never completes, so nothing reconnects until traffic times out. Here an error is handed
// to hiredis as readiness, and hiredis's own read/write then reports it.
#pragma once

#include <uv.h>

struct redisAsyncContext;

namespace auth {

// attach_to_loop: false if the context already has an event adapter or the poll handle
// cannot be created (the caller then frees the context).
bool attach_to_loop(redisAsyncContext* context, uv_loop_t* loop);

}  // namespace auth
