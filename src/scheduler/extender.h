// The client side of kube-scheduler's scheduler-extender protocol
// (k8s.io/kube-scheduler/extender/v1), byte-compatible so an extender
// written for kube-scheduler works unchanged.
//
// Each call is one HTTP/1.1 POST of JSON to <urlPrefix>/<verb> on a new
// connection (plain or TLS, as the URL's scheme says), bounded as a whole by
// the configured httpTimeout. The bodies carry Go's field names, since the Go
// types have no JSON tags:
//   filter, prioritize  ExtenderArgs {"Pod", "Nodes": NodeList, "NodeNames"}
//                       (Nodes when !nodeCacheCapable, NodeNames otherwise;
//                       the other one null)
//   filter answer       ExtenderFilterResult {"Nodes", "NodeNames",
//                       "FailedNodes", "FailedAndUnresolvableNodes", "Error"}
//   prioritize answer   HostPriorityList [{"Host", "Score" 0..10}]
//   bind                ExtenderBindingArgs {"PodName", "PodNamespace",
//                       "PodUID", "Node"} → ExtenderBindingResult {"Error"}
// Answers are read as Go's encoding/json reads them: keys match
// case-insensitively (an exact match preferred), null is absent.
//
// TLS (https:// prefixes), as kube-scheduler sets it up: a CA (caFile or
// caData) verifies the server against it; insecure verifies nothing;
// with neither, enableHTTPS: true verifies nothing either (kube-scheduler
// turns on insecure then), and otherwise the system's roots verify. The
// name verified (and sent as SNI) is serverName, else the URL's host; an IP
// host is checked against the certificate's IP SANs. certFile/keyFile (or
// the data forms) present a client certificate.
//
// Errors name the extender's URL and what failed: kUnavailable when the
// extender cannot be reached or does not answer in time (refused, reset,
// DNS, TLS handshake, timeout); kInternal for an answer that is not HTTP
// 200, not the expected JSON, or that carries a non-empty "Error".
//
// Threads: an Extender is immutable after construction; its const methods
// may run concurrently (each call has its own connection).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "scheduler/config.h"

namespace kennel::scheduler {

// kube-scheduler's MaxExtenderPriority: extenders score nodes 0..10.
inline constexpr int64_t kMaxExtenderPriority = 10;
// The framework's MaxNodeScore: a plugin scores nodes 0..100.
inline constexpr int64_t kMaxNodeScore = 100;

struct ExtenderFilterResult {
  // Node names that pass, in the extender's order, each once; only nodes
  // that were sent.
  std::vector<std::string> feasible;
  // Node → reason, for the "0/N nodes are available" message. Only nodes
  // that were sent; a node in failed_unresolvable is not also in failed
  // (the unresolvable verdict takes precedence, as in kube-scheduler).
  std::map<std::string, std::string> failed;
  // Failed nodes where preemption would not help.
  std::map<std::string, std::string> failed_unresolvable;
};

class Extender {
 public:
  // Never fails: a bad URL or unreadable TLS file is reported by status()
  // and by every call.
  explicit Extender(ExtenderConfig config);

  const ExtenderConfig& config() const { return config_; }
  // Problems found setting up the client (urlPrefix, TLS files); Ok if none.
  Status status() const;

  // Whether the pod is this extender's business: with managedResources, only
  // pods whose containers or init containers request or limit one of them.
  bool IsInterested(const nlohmann::json& pod) const;
  bool IsFilter() const { return !config_.filter_verb.empty(); }
  bool IsPrioritizer() const { return !config_.prioritize_verb.empty(); }
  bool IsBinder() const { return !config_.bind_verb.empty(); }
  bool IsIgnorable() const { return config_.ignorable; }

  // Asks the extender which of nodes (full Node objects; names from
  // metadata.name; only the names are sent when nodeCacheCapable) the pod
  // fits. Without a filterVerb every node passes, without a call. Nodes the
  // answer names but that were not sent are dropped.
  StatusOr<ExtenderFilterResult> Filter(const nlohmann::json& pod,
                                        const std::vector<const nlohmann::json*>& nodes) const;

  // Node → the extender's score × weight × (kMaxNodeScore /
  // kMaxExtenderPriority), to add to the sum of the framework's weighted
  // plugin scores, as kube-scheduler does. Scores are taken as given (not
  // clamped to 0..10), summed when a host is listed twice; hosts that were
  // not sent are dropped. Without a prioritizeVerb every node scores 0.
  // kube-scheduler ignores a failed prioritize call whether or not the
  // extender is ignorable; that is the caller's choice here.
  StatusOr<std::map<std::string, int64_t>> Prioritize(
      const nlohmann::json& pod, const std::vector<const nlohmann::json*>& nodes) const;

  // Delegates binding pod ns/name (uid) to node. Errors as above; kInternal
  // also when this extender has no bindVerb.
  Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& node) const;

  struct Transport;  // opaque: the parsed URL and TLS context (extender.cc)

 private:
  // POSTs body to verb; the parsed JSON answer of an HTTP 200.
  StatusOr<nlohmann::json> Post(const std::string& verb, const std::string& body) const;
  std::string ArgsBody(const nlohmann::json& pod,
                       const std::vector<const nlohmann::json*>& nodes) const;

  ExtenderConfig config_;
  std::shared_ptr<const Transport> transport_;  // shared: Extender stays copyable
};

}  // namespace kennel::scheduler
