// cfg handle: local node id and configuration reload (`corosync-cfgtool -R`).
#pragma once
#include <corosync/cfg.h>

#include "corosync_handle.h"

namespace corolistener {

class Cfg : public Napi::ObjectWrap<Cfg>, public CorosyncHandle {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Cfg(emit): only 'disconnect' is ever emitted.
  explicit Cfg(const Napi::CallbackInfo& info);
  ~Cfg() override { Close(); }

 private:
  Napi::Value LocalNodeId(const Napi::CallbackInfo& info);
  Napi::Value ReloadConfig(const Napi::CallbackInfo& info);

  cs_error_t FdGet(int* fd) override { return corosync_cfg_fd_get(handle_, fd); }
  cs_error_t Dispatch() override { return corosync_cfg_dispatch(handle_, CS_DISPATCH_ALL); }
  void Finalize() override { corosync_cfg_finalize(handle_); }
  void DeliverQueued(Napi::Env, const Emitter&) override {}

  corosync_cfg_handle_t handle_ = 0;
};

}  // namespace corolistener
