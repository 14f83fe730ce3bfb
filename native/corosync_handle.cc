#include "corosync_handle.h"

#include <string>

#include "errors.h"

namespace corolistener {

namespace {

// False once the environment can no longer run JS (a worker being terminated, the process
// exiting). Probed with a call N-API refuses in that state, on a fresh object so nothing else
// is touched. Once JS cannot run, every N-API call that needs it fails, and node-addon-api turns
// such a failure into a fatal error (it cannot even build the Napi::Error): never try.
bool CanCallIntoJs(napi_env env) {
  napi_value probe;
  if (napi_create_object(env, &probe) != napi_ok) return false;
  napi_property_descriptor field = {"probe", nullptr, nullptr,      nullptr,
                                    nullptr, probe,   napi_default, nullptr};
  return napi_define_properties(env, probe, 1, &field) == napi_ok;
}

// Thrown by Emit when the environment stopped running JS during a listener (a worker
// terminated from another thread): ends the delivery; OnPoll catches it.
struct JsStopped {};

}  // namespace

void CorosyncHandle::Emitter::operator()(const char* event, Napi::Value payload) const {
  if (handle_->IsOpen()) handle_->Emit(event, payload);
}

void CorosyncHandle::StartWatching(const Napi::CallbackInfo& info, Napi::Function emit, const char* name) {
  Napi::Env env = info.Env();
  env_ = env;
  open_ = true;
  int fd = -1;
  cs_error_t err = FdGet(&fd);
  if (err != CS_OK) {
    Close();
    ThrowIfError(env, err, (std::string(name) + " fd_get").c_str());
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    Close();
    throw Napi::Error::New(env, "napi_get_uv_event_loop failed");
  }
  int rc = watcher_.Start(env, loop, fd, [this](int status, int events) { OnPoll(status, events); });
  if (rc != 0) {
    Close();
    throw Napi::Error::New(env, std::string("uv_poll_start: ") + uv_strerror(rc));
  }
  emit_ = Napi::Persistent(emit);
  self_ = Napi::Persistent(info.This().As<Napi::Object>());
  async_context_ = std::make_shared<Napi::AsyncContext>(env, name);
  napi_add_env_cleanup_hook(env, CleanupHook, this);
  hook_added_ = true;
}

void CorosyncHandle::Close() {
  if (!open_) return;
  open_ = false;
  watcher_.Close();  // never let the fd be closed under an active poll handle
  Finalize();
  if (hook_added_) {
    napi_remove_env_cleanup_hook(env_, CleanupHook, this);
    hook_added_ = false;
  }
  emit_.Reset();
  self_.Reset();
  async_context_.reset();
}

void CorosyncHandle::CheckOpen(Napi::Env env, const char* operation) const {
  if (!IsOpen()) throw MakeCorosyncError(env, CS_ERR_BAD_HANDLE, operation);
}

void CorosyncHandle::CleanupHook(void* arg) { static_cast<CorosyncHandle*>(arg)->Close(); }

void CorosyncHandle::OnPoll(int status, int events) {
  // Nothing may unwind into libuv. While a worker's environment is torn down, Node still runs
  // the loop (this callback included) but JS can no longer run: stop polling without touching
  // JS or dispatching, and leave *_finalize to the env cleanup hook (Close).
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  if (!CanCallIntoJs(env_)) {
    watcher_.Close();
  } else {
    try {
      DispatchAndDeliver(status, events);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env_, e.Value());
    } catch (const JsStopped&) {
      watcher_.Close();  // as above: the env cleanup hook finalizes
    } catch (...) {
    }
  }
  napi_close_handle_scope(env_, scope);
}

void CorosyncHandle::DispatchAndDeliver(int status, int events) {
  Napi::Env env(env_);
  cs_error_t failure = CS_OK;
  if (status < 0) {
    failure = CS_ERR_LIBRARY;
  } else {
    if (events & UV_READABLE) {
      cs_error_t err = Dispatch();
      if (err != CS_OK && err != CS_ERR_TRY_AGAIN) failure = err;
    }
    if (failure == CS_OK && (events & UV_DISCONNECT)) failure = CS_ERR_LIBRARY;
  }
  // Deliver what the dispatch copied before reporting a disconnect: those events happened first.
  DeliverQueued(env, Emitter(this));
  if (failure == CS_OK || !IsOpen()) return;
  // Stop polling and report, but leave *_finalize to close(): after a server crash libqb's
  // disconnect sleeps (4 x 10 ms) waiting for the server, and finalizing here would delay the
  // 'disconnect' of every other handle whose fd hung up in the same loop iteration.
  disconnected_ = true;
  watcher_.Close();
  Emit("disconnect", MakeCorosyncError(env, failure, "dispatch").Value());
  // The callback is held only while polling; without self_ an unclosed handle can be collected
  // (its destructor finalizes).
  emit_.Reset();
  self_.Reset();
}

void CorosyncHandle::Emit(const char* event, Napi::Value payload) {
  Napi::Env env(env_);
  // Locals: a listener may close the handle, releasing the members, while this call runs.
  Napi::Function emit = emit_.Value();
  Napi::Object self = self_.Value();
  std::shared_ptr<Napi::AsyncContext> context = async_context_;
  // Raw N-API rather than Napi::Function::MakeCallback: on failure node-addon-api builds a
  // Napi::Error, which aborts the process when the failure is a termination.
  napi_value argv[] = {Napi::String::New(env, event), payload};
  napi_value result;
  if (napi_make_callback(env, *context, self, emit, 2, argv, &result) == napi_ok) return;
  bool pending = false;
  napi_value exception = nullptr;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
    napi_get_and_clear_last_exception(env, &exception);
  if (!CanCallIntoJs(env)) throw JsStopped{};
  // A listener threw: report it as an uncaught exception, as any event source would,
  // rather than unwinding through libuv.
  if (exception != nullptr) napi_fatal_exception(env, exception);
}

Napi::Value CorosyncHandle::JsClose(const Napi::CallbackInfo& info) {
  Close();
  return info.Env().Undefined();
}

Napi::Value CorosyncHandle::JsRef(const Napi::CallbackInfo& info) {
  watcher_.Ref();
  return info.Env().Undefined();
}

Napi::Value CorosyncHandle::JsUnref(const Napi::CallbackInfo& info) {
  watcher_.Unref();
  return info.Env().Undefined();
}

Napi::Function EmitArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "emit callback (function) expected");
  }
  return info[index].As<Napi::Function>();
}

uint32_t Uint32Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  return info[index].As<Napi::Number>().Uint32Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

}  // namespace corolistener
