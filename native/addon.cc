// Entry point of the corolistener addon: one class per corosync handle, plus setErrorClass
// (JS hands in CorosyncError once per environment), the cluster IP's network calls (Net, ArpProbe),
// and populateIpcRings (ipc_rings.h).
#include <napi.h>

#include "arp.h"
#include "cfg.h"
#include "cmap.h"
#include "cpg.h"
#include "errors.h"
#include "ipc_rings.h"
#include "net.h"
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
  exports.Set("Net", Net::Define(env));
  exports.Set("ArpProbe", ArpProbe::Define(env));
  exports.Set("populateIpcRings", Napi::Function::New(env, PopulateIpcRings, "populateIpcRings"));
  return exports;
}

NODE_API_MODULE(corolistener, Init)
