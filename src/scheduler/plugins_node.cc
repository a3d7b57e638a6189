// Plugins that look at one node at a time: unschedulable nodes, taints,
// node selectors and affinity, resources fit, and the resource scores.
#include <algorithm>
#include <cmath>

#include "api/json_access.h"
#include "scheduler/cache.h"
#include "scheduler/plugins.h"

namespace kennel::scheduler {
namespace {

using api::Field;
using api::Str;

// Kubernetes scores a pod that requests nothing as if it asked for this much,
// so that empty pods still spread (its "non-zero" defaults).
constexpr int64_t kDefaultMilliCpu = 100;
constexpr int64_t kDefaultMemory = 200LL << 20;

const json& Spec(const PodInfo& pod) { return Field(pod.pod, "spec"); }

bool Tolerates(const PodInfo& pod, const Taint& taint) {
  return std::any_of(pod.tolerations.begin(), pod.tolerations.end(),
                     [&](const Toleration& t) { return t.Tolerates(taint); });
}

// One node selector requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt).
bool MatchesExpression(const json& labels, const json& expr) {
  std::string key = Str(expr, "key");
  std::string op = Str(expr, "operator");
  const json& label = Field(labels, key.c_str());
  bool has = label.is_string();
  const std::string value = has ? label.get<std::string>() : "";
  const json& values = Field(expr, "values");
  auto in_values = [&] {
    if (!values.is_array()) return false;
    return std::any_of(values.begin(), values.end(), [&](const json& v) {
      return v.is_string() && v.get_ref<const std::string&>() == value;
    });
  };
  if (op == "In") return has && in_values();
  if (op == "NotIn") return !has || !in_values();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if ((op == "Gt" || op == "Lt") && has && values.is_array() && values.size() == 1 &&
      values[0].is_string()) {
    try {
      long long mine = std::stoll(value), theirs = std::stoll(values[0].get<std::string>());
      return op == "Gt" ? mine > theirs : mine < theirs;
    } catch (...) {
      return false;
    }
  }
  return false;
}

bool MatchesTerm(const json& term, const NodeInfo& node) {
  const json& exprs = Field(term, "matchExpressions");
  const json& fields = Field(term, "matchFields");
  // An empty term matches no node (Kubernetes' rule).
  if ((!exprs.is_array() || exprs.empty()) && (!fields.is_array() || fields.empty())) {
    return false;
  }
  if (exprs.is_array()) {
    for (const json& e : exprs) {
      if (!MatchesExpression(node.labels, e)) return false;
    }
  }
  if (fields.is_array()) {
    json node_fields = {{"metadata.name", node.name}};
    for (const json& e : fields) {
      if (!MatchesExpression(node_fields, e)) return false;
    }
  }
  return true;
}

const json& NodeAffinityOf(const PodInfo& pod) {
  return Field(Field(Spec(pod), "affinity"), "nodeAffinity");
}

class NodeUnschedulable : public Plugin {
 public:
  std::string_view Name() const override { return "NodeUnschedulable"; }
  PreFilterResult PreFilter(const CycleContext&) override { return {std::nullopt, true, false}; }
  std::optional<std::string> Filter(const CycleContext& ctx, const NodeInfo& node) const override {
    if (!node.unschedulable) return std::nullopt;
    static const Taint kTaint{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
    if (Tolerates(ctx.pod, kTaint)) return std::nullopt;
    return "node(s) were unschedulable";
  }
};

class TaintToleration : public Plugin {
 public:
  std::string_view Name() const override { return "TaintToleration"; }
  int64_t DefaultWeight() const override { return 3; }
  PreFilterResult PreFilter(const CycleContext&) override { return {std::nullopt, true, true}; }
  std::optional<std::string> Filter(const CycleContext& ctx, const NodeInfo& node) const override {
    for (const Taint& taint : node.taints) {
      if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
      if (Tolerates(ctx.pod, taint)) continue;
      std::string kv = taint.key;
      if (!taint.value.empty()) kv += ": " + taint.value;
      return "node(s) had untolerated taint {" + kv + "}";
    }
    return std::nullopt;
  }
  // Fewer untolerated PreferNoSchedule taints is better.
  int64_t Score(const CycleContext& ctx, const NodeInfo& node) const override {
    int64_t count = 0;
    for (const Taint& taint : node.taints) {
      if (taint.effect == "PreferNoSchedule" && !Tolerates(ctx.pod, taint)) ++count;
    }
    return count;
  }
  void Normalize(std::vector<int64_t>& scores) const override {
    int64_t max = scores.empty() ? 0 : *std::max_element(scores.begin(), scores.end());
    for (auto& s : scores) s = max == 0 ? 100 : 100 - s * 100 / max;
  }
};

class NodeAffinity : public Plugin {
 public:
  std::string_view Name() const override { return "NodeAffinity"; }
  int64_t DefaultWeight() const override { return 2; }
  PreFilterResult PreFilter(const CycleContext& ctx) override {
    if (!ctx.pod.has_node_constraints) return {};
    bool selector = Field(Spec(ctx.pod), "nodeSelector").is_object();
    const json& affinity = NodeAffinityOf(ctx.pod);
    bool required = !Field(affinity, "requiredDuringSchedulingIgnoredDuringExecution").is_null();
    preferred_ = &Field(affinity, "preferredDuringSchedulingIgnoredDuringExecution");
    return {std::nullopt, selector || required, preferred_->is_array() && !preferred_->empty()};
  }
  std::optional<std::string> Filter(const CycleContext& ctx, const NodeInfo& node) const override {
    if (MatchesNodeSelectorAndAffinity(ctx.pod, node)) return std::nullopt;
    return "node(s) didn't match Pod's node affinity/selector";
  }
  int64_t Score(const CycleContext&, const NodeInfo& node) const override {
    int64_t sum = 0;
    for (const json& p : *preferred_) {
      const json& w = Field(p, "weight");
      if (w.is_number_integer() && MatchesTerm(Field(p, "preference"), node)) {
        sum += w.get<int64_t>();
      }
    }
    return sum;
  }
  void Normalize(std::vector<int64_t>& scores) const override {
    int64_t max = scores.empty() ? 0 : *std::max_element(scores.begin(), scores.end());
    for (auto& s : scores) s = max == 0 ? 0 : s * 100 / max;
  }

