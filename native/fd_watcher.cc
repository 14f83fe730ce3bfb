#include "fd_watcher.h"

namespace corolistener {

int FdWatcher::Start(uv_loop_t* loop, int fd, Callback callback) {
  Close();
  auto* poll = new uv_poll_t;
  int rc = uv_poll_init(loop, poll, fd);
  if (rc != 0) {
    delete poll;  // never initialised as a handle: plain delete, no uv_close
    return rc;
  }
  poll->data = this;
  rc = uv_poll_start(poll, UV_READABLE | UV_DISCONNECT, OnPoll);
  poll_ = poll;
  if (rc != 0) {
    Close();
    return rc;
  }
  callback_ = std::move(callback);
  if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return 0;
}

void FdWatcher::Close() {
  if (poll_ == nullptr) return;
  uv_poll_t* poll = poll_;
  poll_ = nullptr;
  poll->data = nullptr;
  uv_poll_stop(poll);
  uv_close(reinterpret_cast<uv_handle_t*>(poll),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  // Moved out rather than reset: Close may run from inside the callback itself.
  Callback released = std::move(callback_);
  callback_ = nullptr;
}

void FdWatcher::Ref() {
  referenced_ = true;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
}

void FdWatcher::Unref() {
  referenced_ = false;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
}

void FdWatcher::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<FdWatcher*>(handle->data);
  if (self == nullptr || !self->callback_) return;
  // Copy: the callback may close this watcher (and so destroy callback_) while running.
  Callback callback = self->callback_;
  callback(status, events);
}

}  // namespace corolistener
