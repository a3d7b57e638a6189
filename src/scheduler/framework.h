// The scheduling framework: a pod compiled once into what the plugins read
// (PodInfo), each node with what is placed on it (NodeInfo), the plugin
// interface, and Framework, which runs one pod's scheduling cycle over the
// cluster cache (cache.h): pre-filter, filter (over a sample of nodes, as
// kube-scheduler's percentageOfNodesToScore), score, normalize. Adding a rule
// is adding a plugin (plugins.h). Pure: no I/O, so every plugin is
// unit-tested on JSON objects.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/selector.h"

namespace kennel::scheduler {

using nlohmann::json;

class ClusterCache;

// Amounts of the resources a node has and a pod asks for. cpu in
// millicores, the rest in units (bytes, counts); extended resources
// (kennel.io/local-storage, example.com/gpu, …) by name.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;
  std::map<std::string, int64_t> scalar;

  void Add(const Resources& other);
  void Subtract(const Resources& other);
  int64_t Scalar(const std::string& name) const;
};

// What a pod requests, as Kubernetes computes it: the sum over containers,
// or the largest init container's request when that is more; plus one pod.
Resources PodRequests(const json& pod);

// A node's allocatable resources.
Resources NodeAllocatable(const json& node);

// One pod (anti-)affinity term or spread constraint's "which pods": a label
// selector over pods in a set of namespaces, counted per value of a node
// label (the topology key).
struct PodSelectorTerm {
  api::LabelSelector selector;
  std::set<std::string> namespaces;  // empty with all_namespaces false: none
  bool all_namespaces = false;       // namespaceSelector: {}
  std::string topology_key;
  int64_t weight = 0;    // preferred terms only
  std::string identity;  // namespaces + selector + key: terms with one identity count alike

  bool MatchesPod(const std::string& ns, const json& labels) const;
};

struct SpreadConstraint {
  PodSelectorTerm term;  // the pod's namespace, labelSelector, topologyKey
  int64_t max_skew = 1;
  bool hard = true;  // whenUnsatisfiable: DoNotSchedule
  int64_t min_domains = 1;
  bool honor_node_affinity = true;  // nodeAffinityPolicy: Honor (default)
  bool honor_taints = false;        // nodeTaintsPolicy: Ignore (default)
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
};

struct Toleration {
  std::string key;
  std::string value;
  std::string effect;   // empty: every effect
  bool exists = false;  // operator Exists (else Equal)

  bool Tolerates(const Taint& taint) const;
};

// A pod as the plugins read it, compiled once per object version.
struct PodInfo {
  json pod;
  std::string key;  // namespace/name
  std::string ns;
  std::string name;
  std::string uid;
  std::string node_name;  // spec.nodeName, or where the scheduler assumed it
  json labels = json::object();
  Resources request;
  int64_t priority = 0;
  bool preempt_never = false;  // preemptionPolicy: Never
  int64_t created_ns = 0;      // creationTimestamp, for the queue's order among equals
  std::vector<PodSelectorTerm> required_affinity;
  std::vector<PodSelectorTerm> required_anti_affinity;
  std::vector<PodSelectorTerm> preferred_affinity;
  std::vector<PodSelectorTerm> preferred_anti_affinity;
  std::vector<SpreadConstraint> spread;
  std::vector<std::string> claims;  // persistentVolumeClaim names
  std::vector<Toleration> tolerations;
  bool has_node_constraints = false;  // a nodeSelector or node affinity
  std::string error;  // a malformed selector: the pod cannot be placed, and this says why
};

std::shared_ptr<const PodInfo> CompilePod(const json& pod);

// A node and what is placed on it.
struct NodeInfo {
  json node;
  std::string name;
  json labels = json::object();
  bool unschedulable = false;  // spec.unschedulable
  std::vector<Taint> taints;
  Resources allocatable;
  Resources requested;                                         // by its pods (bound or assumed)
  std::map<std::string, std::shared_ptr<const PodInfo>> pods;  // by key
  int64_t claimed_local_storage = 0;  // WaitForFirstConsumer claims placed here

  // The node's value of a label, or nullptr.
  const std::string* Label(const std::string& key) const;
};

NodeInfo CompileNode(const json& node);

// What plugins need to know about volumes (PVCs, PVs, StorageClasses); the
// scheduler answers from its informers, tests from maps.
class VolumeLister {
 public:
  virtual ~VolumeLister() = default;
  virtual std::optional<json> Claim(const std::string& ns, const std::string& name) const = 0;
  virtual std::optional<json> Volume(const std::string& name) const = 0;
  virtual std::optional<json> StorageClass(const std::string& name) const = 0;
};

// What one scheduling cycle reads: the pod, the cluster, the volumes.
struct CycleContext {
  const PodInfo& pod;
  const ClusterCache& cache;
  const VolumeLister* volumes = nullptr;
};

