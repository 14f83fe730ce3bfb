// votequorum handle: vote/quorum information per node.
#pragma once
#include <corosync/votequorum.h>

#include "corosync_handle.h"

namespace corolistener {

class Votequorum : public Napi::ObjectWrap<Votequorum>, public CorosyncHandle {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Votequorum(emit): only 'disconnect' is ever emitted.
  explicit Votequorum(const Napi::CallbackInfo& info);
  ~Votequorum() override { Close(); }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);

  cs_error_t FdGet(int* fd) override { return votequorum_fd_get(handle_, fd); }
  cs_error_t Dispatch() override { return votequorum_dispatch(handle_, CS_DISPATCH_ALL); }
  void Finalize() override { votequorum_finalize(handle_); }
  void DeliverQueued(Napi::Env, const Emitter&) override {}

  votequorum_handle_t handle_ = 0;
};

}  // namespace corolistener
