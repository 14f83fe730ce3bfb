#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "arp.h"
#include "corosync_handle.h"  // the argument helpers
#include "errors.h"

namespace corolistener {

namespace {

struct Address {
  std::string local;
  unsigned prefixlen;
  std::string label;
};

struct DumpState {
  int ifindex;
  std::vector<Address> addresses;
};

int AddressAttribute(const nlattr* attr, void* data) {
  auto** tb = static_cast<const nlattr**>(data);
  int type = mnl_attr_get_type(attr);
  if (mnl_attr_type_valid(attr, IFA_MAX) < 0) return MNL_CB_OK;
  tb[type] = attr;
  return MNL_CB_OK;
}

int OnAddress(const nlmsghdr* nlh, void* data) {
  auto* state = static_cast<DumpState*>(data);
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifa->ifa_family != AF_INET || static_cast<int>(ifa->ifa_index) != state->ifindex) return MNL_CB_OK;
  const nlattr* tb[IFA_MAX + 1] = {};
  mnl_attr_parse(nlh, sizeof(*ifa), AddressAttribute, tb);
  // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
  const nlattr* local = tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
  if (local == nullptr || mnl_attr_get_payload_len(local) != 4) return MNL_CB_OK;
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, mnl_attr_get_payload(local), text, sizeof text);
  std::string label = tb[IFA_LABEL] != nullptr ? mnl_attr_get_str(tb[IFA_LABEL]) : "";
  state->addresses.push_back(Address{text, ifa->ifa_prefixlen, label});
  return MNL_CB_OK;
}

// The one RTM_NEWLINK answering a single-device RTM_GETLINK: STOP, since no ACK follows it.
int OnLink(const nlmsghdr* nlh, void* data) {
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  *static_cast<unsigned*>(data) = ifi->ifi_flags;
  return MNL_CB_STOP;
}

// The device's index; 0 when there is no such device, a coded error on any other failure.
unsigned IndexOf(Napi::Env env, const std::string& dev) {
  unsigned ifindex = if_nametoindex(dev.c_str());
  if (ifindex == 0 && errno != ENODEV && errno != ENXIO)
    throw MakeSystemError(env, errno, "if_nametoindex " + dev);
  return ifindex;
}

uint32_t PrefixArg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw Napi::TypeError::New(info.Env(), "prefixLength must be a number");
  double p = info[index].As<Napi::Number>().DoubleValue();
  if (!(p >= 0 && p <= 32) || p != static_cast<uint32_t>(p))
    throw Napi::RangeError::New(info.Env(), "prefixLength must be 0..32");
  return static_cast<uint32_t>(p);
}

}  // namespace

Napi::Function Net::Define(Napi::Env env) {
  return DefineClass(
      env, "Net",
      {InstanceMethod("addresses", &Net::Addresses), InstanceMethod("linkFlags", &Net::LinkFlags),
       InstanceMethod("addAddress", &Net::AddAddress), InstanceMethod("deleteAddress", &Net::DeleteAddress),
       InstanceMethod("announce", &Net::Announce), InstanceMethod("close", &Net::JsClose)});
}

Net::Net(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Net>(info) {
  Napi::Env env = info.Env();
  nl_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl_ == nullptr) throw MakeSystemError(env, errno, "socket(NETLINK_ROUTE)");
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl_);
    nl_ = nullptr;
    throw MakeSystemError(env, err, "bind(NETLINK_ROUTE)");
  }
  // A bound on a reply that should come at once: never hang the event loop on the kernel.
  timeval bound = {1, 0};
  setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  portid_ = mnl_socket_get_portid(nl_);
  seq_ = static_cast<unsigned>(time(nullptr));
  try {
    packet_fd_ = OpenPacketSocket(env);
  } catch (...) {
    mnl_socket_close(nl_);
    nl_ = nullptr;
    throw;
  }
}

Net::~Net() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
  if (packet_fd_ >= 0) close(packet_fd_);  // only when never closed from JS: blocks (see arp.h)
}

void Net::CheckOpen(Napi::Env env) const {
  if (nl_ == nullptr) throw MakeSystemError(env, EBADF, "Net (closed)");
}

int Net::Talk(nlmsghdr* request, mnl_cb_t cb, void* data) {
  request->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(nl_, request, request->nlmsg_len) < 0) return errno;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    int rc = mnl_cb_run(buf.data(), n, request->nlmsg_seq, portid_, cb, data);
    if (rc == MNL_CB_STOP) return 0;
    if (rc == MNL_CB_ERROR) {
      // A late answer to an earlier request (one that timed out) carries another sequence number.
      if (errno == ESRCH) continue;
      return errno;
    }
    // MNL_CB_OK: a multipart answer goes on; a plain ACK ends the call (mnl returns STOP for it).
  }
}

