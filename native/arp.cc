#include "arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "errors.h"

namespace corolistener {

namespace {

// An Ethernet/IPv4 ARP packet as on the wire (RFC 826), after the Ethernet header.
struct __attribute__((packed)) ArpPacket {
  uint16_t htype;
  uint16_t ptype;
  uint8_t hlen;
  uint8_t plen;
  uint16_t op;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
};

constexpr uint16_t kRequest = 1;

sockaddr_ll LinkAddress(int ifindex) {
  sockaddr_ll sll = {};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ARP);
  sll.sll_ifindex = ifindex;
  return sll;
}

// Runs only when a close is still pending at environment teardown: Node waits for thread-pool
// work then, and this one has nothing to report.
class BackgroundClose : public Napi::AsyncWorker {
 public:
  BackgroundClose(Napi::Env env, int fd) : Napi::AsyncWorker(env, "corolistener:close"), fd_(fd) {}
  void Execute() override { close(fd_); }

 private:
  int fd_;
};

}  // namespace

std::string MacText(const Mac& mac) {
  char text[18];
  snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5]);
  return text;
}

Interface LookUpInterface(Napi::Env env, int any_socket, const std::string& dev) {
  ifreq ifr = {};
  if (dev.empty() || dev.size() >= IFNAMSIZ) throw MakeSystemError(env, ENODEV, "SIOCGIFINDEX " + dev);
  memcpy(ifr.ifr_name, dev.data(), dev.size());
  if (ioctl(any_socket, SIOCGIFINDEX, &ifr) != 0) throw MakeSystemError(env, errno, "SIOCGIFINDEX " + dev);
  Interface iface{ifr.ifr_ifindex, {}};
  if (ioctl(any_socket, SIOCGIFHWADDR, &ifr) != 0) throw MakeSystemError(env, errno, "SIOCGIFHWADDR " + dev);
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) throw MakeSystemError(env, EAFNOSUPPORT, "ARP on " + dev);
  memcpy(iface.mac.data(), ifr.ifr_hwaddr.sa_data, iface.mac.size());
  return iface;
}

in_addr Ipv4Arg(const Napi::CallbackInfo& info, size_t index) {
  in_addr addr{};
  if (info.Length() <= index || !info[index].IsString() ||
      inet_pton(AF_INET, info[index].As<Napi::String>().Utf8Value().c_str(), &addr) != 1) {
    throw Napi::TypeError::New(info.Env(), "an IPv4 address (string) expected");
  }
  return addr;
}

int OpenPacketSocket(Napi::Env env) {
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw MakeSystemError(env, errno, "socket(AF_PACKET)");
  return fd;
}

void CloseInBackground(Napi::Env env, int fd) {
  if (fd < 0) return;
  try {
    (new BackgroundClose(env, fd))->Queue();
  } catch (...) {
    close(fd);  // no thread pool (the environment is going away): block rather than leak
  }
}

int SendArp(int fd, const Interface& iface, uint16_t op, in_addr sender_ip, const Mac& target_mac,
            in_addr target_ip) {
  ArpPacket p = {};
  p.htype = htons(ARPHRD_ETHER);
  p.ptype = htons(ETH_P_IP);
  p.hlen = 6;
  p.plen = 4;
  p.op = htons(op);
  memcpy(p.sha, iface.mac.data(), 6);
  memcpy(p.spa, &sender_ip, 4);
  memcpy(p.tha, target_mac.data(), 6);
  memcpy(p.tpa, &target_ip, 4);
  sockaddr_ll to = LinkAddress(iface.index);
  to.sll_halen = 6;
  memset(to.sll_addr, 0xff, 6);
  if (sendto(fd, &p, sizeof p, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
      static_cast<ssize_t>(sizeof p)) {
    return errno != 0 ? errno : EIO;
  }
  return 0;
}

Napi::Function ArpProbe::Define(Napi::Env env) {
  return DefineClass(env, "ArpProbe", {InstanceMethod("cancel", &ArpProbe::Cancel)});
}

ArpProbe::ArpProbe(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ArpProbe>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[2].IsNumber() || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "new ArpProbe(dev, ip, windowMs, done)");
  }
  std::string dev = info[0].As<Napi::String>().Utf8Value();
  ip_ = Ipv4Arg(info, 1);
  double window_ms = info[2].As<Napi::Number>().DoubleValue();
  if (!(window_ms >= 1 && window_ms <= 10000)) throw Napi::RangeError::New(env, "windowMs must be 1..10000");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok)
    throw Napi::Error::New(env, "napi_get_uv_event_loop failed");

  fd_ = OpenPacketSocket(env);
  try {
    iface_ = LookUpInterface(env, fd_, dev);
    // Protocol 0 at socket(), the protocol at bind: no hook to remove, so no grace period here.
    sockaddr_ll sll = LinkAddress(iface_.index);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
      throw MakeSystemError(env, errno, "bind ARP on " + dev);
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) throw MakeSystemError(env, errno, "timerfd_create");
    int rc = socket_watcher_.Start(env, loop, fd_, [this](int status, int) { OnReadable(status); });
    if (rc == 0)
      rc = timer_watcher_.Start(env, loop, timer_fd_, [this](int status, int) { OnWindowOver(status); });
    if (rc != 0) throw Napi::Error::New(env, std::string("uv_poll_start: ") + uv_strerror(rc));
    int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);  // a measurement only: optional
    clock_gettime(CLOCK_REALTIME, &sent_at_);                     // the receive stamps' clock
    // RFC 5227 probe: sender IP 0.0.0.0 (claims nothing), target hardware address zero.
    int err = SendArp(fd_, iface_, kRequest, in_addr{}, Mac{}, ip_);
    if (err != 0) throw MakeSystemError(env, err, "send ARP probe on " + dev);
    // The window starts once the probe has left.
    long ns = static_cast<long>(window_ms * 1e6);
    itimerspec when = {};
    when.it_value.tv_sec = ns / 1000000000L;
    when.it_value.tv_nsec = ns % 1000000000L;
    if (timerfd_settime(timer_fd_, 0, &when, nullptr) != 0)
      throw MakeSystemError(env, errno, "timerfd_settime");
  } catch (...) {
    socket_watcher_.Close();
    timer_watcher_.Close();
    if (timer_fd_ >= 0) close(timer_fd_);
    timer_fd_ = -1;
    CloseInBackground(env, fd_);
    fd_ = -1;
    throw;
  }
  done_ = Napi::Persistent(info[3].As<Napi::Function>());
  self_ = Napi::Persistent(info.This().As<Napi::Object>());
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "corolistener:ArpProbe");
}

