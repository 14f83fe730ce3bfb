#include "cmap.h"

#include <cstring>

#include "errors.h"

namespace corolistener {

namespace {

template <typename T>
T Read(const std::vector<uint8_t>& bytes) {
  T value{};
  std::memcpy(&value, bytes.data(), std::min(sizeof(T), bytes.size()));
  return value;
}

}  // namespace

// Numbers for integers up to 32 bits and floats, bigint for 64-bit integers, strings
// (without the trailing NUL), Buffers for binary; undefined when absent.
static Napi::Value ToJs(Napi::Env env, cmap_value_types_t type, const std::vector<uint8_t>& b) {
  switch (type) {
    case CMAP_VALUETYPE_INT8: return Napi::Number::New(env, Read<int8_t>(b));
    case CMAP_VALUETYPE_UINT8: return Napi::Number::New(env, Read<uint8_t>(b));
    case CMAP_VALUETYPE_INT16: return Napi::Number::New(env, Read<int16_t>(b));
    case CMAP_VALUETYPE_UINT16: return Napi::Number::New(env, Read<uint16_t>(b));
    case CMAP_VALUETYPE_INT32: return Napi::Number::New(env, Read<int32_t>(b));
    case CMAP_VALUETYPE_UINT32: return Napi::Number::New(env, Read<uint32_t>(b));
    case CMAP_VALUETYPE_INT64: return Napi::BigInt::New(env, Read<int64_t>(b));
    case CMAP_VALUETYPE_UINT64: return Napi::BigInt::New(env, Read<uint64_t>(b));
    case CMAP_VALUETYPE_FLOAT: return Napi::Number::New(env, Read<float>(b));
    case CMAP_VALUETYPE_DOUBLE: return Napi::Number::New(env, Read<double>(b));
    case CMAP_VALUETYPE_STRING: {
      size_t len = strnlen(reinterpret_cast<const char*>(b.data()), b.size());
      return Napi::String::New(env, reinterpret_cast<const char*>(b.data()), len);
    }
    case CMAP_VALUETYPE_BINARY: return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size());
    default: return env.Undefined();
  }
}

Napi::Function Cmap::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> methods = {
      InstanceMethod("get", &Cmap::Get),
      InstanceMethod("entries", &Cmap::Entries),
      InstanceMethod("trackAdd", &Cmap::TrackAdd),
      InstanceMethod("trackDelete", &Cmap::TrackDelete),
  };
  AddCommonMethods<Cmap>(methods);
  return DefineClass(env, "Cmap", methods);
}

Cmap::Cmap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Cmap>(info) {
  Napi::Env env = info.Env();
  Napi::Function emit = EmitArg(info, 0);
  ThrowIfError(env, cmap_initialize(&handle_), "cmap_initialize");
  cs_error_t err = cmap_context_set(handle_, this);
  if (err != CS_OK) {
    cmap_finalize(handle_);
    ThrowIfError(env, err, "cmap_context_set");
  }
  StartWatching(info, emit, "corosync:Cmap");
}

bool Cmap::ReadValue(Napi::Env env, const std::string& key, Value* out) {
  size_t len = 0;
  cs_error_t err = cmap_get(handle_, key.c_str(), nullptr, &len, &out->type);
  if (err == CS_ERR_NOT_EXIST) return false;
  ThrowIfError(env, err, "cmap_get");
  out->bytes.resize(len);
  err = cmap_get(handle_, key.c_str(), out->bytes.data(), &len, &out->type);
  if (err == CS_ERR_NOT_EXIST) return false;  // deleted between the two calls
  ThrowIfError(env, err, "cmap_get");
  out->bytes.resize(len);
  return true;
}

// get(key): the typed value, or undefined if the key does not exist.
Napi::Value Cmap::Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string key = StringArg(info, 0, "key");
  CheckOpen(env, "cmap_get");
  Value value;
  if (!ReadValue(env, key, &value)) return env.Undefined();
  return ToJs(env, value.type, value.bytes);
}

