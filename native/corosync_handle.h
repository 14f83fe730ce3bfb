// What every corosync handle wrapper shares: fd watching, dispatch on the loop thread,
// delivery of queued events to JS, disconnect detection, idempotent close, env cleanup.
//
// Flow: fd readable -> Dispatch() (*_dispatch CS_DISPATCH_ALL) -> the C callbacks only copy
// data into the subclass's queue -> after dispatch returns, DeliverQueued() turns the queue into
// JS values and calls emit(name, payload) via MakeCallback (so promises and nextTicks run).
#pragma once
#include <corosync/corotypes.h>
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "fd_watcher.h"

namespace corolistener {

class CorosyncHandle {
 public:
  // Calls the JS emit callback; a no-op once the handle is closed.
  class Emitter {
   public:
    explicit Emitter(CorosyncHandle* handle) : handle_(handle) {}
    void operator()(const char* event, Napi::Value payload) const;

   private:
    CorosyncHandle* handle_;
  };

  virtual ~CorosyncHandle() = default;

  // Idempotent: stop polling (uv_poll_stop + uv_close), then *_finalize.
  void Close();
  // Open and not disconnected: calls may reach corosync.
  bool IsOpen() const { return open_ && !disconnected_; }

  // JS methods common to all handles (registered by AddCommonMethods).
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsRef(const Napi::CallbackInfo& info);
  Napi::Value JsUnref(const Napi::CallbackInfo& info);

 protected:
  // Called by the subclass constructor once the corosync handle is initialised.
  // Throws (after finalizing) if the fd cannot be obtained or watched.
  void StartWatching(const Napi::CallbackInfo& info, Napi::Function emit, const char* name);
  // Throws CS_ERR_BAD_HANDLE after close/disconnect: method calls on a dead handle.
  void CheckOpen(Napi::Env env, const char* operation) const;

  virtual cs_error_t FdGet(int* fd) = 0;
  virtual cs_error_t Dispatch() = 0;
  virtual void Finalize() = 0;
  virtual void DeliverQueued(Napi::Env env, const Emitter& emit) = 0;

 private:
  void OnPoll(int status, int events);
  void DispatchAndDeliver(int status, int events);
  void Emit(const char* event, Napi::Value payload);
  static void CleanupHook(void* arg);

  napi_env env_ = nullptr;
  bool open_ = false;          // initialised and not yet finalized
  bool disconnected_ = false;  // corosync went away: no more polling or events; finalize on close
  bool hook_added_ = false;
  FdWatcher watcher_;
  Napi::FunctionReference emit_;  // held only while open
  Napi::ObjectReference self_;    // strong while open: a watched handle is not collected
  // Shared so an Emit in progress keeps it alive if a listener closes the handle meanwhile.
  std::shared_ptr<Napi::AsyncContext> async_context_;
};

// Adds close/ref/unref to a class's instance methods.
template <class T>
void AddCommonMethods(std::vector<typename Napi::ObjectWrap<T>::PropertyDescriptor>& methods) {
  methods.push_back(Napi::ObjectWrap<T>::InstanceMethod("close", &T::JsClose));
  methods.push_back(Napi::ObjectWrap<T>::InstanceMethod("ref", &T::JsRef));
  methods.push_back(Napi::ObjectWrap<T>::InstanceMethod("unref", &T::JsUnref));
}

// Argument helpers shared by the handle classes.
Napi::Function EmitArg(const Napi::CallbackInfo& info, size_t index);
uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace corolistener
