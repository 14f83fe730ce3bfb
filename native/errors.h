// cs_error_t -> JS CorosyncError, and errno -> a coded system error (net.cc, arp.cc). The CorosyncError class
// lives in TypeScript (it owns the code-name table); JS hands its constructor in once per environment
// (setErrorClass), the way better-sqlite3 receives SqliteError, so native and TS errors are the same class.
#pragma once
#include <corosync/corotypes.h>
#include <napi.h>

#include <string>

namespace corolistener {

// Per-environment instance data (napi_set_instance_data): worker threads each get their own.
struct AddonData {
  Napi::FunctionReference corosyncError;
};

// new CorosyncError(errno, operation); a plain Error carrying `errno` if no class was registered.
Napi::Error MakeCorosyncError(Napi::Env env, cs_error_t err, const char* operation);

// Throws (C++ exception -> JS exception) unless err == CS_OK.
void ThrowIfError(Napi::Env env, cs_error_t err, const char* operation);

Napi::Value SetErrorClass(const Napi::CallbackInfo& info);

// An Error as Node's own system errors look: `code` (e.g. 'EEXIST'), `errno` (positive) and
// `operation` (e.g. 'RTM_NEWADDR'), so TS tells "already there" from a real failure by code.
Napi::Error MakeSystemError(Napi::Env env, int err, const std::string& operation);

}  // namespace corolistener
