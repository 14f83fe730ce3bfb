// CPG handle (model v1 with the initial totem configuration): join/leave/mcast in agreed order,
// 'message', 'confchg' and 'totem' events.
#pragma once
#include <corosync/cpg.h>

#include <string>
#include <vector>

#include "corosync_handle.h"

namespace corolistener {

class Cpg : public Napi::ObjectWrap<Cpg>, public CorosyncHandle {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Cpg(groupName, emit)
  explicit Cpg(const Napi::CallbackInfo& info);
  ~Cpg() override { Close(); }

 private:
  enum class Kind { kMessage, kConfchg, kTotem };
  struct Event {
    Kind kind = Kind::kMessage;
    uint32_t node_id = 0, pid = 0;                   // message
    std::vector<uint8_t> data;                       // message
    std::vector<cpg_address> members, joined, left;  // confchg
    cpg_ring_id ring_id = {};                        // totem
    std::vector<uint32_t> totem_members;             // totem
  };

  static Cpg* FromHandle(cpg_handle_t handle);
  static void OnDeliver(cpg_handle_t handle, const cpg_name* group, uint32_t node_id, uint32_t pid, void* msg,
                        size_t msg_len);
  static void OnConfchg(cpg_handle_t handle, const cpg_name* group, const cpg_address* members,
                        size_t member_count, const cpg_address* left, size_t left_count,
                        const cpg_address* joined, size_t joined_count);
  static void OnTotem(cpg_handle_t handle, cpg_ring_id ring_id, uint32_t member_count,
                      const uint32_t* members);

  Napi::Value Join(const Napi::CallbackInfo& info);
  Napi::Value Leave(const Napi::CallbackInfo& info);
  Napi::Value Mcast(const Napi::CallbackInfo& info);
  Napi::Value Members(const Napi::CallbackInfo& info);
  Napi::Value LocalNodeId(const Napi::CallbackInfo& info);

  cs_error_t FdGet(int* fd) override { return cpg_fd_get(handle_, fd); }
  cs_error_t Dispatch() override { return cpg_dispatch(handle_, CS_DISPATCH_ALL); }
  void Finalize() override { cpg_finalize(handle_); }
  void DeliverQueued(Napi::Env env, const Emitter& emit) override;

  cpg_handle_t handle_ = 0;
  cpg_name group_ = {};
  std::vector<Event> queue_;
};

}  // namespace corolistener
