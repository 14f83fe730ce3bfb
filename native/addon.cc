// Entry point of the corolistener addon. The per-handle classes are registered here.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return exports;
}

NODE_API_MODULE(corolistener, Init)
