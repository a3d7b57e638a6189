// Links, addresses and routes through libnl-route, and running code inside a
// network namespace without moving the agent's other threads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/status.h"

namespace kennel::agent::internal {

// Runs fn on a dedicated thread that has joined the network namespace open as
// netns_fd (netns membership is per thread); the thread ends afterwards, so no
// other code ever runs in that namespace by accident.
Status RunInNetns(int netns_fd, const std::function<Status()>& fn);

// Runs fn on a dedicated short-lived thread (for per-thread unshare()).
Status RunOnNewThread(const std::function<Status()>& fn);

// The bridge with address ip/prefix, up. Created if absent; kInvalid if a
// link of that name exists but is not a bridge.
Status EnsureBridge(const std::string& name, uint32_t ip, int prefix);

// The interface index of a link in the current thread's namespace, nullopt
// if there is none.
StatusOr<std::optional<int>> LinkIndex(const std::string& name);

// Deletes a link (both ends, for a veth); a missing link is fine.
Status DeleteLink(const std::string& name);

// Creates a veth pair whose host end host_name is enslaved to bridge_index
// and up, and whose other end is created directly inside the namespace open
// as netns_fd, named peer_name.
Status CreateVeth(const std::string& host_name, int bridge_index, int netns_fd,
                  const std::string& peer_name);

// Enslaves the link to the bridge and brings it up (again, harmlessly).
Status AttachToBridge(const std::string& name, int bridge_index);

// Inside the current thread's namespace: the ifindex of the peer of veth
// `name` (in the other namespace), nullopt if `name` is missing.
StatusOr<std::optional<int>> VethPeerIndex(const std::string& name);

// Inside the current thread's namespace: lo up, `name` up with ip/prefix and a
// default route via gateway. Idempotent.
Status ConfigurePodInterface(const std::string& name, uint32_t ip, int prefix, uint32_t gateway);

// The IPv4 address of the interface of the default route (its preferred
// source when set), "127.0.0.1" when there is no default route.
std::string HostPrimaryIpv4();

}  // namespace kennel::agent::internal
