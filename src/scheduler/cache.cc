#include "scheduler/cache.h"

#include <algorithm>

namespace kennel::scheduler {
namespace {

std::string LabelKey(const std::string& key, const std::string& value) {
  return key + "\x1f" + value;
}

// The label one of the selector's requirements insists on, if any: the
// index key a pod must carry to possibly match.
std::optional<std::string> EqualityKey(const api::LabelSelector& selector) {
  using Op = api::LabelRequirement::Op;
  for (const auto& r : selector.requirements()) {
    bool equality = r.op == Op::kEquals || r.op == Op::kDoubleEquals ||
                    (r.op == Op::kIn && r.values.size() == 1);
    if (equality && !r.values.empty()) return LabelKey(r.key, r.values[0]);
  }
  return std::nullopt;
}

std::string HeldIdentity(const PodSelectorTerm& term) {
  return term.identity + "\x1f" + std::to_string(term.weight);
}

const std::vector<PodSelectorTerm>& TermsOf(const PodInfo& pod, HeldTerm which) {
  switch (which) {
    case HeldTerm::kRequiredAffinity:
      return pod.required_affinity;
    case HeldTerm::kRequiredAntiAffinity:
      return pod.required_anti_affinity;
    case HeldTerm::kPreferredAffinity:
      return pod.preferred_affinity;
    case HeldTerm::kPreferredAntiAffinity:
      break;
  }
  return pod.preferred_anti_affinity;
}

constexpr HeldTerm kAllHeld[] = {HeldTerm::kRequiredAffinity, HeldTerm::kRequiredAntiAffinity,
                                 HeldTerm::kPreferredAffinity, HeldTerm::kPreferredAntiAffinity};

}  // namespace

// --- TermIndex ---------------------------------------------------------------

ClusterCache::Counter* ClusterCache::TermIndex::Find(const std::string& identity) const {
  auto it = by_identity.find(identity);
  return it == by_identity.end() ? nullptr : it->second.get();
}

ClusterCache::Counter* ClusterCache::TermIndex::Insert(const PodSelectorTerm& term) {
  auto counter = std::make_unique<Counter>();
  counter->term = term;
  Counter* raw = counter.get();
  if (auto key = EqualityKey(term.selector)) {
    by_label[*key].push_back(raw);
  } else {
    unindexed.push_back(raw);
  }
  by_identity[term.identity] = std::move(counter);
  return raw;
}

void ClusterCache::TermIndex::ForEachCandidate(const json& labels,
                                               const std::function<void(Counter&)>& fn) const {
  for (Counter* c : unindexed) fn(*c);
  if (by_label.empty() || !labels.is_object()) return;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!it->is_string()) continue;
    auto found = by_label.find(LabelKey(it.key(), it->get_ref<const std::string&>()));
    if (found == by_label.end()) continue;
    for (Counter* c : found->second) fn(*c);
  }
}

// --- nodes -------------------------------------------------------------------

void ClusterCache::CountDomains(const NodeInfo& node, int64_t sign) {
  for (auto it = node.labels.begin(); it != node.labels.end(); ++it) {
    if (!it->is_string()) continue;
    auto& values = domains_[it.key()];
    const std::string& value = it->get_ref<const std::string&>();
    if ((values[value] += sign) <= 0) values.erase(value);
  }
}

void ClusterCache::UpsertNode(const json& node) {
  NodeInfo compiled = CompileNode(node);
  auto it = nodes_.find(compiled.name);
  if (it == nodes_.end()) {
    auto info = std::make_unique<NodeInfo>(std::move(compiled));
    NodeInfo* raw = info.get();
    nodes_[raw->name] = std::move(info);
    order_.push_back(raw);
    CountDomains(*raw, +1);
    auto waiting = waiting_for_node_.find(raw->name);
    if (waiting != waiting_for_node_.end()) {
      for (const auto& key : waiting->second) AttachToNode(pods_[key], *raw);
      waiting_for_node_.erase(waiting);
    }
    return;
  }
  NodeInfo& info = *it->second;
  bool relabel = info.labels != compiled.labels;
  if (relabel) {
    // Topology values change: take the node's pods out of every count under
    // the old labels and put them back under the new ones.
    for (const auto& [key, pod] : info.pods) Account(*pod, -1);
    CountDomains(info, -1);
  }
  info.node = std::move(compiled.node);
  info.labels = std::move(compiled.labels);
  info.allocatable = std::move(compiled.allocatable);
  info.unschedulable = compiled.unschedulable;
  info.taints = std::move(compiled.taints);
  if (relabel) {
    CountDomains(info, +1);
    for (const auto& [key, pod] : info.pods) Account(*pod, +1);
  }
}

void ClusterCache::RemoveNode(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  NodeInfo& info = *it->second;
  // Its pods wait for the node to come back (as kube-scheduler keeps them),
  // counted nowhere meanwhile.
  for (const auto& [key, pod] : info.pods) {
    Account(*pod, -1);
    waiting_for_node_[name].insert(key);
  }
  CountDomains(info, -1);
  order_.erase(std::find(order_.begin(), order_.end(), &info));
  nodes_.erase(it);
}

const NodeInfo* ClusterCache::Node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

const std::unordered_map<std::string, int64_t>& ClusterCache::Domains(
    const std::string& key) const {
  static const std::unordered_map<std::string, int64_t> none;
  auto it = domains_.find(key);
  return it == domains_.end() ? none : it->second;
}

// --- pods --------------------------------------------------------------------

void ClusterCache::Bump(TopologyCounts& counts, const std::string& value, int64_t by) {
  if ((counts[value] += by) <= 0) counts.erase(value);
}

