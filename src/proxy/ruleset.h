// The service proxy's rules: Services and Endpoints in, one nftables script
// out. Pure (no I/O), so every rule is unit-tested without root.
//
// What the script does, per node (as kube-proxy's nftables mode does it):
// - a packet to <clusterIP>:<port>/<proto>, from a pod (prerouting) or from the
//   node itself (output), is DNATed to one ready endpoint, picked at random
//   per connection (conntrack keeps the choice for the connection's life);
// - the same for <any local address>:<nodePort> of NodePort/LoadBalancer
//   services;
// - a service port with no ready endpoint rejects new connections (TCP reset,
//   ICMP port unreachable) instead of letting them time out;
// - proxied connections from this node's pods are masqueraded: client and
//   endpoint share the node bridge, so without it the endpoint would answer the
//   client directly, from an address the client never dialled.
// The whole table is replaced in one `nft -f` transaction, so a packet sees
// either the old rules or the new ones, never a mix.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kennel::proxy {

struct RulesetOptions {
  std::string table = "kennel_proxy";  // nftables table (family ip) we own
  std::string pod_cidr;                // this node's pods, e.g. "10.244.0.0/24"; "" = none
};

// One service port's endpoints, resolved: what a DNAT rule needs.
struct Backend {
  std::string ip;
  int port = 0;
  bool operator==(const Backend&) const = default;
};

struct ServicePort {
  std::string service;  // "ns/name"
  std::string port_name;
  std::string protocol;  // "tcp", "udp" or "sctp"
  std::string cluster_ip;
  int port = 0;
  int node_port = 0;              // 0: none
  std::vector<Backend> backends;  // ready endpoints, sorted
  bool operator==(const ServicePort&) const = default;
};

// Every proxied port of the given Services (v1 Service JSON), with backends
// from the Endpoints (v1 Endpoints JSON) of the same namespace and name.
// Headless, ExternalName and selector-less-without-Endpoints services yield
// ports with no backends only when they have a cluster IP; headless and
// ExternalName ones yield nothing. Sorted by service, then port.
std::vector<ServicePort> ResolveServicePorts(const std::vector<nlohmann::json>& services,
                                             const std::vector<nlohmann::json>& endpoints);

// The nft script that replaces `options.table` with rules for `ports`.
std::string BuildRuleset(const std::vector<ServicePort>& ports, const RulesetOptions& options);

// The script that removes the table (and succeeds whether or not it exists).
std::string DeleteTableScript(const std::string& table);

}  // namespace kennel::proxy
