// proxy/uv_handle.h: ownership of libuv handles and write requests.
//
// UvHandle<H> owns one heap-allocated handle. Destroying or resetting it detaches the owner
// (handle->data = nullptr) and calls uv_close; the memory is freed in the close callback.
// Callbacks that libuv still delivers after that (ECANCELED writes, connects) must check
// that handle->data is non-null before touching their owner.
#pragma once

#include <uv.h>

#include <cstring>
#include <memory>
#include <span>

namespace proxy {

template <typename H>
class UvHandle {
 public:
  UvHandle() = default;
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = other.handle_;
      other.handle_ = nullptr;
    }
    return *this;
  }
  ~UvHandle() { reset(); }

  // allocate returns a zeroed handle for the caller to uv_*_init; |owner| goes to ->data.
  // If the init fails the caller must call abandon().
  H* allocate(void* owner) {
    reset();
    auto fresh = std::make_unique<H>();
    std::memset(fresh.get(), 0, sizeof(H));
    fresh->data = owner;
    handle_ = fresh.release();  // reclaimed in on_closed
    return handle_;
  }

  // abandon frees a handle whose init failed (libuv never saw it).
  void abandon() {
    std::unique_ptr<H> owned(handle_);
    handle_ = nullptr;
  }

  void reset() {
    if (handle_ == nullptr) return;
    H* handle = handle_;
    handle_ = nullptr;
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), &UvHandle::on_closed);
  }

  H* get() const { return handle_; }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  static void on_closed(uv_handle_t* handle) { std::unique_ptr<H> owned(reinterpret_cast<H*>(handle)); }

  H* handle_ = nullptr;
};

using TcpHandle = UvHandle<uv_tcp_t>;
using TimerHandle = UvHandle<uv_timer_t>;

// write_copy writes |bytes| to |stream|: as much as the socket takes now without copying,
// the rest copied into a request freed when libuv is done with it. |on_done| runs on
// completion of a queued remainder (never for what went out at once), with the stream whose
// ->data may already be null. Returns a libuv error code, 0 on success.
int write_copy(uv_stream_t* stream, std::span<const uint8_t> bytes, uv_write_cb on_done);

}  // namespace proxy