void ClusterCache::Account(const PodInfo& pod, int64_t sign) {
  const NodeInfo* node = Node(pod.node_name);
  if (node == nullptr) return;
  counters_.ForEachCandidate(pod.labels, [&](Counter& c) {
    if (!c.term.MatchesPod(pod.ns, pod.labels)) return;
    if (const std::string* value = node->Label(c.term.topology_key)) Bump(c.counts, *value, sign);
  });
  for (HeldTerm which : kAllHeld) {
    TermIndex& index = held_[static_cast<int>(which)];
    for (const PodSelectorTerm& term : TermsOf(pod, which)) {
      const std::string* value = node->Label(term.topology_key);
      if (value == nullptr) continue;
      std::string identity = HeldIdentity(term);
      Counter* c = index.Find(identity);
      if (c == nullptr) {
        PodSelectorTerm keyed = term;
        keyed.identity = identity;
        c = index.Insert(keyed);
      }
      Bump(c->counts, *value, sign);
    }
  }
}

void ClusterCache::IndexPodLabels(const PodInfo& pod, bool add) {
  for (auto it = pod.labels.begin(); it != pod.labels.end(); ++it) {
    if (!it->is_string()) continue;
    std::string key = LabelKey(it.key(), it->get_ref<const std::string&>());
    if (add) {
      pods_by_label_[key].insert(pod.key);
    } else if (auto found = pods_by_label_.find(key); found != pods_by_label_.end()) {
      found->second.erase(pod.key);
      if (found->second.empty()) pods_by_label_.erase(found);
    }
  }
}

void ClusterCache::AttachToNode(const std::shared_ptr<const PodInfo>& pod, NodeInfo& node) {
  node.pods[pod->key] = pod;
  node.requested.Add(pod->request);
  Account(*pod, +1);
}

void ClusterCache::DetachFromNode(const PodInfo& pod, NodeInfo& node) {
  Account(pod, -1);
  node.requested.Subtract(pod.request);
  node.pods.erase(pod.key);
}

void ClusterCache::UpsertPod(std::shared_ptr<const PodInfo> pod) {
  RemovePod(pod->key);
  pods_[pod->key] = pod;
  IndexPodLabels(*pod, true);
  auto node = nodes_.find(pod->node_name);
  if (node == nodes_.end()) {
    waiting_for_node_[pod->node_name].insert(pod->key);
    return;
  }
  AttachToNode(pod, *node->second);
}

void ClusterCache::RemovePod(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  std::shared_ptr<const PodInfo> pod = it->second;
  auto node = nodes_.find(pod->node_name);
  if (node != nodes_.end()) {
    DetachFromNode(*pod, *node->second);
  } else if (auto waiting = waiting_for_node_.find(pod->node_name);
             waiting != waiting_for_node_.end()) {
    waiting->second.erase(key);
    if (waiting->second.empty()) waiting_for_node_.erase(waiting);
  }
  IndexPodLabels(*pod, false);
  pods_.erase(it);
}

std::shared_ptr<const PodInfo> ClusterCache::Pod(const std::string& key) const {
  auto it = pods_.find(key);
  return it == pods_.end() ? nullptr : it->second;
}

// --- claims ------------------------------------------------------------------

void ClusterCache::SetClaim(const std::string& claim_key, const std::string& node, int64_t bytes) {
  RemoveClaim(claim_key);
  claims_[claim_key] = {node, bytes};
  auto it = nodes_.find(node);
  if (it != nodes_.end()) it->second->claimed_local_storage += bytes;
}

void ClusterCache::RemoveClaim(const std::string& claim_key) {
  auto it = claims_.find(claim_key);
  if (it == claims_.end()) return;
  auto node = nodes_.find(it->second.first);
  if (node != nodes_.end()) node->second->claimed_local_storage -= it->second.second;
  claims_.erase(it);
}

// --- queries -----------------------------------------------------------------

const TopologyCounts& ClusterCache::CountMatching(const PodSelectorTerm& term) const {
  if (Counter* c = counters_.Find(term.identity)) return c->counts;
  Counter* c = counters_.Insert(term);
  // First time this term is asked about: count the placed pods that can
  // match it (those with its equality label, or all of them).
  auto count = [&](const PodInfo& pod) {
    if (!term.MatchesPod(pod.ns, pod.labels)) return;
    const NodeInfo* node = Node(pod.node_name);
    if (node == nullptr) return;
    if (const std::string* value = node->Label(term.topology_key)) Bump(c->counts, *value, 1);
  };
  if (auto key = EqualityKey(term.selector)) {
    auto it = pods_by_label_.find(*key);
    if (it != pods_by_label_.end()) {
      for (const auto& pod_key : it->second) count(*pods_.at(pod_key));
    }
  } else {
    for (const auto& [key, pod] : pods_) count(*pod);
  }
  return c->counts;
}

void ClusterCache::TrimCounters(size_t max) {
  if (counters_.by_identity.size() <= max) return;
  counters_ = TermIndex();
}

void ClusterCache::ForEachHeldTermMatching(
    HeldTerm which, const PodInfo& pod,
    const std::function<void(const PodSelectorTerm&, const TopologyCounts&)>& fn) const {
  const TermIndex& index = held_[static_cast<int>(which)];
  index.ForEachCandidate(pod.labels, [&](Counter& c) {
    if (c.counts.empty() || !c.term.MatchesPod(pod.ns, pod.labels)) return;
    fn(c.term, c.counts);
  });
}

}  // namespace kennel::scheduler
