// The node network: the pod bridge, veth pairs and the in-pod interface
// configuration, all over netlink with libnl-route (see internal/netlink.h),
// and EnsureNodeNetwork.
//
// Pods of one node share a Linux bridge whose address is their gateway; other
// nodes on the same machine have bridges of their own, and the host routes
// between them through the connected routes of the bridges' addresses with
// IPv4 forwarding on. No iptables rule is involved.
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <thread>

#include "agent/internal/ipam.h"
#include "agent/internal/netlink.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"

namespace kennel::agent {
namespace internal {
namespace {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using SockPtr = std::unique_ptr<nl_sock, SockDeleter>;
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddrPtr = std::unique_ptr<rtnl_addr, AddrDeleter>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;

Status NlStatus(const std::string& what, int err) {
  return Internal(what + ": " + nl_geterror(err));
}

// A route netlink socket bound to the calling thread's network namespace.
StatusOr<SockPtr> Connect() {
  SockPtr sock(nl_socket_alloc());
  if (!sock) return Internal("netlink: out of memory");
  int err = nl_connect(sock.get(), NETLINK_ROUTE);
  if (err < 0) return NlStatus("netlink connect", err);
  return sock;
}

StatusOr<LinkPtr> GetLink(nl_sock* sock, const std::string& name) {
  rtnl_link* link = nullptr;
  int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &link);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return LinkPtr();
  if (err < 0) return NlStatus("get link " + name, err);
  return LinkPtr(link);
}

StatusOr<LinkPtr> MustGetLink(nl_sock* sock, const std::string& name) {
  ASSIGN_OR_RETURN(LinkPtr link, GetLink(sock, name));
  if (!link) return NotFound("no network interface " + name);
  return link;
}

NlAddrPtr Ipv4Addr(uint32_t ip, int prefix) {
  uint32_t be = htonl(ip);
  NlAddrPtr addr(nl_addr_build(AF_INET, &be, sizeof(be)));
  if (addr) nl_addr_set_prefixlen(addr.get(), prefix);
  return addr;
}

// Sets IFF_UP (and the master when master_index > 0) on a link.
Status SetUp(nl_sock* sock, rtnl_link* link, int master_index) {
  LinkPtr change(rtnl_link_alloc());
  if (!change) return Internal("netlink: out of memory");
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (master_index > 0) rtnl_link_set_master(change.get(), master_index);
  int err = rtnl_link_change(sock, link, change.get(), 0);
  if (err < 0) return NlStatus(std::string("bring up ") + rtnl_link_get_name(link), err);
  return Status::Ok();
}

Status AddAddress(nl_sock* sock, int ifindex, const std::string& ifname, uint32_t ip, int prefix) {
  AddrPtr addr(rtnl_addr_alloc());
  NlAddrPtr local = Ipv4Addr(ip, prefix);
  if (!addr || !local) return Internal("netlink: out of memory");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), AF_INET);
  int err = rtnl_addr_set_local(addr.get(), local.get());
  if (err >= 0) err = rtnl_addr_add(sock, addr.get(), 0);
  if (err < 0 && err != -NLE_EXIST) {
    return NlStatus("add " + FormatIpv4(ip) + "/" + std::to_string(prefix) + " to " + ifname, err);
  }
  return Status::Ok();
}

Status AddDefaultRoute(nl_sock* sock, int ifindex, uint32_t gateway) {
  RoutePtr route(rtnl_route_alloc());
  NlAddrPtr dst = Ipv4Addr(0, 0);
  NlAddrPtr gw = Ipv4Addr(gateway, 32);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!route || !dst || !gw || nh == nullptr) {
    if (nh != nullptr) rtnl_route_nh_free(nh);
    return Internal("netlink: out of memory");
  }
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, gw.get());
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh from here
  int err = rtnl_route_add(sock, route.get(), 0);
  if (err < 0 && err != -NLE_EXIST) {
    return NlStatus("add default route via " + FormatIpv4(gateway), err);
  }
  return Status::Ok();
}

