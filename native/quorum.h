// Quorum handle (quorum model v1): 'quorum' and 'nodelist' events, quorate().
#pragma once
#include <corosync/quorum.h>

#include <vector>

#include "corosync_handle.h"

namespace corolistener {

class Quorum : public Napi::ObjectWrap<Quorum>, public CorosyncHandle {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Quorum(const Napi::CallbackInfo& info);
  ~Quorum() override { Close(); }

 private:
  struct Event {
    bool nodelist;  // false: quorum notification
    bool quorate;
    quorum_ring_id ring_id;
    std::vector<uint32_t> members, joined, left;
  };

  static void OnQuorum(quorum_handle_t handle, uint32_t quorate, quorum_ring_id ring_id,
                       uint32_t member_count, const uint32_t* members);
  static void OnNodelist(quorum_handle_t handle, quorum_ring_id ring_id, uint32_t member_count,
                         const uint32_t* members, uint32_t joined_count, const uint32_t* joined,
                         uint32_t left_count, const uint32_t* left);
  static Quorum* FromHandle(quorum_handle_t handle);

  Napi::Value Quorate(const Napi::CallbackInfo& info);

  cs_error_t FdGet(int* fd) override { return quorum_fd_get(handle_, fd); }
  cs_error_t Dispatch() override { return quorum_dispatch(handle_, CS_DISPATCH_ALL); }
  void Finalize() override { quorum_finalize(handle_); }
  void DeliverQueued(Napi::Env env, const Emitter& emit) override;

  quorum_handle_t handle_ = 0;
  std::vector<Event> queue_;
};

}  // namespace corolistener
