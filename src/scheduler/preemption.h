// Preemption (kube-scheduler's DefaultPreemption post-filter): when a pod
// fits nowhere, find one node where evicting lower-priority pods would let
// it fit, evicting as few and as unimportant pods as possible.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scheduler/framework.h"

namespace kennel::scheduler {

struct Preemption {
  std::string node;
  std::vector<std::shared_ptr<const PodInfo>> victims;  // to delete, gracefully
};

struct PreemptionOutcome {
  std::optional<Preemption> chosen;
  // Appended to the unschedulable message as Kubernetes does:
  // "preemption: 0/3 nodes are available: 1 No preemption victims found for
  // incoming pod, 2 Preemption is not helpful for scheduling."
  std::string message;
};

// failed: the cycle's placement (after Framework::Schedule found no node;
// PreFilter state of ctx.pod is still current). For each node whose failure
// preemption can cure, remove every pod of lower priority, check the pod
// fits, then give back as many of them (highest priority first) as still
// leave room. Among the candidates choose, as Kubernetes does, the node whose
// most important victim is least important, then the smallest sum of victim
// priorities, then the fewest victims, then the first by name.
PreemptionOutcome FindPreemption(Framework& framework, const CycleContext& ctx,
                                 const Placement& failed);

}  // namespace kennel::scheduler
