// The scheduler's picture of the cluster: nodes with the pods placed on them
// (bound, or assumed while their binding is in flight), kept up to date
// incrementally from informer events, plus the counts the topology plugins
// need, kept incrementally too.
//
// Why counts are kept rather than computed: inter-pod (anti-)affinity and
// topology spread ask "how many pods matching this selector are in each
// zone/host?" for every pod scheduled. Scanning all pods each time costs
// O(pods) per pod (10^8 matches for 10,000 pods); instead each distinct term
// (namespaces + selector + topology key) gets a counter the first time it is
// asked about, and every pod added or removed afterwards updates the
// counters it matches. Counters and term holders are found through one of
// their equality requirements (app=web), so a pod only visits the terms that
// could match it.
//
// Not thread-safe: the scheduler serializes access with its own mutex.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scheduler/framework.h"

namespace kennel::scheduler {

// Pods per topology value; only values with a count above zero are present.
using TopologyCounts = std::unordered_map<std::string, int64_t>;

// Which terms of placed pods a holder index tracks.
enum class HeldTerm {
  kRequiredAffinity,
  kRequiredAntiAffinity,
  kPreferredAffinity,
  kPreferredAntiAffinity,
};

class ClusterCache {
 public:
  ClusterCache() = default;
  ClusterCache(const ClusterCache&) = delete;
  ClusterCache& operator=(const ClusterCache&) = delete;

  // Adds or replaces a node; its placed pods stay.
  void UpsertNode(const json& node);
  void RemoveNode(const std::string& name);

  // A pod on a node (pod->node_name): bound, or assumed by the scheduler.
  // Replaces the pod's earlier version. A pod on a node the cache does not
  // know yet is kept and attached when the node appears.
  void UpsertPod(std::shared_ptr<const PodInfo> pod);
  void RemovePod(const std::string& key);
  std::shared_ptr<const PodInfo> Pod(const std::string& key) const;
  size_t PodCount() const { return pods_.size(); }

  // Local storage a claim takes on a node (a WaitForFirstConsumer claim with
  // its selected node). Replaces the claim's earlier entry.
  void SetClaim(const std::string& claim_key, const std::string& node, int64_t bytes);
  void RemoveClaim(const std::string& claim_key);
  bool HasClaim(const std::string& claim_key) const { return claims_.count(claim_key) > 0; }

  // Nodes in a stable order (the order they arrived), for round-robin sampling.
  const std::vector<NodeInfo*>& Nodes() const { return order_; }
  const NodeInfo* Node(const std::string& name) const;

  // Placed pods matching term, per value of term.topology_key on their node.
  const TopologyCounts& CountMatching(const PodSelectorTerm& term) const;

  // Calls fn for each distinct `which` term of placed pods that matches
  // pod (its namespace and labels), with the number of pods holding that
  // term per topology value.
  void ForEachHeldTermMatching(
      HeldTerm which, const PodInfo& pod,
      const std::function<void(const PodSelectorTerm&, const TopologyCounts&)>& fn) const;

  // Drops every lazily made counter when there are more than max (they are
  // made again on demand), so terms of pods long gone do not pile up. Only
  // between cycles: it invalidates what CountMatching returned.
  void TrimCounters(size_t max);

  // Values of a node label across nodes, with how many nodes have each.
  const std::unordered_map<std::string, int64_t>& Domains(const std::string& key) const;

 private:
  struct Counter {
    PodSelectorTerm term;
    TopologyCounts counts;
  };
  // Terms indexed by one equality requirement ("key\x1fvalue"), or in
  // `unindexed` when they have none.
  struct TermIndex {
    std::unordered_map<std::string, std::unique_ptr<Counter>> by_identity;
    std::unordered_map<std::string, std::vector<Counter*>> by_label;
    std::vector<Counter*> unindexed;

    Counter* Find(const std::string& identity) const;
    Counter* Insert(const PodSelectorTerm& term);
    // Counters whose selector could match labels (the caller checks fully).
    void ForEachCandidate(const json& labels, const std::function<void(Counter&)>& fn) const;
  };

  void Account(const PodInfo& pod, int64_t sign);
  void AttachToNode(const std::shared_ptr<const PodInfo>& pod, NodeInfo& node);
  void DetachFromNode(const PodInfo& pod, NodeInfo& node);
  void IndexPodLabels(const PodInfo& pod, bool add);
  void CountDomains(const NodeInfo& node, int64_t sign);
  static void Bump(TopologyCounts& counts, const std::string& value, int64_t by);

  std::unordered_map<std::string, std::unique_ptr<NodeInfo>> nodes_;
  std::vector<NodeInfo*> order_;
  std::unordered_map<std::string, std::shared_ptr<const PodInfo>> pods_;
  // Pods naming a node the cache has not seen yet: node → pod keys.
  std::unordered_map<std::string, std::unordered_set<std::string>> waiting_for_node_;
  // Placed pods by label ("key\x1fvalue"), so a new counter scans only
  // the pods that can match it.
  std::unordered_map<std::string, std::unordered_set<std::string>> pods_by_label_;
  std::unordered_map<std::string, std::unordered_map<std::string, int64_t>> domains_;
  std::unordered_map<std::string, std::pair<std::string, int64_t>> claims_;  // claim → node, bytes

  mutable TermIndex counters_;  // created lazily by CountMatching
  TermIndex held_[4];           // by HeldTerm
};

}  // namespace kennel::scheduler
