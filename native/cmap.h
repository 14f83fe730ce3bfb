// cmap handle: typed get, iteration by prefix, prefix tracking ('track' events).
#pragma once
#include <corosync/cmap.h>

#include <map>
#include <string>
#include <vector>

#include "corosync_handle.h"

namespace corolistener {

class Cmap : public Napi::ObjectWrap<Cmap>, public CorosyncHandle {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Cmap(emit)
  explicit Cmap(const Napi::CallbackInfo& info);
  ~Cmap() override { Close(); }

 private:
  // A copied cmap value; type 0 means "absent" (no value on delete, no old value on add).
  struct Value {
    cmap_value_types_t type = static_cast<cmap_value_types_t>(0);
    std::vector<uint8_t> bytes;
  };
  struct TrackEvent {
    uint32_t track_id;
    int32_t event;
    std::string key;
    Value value, old_value;
  };

  static void OnNotify(cmap_handle_t handle, cmap_track_handle_t track, int32_t event, const char* key,
                       cmap_notify_value new_value, cmap_notify_value old_value, void* user_data);

  Napi::Value Get(const Napi::CallbackInfo& info);
  Napi::Value Entries(const Napi::CallbackInfo& info);
  Napi::Value TrackAdd(const Napi::CallbackInfo& info);
  Napi::Value TrackDelete(const Napi::CallbackInfo& info);

  // Reads one key; returns false if it does not exist (anymore).
  bool ReadValue(Napi::Env env, const std::string& key, Value* out);

  cs_error_t FdGet(int* fd) override { return cmap_fd_get(handle_, fd); }
  cs_error_t Dispatch() override { return cmap_dispatch(handle_, CS_DISPATCH_ALL); }
  void Finalize() override { cmap_finalize(handle_); }
  void DeliverQueued(Napi::Env env, const Emitter& emit) override;

  cmap_handle_t handle_ = 0;
  uint32_t next_track_id_ = 1;
  std::map<uint32_t, cmap_track_handle_t> tracks_;
  std::vector<TrackEvent> queue_;
};

}  // namespace corolistener
