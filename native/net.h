// The cluster IP's network calls without a process start (issue 16): IPv4 addresses of a device
// through rtnetlink (libmnl) and gratuitous ARPs on a packet socket (arp.h). One Net per daemon,
// in its own network namespace, holding a netlink socket and a packet socket for sending.
//
// The netlink calls are synchronous on the event loop, as os.networkInterfaces() is: rtnetlink
// handles a request inside the sendmsg that carries it and a dump inside recvmsg, so the answer
// is there when the call returns (tens of microseconds) and nothing waits on the network.
#pragma once
#include <libmnl/libmnl.h>
#include <napi.h>

#include <string>

namespace corolistener {

class Net : public Napi::ObjectWrap<Net> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Net(const Napi::CallbackInfo& info);
  ~Net() override;

 private:
  // addresses(dev): { ifindex, mac, addresses: [{ family: 'inet', local, prefixlen, label }] },
  // undefined when there is no such device.
  Napi::Value Addresses(const Napi::CallbackInfo& info);
  // linkFlags(dev): the device's flags as rtnetlink reports them (with IFF_LOWER_UP, which
  // SIOCGIFFLAGS cannot carry), undefined when there is no such device.
  Napi::Value LinkFlags(const Napi::CallbackInfo& info);
  // addAddress(dev, ip, prefixLength) / deleteAddress(...): RTM_NEWADDR (create, exclusive) /
  // RTM_DELADDR, each answered by the kernel's ACK; a coded error otherwise (EEXIST, EADDRNOTAVAIL).
  Napi::Value AddAddress(const Napi::CallbackInfo& info);
  Napi::Value DeleteAddress(const Napi::CallbackInfo& info);
  // announce(dev, ip, mode): one gratuitous ARP, 'request' (as arping -U) or 'reply' (arping -A).
  Napi::Value Announce(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);

  Napi::Value ChangeAddress(const Napi::CallbackInfo& info, uint16_t type);
  // Sends the request in buf_ and runs the answers through `cb` until done; 0 or an errno.
  int Talk(nlmsghdr* request, mnl_cb_t cb, void* data);
  void CheckOpen(Napi::Env env) const;

  mnl_socket* nl_ = nullptr;
  int packet_fd_ = -1;
  unsigned seq_ = 0;
  unsigned portid_ = 0;
};

}  // namespace corolistener
