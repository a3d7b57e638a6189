// The default plugins, named as kube-scheduler names them so that a
// KubeSchedulerConfiguration's weights and disabled lists apply unchanged.
// Filters run in kube-scheduler's order (a node is reported by the first
// filter it fails):
//   NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit,
//   VolumeBinding, PodTopologySpread, InterPodAffinity.
// Scores (default weights): TaintToleration 3, NodeAffinity 2,
//   NodeResourcesFit (least allocated) 1, NodeResourcesBalancedAllocation 1,
//   PodTopologySpread 2, InterPodAffinity 2, and Kennel's
//   NodeLocalResourcesHeadroom 1 (kennel.io/local-storage, storage-iops,
//   network-bandwidth).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/framework.h"

namespace kennel::scheduler {

// Names Kennel's node-local resources, which nodes advertise as allocatable.
inline constexpr const char* kLocalStorage = "kennel.io/local-storage";
inline constexpr const char* kStorageIops = "kennel.io/storage-iops";
inline constexpr const char* kNetworkBandwidth = "kennel.io/network-bandwidth";

// The claim annotation naming the node a WaitForFirstConsumer claim is
// provisioned on.
inline constexpr const char* kSelectedNodeAnnotation = "volume.kubernetes.io/selected-node";

// ignored_resources: extended resources that extenders account for
// (managedResources with ignoredByScheduler), which NodeResourcesFit skips.
std::vector<std::unique_ptr<Plugin>> DefaultPlugins(std::set<std::string> ignored_resources = {});

// One default plugin by name (for tests and configuration), or nullptr.
std::unique_ptr<Plugin> NewPlugin(std::string_view name);

// Shared by plugins: the pod's nodeSelector and required node affinity.
bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node);
// Whether the pod tolerates every NoSchedule/NoExecute taint of the node.
bool ToleratesNodeTaints(const PodInfo& pod, const NodeInfo& node);
// nodeSelectorTerms (ORed; each term's expressions ANDed) against a node.
bool MatchesNodeSelectorTerms(const json& terms, const NodeInfo& node);

// The storage a claim asks for (spec.resources.requests.storage), bytes.
int64_t ClaimStorageRequest(const json& claim);

// Factories of the individual plugins (defined beside their code).
std::unique_ptr<Plugin> NewNodeUnschedulable();
std::unique_ptr<Plugin> NewTaintToleration();
std::unique_ptr<Plugin> NewNodeAffinity();
std::unique_ptr<Plugin> NewNodeResourcesFit(std::set<std::string> ignored_resources = {});
std::unique_ptr<Plugin> NewBalancedAllocation();
std::unique_ptr<Plugin> NewLocalResourcesHeadroom();
std::unique_ptr<Plugin> NewVolumeBinding();
std::unique_ptr<Plugin> NewPodTopologySpread();
std::unique_ptr<Plugin> NewInterPodAffinity();

}  // namespace kennel::scheduler