ArpProbe::~ArpProbe() {
  // Only at environment teardown can a probe still be open here (self_ keeps a running one).
  socket_watcher_.Close();
  timer_watcher_.Close();
  if (timer_fd_ >= 0) close(timer_fd_);
  if (fd_ >= 0) close(fd_);
}

int ArpProbe::Drain() {
  for (;;) {
    uint8_t buf[128];
    sockaddr_ll from = {};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov = {buf, sizeof buf};
    msghdr msg = {};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd_, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
    }
    if (from.sll_pkttype == PACKET_OUTGOING || n < static_cast<ssize_t>(sizeof(ArpPacket))) continue;
    ArpPacket p;
    memcpy(&p, buf, sizeof p);
    if (ntohs(p.htype) != ARPHRD_ETHER || ntohs(p.ptype) != ETH_P_IP || p.hlen != 6 || p.plen != 4) continue;
    Mac sender;
    memcpy(sender.data(), p.sha, 6);
    if (sender == iface_.mac) continue;
    // RFC 5227 2.1.1: a conflict is any ARP whose sender IP is the address, or another host's
    // probe for it (sender IP 0.0.0.0, target IP the address).
    static const uint8_t zero[4] = {0, 0, 0, 0};
    bool claims = memcmp(p.spa, &ip_, 4) == 0;
    bool probes = ntohs(p.op) == kRequest && memcmp(p.spa, zero, 4) == 0 && memcmp(p.tpa, &ip_, 4) == 0;
    if (!(claims || probes)) continue;
    if (std::find(holders_.begin(), holders_.end(), sender) == holders_.end()) holders_.push_back(sender);
    if (answered_after_ms_ >= 0) continue;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec at;
      memcpy(&at, CMSG_DATA(c), sizeof at);
      answered_after_ms_ = (at.tv_sec - sent_at_.tv_sec) * 1e3 + (at.tv_nsec - sent_at_.tv_nsec) / 1e6;
    }
  }
}

void ArpProbe::OnReadable(int status) {
  if (fd_ < 0) return;
  int err = status < 0 ? EIO : Drain();
  if (err != 0 || !holders_.empty()) Finish(err);
}

void ArpProbe::OnWindowOver(int status) {
  if (fd_ < 0) return;
  // A reply queued at the very end of the window still counts.
  Finish(status < 0 ? EIO : Drain());
}

void ArpProbe::Release() {
  socket_watcher_.Close();
  timer_watcher_.Close();
  if (timer_fd_ >= 0) close(timer_fd_);  // a timerfd closes at once
  timer_fd_ = -1;
  CloseInBackground(env_, fd_);
  fd_ = -1;
}

void ArpProbe::Finish(int err) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  Release();
  Napi::Env env(env_);
  // Locals: the references are dropped before the call (the callback may start another probe).
  Napi::Function done = done_.Value();
  Napi::Object self = self_.Value();
  std::unique_ptr<Napi::AsyncContext> context = std::move(async_context_);
  done_.Reset();
  self_.Reset();
  napi_value argv[3];
  argv[2] = answered_after_ms_ >= 0 ? Napi::Number::New(env, answered_after_ms_) : env.Undefined();
  if (err != 0) {
    argv[0] = MakeSystemError(env, err, "ARP probe").Value();
    argv[1] = env.Undefined();
  } else {
    Napi::Array macs = Napi::Array::New(env, holders_.size());
    for (uint32_t i = 0; i < holders_.size(); i++) macs.Set(i, Napi::String::New(env, MacText(holders_[i])));
    argv[0] = env.Null();
    argv[1] = macs;
  }
  napi_value result;
  if (napi_make_callback(env, *context, self, done, 3, argv, &result) != napi_ok) {
    // The callback threw: an uncaught exception, as from any other event source.
    bool pending = false;
    napi_value exception = nullptr;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
      napi_get_and_clear_last_exception(env, &exception);
    if (exception != nullptr) napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env_, scope);
}

Napi::Value ArpProbe::Cancel(const Napi::CallbackInfo& info) {
  if (fd_ >= 0) {
    Release();
    done_.Reset();
    self_.Reset();
    async_context_.reset();
  }
  return info.Env().Undefined();
}

}  // namespace corolistener
