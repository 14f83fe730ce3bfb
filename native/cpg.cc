#include "cpg.h"

#include <sys/uio.h>

#include <cstring>

#include "errors.h"
#include "node_values.h"

namespace corolistener {

namespace {

Napi::Array AddressArray(Napi::Env env, const std::vector<cpg_address>& addresses) {
  Napi::Array array = Napi::Array::New(env, addresses.size());
  for (size_t i = 0; i < addresses.size(); i++) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("nodeId", Napi::Number::New(env, addresses[i].nodeid));
    entry.Set("pid", Napi::Number::New(env, addresses[i].pid));
    entry.Set("reason", Napi::Number::New(env, addresses[i].reason));
    array.Set(i, entry);
  }
  return array;
}

}  // namespace

Napi::Function Cpg::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {
      InstanceMethod("join", &Cpg::Join),
      InstanceMethod("leave", &Cpg::Leave),
      InstanceMethod("mcast", &Cpg::Mcast),
      InstanceMethod("members", &Cpg::Members),
      InstanceMethod("localNodeId", &Cpg::LocalNodeId),
  };
  AddCommonMethods<Cpg>(methods);
  return DefineClass(env, "Cpg", methods);
}

Cpg::Cpg(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Cpg>(info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "groupName");
  if (name.empty() || name.size() >= CPG_MAX_NAME_LENGTH) {
    throw Napi::RangeError::New(env, "groupName must be 1 to 127 bytes");
  }
  Napi::Function emit = EmitArg(info, 1);
  group_.length = static_cast<uint32_t>(name.size());
  std::memcpy(group_.value, name.data(), name.size());

  cpg_model_v1_data_t model = {};
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = OnDeliver;
  model.cpg_confchg_fn = OnConfchg;
  model.cpg_totem_confchg_fn = OnTotem;
  model.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
  ThrowIfError(
      env, cpg_model_initialize(&handle_, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&model), this),
      "cpg_initialize");
  StartWatching(info, emit, "corosync:Cpg");
}

Cpg* Cpg::FromHandle(cpg_handle_t handle) {
  void* context = nullptr;
  cpg_context_get(handle, &context);
  return static_cast<Cpg*>(context);
}

void Cpg::OnDeliver(cpg_handle_t handle, const cpg_name*, uint32_t node_id, uint32_t pid, void* msg,
                    size_t msg_len) {
  Cpg* self = FromHandle(handle);
  if (self == nullptr) return;
  Event event;
  event.kind = Kind::kMessage;
  event.node_id = node_id;
  event.pid = pid;
  const auto* bytes = static_cast<const uint8_t*>(msg);
  event.data.assign(bytes, bytes + msg_len);
  self->queue_.push_back(std::move(event));
}

void Cpg::OnConfchg(cpg_handle_t handle, const cpg_name*, const cpg_address* members, size_t member_count,
                    const cpg_address* left, size_t left_count, const cpg_address* joined,
                    size_t joined_count) {
  Cpg* self = FromHandle(handle);
  if (self == nullptr) return;
  Event event;
  event.kind = Kind::kConfchg;
  event.members.assign(members, members + member_count);
  event.joined.assign(joined, joined + joined_count);
  event.left.assign(left, left + left_count);
  self->queue_.push_back(std::move(event));
}

void Cpg::OnTotem(cpg_handle_t handle, cpg_ring_id ring_id, uint32_t member_count, const uint32_t* members) {
  Cpg* self = FromHandle(handle);
  if (self == nullptr) return;
  Event event;
  event.kind = Kind::kTotem;
  event.ring_id = ring_id;
  event.totem_members.assign(members, members + member_count);
  self->queue_.push_back(std::move(event));
}

void Cpg::DeliverQueued(Napi::Env env, const Emitter& emit) {
  std::vector<Event> events;
  events.swap(queue_);
  for (Event& event : events) {
    Napi::Object payload = Napi::Object::New(env);
    switch (event.kind) {
      case Kind::kMessage:
        payload.Set("nodeId", Napi::Number::New(env, event.node_id));
        payload.Set("pid", Napi::Number::New(env, event.pid));
        payload.Set("data", Napi::Buffer<uint8_t>::Copy(env, event.data.data(), event.data.size()));
        emit("message", payload);
        break;
      case Kind::kConfchg:
        payload.Set("members", AddressArray(env, event.members));
        payload.Set("joined", AddressArray(env, event.joined));
        payload.Set("left", AddressArray(env, event.left));
        emit("confchg", payload);
        break;
      case Kind::kTotem:
        payload.Set("ringId", RingIdObject(env, event.ring_id.nodeid, event.ring_id.seq));
        payload.Set("members", NodeIdArray(env, event.totem_members));
        emit("totem", payload);
        break;
    }
  }
}

Napi::Value Cpg::Join(const Napi::CallbackInfo& info) {
  CheckOpen(info.Env(), "cpg_join");
  ThrowIfError(info.Env(), cpg_join(handle_, &group_), "cpg_join");
  return info.Env().Undefined();
}

Napi::Value Cpg::Leave(const Napi::CallbackInfo& info) {
  CheckOpen(info.Env(), "cpg_leave");
  ThrowIfError(info.Env(), cpg_leave(handle_, &group_), "cpg_leave");
  return info.Env().Undefined();
}

// mcast(buffer): agreed order; throws CS_ERR_TRY_AGAIN under flow control (TS retries).
Napi::Value Cpg::Mcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "data must be a Buffer");
  CheckOpen(env, "cpg_mcast_joined");
  Napi::Buffer<uint8_t> data = info[0].As<Napi::Buffer<uint8_t>>();
  iovec iov = {data.Data(), data.Length()};
  ThrowIfError(env, cpg_mcast_joined(handle_, CPG_TYPE_AGREED, &iov, 1), "cpg_mcast_joined");
  return env.Undefined();
}

Napi::Value Cpg::Members(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "cpg_membership_get");
  std::vector<cpg_address> members(CPG_MEMBERS_MAX);
  int count = CPG_MEMBERS_MAX;
  ThrowIfError(env, cpg_membership_get(handle_, &group_, members.data(), &count), "cpg_membership_get");
  members.resize(static_cast<size_t>(count));
  return AddressArray(env, members);
}

Napi::Value Cpg::LocalNodeId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "cpg_local_get");
  unsigned int node_id = 0;
  ThrowIfError(env, cpg_local_get(handle_, &node_id), "cpg_local_get");
  return Napi::Number::New(env, node_id);
}

}  // namespace corolistener
