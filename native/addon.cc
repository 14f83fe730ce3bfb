// Entry point of the corolistener addon: one class per corosync handle, plus setErrorClass
// (JS hands in CorosyncError once per environment).
#include <napi.h>

#include "cfg.h"
#include "cmap.h"
#include "cpg.h"
#include "errors.h"
#include "quorum.h"
#include "votequorum.h"

using namespace corolistener;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("Quorum", Quorum::Define(env));
  exports.Set("Cpg", Cpg::Define(env));
  exports.Set("Cmap", Cmap::Define(env));
  exports.Set("Cfg", Cfg::Define(env));
  exports.Set("Votequorum", Votequorum::Define(env));
  return exports;
}

NODE_API_MODULE(corolistener, Init)