// entries(prefix): [[key, value], ...] in cmap's (sorted) order.
Napi::Value Cmap::Entries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string prefix = StringArg(info, 0, "prefix");
  CheckOpen(env, "cmap_iter_init");
  cmap_iter_handle_t iter = 0;
  ThrowIfError(env, cmap_iter_init(handle_, prefix.c_str(), &iter), "cmap_iter_init");
  std::vector<std::pair<std::string, Value>> found;
  cs_error_t err = CS_OK;
  for (;;) {
    char key[CMAP_KEYNAME_MAXLEN + 1] = {};
    size_t len = 0;
    cmap_value_types_t type;
    err = cmap_iter_next(handle_, iter, key, &len, &type);
    if (err != CS_OK) break;
    Value value;
    try {
      if (ReadValue(env, key, &value)) found.emplace_back(key, std::move(value));
    } catch (...) {
      cmap_iter_finalize(handle_, iter);
      throw;
    }
  }
  cmap_iter_finalize(handle_, iter);
  if (err != CS_ERR_NO_SECTIONS) ThrowIfError(env, err, "cmap_iter_next");
  Napi::Array result = Napi::Array::New(env, found.size());
  for (size_t i = 0; i < found.size(); i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(uint32_t{0}, Napi::String::New(env, found[i].first));
    pair.Set(uint32_t{1}, ToJs(env, found[i].second.type, found[i].second.bytes));
    result.Set(i, pair);
  }
  return result;
}

// trackAdd(prefix): track id (number); changes arrive as 'track' events carrying it.
Napi::Value Cmap::TrackAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string prefix = StringArg(info, 0, "prefix");
  CheckOpen(env, "cmap_track_add");
  uint32_t id = next_track_id_++;
  cmap_track_handle_t track = 0;
  ThrowIfError(env,
               cmap_track_add(handle_, prefix.c_str(),
                              CMAP_TRACK_ADD | CMAP_TRACK_DELETE | CMAP_TRACK_MODIFY | CMAP_TRACK_PREFIX,
                              OnNotify, reinterpret_cast<void*>(static_cast<uintptr_t>(id)), &track),
               "cmap_track_add");
  tracks_[id] = track;
  return Napi::Number::New(env, id);
}

Napi::Value Cmap::TrackDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id = Uint32Arg(info, 0, "trackId");
  auto it = tracks_.find(id);
  if (it == tracks_.end() || !IsOpen()) return env.Undefined();  // already gone: idempotent
  cmap_track_handle_t track = it->second;
  tracks_.erase(it);
  ThrowIfError(env, cmap_track_delete(handle_, track), "cmap_track_delete");
  return env.Undefined();
}

void Cmap::OnNotify(cmap_handle_t handle, cmap_track_handle_t, int32_t event, const char* key,
                    cmap_notify_value new_value, cmap_notify_value old_value, void* user_data) {
  const void* context = nullptr;
  cmap_context_get(handle, &context);
  auto* self = const_cast<Cmap*>(static_cast<const Cmap*>(context));
  if (self == nullptr) return;
  auto copy = [](const cmap_notify_value& from, Value* to) {
    if (from.data == nullptr) return;
    to->type = from.type;
    const auto* bytes = static_cast<const uint8_t*>(from.data);
    to->bytes.assign(bytes, bytes + from.len);
  };
  TrackEvent queued{static_cast<uint32_t>(reinterpret_cast<uintptr_t>(user_data)), event, key, {}, {}};
  if (event != CMAP_TRACK_DELETE) copy(new_value, &queued.value);
  if (event != CMAP_TRACK_ADD) copy(old_value, &queued.old_value);
  self->queue_.push_back(std::move(queued));
}

void Cmap::DeliverQueued(Napi::Env env, const Emitter& emit) {
  std::vector<TrackEvent> events;
  events.swap(queue_);
  for (const TrackEvent& event : events) {
    Napi::Object payload = Napi::Object::New(env);
    payload.Set("trackId", Napi::Number::New(env, event.track_id));
    const char* kind = event.event == CMAP_TRACK_ADD      ? "add"
                       : event.event == CMAP_TRACK_DELETE ? "delete"
                                                          : "change";
    payload.Set("event", Napi::String::New(env, kind));
    payload.Set("key", Napi::String::New(env, event.key));
    payload.Set("value", ToJs(env, event.value.type, event.value.bytes));
    payload.Set("oldValue", ToJs(env, event.old_value.type, event.old_value.bytes));
    emit("track", payload);
  }
}

}  // namespace corolistener
