#include "scheduler/preemption.h"

#include <algorithm>
#include <map>

#include "scheduler/cache.h"

namespace kennel::scheduler {
namespace {

struct Candidate {
  std::string node;
  std::vector<std::shared_ptr<const PodInfo>> victims;
  int64_t highest = INT64_MIN;
  int64_t sum = 0;
};

bool Terminating(const PodInfo& pod) {
  auto meta = pod.pod.find("metadata");
  return meta != pod.pod.end() && meta->contains("deletionTimestamp");
}

// The fewest victims on node that make room for the pod, or nullopt.
std::optional<Candidate> SelectVictims(Framework& framework, const CycleContext& ctx,
                                       const NodeInfo& node) {
  NodeInfo trial = node;
  std::vector<std::shared_ptr<const PodInfo>> lower;
  for (const auto& [key, pod] : node.pods) {
    if (pod->priority < ctx.pod.priority && !Terminating(*pod)) lower.push_back(pod);
  }
  if (lower.empty()) return std::nullopt;
  for (const auto& pod : lower) {
    trial.requested.Subtract(pod->request);
    trial.pods.erase(pod->key);
  }
  if (framework.RunFilters(ctx, trial)) return std::nullopt;
  // Give back the most important pods first; whoever no longer fits is a victim.
  std::sort(lower.begin(), lower.end(), [](const auto& a, const auto& b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->key < b->key;
  });
  Candidate c;
  c.node = node.name;
  for (const auto& pod : lower) {
    trial.requested.Add(pod->request);
    trial.pods[pod->key] = pod;
    if (framework.RunFilters(ctx, trial)) {
      trial.requested.Subtract(pod->request);
      trial.pods.erase(pod->key);
      c.victims.push_back(pod);
      c.highest = std::max(c.highest, pod->priority);
      c.sum += pod->priority;
    }
  }
  if (c.victims.empty()) return std::nullopt;  // it fits without evicting: not our case
  return c;
}

bool Better(const Candidate& a, const Candidate& b) {
  if (a.highest != b.highest) return a.highest < b.highest;
  if (a.sum != b.sum) return a.sum < b.sum;
  if (a.victims.size() != b.victims.size()) return a.victims.size() < b.victims.size();
  return a.node < b.node;
}

}  // namespace

PreemptionOutcome FindPreemption(Framework& framework, const CycleContext& ctx,
                                 const Placement& failed) {
  PreemptionOutcome out;
  std::map<std::string, int> reasons;
  const size_t total = failed.total_nodes;
  if (ctx.pod.preempt_never) {
    out.message = "preemption: not eligible due to preemptionPolicy=Never.";
    return out;
  }
  if (failed.prefilter_reason) {
    reasons["Preemption is not helpful for scheduling"] = static_cast<int>(total);
    out.message = "preemption: " + UnschedulableMessage(total, reasons);
    return out;
  }
  std::optional<Candidate> best;
  for (const FilterFailure& f : failed.failures) {
    const NodeInfo* node = ctx.cache.Node(f.node);
    if (!f.preemption_can_help || node == nullptr) {
      ++reasons["Preemption is not helpful for scheduling"];
      continue;
    }
    auto candidate = SelectVictims(framework, ctx, *node);
    if (!candidate) {
      ++reasons["No preemption victims found for incoming pod"];
      continue;
    }
    if (!best || Better(*candidate, *best)) best = std::move(candidate);
  }
  if (best) {
    out.chosen = Preemption{best->node, std::move(best->victims)};
    return out;
  }
  out.message = "preemption: " + UnschedulableMessage(total, reasons);
  return out;
}

}  // namespace kennel::scheduler
