// ARP on an AF_PACKET socket, without a process start: the duplicate-address probe (RFC 5227,
// sender IP 0.0.0.0) with a listening window, and gratuitous ARPs (request as `arping -U`,
// reply as `arping -A`).
//
// Closing a packet socket waits for an RCU grace period in the kernel (packet_release calls
// synchronize_net: 8-16 ms measured here), and so does binding a socket created with a protocol.
// So sockets are created with protocol 0 (no hook: cheap), bound to ETH_P_ARP only when they
// must receive, and closed on the thread pool (CloseInBackground), never on the event loop.
#pragma once
#include <napi.h>
#include <netinet/in.h>
#include <time.h>

#include <array>
#include <string>
#include <vector>

#include "fd_watcher.h"

namespace corolistener {

using Mac = std::array<uint8_t, 6>;

std::string MacText(const Mac& mac);

// The interface's index and MAC; throws a coded system error (ENODEV when there is no such device).
struct Interface {
  int index;
  Mac mac;
};
Interface LookUpInterface(Napi::Env env, int any_socket, const std::string& dev);

// Parses a dotted IPv4 address; throws a TypeError otherwise.
in_addr Ipv4Arg(const Napi::CallbackInfo& info, size_t index);

// A packet socket (protocol 0, non-blocking); throws a coded system error.
int OpenPacketSocket(Napi::Env env);

// Closes `fd` on libuv's thread pool (see above); Node waits for it at environment teardown.
void CloseInBackground(Napi::Env env, int fd);

// Broadcasts one ARP packet on `iface` from `fd`; returns 0 or an errno.
int SendArp(int fd, const Interface& iface, uint16_t op, in_addr sender_ip, const Mac& target_mac,
            in_addr target_ip);

// new ArpProbe(dev, ip, windowMs, done): sends one probe for `ip` and listens `windowMs` after
// it left; then done(null, macs, answeredAfterMs), macs being the hosts that claimed the address
// (empty: free) and answeredAfterMs the time from the probe's send to the kernel's receive
// timestamp of the first claim (SO_TIMESTAMPNS: the holder's answer time, without our own
// scheduling delay; what the window must cover, bench/arp).
// A claim ends the window at once. done(error) on a failure after the probe was sent; errors
// before it (no device, link down) are thrown by the constructor. cancel() stops it silently.
class ArpProbe : public Napi::ObjectWrap<ArpProbe> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ArpProbe(const Napi::CallbackInfo& info);
  ~ArpProbe() override;

 private:
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  void OnReadable(int status);
  void OnWindowOver(int status);
  // Reads every queued packet; returns 0 or an errno.
  int Drain();
  void Finish(int err);
  void Release();

  Napi::Env env_;
  int fd_ = -1;
  int timer_fd_ = -1;
  Interface iface_{};
  in_addr ip_{};
  FdWatcher socket_watcher_;
  FdWatcher timer_watcher_;
  std::vector<Mac> holders_;
  timespec sent_at_{};
  double answered_after_ms_ = -1;  // < 0: no claim
  Napi::FunctionReference done_;
  Napi::ObjectReference self_;  // strong while running: a probe in flight is not collected
  std::unique_ptr<Napi::AsyncContext> async_context_;
};

}  // namespace corolistener
