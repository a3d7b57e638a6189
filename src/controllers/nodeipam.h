// Node IPAM: gives every Node a pod CIDR (spec.podCIDR, spec.podCIDRs) cut
// from the cluster CIDR, lowest free block first, as kube-controller-manager's
// range allocator does. Agents wait for it before they start pods.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kennel::controllers {

struct NodeIpamOptions {
  std::string cluster_cidr = "10.244.0.0/16";
  int node_prefix = 24;  // each node's block: /24 = 254 pod addresses
};

class NodeIpam {
 public:
  // Validates the options and starts watching Nodes; client must outlive it.
  static StatusOr<std::unique_ptr<NodeIpam>> Start(client::Client* client, NodeIpamOptions options);
  virtual ~NodeIpam() = default;
};

// The i-th block of prefix `node_prefix` inside cidr ("10.244.0.0/16", 24, 3
// → "10.244.3.0/24"); error when cidr is malformed or i is out of range.
StatusOr<std::string> NthBlock(const std::string& cidr, int node_prefix, int64_t i);

}  // namespace kennel::controllers