// A stable, locally administered MAC for a bridge: a bridge without an
// assigned address takes its lowest port's, so every pod joining or leaving
// could change the gateway's MAC under the other pods' ARP caches.
void SetStableMac(rtnl_link* link, const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a of the name
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  unsigned char mac[6] = {0x02,
                          0x4b,
                          static_cast<unsigned char>(h >> 24),
                          static_cast<unsigned char>(h >> 16),
                          static_cast<unsigned char>(h >> 8),
                          static_cast<unsigned char>(h)};
  NlAddrPtr addr(nl_addr_build(AF_LLC, mac, sizeof(mac)));
  if (addr) rtnl_link_set_addr(link, addr.get());
}

}  // namespace

Status RunOnNewThread(const std::function<Status()>& fn) {
  Status result;
  try {
    std::thread t([&] { result = fn(); });
    t.join();
  } catch (const std::system_error& e) {
    return Internal(std::string("start thread: ") + e.what());
  }
  return result;
}

Status RunInNetns(int netns_fd, const std::function<Status()>& fn) {
  return RunOnNewThread([&]() -> Status {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) return ErrnoStatus("join network namespace");
    return fn();
  });
}

Status EnsureBridge(const std::string& name, uint32_t ip, int prefix) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr link, GetLink(sock.get(), name));
  if (!link) {
    LinkPtr bridge(rtnl_link_bridge_alloc());
    if (!bridge) return Internal("netlink: out of memory");
    rtnl_link_set_name(bridge.get(), name.c_str());
    SetStableMac(bridge.get(), name);
    int err = rtnl_link_add(sock.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err < 0 && err != -NLE_EXIST) return NlStatus("create bridge " + name, err);
    ASSIGN_OR_RETURN(link, MustGetLink(sock.get(), name));
  }
  const char* type = rtnl_link_get_type(link.get());
  if (type == nullptr || std::string(type) != "bridge") {
    return Invalid("network interface " + name + " exists and is not a bridge");
  }
  RETURN_IF_ERROR(AddAddress(sock.get(), rtnl_link_get_ifindex(link.get()), name, ip, prefix));
  return SetUp(sock.get(), link.get(), 0);
}

StatusOr<std::optional<int>> LinkIndex(const std::string& name) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr link, GetLink(sock.get(), name));
  if (!link) return std::optional<int>();
  return std::optional<int>(rtnl_link_get_ifindex(link.get()));
}

Status DeleteLink(const std::string& name) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr link, GetLink(sock.get(), name));
  if (!link) return Status::Ok();
  int err = rtnl_link_delete(sock.get(), link.get());
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
    return NlStatus("delete " + name, err);
  }
  return Status::Ok();
}

Status CreateVeth(const std::string& host_name, int bridge_index, int netns_fd,
                  const std::string& peer_name) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  LinkPtr veth(rtnl_link_veth_alloc());
  if (!veth) return Internal("netlink: out of memory");
  rtnl_link_set_name(veth.get(), host_name.c_str());
  {
    // Creating the peer inside the pod's namespace avoids a host-side name
    // clash ("eth0") and a separate move.
    LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));  // a new reference
    rtnl_link_set_name(peer.get(), peer_name.c_str());
    rtnl_link_set_ns_fd(peer.get(), netns_fd);
  }
  int err = rtnl_link_add(sock.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return NlStatus("create veth " + host_name, err);
  return AttachToBridge(host_name, bridge_index);
}

Status AttachToBridge(const std::string& name, int bridge_index) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr link, MustGetLink(sock.get(), name));
  RETURN_IF_ERROR(SetUp(sock.get(), link.get(), bridge_index));
  // Hairpin: a pod dialling a Service that picks the pod itself. Where
  // br_netfilter is loaded (Docker loads it), the proxy's DNAT happens while
  // the frame is still being bridged, so it must be sent back out of the port
  // it came in on, which a bridge refuses unless the port allows it (kubelet's
  // hairpin-veth mode does the same).
  Status hairpin =
      internal::WriteKernelFile("/sys/class/net/" + name + "/brport/hairpin_mode", "1");
  if (!hairpin.ok()) spdlog::warn("network: hairpin mode on {}: {}", name, hairpin.message());
  return Status::Ok();
}

StatusOr<std::optional<int>> VethPeerIndex(const std::string& name) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr link, GetLink(sock.get(), name));
  if (!link) return std::optional<int>();
  return std::optional<int>(rtnl_link_get_link(link.get()));
}

