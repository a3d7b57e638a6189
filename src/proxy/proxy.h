// The service proxy: makes <clusterIP>:<port> (and <node>:<nodePort>) reach a
// ready endpoint from any pod of this node and from the node itself, by
// keeping an nftables table in step with Services and Endpoints (see
// ruleset.h for the rules, and docs/architecture.md for why nftables rather
// than an in-process proxy: the kernel forwards every packet, so the proxy
// costs nothing per connection and keeps working while Kennel restarts).
//
// Changes are applied within a second: informer events mark the rules dirty,
// and a sync thread rebuilds the script after a short pause that coalesces a
// burst of changes, skipping the `nft` call when the script did not change.
// A failed apply is retried with back-off; the old rules stay meanwhile.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "client/client.h"

namespace kennel::proxy {

struct ProxyOptions {
  std::string table = "kennel_proxy";  // one table per node bridge on a shared machine
  std::string pod_cidr;                // this node's pods (masqueraded when proxied)
  std::string nft = "nft";             // the nftables command
  std::chrono::milliseconds coalesce{20};
  // Remove the table when the proxy stops (`kennel up` does). A restarting
  // agent keeps it, so services keep working while it is away.
  bool remove_on_stop = false;
};

class ServiceProxy {
 public:
  // Checks the options and that `nft` runs, then starts watching Services and
  // Endpoints. client must outlive the proxy.
  static StatusOr<std::unique_ptr<ServiceProxy>> Start(client::Client* client,
                                                       ProxyOptions options);
  // Stops syncing (and removes the table if remove_on_stop).
  virtual ~ServiceProxy() = default;
  // How many times the rules were applied (for tests and metrics).
  virtual int64_t applied() const = 0;
};

// A table name from a bridge's name: nftables identifiers allow letters,
// digits and '_' ("kennel0" → "kennel_proxy_kennel0").
std::string TableForBridge(const std::string& bridge);

// Runs `nft -f -` with `script` on its standard input. Errors carry nft's
// own message.
Status ApplyNftScript(const std::string& nft, const std::string& script);

}  // namespace kennel::proxy
