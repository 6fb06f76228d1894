#include "proxy/uv_handle.h"

namespace proxy {
namespace {

struct CopiedWrite {
  uv_write_t request;
  uv_write_cb on_done;
  std::unique_ptr<uint8_t[]> bytes;
};

void on_copied_write(uv_write_t* request, int status) {
  std::unique_ptr<CopiedWrite> write(static_cast<CopiedWrite*>(request->data));
  if (write->on_done) write->on_done(request, status);
}

}  // namespace

int write_copy(uv_stream_t* stream, std::span<const uint8_t> bytes, uv_write_cb on_done) {
  if (bytes.empty()) return 0;
  size_t sent = 0;
  // Writing directly is only allowed when nothing is queued, or bytes would be reordered.
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                               static_cast<unsigned>(bytes.size()));
    int n = uv_try_write(stream, &buf, 1);
    if (n >= 0) sent = static_cast<size_t>(n);
    else if (n != UV_EAGAIN) return n;
    if (sent == bytes.size()) return 0;
  }
  auto write = std::make_unique<CopiedWrite>();
  size_t rest = bytes.size() - sent;
  write->bytes = std::make_unique_for_overwrite<uint8_t[]>(rest);
  std::memcpy(write->bytes.get(), bytes.data() + sent, rest);
  write->on_done = on_done;
  write->request.data = write.get();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(write->bytes.get()), static_cast<unsigned>(rest));
  int rc = uv_write(&write->request, stream, &buf, 1, &on_copied_write);
  if (rc == 0) write.release();  // reclaimed in on_copied_write
  return rc;
}

}  // namespace proxy