// A plugin implements some of the extension points. Plugins keep their
// per-cycle state (computed in PreFilter) in members: one cycle runs at a
// time. Filter and Score must not change that state, as preemption reruns
// Filter on nodes with pods taken away.
class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view Name() const = 0;

  // Once per cycle. A reason makes every node fail with it (e.g. a missing
  // claim). Returns whether Filter / Score have anything to do for this pod
  // through *filter / *score, so inactive plugins cost nothing per node.
  struct PreFilterResult {
    std::optional<std::string> reason;
    bool filter = false;
    bool score = false;
    // The reason is a claim not seen yet: the pod waits for claim events
    // rather than backing off (SchedulingQueue::AwaitClaim).
    bool awaits_claim = false;
  };
  virtual PreFilterResult PreFilter(const CycleContext& ctx) = 0;

  // Why the node does not fit (the reason Kubernetes counts in "0/3 nodes
  // are available: …"), or nullopt when it does.
  virtual std::optional<std::string> Filter(const CycleContext&, const NodeInfo&) const {
    return std::nullopt;
  }
  // Whether evicting lower-priority pods could cure a Filter rejection.
  virtual bool PreemptionCanHelp() const { return false; }

  // 0..100 after Normalize; higher is better.
  virtual int64_t Score(const CycleContext&, const NodeInfo&) const { return 0; }
  virtual void Normalize(std::vector<int64_t>& /*scores*/) const {}
  virtual int64_t DefaultWeight() const { return 1; }

  // The pod was assumed onto node: state to keep before the cache catches up
  // (e.g. a claim's selected node). Default: nothing.
  virtual void Reserve(const CycleContext&, ClusterCache& /*cache*/, const std::string& /*node*/) {}
};

// Framework settings (from the scheduler configuration file).
struct FrameworkOptions {
  int percentage_of_nodes_to_score = 0;          // 0: Kubernetes' adaptive default
  std::map<std::string, int64_t> score_weights;  // plugin name → weight
  // Whether a plugin runs at an extension point ("filter", "score"); unset:
  // every plugin at every point.
  std::function<bool(std::string_view point, std::string_view plugin)> enabled;
};

// A filter's verdict per node, for messages and preemption.
struct FilterFailure {
  std::string node;
  std::string reason;
  bool preemption_can_help = false;
};

struct Placement {
  std::vector<const NodeInfo*> feasible;        // the nodes that passed (a sample)
  std::vector<FilterFailure> failures;          // nodes that did not, with why
  std::optional<std::string> prefilter_reason;  // every node failed with this
  bool awaits_claim = false;                    // that reason is a claim not seen yet
  size_t total_nodes = 0;
};

// "0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated
// taint {k: v}." — reasons sorted by text, each with its count, as
// Kubernetes prints them.
std::string UnschedulableMessage(size_t total_nodes, const std::map<std::string, int>& reasons);
// The message of a cycle that found no node: its failures counted by
// reason, or "0/N nodes are available: <reason>." for a pre-filter verdict.
std::string UnschedulableMessage(const Placement& placement);

class Framework {
 public:
  // plugins: in the order they run (a node is reported by the first filter
  // it fails, as kube-scheduler does).
  Framework(std::vector<std::unique_ptr<Plugin>> plugins, FrameworkOptions options);

  // The filtering half of a cycle: PreFilter, then Filter over nodes taken
  // round-robin until enough fit (NumFeasibleNodesToFind). The caller may
  // narrow the feasible nodes further (extenders), then SelectHost.
  Placement Schedule(const CycleContext& ctx);

  // Runs the filters (after PreFilter of the same pod) on one node, e.g. a
  // node with preemption victims taken away.
  std::optional<std::string> RunFilters(const CycleContext& ctx, const NodeInfo& node);

  // Runs PreFilter for ctx.pod; false with *reason when the pod fits nowhere
  // (and *awaits_claim when that is a claim not seen yet).
  bool RunPreFilter(const CycleContext& ctx, std::string* reason, bool* awaits_claim);

  // The best of nodes (non-empty) by the plugins' weighted, normalized
  // scores plus extra (e.g. extenders' scores by node); ties go to the
  // first by name.
  std::string SelectHost(const CycleContext& ctx, const std::vector<const NodeInfo*>& nodes,
                         const std::map<std::string, int64_t>& extra = {});

  // How many feasible nodes a cycle looks for among n nodes.
  int NumFeasibleNodesToFind(int n) const;

  // The pod goes to node: plugins note what they must (cache is the one ctx reads).
  void Reserve(const CycleContext& ctx, ClusterCache& cache, const std::string& node);

 private:
  struct Entry {
    std::unique_ptr<Plugin> plugin;
    int64_t weight = 1;
    bool filters = true;  // enabled at filter (and pre-filter)
    bool scores = true;   // enabled at score
    bool filter_active = false;
    bool score_active = false;
  };
  std::vector<Entry> plugins_;
  FrameworkOptions options_;
  size_t next_start_ = 0;  // nodes are sampled round-robin from here
};

}  // namespace kennel::scheduler
