// The node agent: registers this machine as a Node, keeps its Lease and
// status fresh, and runs the pods bound to it as real isolated processes
// (see runtime.h), level-triggered: a pod worker compares each pod's spec with
// what runs and acts, and reports what it sees in the pod's status.
//
// It talks to the cluster only through a client::Client, so the same agent
// runs in `kennel up` (in-process client) and `kennel agent` (HTTPS).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "agent/pod_spec.h"
#include "agent/runtime.h"
#include "base/status.h"
#include "client/client.h"

namespace kennel::agent {

struct AgentOptions {
  std::string node_name;  // default: the machine's hostname, lowercased
  std::string data_dir;   // state under <data_dir>/agent/<node_name>
  Isolation isolation = Isolation::kNamespaces;
  std::string bridge;  // default "kennel0"; several agents on one machine need their own
  ClusterDns dns;
  int workers = 4;  // pods synced in parallel
  int lease_renew_seconds = 10;
  int lease_duration_seconds = 40;
  int status_update_seconds = 10;
  // The agent's HTTPS endpoint for logs and exec (see agent_server.h): the
  // API server proxies there, presenting serving_token.
  uint16_t serving_port = 0;  // 0: any free port (published in the Node status)
  std::string serving_token;
  // On Stop(): stop every pod's containers (SIGTERM, grace, SIGKILL). `kennel
  // up` does; a bare agent restart must not, so its pods are re-adopted.
  bool stop_pods_on_exit = false;
  // Keep an nftables table that sends Service cluster IPs and node ports to
  // ready endpoints (proxy/proxy.h). Only with namespace isolation.
  bool service_proxy = true;
  // `kennel up`: the cluster DNS server also listens on this node's bridge
  // (gateway) address, so pods use that address when dns.server_ip is empty.
  bool dns_on_gateway = false;
};

class Agent {
 public:
  // Checks isolation support (unless Isolation::kNone), registers the Node,
  // waits for its pod CIDR, prepares the node network, re-adopts pods that
  // run from an earlier life, and starts the workers. client must outlive it.
  static StatusOr<std::unique_ptr<Agent>> Start(client::Client* client, AgentOptions options);

  virtual ~Agent() = default;
  virtual const std::string& node_name() const = 0;
  // The node bridge's address, pods' gateway ("10.244.0.1"); "" without
  // isolation (pods on the host network).
  virtual const std::string& gateway_ip() const = 0;
  // Stops the workers (and, with stop_pods_on_exit, the pods). Idempotent.
  virtual void Stop() = 0;
};

}  // namespace kennel::agent
