// Pod IP leases: one file per leased address in a directory, named by the
// address and holding the pod uid. Creating a lease is an atomic link(2) of a
// complete file, so two agents (or two threads) never hold the same IP and a
// process crash never leaves a lease without its owner. Leases are not
// fsynced: a machine crash ends every pod holding one (it may leave a lease
// empty, which ReleaseLeasesExcept clears on the agent's next start).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kennel::agent::internal {

struct Ipv4Cidr {
  uint32_t network = 0;  // host byte order, host bits zero
  int prefix = 0;

  uint32_t Broadcast() const;
  // The first host address: the bridge's (gateway's) address.
  uint32_t Gateway() const { return network + 1; }
  bool Contains(uint32_t ip) const;
};

StatusOr<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t ip);
// "10.244.0.0/24"; host bits must be zero and the prefix leave room for at
// least one pod (at most /30).
StatusOr<Ipv4Cidr> ParseCidr(std::string_view text);

// The IP leased to pod_uid, if any.
StatusOr<std::optional<std::string>> FindLease(const std::string& dir, const Ipv4Cidr& cidr,
                                               const std::string& pod_uid);

// The pod's existing lease, or a new one: the lowest free address that is not
// the network, gateway or broadcast address.
StatusOr<std::string> AcquireLease(const std::string& dir, const Ipv4Cidr& cidr,
                                   const std::string& pod_uid);

// Removes every lease held by pod_uid; none is fine.
Status ReleaseLeases(const std::string& dir, const std::string& pod_uid);

// Removes every lease not held by one of the pods in keep (the pods an agent
// found on its start), empty ones included: a machine crash may leave them
// (see the top of this file).
Status ReleaseLeasesExcept(const std::string& dir, const std::set<std::string>& keep);

}  // namespace kennel::agent::internal
