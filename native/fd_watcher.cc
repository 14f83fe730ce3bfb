#include "fd_watcher.h"

namespace corolistener {

namespace {

// Started only when the environment is torn down while a close is still pending. It has
// nothing to do: the pending uv_close finishes the work and removes the hook (OnClosed).
void AwaitPendingClose(napi_async_cleanup_hook_handle, void*) {}

}  // namespace

int FdWatcher::Start(napi_env env, uv_loop_t* loop, int fd, Callback callback) {
  Close();
  env_ = env;
  auto* poll = new Poll;
  int rc = uv_poll_init(loop, &poll->handle, fd);
  if (rc != 0) {
    delete poll;  // never initialised as a handle: plain delete, no uv_close
    return rc;
  }
  poll->handle.data = this;
  rc = uv_poll_start(&poll->handle, UV_READABLE | UV_DISCONNECT, OnPoll);
  poll_ = poll;
  if (rc != 0) {
    Close();
    return rc;
  }
  callback_ = std::move(callback);
  if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->handle));
  return 0;
}

void FdWatcher::Close() {
  if (poll_ == nullptr) return;
  Poll* poll = poll_;
  poll_ = nullptr;
  poll->handle.data = nullptr;
  uv_poll_stop(&poll->handle);
  // OnClosed is code of this addon, which Node unloads together with a worker's environment.
  // A close still pending at that teardown would make libuv call into unmapped memory, since
  // Node runs the loop for pending closes only while someone awaits them. The guard is that
  // someone: an async cleanup hook keeps the teardown running the loop until OnClosed has run.
  if (napi_add_async_cleanup_hook(env_, AwaitPendingClose, nullptr, &poll->teardown_guard) != napi_ok) {
    poll->teardown_guard = nullptr;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), OnClosed);
  // Moved out rather than reset: Close may run from inside the callback itself.
  Callback released = std::move(callback_);
  callback_ = nullptr;
}

void FdWatcher::OnClosed(uv_handle_t* handle) {
  Poll* poll = reinterpret_cast<Poll*>(handle);
  napi_async_cleanup_hook_handle guard = poll->teardown_guard;
  delete poll;
  if (guard != nullptr) napi_remove_async_cleanup_hook(guard);
}

void FdWatcher::Ref() {
  referenced_ = true;
  if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->handle));
}

void FdWatcher::Unref() {
  referenced_ = false;
  if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->handle));
}

void FdWatcher::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<FdWatcher*>(handle->data);
  if (self == nullptr || !self->callback_) return;
  // Copy: the callback may close this watcher (and so destroy callback_) while running.
  Callback callback = self->callback_;
  callback(status, events);
}

}  // namespace corolistener
