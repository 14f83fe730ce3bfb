#include "votequorum.h"

#include <cstring>

#include "errors.h"

namespace corolistener {

Napi::Function Votequorum::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {InstanceMethod("info", &Votequorum::Info)};
  AddCommonMethods<Votequorum>(methods);
  return DefineClass(env, "Votequorum", methods);
}

Votequorum::Votequorum(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Votequorum>(info) {
  Napi::Env env = info.Env();
  Napi::Function emit = EmitArg(info, 0);
  votequorum_callbacks_t callbacks = {};
  ThrowIfError(env, votequorum_initialize(&handle_, &callbacks), "votequorum_initialize");
  StartWatching(info, emit, "corosync:Votequorum");
}

// info(nodeId): the raw votequorum_info with JS names; the TS layer picks the node id.
Napi::Value Votequorum::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t node_id = Uint32Arg(info, 0, "nodeId");
  CheckOpen(env, "votequorum_getinfo");
  votequorum_info vq = {};
  ThrowIfError(env, votequorum_getinfo(handle_, node_id, &vq), "votequorum_getinfo");
  Napi::Object result = Napi::Object::New(env);
  result.Set("nodeId", Napi::Number::New(env, vq.node_id));
  result.Set("nodeState", Napi::Number::New(env, vq.node_state));
  result.Set("nodeVotes", Napi::Number::New(env, vq.node_votes));
  result.Set("nodeExpectedVotes", Napi::Number::New(env, vq.node_expected_votes));
  result.Set("highestExpected", Napi::Number::New(env, vq.highest_expected));
  result.Set("totalVotes", Napi::Number::New(env, vq.total_votes));
  result.Set("quorum", Napi::Number::New(env, vq.quorum));
  result.Set("flags", Napi::Number::New(env, vq.flags));
  result.Set("qdeviceVotes", Napi::Number::New(env, vq.qdevice_votes));
  result.Set("qdeviceName",
             Napi::String::New(env, vq.qdevice_name, strnlen(vq.qdevice_name, sizeof vq.qdevice_name)));
  return result;
}

}  // namespace corolistener
