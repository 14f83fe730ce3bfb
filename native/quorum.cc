#include "quorum.h"

#include "errors.h"
#include "node_values.h"

namespace corolistener {

Napi::Function Quorum::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {InstanceMethod("quorate", &Quorum::Quorate)};
  AddCommonMethods<Quorum>(methods);
  return DefineClass(env, "Quorum", methods);
}

// new Quorum(emit): initialises, starts tracking (current state first, then changes), watches.
Quorum::Quorum(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Quorum>(info) {
  Napi::Env env = info.Env();
  Napi::Function emit = EmitArg(info, 0);
  quorum_model_v1_data_t model = {};
  model.model = QUORUM_MODEL_V1;
  model.quorum_notify_fn = OnQuorum;
  model.nodelist_notify_fn = OnNodelist;
  uint32_t quorum_type = 0;
  ThrowIfError(env,
               quorum_model_initialize(&handle_, QUORUM_MODEL_V1,
                                       reinterpret_cast<quorum_model_data_t*>(&model), &quorum_type, this),
               "quorum_initialize");
  cs_error_t err = quorum_trackstart(handle_, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
  if (err != CS_OK) {
    quorum_finalize(handle_);
    ThrowIfError(env, err, "quorum_trackstart");
  }
  StartWatching(info, emit, "corosync:Quorum");
}

Quorum* Quorum::FromHandle(quorum_handle_t handle) {
  const void* context = nullptr;
  quorum_context_get(handle, &context);
  return const_cast<Quorum*>(static_cast<const Quorum*>(context));
}

void Quorum::OnQuorum(quorum_handle_t handle, uint32_t quorate, quorum_ring_id ring_id, uint32_t member_count,
                      const uint32_t* members) {
  Quorum* self = FromHandle(handle);
  if (self == nullptr) return;
  self->queue_.push_back(
      Event{false, quorate != 0, ring_id, std::vector<uint32_t>(members, members + member_count), {}, {}});
}

void Quorum::OnNodelist(quorum_handle_t handle, quorum_ring_id ring_id, uint32_t member_count,
                        const uint32_t* members, uint32_t joined_count, const uint32_t* joined,
                        uint32_t left_count, const uint32_t* left) {
  Quorum* self = FromHandle(handle);
  if (self == nullptr) return;
  self->queue_.push_back(Event{true, false, ring_id, std::vector<uint32_t>(members, members + member_count),
                               std::vector<uint32_t>(joined, joined + joined_count),
                               std::vector<uint32_t>(left, left + left_count)});
}

void Quorum::DeliverQueued(Napi::Env env, const Emitter& emit) {
  std::vector<Event> events;
  events.swap(queue_);
  for (const Event& event : events) {
    Napi::Object payload = Napi::Object::New(env);
    if (!event.nodelist) payload.Set("quorate", Napi::Boolean::New(env, event.quorate));
    payload.Set("ringId", RingIdObject(env, event.ring_id.nodeid, event.ring_id.seq));
    payload.Set("members", NodeIdArray(env, event.members));
    if (event.nodelist) {
      payload.Set("joined", NodeIdArray(env, event.joined));
      payload.Set("left", NodeIdArray(env, event.left));
    }
    emit(event.nodelist ? "nodelist" : "quorum", payload);
  }
}

Napi::Value Quorum::Quorate(const Napi::CallbackInfo& info) {
  CheckOpen(info.Env(), "quorum_getquorate");
  int quorate = 0;
  ThrowIfError(info.Env(), quorum_getquorate(handle_, &quorate), "quorum_getquorate");
  return Napi::Boolean::New(info.Env(), quorate != 0);
}

}  // namespace corolistener