 private:
  const json* preferred_ = nullptr;
};

class NodeResourcesFit : public Plugin {
 public:
  explicit NodeResourcesFit(std::set<std::string> ignored) : ignored_(std::move(ignored)) {}
  std::string_view Name() const override { return "NodeResourcesFit"; }
  PreFilterResult PreFilter(const CycleContext&) override { return {std::nullopt, true, true}; }
  bool PreemptionCanHelp() const override { return true; }
  std::optional<std::string> Filter(const CycleContext& ctx, const NodeInfo& node) const override {
    const Resources& req = ctx.pod.request;
    const Resources& a = node.allocatable;
    const Resources& used = node.requested;
    if (used.pods + 1 > a.pods) return "Too many pods";
    if (req.milli_cpu > 0 && used.milli_cpu + req.milli_cpu > a.milli_cpu) {
      return "Insufficient cpu";
    }
    if (req.memory > 0 && used.memory + req.memory > a.memory) return "Insufficient memory";
    if (req.ephemeral_storage > 0 &&
        used.ephemeral_storage + req.ephemeral_storage > a.ephemeral_storage) {
      return "Insufficient ephemeral-storage";
    }
    for (const auto& [name, amount] : req.scalar) {
      if (amount <= 0 || ignored_.count(name)) continue;
      if (amount > a.Scalar(name) - used.Scalar(name)) return "Insufficient " + name;
    }
    return std::nullopt;
  }
  // Least allocated: more cpu and memory left free after placing the pod is
  // better (kube-scheduler's default NodeResourcesFit scoring strategy).
  int64_t Score(const CycleContext& ctx, const NodeInfo& node) const override {
    auto [cpu, mem] = FreeFractions(ctx.pod.request, node);
    return static_cast<int64_t>(50.0 * (cpu + mem));
  }

  static std::pair<double, double> FreeFractions(const Resources& req, const NodeInfo& node) {
    auto frac = [](int64_t used, int64_t want, int64_t have) {
      if (have <= 0) return 0.0;
      return std::max(0.0, 1.0 - static_cast<double>(used + want) / static_cast<double>(have));
    };
    int64_t cpu = req.milli_cpu > 0 ? req.milli_cpu : kDefaultMilliCpu;
    int64_t mem = req.memory > 0 ? req.memory : kDefaultMemory;
    return {frac(node.requested.milli_cpu, cpu, node.allocatable.milli_cpu),
            frac(node.requested.memory, mem, node.allocatable.memory)};
  }

