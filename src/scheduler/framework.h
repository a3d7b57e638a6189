// The scheduling framework: a pod's requests, each node's state, and the
// filter and score plugins that decide where the pod goes. Adding a rule is
// adding a plugin; the scheduler (scheduler.h) only runs them. Pure: no I/O,
// so every plugin is unit-tested on JSON objects.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kennel::scheduler {

using nlohmann::json;

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
};

// What a pod requests, as Kubernetes computes it: the sum over containers,
// or the largest init container's request when that is more; plus one pod.
Resources PodRequests(const json& pod);

// A node's allocatable resources.
Resources NodeAllocatable(const json& node);

struct NodeInfo {
  json node;
  std::string name;
  Resources allocatable;
  Resources requested;  // by the pods bound (or being bound) to it
};

// Filters say why a node does not fit (the reason Kubernetes counts in
// "0/3 nodes are available: …"), or nullopt when it does.
class FilterPlugin {
 public:
  virtual ~FilterPlugin() = default;
  virtual std::string Name() const = 0;
  virtual std::optional<std::string> Filter(const json& pod, const Resources& request,
                                            const NodeInfo& node) const = 0;
};

// Scores rank the nodes that fit: 0 (worst) to 100 (best), times the weight.
class ScorePlugin {
 public:
  virtual ~ScorePlugin() = default;
  virtual std::string Name() const = 0;
  virtual int64_t Score(const json& pod, const Resources& request, const NodeInfo& node) const = 0;
  virtual int64_t Weight() const { return 1; }
};

// The default plugins, in the order they run.
std::vector<std::unique_ptr<FilterPlugin>> DefaultFilters();
std::vector<std::unique_ptr<ScorePlugin>> DefaultScores();

struct Placement {
  std::optional<std::string> node;  // the chosen node, or none fits
  // Without a node: "0/3 nodes are available: 1 Insufficient cpu, 2 …".
  std::string message;
};

// Runs filters then scores over nodes; ties go to the first node by name.
Placement Place(const json& pod, const std::vector<NodeInfo>& nodes,
                const std::vector<std::unique_ptr<FilterPlugin>>& filters,
                const std::vector<std::unique_ptr<ScorePlugin>>& scores);

}  // namespace kennel::scheduler