Napi::Value Net::Addresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  std::string dev = StringArg(info, 0, "dev");
  unsigned ifindex = IndexOf(env, dev);
  if (ifindex == 0) return env.Undefined();
  Interface iface = LookUpInterface(env, packet_fd_, dev);
  DumpState state{iface.index, {}};
  int err = 0;
  // A dump that raced with an address change is flagged (EINTR): it is simply taken again.
  for (int attempt = 0; attempt < 5; attempt++) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_index = iface.index;
    state.addresses.clear();
    err = Talk(nlh, OnAddress, &state);
    if (err != EINTR) break;
  }
  if (err != 0) throw MakeSystemError(env, err, "RTM_GETADDR " + dev);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ifindex", Napi::Number::New(env, iface.index));
  out.Set("mac", Napi::String::New(env, MacText(iface.mac)));
  Napi::Array list = Napi::Array::New(env, state.addresses.size());
  for (uint32_t i = 0; i < state.addresses.size(); i++) {
    Napi::Object a = Napi::Object::New(env);
    a.Set("family", Napi::String::New(env, "inet"));
    a.Set("local", Napi::String::New(env, state.addresses[i].local));
    a.Set("prefixlen", Napi::Number::New(env, state.addresses[i].prefixlen));
    a.Set("label", Napi::String::New(env, state.addresses[i].label));
    list.Set(i, a);
  }
  out.Set("addresses", list);
  return out;
}

Napi::Value Net::LinkFlags(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  std::string dev = StringArg(info, 0, "dev");
  unsigned ifindex = IndexOf(env, dev);
  if (ifindex == 0) return env.Undefined();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(ifindex);
  unsigned flags = 0;
  int err = Talk(nlh, OnLink, &flags);
  if (err == ENODEV) return env.Undefined();  // gone between the two calls
  if (err != 0) throw MakeSystemError(env, err, "RTM_GETLINK " + dev);
  return Napi::Number::New(env, flags);
}

Napi::Value Net::ChangeAddress(const Napi::CallbackInfo& info, uint16_t type) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  std::string dev = StringArg(info, 0, "dev");
  in_addr ip = Ipv4Arg(info, 1);
  uint32_t prefix = PrefixArg(info, 2);
  const char* what = type == RTM_NEWADDR ? "RTM_NEWADDR " : "RTM_DELADDR ";
  unsigned ifindex = if_nametoindex(dev.c_str());
  if (ifindex == 0) throw MakeSystemError(env, errno, what + dev);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  // As `ip addr add`: create, and fail (EEXIST) rather than replace what is there.
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = ifindex;
  mnl_attr_put(nlh, IFA_LOCAL, 4, &ip);
  mnl_attr_put(nlh, IFA_ADDRESS, 4, &ip);
  int err = Talk(nlh, nullptr, nullptr);
  if (err != 0) throw MakeSystemError(env, err, what + dev);
  return env.Undefined();
}

Napi::Value Net::AddAddress(const Napi::CallbackInfo& info) { return ChangeAddress(info, RTM_NEWADDR); }

Napi::Value Net::DeleteAddress(const Napi::CallbackInfo& info) { return ChangeAddress(info, RTM_DELADDR); }

Napi::Value Net::Announce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  std::string dev = StringArg(info, 0, "dev");
  in_addr ip = Ipv4Arg(info, 1);
  std::string mode = StringArg(info, 2, "mode");
  if (mode != "request" && mode != "reply")
    throw Napi::TypeError::New(env, "mode must be 'request' or 'reply'");
  Interface iface = LookUpInterface(env, packet_fd_, dev);
  // Sender and target IP both the address. A request's target hardware address is zero (RFC
  // 5227's announcement); a reply's is our own, as `arping -A` sends it.
  bool reply = mode == "reply";
  int err = SendArp(packet_fd_, iface, reply ? 2 : 1, ip, reply ? iface.mac : Mac{}, ip);
  if (err != 0) throw MakeSystemError(env, err, "send gratuitous ARP on " + dev);
  return env.Undefined();
}

Napi::Value Net::JsClose(const Napi::CallbackInfo& info) {
  if (nl_ != nullptr) mnl_socket_close(nl_);
  nl_ = nullptr;
  CloseInBackground(info.Env(), packet_fd_);
  packet_fd_ = -1;
  return info.Env().Undefined();
}

}  // namespace corolistener
