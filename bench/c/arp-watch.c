/*
 * arp-watch: prints every gratuitous ARP (sender IP == target IP, the announcement a new holder
 * of an address sends) seen on the network namespace's interfaces, with the time it arrived:
 * the kernel's receive timestamp (SO_TIMESTAMPNS), so a watcher scheduled late on a busy machine
 * still reports when the packet came (<mono_ns> is then derived from it).
 * Run in a sandbox client namespace, it shows when a failover became visible on the LAN,
 * independently of what the announcing process logs.
 *
 * Output, one line per gratuitous ARP (stdout, line-buffered):
 *   ready
 *   arp <real_ns> <mono_ns> <op 1=request|2=reply> <sender_mac> <ip>
 * Needs CAP_NET_RAW (an AF_PACKET socket). Exits 0 on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* An Ethernet/IPv4 ARP packet body (RFC 826), as an AF_PACKET SOCK_DGRAM socket delivers it. */
struct arp_ipv4 {
  uint16_t htype, ptype;
  uint8_t hlen, plen;
  uint16_t op;
  uint8_t sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: recv returns EINTR and the loop ends */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
  if (fd < 0) {
    perror("arp-watch: socket(AF_PACKET)");
    return 1;
  }
  int on = 1;
  int stamped = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0;
  printf("ready\n");
  while (!stop_requested) {
    struct arp_ipv4 arp;
    char control[CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iov = {&arp, sizeof arp};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, 0);
    uint64_t real = now_ns(CLOCK_REALTIME);
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    for (struct cmsghdr *c = stamped && n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c != NULL;
         c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      struct timespec at;
      memcpy(&at, CMSG_DATA(c), sizeof at);
      uint64_t kernel = (uint64_t)at.tv_sec * 1000000000ull + (uint64_t)at.tv_nsec;
      if (kernel <= real) {
        mono -= real - kernel; /* the same instant on the monotonic clock */
        real = kernel;
      }
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("arp-watch: recv");
      return 1;
    }
    if (n < (ssize_t)sizeof arp || ntohs(arp.ptype) != ETH_P_IP || arp.hlen != 6 || arp.plen != 4) continue;
    if (memcmp(arp.spa, arp.tpa, 4) != 0) continue; /* not gratuitous */
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, arp.spa, ip, sizeof ip);
    printf("arp %" PRIu64 " %" PRIu64 " %u %02x:%02x:%02x:%02x:%02x:%02x %s\n", real, mono, ntohs(arp.op),
           arp.sha[0], arp.sha[1], arp.sha[2], arp.sha[3], arp.sha[4], arp.sha[5], ip);
  }
  close(fd);
  return 0;
}
