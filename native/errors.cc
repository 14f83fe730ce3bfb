#include "errors.h"

#include <string.h>

#include <string>

namespace corolistener {

Napi::Error MakeCorosyncError(Napi::Env env, cs_error_t err, const char* operation) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->corosyncError.IsEmpty()) {
    Napi::Object error = data->corosyncError.New(
        {Napi::Number::New(env, static_cast<double>(err)), Napi::String::New(env, operation)});
    return Napi::Error(env, error);
  }
  Napi::Error error = Napi::Error::New(
      env, std::string(operation) + " failed: cs_error_t " + std::to_string(static_cast<int>(err)));
  error.Set("errno", Napi::Number::New(env, static_cast<double>(err)));
  return error;
}

void ThrowIfError(Napi::Env env, cs_error_t err, const char* operation) {
  if (err != CS_OK) throw MakeCorosyncError(env, err, operation);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "setErrorClass(ctor): ctor must be a function");
  }
  env.GetInstanceData<AddonData>()->corosyncError = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Error MakeSystemError(Napi::Env env, int err, const std::string& operation) {
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  Napi::Error error = Napi::Error::New(env, operation + " failed: " + code + " (" + strerror(err) + ")");
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("operation", Napi::String::New(env, operation));
  return error;
}

}  // namespace corolistener
