// Watches one corosync IPC fd on the environment's libuv loop (like Koffi's PollHandle).
// The uv_poll_t is heap-allocated because uv_close is asynchronous: the watcher object can go
// away at once while libuv still owns the handle until its close callback frees it.
#pragma once
#include <node_api.h>
#include <uv.h>

#include <functional>

namespace corolistener {

class FdWatcher {
 public:
  // status < 0: libuv error; otherwise `events` is a mask of UV_READABLE / UV_DISCONNECT.
  using Callback = std::function<void(int status, int events)>;

  FdWatcher() = default;
  FdWatcher(const FdWatcher&) = delete;
  FdWatcher& operator=(const FdWatcher&) = delete;
  ~FdWatcher() { Close(); }

  // Returns a libuv error code (0 on success). The callback is held only while polling.
  // `env` is the environment owning `loop`: its teardown waits for every close (see Close).
  int Start(napi_env env, uv_loop_t* loop, int fd, Callback callback);
  // Idempotent. uv_poll_stop removes the fd from epoll right away, so the owner may finalize
  // (close) the fd as soon as this returns. libuv frees the poll handle later (OnClosed).
  void Close();
  void Ref();
  void Unref();
  bool active() const { return poll_ != nullptr; }

 private:
  // The poll handle and what its asynchronous close needs; outlives the watcher.
  struct Poll {
    uv_poll_t handle;  // first member: the uv_handle_t* libuv passes back is this Poll
    napi_async_cleanup_hook_handle teardown_guard = nullptr;
  };

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);

  napi_env env_ = nullptr;
  Poll* poll_ = nullptr;
  Callback callback_;
  bool referenced_ = true;
};

}  // namespace corolistener
