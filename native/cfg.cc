#include "cfg.h"

#include "errors.h"

namespace corolistener {

Napi::Function Cfg::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {
      InstanceMethod("localNodeId", &Cfg::LocalNodeId),
      InstanceMethod("reloadConfig", &Cfg::ReloadConfig),
  };
  AddCommonMethods<Cfg>(methods);
  return DefineClass(env, "Cfg", methods);
}

Cfg::Cfg(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Cfg>(info) {
  Napi::Env env = info.Env();
  Napi::Function emit = EmitArg(info, 0);
  corosync_cfg_callbacks_t callbacks = {};  // no shutdown tracking: we never call trackstart
  ThrowIfError(env, corosync_cfg_initialize(&handle_, &callbacks), "corosync_cfg_initialize");
  // The fd is still watched: a hang-up is how this handle learns corosync went away.
  StartWatching(info, emit, "corosync:Cfg");
}

Napi::Value Cfg::LocalNodeId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "corosync_cfg_local_get");
  unsigned int node_id = 0;
  ThrowIfError(env, corosync_cfg_local_get(handle_, &node_id), "corosync_cfg_local_get");
  return Napi::Number::New(env, node_id);
}

Napi::Value Cfg::ReloadConfig(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "corosync_cfg_reload_config");
  ThrowIfError(env, corosync_cfg_reload_config(handle_), "corosync_cfg_reload_config");
  return env.Undefined();
}

}  // namespace corolistener
