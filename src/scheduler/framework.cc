#include "scheduler/framework.h"

#include <algorithm>

#include "api/json_access.h"
#include "api/quantity.h"

namespace kennel::scheduler {
namespace {

// Kubernetes scores a pod that requests nothing as if it asked for this much,
// so that empty pods still spread (its "non-zero" defaults).
constexpr int64_t kDefaultMilliCpu = 100;
constexpr int64_t kDefaultMemory = 200LL << 20;

using api::Field;
using api::Str;

int64_t Quantity(const json& v, bool milli) {
  if (!v.is_string() && !v.is_number()) return 0;
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  auto q = milli ? api::ParseQuantityMilli(text) : api::ParseQuantity(text);
  return q.ok() ? *q : 0;
}

// A resource list ({"cpu": "500m", "memory": "1Gi", …}) as Resources.
Resources FromList(const json& list) {
  Resources r;
  if (!list.is_object()) return r;
  for (auto it = list.begin(); it != list.end(); ++it) {
    const std::string& name = it.key();
    if (name == "cpu") {
      r.milli_cpu = Quantity(*it, true);
    } else if (name == "memory") {
      r.memory = Quantity(*it, false);
    } else if (name == "ephemeral-storage") {
      r.ephemeral_storage = Quantity(*it, false);
    } else if (name == "pods") {
      r.pods = Quantity(*it, false);
    } else {
      r.scalar[name] = Quantity(*it, false);
    }
  }
  return r;
}

void Max(Resources& into, const Resources& other) {
  into.milli_cpu = std::max(into.milli_cpu, other.milli_cpu);
  into.memory = std::max(into.memory, other.memory);
  into.ephemeral_storage = std::max(into.ephemeral_storage, other.ephemeral_storage);
  for (const auto& [k, v] : other.scalar) into.scalar[k] = std::max(into.scalar[k], v);
}

bool Tolerates(const json& pod, const json& taint) {
  const json& tolerations = Field(Field(pod, "spec"), "tolerations");
  if (!tolerations.is_array()) return false;
  for (const json& t : tolerations) {
    std::string effect = Str(t, "effect");
    if (!effect.empty() && effect != Str(taint, "effect")) continue;
    std::string op = Str(t, "operator");
    std::string key = Str(t, "key");
    if (op == "Exists") {
      if (key.empty() || key == Str(taint, "key")) return true;
    } else if (key == Str(taint, "key") && Str(t, "value") == Str(taint, "value")) {
      return true;
    }
  }
  return false;
}

bool MatchesExpression(const json& labels, const json& expr) {
  std::string key = Str(expr, "key");
  std::string op = Str(expr, "operator");
  bool has = labels.is_object() && labels.contains(key) && labels[key].is_string();
  std::string value = has ? labels[key].get<std::string>() : "";
  const json& values = Field(expr, "values");
  auto in_values = [&] {
    if (!values.is_array()) return false;
    return std::any_of(values.begin(), values.end(), [&](const json& v) {
      return v.is_string() && v.get<std::string>() == value;
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

class NodeUnschedulable : public FilterPlugin {
 public:
  std::string Name() const override { return "NodeUnschedulable"; }
  std::optional<std::string> Filter(const json& pod, const Resources&,
                                    const NodeInfo& node) const override {
    const json& u = Field(Field(node.node, "spec"), "unschedulable");
    if (!u.is_boolean() || !u.get<bool>()) return std::nullopt;
    json taint = {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
    if (Tolerates(pod, taint)) return std::nullopt;
    return "node(s) were unschedulable";
  }
};

class NodeAffinity : public FilterPlugin {
 public:
  std::string Name() const override { return "NodeAffinity"; }
  std::optional<std::string> Filter(const json& pod, const Resources&,
                                    const NodeInfo& node) const override {
    const json& labels = Field(Field(node.node, "metadata"), "labels");
    const json& selector = Field(Field(pod, "spec"), "nodeSelector");
    if (selector.is_object()) {
      for (auto it = selector.begin(); it != selector.end(); ++it) {
        if (!labels.is_object() || !labels.contains(it.key()) || labels[it.key()] != *it) {
          return kReason;
        }
      }
    }
    const json& terms = Field(Field(Field(Field(Field(pod, "spec"), "affinity"), "nodeAffinity"),
                                    "requiredDuringSchedulingIgnoredDuringExecution"),
                              "nodeSelectorTerms");
    if (!terms.is_array() || terms.empty()) return std::nullopt;
    // Terms are ORed; a term's expressions are ANDed.
    for (const json& term : terms) {
      bool all = true;
      for (const json& expr : Field(term, "matchExpressions").is_array()
                                  ? Field(term, "matchExpressions")
                                  : json::array()) {
        all = all && MatchesExpression(labels, expr);
      }
      for (const json& expr :
           Field(term, "matchFields").is_array() ? Field(term, "matchFields") : json::array()) {
        json fields = {{"metadata.name", node.name}};
        all = all && MatchesExpression(fields, expr);
      }
      if (all) return std::nullopt;
    }
    return kReason;
  }

 private:
  static constexpr const char* kReason = "node(s) didn't match Pod's node affinity/selector";
};

class TaintToleration : public FilterPlugin {
 public:
  std::string Name() const override { return "TaintToleration"; }
  std::optional<std::string> Filter(const json& pod, const Resources&,
                                    const NodeInfo& node) const override {
    const json& taints = Field(Field(node.node, "spec"), "taints");
    if (!taints.is_array()) return std::nullopt;
    for (const json& taint : taints) {
      std::string effect = Str(taint, "effect");
      if (effect != "NoSchedule" && effect != "NoExecute") continue;
      if (Tolerates(pod, taint)) continue;
      std::string kv = Str(taint, "key");
      if (!Str(taint, "value").empty()) kv += ": " + Str(taint, "value");
      return "node(s) had untolerated taint {" + kv + "}";
    }
    return std::nullopt;
  }
};

class NodeResourcesFit : public FilterPlugin {
 public:
  std::string Name() const override { return "NodeResourcesFit"; }
  std::optional<std::string> Filter(const json&, const Resources& req,
                                    const NodeInfo& node) const override {
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
      if (amount <= 0) continue;
      auto have = a.scalar.find(name);
      auto taken = used.scalar.find(name);
      int64_t free = (have == a.scalar.end() ? 0 : have->second) -
                     (taken == used.scalar.end() ? 0 : taken->second);
      if (amount > free) return "Insufficient " + name;
    }
    return std::nullopt;
  }
};

// The fraction of cpu and memory left free after placing the pod.
std::pair<double, double> FreeFractions(const Resources& req, const NodeInfo& node) {
  auto frac = [](int64_t used, int64_t want, int64_t have) {
    if (have <= 0) return 0.0;
    return std::max(0.0, 1.0 - static_cast<double>(used + want) / static_cast<double>(have));
  };
  int64_t cpu = req.milli_cpu > 0 ? req.milli_cpu : kDefaultMilliCpu;
  int64_t mem = req.memory > 0 ? req.memory : kDefaultMemory;
  return {frac(node.requested.milli_cpu, cpu, node.allocatable.milli_cpu),
          frac(node.requested.memory, mem, node.allocatable.memory)};
}

class LeastAllocated : public ScorePlugin {
 public:
  std::string Name() const override { return "NodeResourcesLeastAllocated"; }
  int64_t Score(const json&, const Resources& req, const NodeInfo& node) const override {
    auto [cpu, mem] = FreeFractions(req, node);
    return static_cast<int64_t>(50.0 * (cpu + mem));
  }
};

class BalancedAllocation : public ScorePlugin {
 public:
  std::string Name() const override { return "NodeResourcesBalancedAllocation"; }
  int64_t Score(const json&, const Resources& req, const NodeInfo& node) const override {
    auto [cpu, mem] = FreeFractions(req, node);
    return static_cast<int64_t>(100.0 * (1.0 - std::abs(cpu - mem)));
  }
};

}  // namespace

void Resources::Add(const Resources& other) {
  milli_cpu += other.milli_cpu;
  memory += other.memory;
  ephemeral_storage += other.ephemeral_storage;
  pods += other.pods;
  for (const auto& [k, v] : other.scalar) scalar[k] += v;
}

Resources PodRequests(const json& pod) {
  const json& spec = Field(pod, "spec");
  Resources sum;
  for (const json& c :
       Field(spec, "containers").is_array() ? Field(spec, "containers") : json::array()) {
    sum.Add(FromList(Field(Field(c, "resources"), "requests")));
  }
  for (const json& c :
       Field(spec, "initContainers").is_array() ? Field(spec, "initContainers") : json::array()) {
    Max(sum, FromList(Field(Field(c, "resources"), "requests")));
  }
  sum.pods = 1;
  return sum;
}

Resources NodeAllocatable(const json& node) {
  return FromList(Field(Field(node, "status"), "allocatable"));
}

std::vector<std::unique_ptr<FilterPlugin>> DefaultFilters() {
  std::vector<std::unique_ptr<FilterPlugin>> out;
  // kube-scheduler's order: a node is reported by the first filter it fails.
  out.push_back(std::make_unique<NodeUnschedulable>());
  out.push_back(std::make_unique<TaintToleration>());
  out.push_back(std::make_unique<NodeAffinity>());
  out.push_back(std::make_unique<NodeResourcesFit>());
  return out;
}

std::vector<std::unique_ptr<ScorePlugin>> DefaultScores() {
  std::vector<std::unique_ptr<ScorePlugin>> out;
  out.push_back(std::make_unique<LeastAllocated>());
  out.push_back(std::make_unique<BalancedAllocation>());
  return out;
}

Placement Place(const json& pod, const std::vector<NodeInfo>& nodes,
                const std::vector<std::unique_ptr<FilterPlugin>>& filters,
                const std::vector<std::unique_ptr<ScorePlugin>>& scores) {
  const Resources request = PodRequests(pod);
  std::map<std::string, int> reasons;
  const NodeInfo* best = nullptr;
  int64_t best_score = -1;
  for (const NodeInfo& node : nodes) {
    std::optional<std::string> reason;
    for (const auto& f : filters) {
      reason = f->Filter(pod, request, node);
      if (reason) break;
    }
    if (reason) {
      ++reasons[*reason];
      continue;
    }
    int64_t total = 0;
    for (const auto& s : scores) total += s->Score(pod, request, node) * s->Weight();
    if (total > best_score || (total == best_score && best && node.name < best->name)) {
      best = &node;
      best_score = total;
    }
  }
  Placement out;
  if (best != nullptr) {
    out.node = best->name;
    return out;
  }
  out.message = std::to_string(0) + "/" + std::to_string(nodes.size()) + " nodes are available";
  if (reasons.empty()) {
    out.message += ".";
    return out;
  }
  // Kubernetes lists the reasons sorted by their text, each with its count.
  out.message += ": ";
  bool first = true;
  for (const auto& [reason, count] : reasons) {
    if (!first) out.message += ", ";
    out.message += std::to_string(count) + " " + reason;
    first = false;
  }
  out.message += ".";
  return out;
}

}  // namespace kennel::scheduler