 private:
  std::set<std::string> ignored_;
};

class BalancedAllocation : public Plugin {
 public:
  std::string_view Name() const override { return "NodeResourcesBalancedAllocation"; }
  PreFilterResult PreFilter(const CycleContext&) override { return {std::nullopt, false, true}; }
  int64_t Score(const CycleContext& ctx, const NodeInfo& node) const override {
    auto [cpu, mem] = NodeResourcesFit::FreeFractions(ctx.pod.request, node);
    return static_cast<int64_t>(100.0 * (1.0 - std::abs(cpu - mem)));
  }
};

// Kennel's own: for a pod that asks for node-local storage, IOPS or network
// bandwidth, prefer the node that keeps the most headroom on the one of
// those the pod leans on most (the largest share of the node it would take),
// so a storage-heavy pet does not land where the disk is nearly full.
class LocalResourcesHeadroom : public Plugin {
 public:
  std::string_view Name() const override { return "NodeLocalResourcesHeadroom"; }
  PreFilterResult PreFilter(const CycleContext& ctx) override {
    bool any = false;
    for (const char* r : kResources) any = any || ctx.pod.request.Scalar(r) > 0;
    return {std::nullopt, false, any};
  }
  int64_t Score(const CycleContext& ctx, const NodeInfo& node) const override {
    double worst_share = -1, headroom = 0;
    for (const char* r : kResources) {
      int64_t want = ctx.pod.request.Scalar(r);
      if (want <= 0) continue;
      int64_t have = node.allocatable.Scalar(r);
      int64_t used = node.requested.Scalar(r);
      if (std::string_view(r) == kLocalStorage) used += node.claimed_local_storage;
      if (have <= 0) return 0;
      double share = static_cast<double>(want) / static_cast<double>(have);
      if (share > worst_share) {
        worst_share = share;
        headroom =
            std::max(0.0, 1.0 - static_cast<double>(used + want) / static_cast<double>(have));
      }
    }
    return static_cast<int64_t>(100.0 * headroom);
  }

 private:
  static constexpr const char* kResources[] = {kLocalStorage, kStorageIops, kNetworkBandwidth};
};

}  // namespace

bool MatchesNodeSelectorTerms(const json& terms, const NodeInfo& node) {
  if (!terms.is_array()) return true;
  return std::any_of(terms.begin(), terms.end(),
                     [&](const json& term) { return MatchesTerm(term, node); });
}

bool MatchesNodeSelectorAndAffinity(const PodInfo& pod, const NodeInfo& node) {
  const json& selector = Field(Spec(pod), "nodeSelector");
  if (selector.is_object()) {
    for (auto it = selector.begin(); it != selector.end(); ++it) {
      const std::string* value = node.Label(it.key());
      if (value == nullptr || !it->is_string() || *value != it->get_ref<const std::string&>()) {
        return false;
      }
    }
  }
  const json& required =
      Field(NodeAffinityOf(pod), "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_null()) return true;
  return MatchesNodeSelectorTerms(Field(required, "nodeSelectorTerms"), node);
}

bool ToleratesNodeTaints(const PodInfo& pod, const NodeInfo& node) {
  return std::all_of(node.taints.begin(), node.taints.end(), [&](const Taint& taint) {
    return (taint.effect != "NoSchedule" && taint.effect != "NoExecute") || Tolerates(pod, taint);
  });
}

std::unique_ptr<Plugin> NewNodeUnschedulable() { return std::make_unique<NodeUnschedulable>(); }
std::unique_ptr<Plugin> NewTaintToleration() { return std::make_unique<TaintToleration>(); }
std::unique_ptr<Plugin> NewNodeAffinity() { return std::make_unique<NodeAffinity>(); }
std::unique_ptr<Plugin> NewNodeResourcesFit(std::set<std::string> ignored_resources) {
  return std::make_unique<NodeResourcesFit>(std::move(ignored_resources));
}
std::unique_ptr<Plugin> NewBalancedAllocation() { return std::make_unique<BalancedAllocation>(); }
std::unique_ptr<Plugin> NewLocalResourcesHeadroom() {
  return std::make_unique<LocalResourcesHeadroom>();
}

std::vector<std::unique_ptr<Plugin>> DefaultPlugins(std::set<std::string> ignored_resources) {
  std::vector<std::unique_ptr<Plugin>> out;
  out.push_back(NewNodeUnschedulable());
  out.push_back(NewTaintToleration());
  out.push_back(NewNodeAffinity());
  out.push_back(NewNodeResourcesFit(std::move(ignored_resources)));
  out.push_back(NewVolumeBinding());
  out.push_back(NewPodTopologySpread());
  out.push_back(NewInterPodAffinity());
  out.push_back(NewBalancedAllocation());
  out.push_back(NewLocalResourcesHeadroom());
  return out;
}

std::unique_ptr<Plugin> NewPlugin(std::string_view name) {
  for (auto& p : DefaultPlugins()) {
    if (p->Name() == name) return std::move(p);
  }
  return nullptr;
}

}  // namespace kennel::scheduler
