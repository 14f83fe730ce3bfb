#include "ipc_rings.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "errors.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#endif

namespace corolistener {

namespace {

// libqb's ring data files:
// /dev/shm/qb-<server>-<client>-<n>-<random>/qb-{request,response,event}-<service>-data.
bool IsRingData(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (name.rfind("qb-", 0) != 0) return false;
  size_t end = name.size();
  const std::string deleted = " (deleted)";
  if (end >= deleted.size() && name.compare(end - deleted.size(), deleted.size(), deleted) == 0)
    end -= deleted.size();
  const std::string suffix = "-data";
  return end >= suffix.size() && name.compare(end - suffix.size(), suffix.size(), suffix) == 0;
}

// Reads one byte per page: the fallback where MADV_POPULATE_READ is not known (before 5.14).
void TouchPages(const volatile char* start, size_t length) {
  long page = sysconf(_SC_PAGESIZE);
  for (size_t off = 0; off < length; off += static_cast<size_t>(page)) (void)start[off];
}

}  // namespace

Napi::Value PopulateIpcRings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::ifstream maps("/proc/self/maps");
  if (!maps) throw MakeSystemError(env, errno != 0 ? errno : EIO, "open /proc/self/maps");
  std::set<std::string> seen;
  unsigned mappings = 0;
  size_t bytes = 0;
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    int path_at = 0;
    // start-end perms offset dev inode path
    if (sscanf(line.c_str(), "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3 || path_at == 0)
      continue;
    std::string path = line.substr(static_cast<size_t>(path_at));
    if (perms[0] != 'r' || !IsRingData(path) || !seen.insert(path).second) continue;
    auto* addr = reinterpret_cast<char*>(start);
    size_t length = end - start;
    if (madvise(addr, length, MADV_POPULATE_READ) != 0) {
      if (errno != EINVAL) throw MakeSystemError(env, errno, "madvise(MADV_POPULATE_READ) " + path);
      TouchPages(addr, length);
    }
    mappings++;
    bytes += length;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("mappings", Napi::Number::New(env, mappings));
  out.Set("kib", Napi::Number::New(env, static_cast<double>(bytes / 1024)));
  return out;
}

}  // namespace corolistener
