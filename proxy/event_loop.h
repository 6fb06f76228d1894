// proxy/event_loop.h: one libuv loop run by one thread, with the single mechanism other
// threads use to hand it work (post).
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace proxy {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* uv() { return &loop_; }

  // run runs the loop on the calling thread until stop() and until every handle is closed.
  void run();

  // post queues |task| to run on the loop thread. Safe from any thread; the task never
  // runs inside post itself.
  void post(std::function<void()> task);

  // stop asks the loop to return from run() once its handles are closed. Any thread.
  void stop();

  bool in_loop_thread() const { return std::this_thread::get_id() == owner_; }

 private:
  static void on_async(uv_async_t* async);
  void drain_posted();

  uv_loop_t loop_;
  uv_async_t wakeup_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by mutex_
  bool stop_requested_ = false;                // guarded by mutex_
  std::thread::id owner_;
};

// Asserts, in debug builds, that the caller runs on |loop|'s thread.
#define PROXY_ASSERT_IN_LOOP(loop) assert((loop).in_loop_thread())

}  // namespace proxy
