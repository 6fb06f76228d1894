#include "proxy/event_loop.h"

#include <cassert>
#include <cstdlib>

namespace proxy {

EventLoop::EventLoop() : owner_(std::this_thread::get_id()) {
  if (uv_loop_init(&loop_) != 0 || uv_async_init(&loop_, &wakeup_, &EventLoop::on_async) != 0) {
    std::abort();  // only fails when the process is out of file descriptors at start-up
  }
  wakeup_.data = this;
}

EventLoop::~EventLoop() {
  // run() returned, so wakeup_ is closed; loop_ has no handles left.
  uv_loop_close(&loop_);
}

void EventLoop::run() {
  owner_ = std::this_thread::get_id();
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  uv_async_send(&wakeup_);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  uv_async_send(&wakeup_);
}

void EventLoop::on_async(uv_async_t* async) {
  static_cast<EventLoop*>(async->data)->drain_posted();
}

void EventLoop::drain_posted() {
  std::vector<std::function<void()>> tasks;
  bool stop;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(posted_);
    stop = stop_requested_;
  }
  for (auto& task : tasks) task();
  // The owner has closed its own handles by now (it posted its shutdown work before stop);
  // closing the wakeup handle lets uv_run return once nothing else is left.
  if (stop && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&wakeup_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup_), nullptr);
  }
}

}  // namespace proxy
