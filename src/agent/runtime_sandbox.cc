// Pod sandboxes: network, UTS and IPC namespaces kept alive by bind mounts
// under the pod's directory, a veth pair to the node bridge and a leased IP;
// and CheckIsolationSupport.
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>

#include "agent/internal/cgroup.h"
#include "agent/internal/ipam.h"
#include "agent/internal/netlink.h"
#include "agent/internal/sys.h"
#include "agent/runtime.h"

namespace kennel::agent {
namespace {

using internal::ErrnoStatus;
using internal::JoinPath;
using internal::UniqueFd;

constexpr const char* kSandboxNamespaces[] = {"net", "uts", "ipc"};
constexpr char kPodInterface[] = "eth0";

std::string NsDir(const SandboxSpec& spec) { return JoinPath(spec.dir, "ns"); }

// "kv" + the first 8 hex digits of the uid: unique enough per node and
// within the 15 characters an interface name may have.
std::string HostVethName(const std::string& pod_uid) {
  std::string hex;
  for (char c : pod_uid) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (hex.size() == 8) break;
  }
  if (hex.size() < 8) {  // not a UUID: hash it instead
    uint32_t h = 2166136261u;
    for (unsigned char c : pod_uid) h = (h ^ c) * 16777619u;
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", h);
    hex = buf;
  }
  return "kv" + hex;
}

bool IsNsMount(const std::string& path) {
  struct statfs fs;
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

// The ns directory becomes a private mount of its own, so the namespace
// mounts made in it do not propagate into other mount namespaces (where a
// copy would keep the namespace alive after RemoveSandbox).
Status MakeNsDirPrivate(const std::string& ns_dir) {
  RETURN_IF_ERROR(internal::MakeDirs(ns_dir, 0700));
  if (!internal::IsMountPoint(ns_dir) &&
      ::mount(ns_dir.c_str(), ns_dir.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoStatus("bind mount " + ns_dir);
  }
  if (::mount(nullptr, ns_dir.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    return ErrnoStatus("make " + ns_dir + " private");
  }
  return Status::Ok();
}

// Unmounts and removes the namespace files (a namespace dies with its last
// reference); missing ones are fine.
Status RemoveNamespaceFiles(const std::string& ns_dir) {
  Status result;
  for (const char* ns : kSandboxNamespaces) {
    std::string path = JoinPath(ns_dir, ns);
    while (::umount2(path.c_str(), MNT_DETACH) == 0) {
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) result = ErrnoStatus("unlink " + path);
  }
  return result;
}

// New net, UTS and IPC namespaces, created by a short-lived thread that
// unshares them (namespace membership is per thread, so the agent's other
// threads are untouched) and bind-mounts them onto files in ns_dir.
Status CreateNamespaces(const std::string& ns_dir, const std::string& hostname) {
  return internal::RunOnNewThread([&]() -> Status {
    if (::unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC) != 0) {
      return ErrnoStatus("unshare network, UTS and IPC namespaces");
    }
    if (::sethostname(hostname.data(), hostname.size()) != 0) {
      return ErrnoStatus("set hostname " + hostname);
    }
    for (const char* ns : kSandboxNamespaces) {
      std::string target = JoinPath(ns_dir, ns);
      RETURN_IF_ERROR(internal::EnsureMountTarget(target, /*directory=*/false));
      std::string source = std::string("/proc/thread-self/ns/") + ns;
      if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        return ErrnoStatus("bind mount " + source + " on " + target);
      }
    }
    return Status::Ok();
  });
}

Status EnsureNamespaces(const SandboxSpec& spec, const std::string& host_veth) {
  std::string ns_dir = NsDir(spec);
  RETURN_IF_ERROR(MakeNsDirPrivate(ns_dir));
  bool complete = true;
  for (const char* ns : kSandboxNamespaces) complete &= IsNsMount(JoinPath(ns_dir, ns));
  if (complete) return Status::Ok();
  // A partial sandbox (a crash mid-way) is rebuilt from scratch; a veth left
  // from it belongs to a namespace that is about to go.
  RETURN_IF_ERROR(RemoveNamespaceFiles(ns_dir));
  RETURN_IF_ERROR(internal::DeleteLink(host_veth));
  Status st = CreateNamespaces(ns_dir, spec.hostname);
  if (!st.ok()) RemoveNamespaceFiles(ns_dir).IgnoreError();
  return st;
}

// The veth pair between the bridge and the pod's namespace: kept when its
// pod end is this namespace's eth0, recreated otherwise.
Status EnsureVeth(const std::string& host_veth, int bridge_index, int netns_fd) {
  ASSIGN_OR_RETURN(std::optional<int> host_index, internal::LinkIndex(host_veth));
  std::optional<int> peer_of_eth0;
  RETURN_IF_ERROR(internal::RunInNetns(netns_fd, [&]() -> Status {
    ASSIGN_OR_RETURN(peer_of_eth0, internal::VethPeerIndex(kPodInterface));
    return Status::Ok();
  }));
  if (host_index && peer_of_eth0 && *peer_of_eth0 == *host_index) {
    return internal::AttachToBridge(host_veth, bridge_index);
  }
  RETURN_IF_ERROR(internal::DeleteLink(host_veth));
  if (peer_of_eth0) {
    RETURN_IF_ERROR(
        internal::RunInNetns(netns_fd, [] { return internal::DeleteLink(kPodInterface); }));
  }
  return internal::CreateVeth(host_veth, bridge_index, netns_fd, kPodInterface);
}

Status ValidateSandbox(const NodeNetworkConfig& config, const SandboxSpec& spec) {
  if (spec.pod_uid.empty()) return BadRequest("sandbox: pod uid is empty");
  if (spec.dir.empty() || spec.dir[0] != '/') {
    return BadRequest("sandbox: directory must be an absolute path, got \"" + spec.dir + "\"");
  }
  if (spec.hostname.empty() || spec.hostname.size() > 64) {
    return BadRequest("sandbox: hostname must have 1 to 64 characters");
  }
  if (config.ipam_dir.empty()) return BadRequest("sandbox: no IPAM directory configured");
  return Status::Ok();
}

}  // namespace

Status CheckIsolationSupport() {
  std::vector<std::string> missing;
  if (::geteuid() != 0)
    missing.push_back("not running as root (euid " + std::to_string(::geteuid()) + ")");
  for (const char* ns : {"net", "uts", "ipc", "pid", "mnt"}) {
    std::string path = std::string("/proc/self/ns/") + ns;
    if (::access(path.c_str(), F_OK) != 0)
      missing.push_back(std::string("no ") + ns + " namespace");
  }
  auto filesystems = internal::ReadSmallFile("/proc/filesystems");
  if (!filesystems.ok() || filesystems->find("\toverlay\n") == std::string::npos) {
    missing.push_back("no overlay filesystem in /proc/filesystems (modprobe overlay)");
  }
  auto cgroups = internal::DetectCgroups();
  if (!cgroups.ok()) {
    missing.push_back(cgroups.status().message());
  } else if (Status st = internal::CheckV2Delegation(*cgroups); !st.ok()) {
    missing.push_back(st.message());
  }
  if (missing.empty()) return Status::Ok();
  std::string message = "cannot isolate pods: ";
  for (size_t i = 0; i < missing.size(); ++i) message += (i ? "; " : "") + missing[i];
  return Unavailable(message);
}

StatusOr<Sandbox> EnsureSandbox(Isolation isolation, const NodeNetworkConfig& config,
                                const SandboxSpec& spec) {
  Sandbox sandbox;
  sandbox.pod_uid = spec.pod_uid;
  if (isolation == Isolation::kNone) {
    sandbox.ip = internal::HostPrimaryIpv4();
    return sandbox;
  }
  RETURN_IF_ERROR(ValidateSandbox(config, spec));
  ASSIGN_OR_RETURN(internal::Ipv4Cidr cidr, internal::ParseCidr(config.pod_cidr));
  ASSIGN_OR_RETURN(std::optional<int> bridge_index, internal::LinkIndex(config.bridge));
  if (!bridge_index) {
    return Unavailable("bridge " + config.bridge + " does not exist (EnsureNodeNetwork first)");
  }
  ASSIGN_OR_RETURN(sandbox.ip, internal::AcquireLease(config.ipam_dir, cidr, spec.pod_uid));
  ASSIGN_OR_RETURN(uint32_t ip, internal::ParseIpv4(sandbox.ip));
  sandbox.host_veth = HostVethName(spec.pod_uid);

  RETURN_IF_ERROR(EnsureNamespaces(spec, sandbox.host_veth));
  std::string ns_dir = NsDir(spec);
  sandbox.netns_path = JoinPath(ns_dir, "net");
  sandbox.utsns_path = JoinPath(ns_dir, "uts");
  sandbox.ipcns_path = JoinPath(ns_dir, "ipc");
  UniqueFd netns(::open(sandbox.netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns.valid()) return ErrnoStatus("open " + sandbox.netns_path);

  RETURN_IF_ERROR(EnsureVeth(sandbox.host_veth, *bridge_index, netns.get()));
  RETURN_IF_ERROR(internal::RunInNetns(netns.get(), [&] {
    return internal::ConfigurePodInterface(kPodInterface, ip, cidr.prefix, cidr.Gateway());
  }));
  return sandbox;
}

Status RemoveSandbox(Isolation isolation, const NodeNetworkConfig& config,
                     const SandboxSpec& spec) {
  if (isolation == Isolation::kNone) return Status::Ok();
  if (spec.pod_uid.empty() || spec.dir.empty()) {
    return BadRequest("sandbox: pod uid and directory are required");
  }
  // Deleting one end of a veth deletes both.
  Status result = internal::DeleteLink(HostVethName(spec.pod_uid));
  std::string ns_dir = NsDir(spec);
  if (Status st = RemoveNamespaceFiles(ns_dir); !st.ok()) result = st;
  while (::umount2(ns_dir.c_str(), MNT_DETACH) == 0) {
  }
  if (::rmdir(ns_dir.c_str()) != 0 && errno != ENOENT) result = ErrnoStatus("rmdir " + ns_dir);
  if (!config.ipam_dir.empty()) {
    if (Status st = internal::ReleaseLeases(config.ipam_dir, spec.pod_uid); !st.ok()) result = st;
  }
  return result;
}

}  // namespace kennel::agent