Status ConfigurePodInterface(const std::string& name, uint32_t ip, int prefix, uint32_t gateway) {
  ASSIGN_OR_RETURN(SockPtr sock, Connect());
  ASSIGN_OR_RETURN(LinkPtr lo, MustGetLink(sock.get(), "lo"));
  RETURN_IF_ERROR(SetUp(sock.get(), lo.get(), 0));
  ASSIGN_OR_RETURN(LinkPtr link, MustGetLink(sock.get(), name));
  // Up before the address: the kernel adds the connected route (needed to
  // reach the gateway) only for an interface that is up.
  RETURN_IF_ERROR(SetUp(sock.get(), link.get(), 0));
  int ifindex = rtnl_link_get_ifindex(link.get());
  RETURN_IF_ERROR(AddAddress(sock.get(), ifindex, name, ip, prefix));
  return AddDefaultRoute(sock.get(), ifindex, gateway);
}

namespace {

std::string Ipv4Text(nl_addr* addr) {
  char buf[INET_ADDRSTRLEN];
  if (addr == nullptr || nl_addr_get_family(addr) != AF_INET ||
      ::inet_ntop(AF_INET, nl_addr_get_binary_addr(addr), buf, sizeof(buf)) == nullptr) {
    return "";
  }
  return buf;
}

// The main table's default route: its preferred source, else its interface.
void FindDefaultRoute(nl_sock* sock, std::string* preferred_source, int* ifindex) {
  nl_cache* raw = nullptr;
  if (rtnl_route_alloc_cache(sock, AF_INET, 0, &raw) < 0) return;
  CachePtr routes(raw);
  for (nl_object* o = nl_cache_get_first(routes.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* route = reinterpret_cast<rtnl_route*>(o);
    nl_addr* dst = rtnl_route_get_dst(route);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || (dst && nl_addr_get_prefixlen(dst) != 0)) {
      continue;
    }
    *preferred_source = Ipv4Text(rtnl_route_get_pref_src(route));
    if (rtnl_route_get_nnexthops(route) > 0) {
      *ifindex = rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0));
    }
    return;
  }
}

std::string FirstIpv4Of(nl_sock* sock, int ifindex) {
  nl_cache* raw = nullptr;
  if (rtnl_addr_alloc_cache(sock, &raw) < 0) return "";
  CachePtr addrs(raw);
  for (nl_object* o = nl_cache_get_first(addrs.get()); o != nullptr; o = nl_cache_get_next(o)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(addr) == AF_INET && rtnl_addr_get_ifindex(addr) == ifindex) {
      std::string text = Ipv4Text(rtnl_addr_get_local(addr));
      if (!text.empty()) return text;
    }
  }
  return "";
}

}  // namespace

std::string HostPrimaryIpv4() {
  const std::string fallback = "127.0.0.1";
  auto sock = Connect();
  if (!sock.ok()) return fallback;
  std::string preferred;
  int ifindex = 0;
  FindDefaultRoute(sock->get(), &preferred, &ifindex);
  if (!preferred.empty()) return preferred;
  std::string address = ifindex > 0 ? FirstIpv4Of(sock->get(), ifindex) : "";
  return address.empty() ? fallback : address;
}

}  // namespace internal

Status EnsureNodeNetwork(const NodeNetworkConfig& config) {
  if (config.bridge.empty() || config.bridge.size() > 15) {
    return BadRequest("invalid bridge name \"" + config.bridge + "\" (1 to 15 characters)");
  }
  ASSIGN_OR_RETURN(internal::Ipv4Cidr cidr, internal::ParseCidr(config.pod_cidr));
  RETURN_IF_ERROR(internal::EnsureBridge(config.bridge, cidr.Gateway(), cidr.prefix));
  // Forwarding lets pods reach other nodes' bridges and the outside. Bridged
  // traffic between pods of this node does not depend on it, and no iptables
  // rule is installed: when br_netfilter is loaded its bridge-nf-call-*
  // settings are the host's business and left as they are.
  RETURN_IF_ERROR(internal::WriteKernelFile("/proc/sys/net/ipv4/ip_forward", "1"));
  if (!config.ipam_dir.empty()) RETURN_IF_ERROR(internal::MakeDirs(config.ipam_dir, 0700));
  return Status::Ok();
}

}  // namespace kennel::agent
