// Small converters from corosync C data to JS values, shared by the handle classes.
#pragma once
#include <napi.h>

#include <cstdint>
#include <vector>

namespace corolistener {

inline Napi::Array NodeIdArray(Napi::Env env, const std::vector<uint32_t>& ids) {
  Napi::Array array = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) array.Set(i, Napi::Number::New(env, ids[i]));
  return array;
}

// { nodeId, seq }: seq is a number (ring sequences stay far below 2^53) so events are JSON-safe.
inline Napi::Object RingIdObject(Napi::Env env, uint32_t node_id, uint64_t seq) {
  Napi::Object ring = Napi::Object::New(env);
  ring.Set("nodeId", Napi::Number::New(env, node_id));
  ring.Set("seq", Napi::Number::New(env, static_cast<double>(seq)));
  return ring;
}

}  // namespace corolistener
