#include "scheduler/framework.h"

#include <algorithm>

#include "api/json_access.h"
#include "api/quantity.h"
#include "base/time.h"
#include "scheduler/cache.h"

namespace kennel::scheduler {
namespace {

using api::Field;
using api::Str;

const json& ArrayOrEmpty(const json& v) {
  static const json empty = json::array();
  return v.is_array() ? v : empty;
}

int64_t Quantity(const json& v, bool milli) {
  return (milli ? api::QuantityMilliFromJson(v) : api::QuantityFromJson(v)).value_or(0);
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

// One affinity term of a pod: its selector (with matchLabelKeys folded in),
// namespaces (the pod's own unless it names others), topology key.
StatusOr<PodSelectorTerm> CompileTerm(const json& term, const PodInfo& pod, int64_t weight) {
  PodSelectorTerm out;
  json selector = Field(term, "labelSelector");
  const json& match_keys = Field(term, "matchLabelKeys");
  if (match_keys.is_array() && selector.is_object()) {
    for (const json& k : match_keys) {
      if (!k.is_string()) continue;
      const json& v = Field(pod.labels, k.get_ref<const std::string&>().c_str());
      if (v.is_string()) selector["matchLabels"][k.get<std::string>()] = v;
    }
  }
  auto parsed = api::LabelSelector::FromJson(selector);
  if (!parsed.ok()) return parsed.status();
  out.selector = *std::move(parsed);
  for (const json& ns : ArrayOrEmpty(Field(term, "namespaces"))) {
    if (ns.is_string()) out.namespaces.insert(ns.get<std::string>());
  }
  const json& ns_selector = Field(term, "namespaceSelector");
  // An empty namespaceSelector selects every namespace. One with
  // requirements would need namespace labels; Kennel treats it as the
  // pod's own namespace (documented in docs/architecture.md).
  if (ns_selector.is_object() && ns_selector.empty()) out.all_namespaces = true;
  if (out.namespaces.empty() && !out.all_namespaces) out.namespaces.insert(pod.ns);
  out.topology_key = Str(term, "topologyKey");
  out.weight = weight;
  out.identity = out.topology_key + "\x1f" + (out.all_namespaces ? "*" : "");
  for (const auto& ns : out.namespaces) out.identity += ns + ",";
  out.identity += '\x1f';
  out.identity += out.selector.ToString();
  if (out.selector.ToString().empty() && !out.selector.Empty()) out.identity += "<nothing>";
  return out;
}

// Compiles pod affinity (or anti-affinity) terms into required and preferred.
Status CompileAffinity(const json& affinity, PodInfo& pod, std::vector<PodSelectorTerm>& required,
                       std::vector<PodSelectorTerm>& preferred) {
  for (const json& t :
       ArrayOrEmpty(Field(affinity, "requiredDuringSchedulingIgnoredDuringExecution"))) {
    auto term = CompileTerm(t, pod, 1);
    if (!term.ok()) return term.status();
    required.push_back(*std::move(term));
  }
  for (const json& w :
       ArrayOrEmpty(Field(affinity, "preferredDuringSchedulingIgnoredDuringExecution"))) {
    const json& weight = Field(w, "weight");
    auto term = CompileTerm(Field(w, "podAffinityTerm"), pod,
                            weight.is_number_integer() ? weight.get<int64_t>() : 1);
    if (!term.ok()) return term.status();
    preferred.push_back(*std::move(term));
  }
  return Status::Ok();
}

Status CompileSpread(const json& constraints, PodInfo& pod) {
  for (const json& c : ArrayOrEmpty(constraints)) {
    json term = {{"labelSelector", Field(c, "labelSelector")},
                 {"topologyKey", Str(c, "topologyKey")}};
    if (Field(c, "matchLabelKeys").is_array()) term["matchLabelKeys"] = c["matchLabelKeys"];
    auto compiled = CompileTerm(term, pod, 1);
    if (!compiled.ok()) return compiled.status();
    SpreadConstraint s;
    s.term = *std::move(compiled);
    const json& skew = Field(c, "maxSkew");
    s.max_skew = skew.is_number_integer() ? std::max<int64_t>(1, skew.get<int64_t>()) : 1;
    s.hard = Str(c, "whenUnsatisfiable") != "ScheduleAnyway";
    const json& min_domains = Field(c, "minDomains");
    if (min_domains.is_number_integer()) s.min_domains = min_domains.get<int64_t>();
    s.honor_node_affinity = Str(c, "nodeAffinityPolicy") != "Ignore";
    s.honor_taints = Str(c, "nodeTaintsPolicy") == "Honor";
    pod.spread.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

void Resources::Add(const Resources& other) {
  milli_cpu += other.milli_cpu;
  memory += other.memory;
  ephemeral_storage += other.ephemeral_storage;
  pods += other.pods;
  for (const auto& [k, v] : other.scalar) scalar[k] += v;
}

void Resources::Subtract(const Resources& other) {
  milli_cpu -= other.milli_cpu;
  memory -= other.memory;
  ephemeral_storage -= other.ephemeral_storage;
  pods -= other.pods;
  for (const auto& [k, v] : other.scalar) scalar[k] -= v;
}

int64_t Resources::Scalar(const std::string& name) const {
  auto it = scalar.find(name);
  return it == scalar.end() ? 0 : it->second;
}

Resources PodRequests(const json& pod) {
  const json& spec = Field(pod, "spec");
  Resources sum;
  for (const json& c : ArrayOrEmpty(Field(spec, "containers"))) {
    sum.Add(FromList(Field(Field(c, "resources"), "requests")));
  }
  for (const json& c : ArrayOrEmpty(Field(spec, "initContainers"))) {
    Max(sum, FromList(Field(Field(c, "resources"), "requests")));
  }
  // Pod overhead (RuntimeClass) adds to what the pod takes from the node.
  sum.Add(FromList(Field(spec, "overhead")));
  sum.pods = 1;
  return sum;
}

Resources NodeAllocatable(const json& node) {
  return FromList(Field(Field(node, "status"), "allocatable"));
}

bool PodSelectorTerm::MatchesPod(const std::string& ns, const json& labels) const {
  if (!all_namespaces && namespaces.count(ns) == 0) return false;
  return selector.Matches(labels);
}

std::shared_ptr<const PodInfo> CompilePod(const json& pod) {
  auto info = std::make_shared<PodInfo>();
  const json& meta = Field(pod, "metadata");
  const json& spec = Field(pod, "spec");
  info->pod = pod;
  info->ns = Str(meta, "namespace");
  info->name = Str(meta, "name");
  info->key = info->ns + "/" + info->name;
  info->uid = Str(meta, "uid");
  info->node_name = Str(spec, "nodeName");
  if (Field(meta, "labels").is_object()) info->labels = meta["labels"];
  info->request = PodRequests(pod);
  const json& priority = Field(spec, "priority");
  if (priority.is_number_integer()) info->priority = priority.get<int64_t>();
  info->preempt_never = Str(spec, "preemptionPolicy") == "Never";
  std::string created = Str(meta, "creationTimestamp");
  info->created_ns = created.empty() ? 0 : ParseRfc3339(created);
  const json& affinity = Field(spec, "affinity");
  Status st = CompileAffinity(Field(affinity, "podAffinity"), *info, info->required_affinity,
                              info->preferred_affinity);
  if (st.ok()) {
    st = CompileAffinity(Field(affinity, "podAntiAffinity"), *info, info->required_anti_affinity,
                         info->preferred_anti_affinity);
  }
  if (st.ok()) st = CompileSpread(Field(spec, "topologySpreadConstraints"), *info);
  if (!st.ok()) info->error = st.message();
  for (const json& t : ArrayOrEmpty(Field(spec, "tolerations"))) {
    info->tolerations.push_back(
        {Str(t, "key"), Str(t, "value"), Str(t, "effect"), Str(t, "operator") == "Exists"});
  }
  info->has_node_constraints =
      Field(spec, "nodeSelector").is_object() || !Field(affinity, "nodeAffinity").is_null();
  for (const json& v : ArrayOrEmpty(Field(spec, "volumes"))) {
    std::string claim = Str(Field(v, "persistentVolumeClaim"), "claimName");
    if (!claim.empty()) info->claims.push_back(std::move(claim));
  }
  return info;
}

bool Toleration::Tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (exists) return key.empty() || key == taint.key;
  return key == taint.key && value == taint.value;
}

const std::string* NodeInfo::Label(const std::string& key) const {
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

NodeInfo CompileNode(const json& node) {
  NodeInfo info;
  info.node = node;
  info.name = Str(Field(node, "metadata"), "name");
  const json& labels = Field(Field(node, "metadata"), "labels");
  if (labels.is_object()) info.labels = labels;
  info.allocatable = NodeAllocatable(node);
  const json& spec = Field(node, "spec");
  const json& unschedulable = Field(spec, "unschedulable");
  info.unschedulable = unschedulable.is_boolean() && unschedulable.get<bool>();
  for (const json& t : ArrayOrEmpty(Field(spec, "taints"))) {
    info.taints.push_back({Str(t, "key"), Str(t, "value"), Str(t, "effect")});
  }
  return info;
}

std::string UnschedulableMessage(size_t total_nodes, const std::map<std::string, int>& reasons) {
  std::string out = "0/" + std::to_string(total_nodes) + " nodes are available";
  if (reasons.empty()) return out + ".";
  // Kubernetes lists the reasons sorted by their text, each with its count.
  out += ": ";
  bool first = true;
  for (const auto& [reason, count] : reasons) {
    if (!first) out += ", ";
    out += std::to_string(count) + " " + reason;
    first = false;
  }
  return out + ".";
}

std::string UnschedulableMessage(const Placement& placement) {
  if (placement.prefilter_reason) {
    return "0/" + std::to_string(placement.total_nodes) +
           " nodes are available: " + *placement.prefilter_reason + ".";
  }
  std::map<std::string, int> reasons;
  for (const auto& f : placement.failures) ++reasons[f.reason];
  return UnschedulableMessage(placement.total_nodes, reasons);
}

Framework::Framework(std::vector<std::unique_ptr<Plugin>> plugins, FrameworkOptions options)
    : options_(std::move(options)) {
  for (auto& p : plugins) {
    std::string name(p->Name());
    Entry e;
    if (options_.enabled) {
      e.filters = options_.enabled("filter", name) && options_.enabled("preFilter", name);
      e.scores = options_.enabled("score", name);
      if (!e.filters && !e.scores) continue;
    }
    e.weight = p->DefaultWeight();
    auto w = options_.score_weights.find(name);
    if (w != options_.score_weights.end()) e.weight = w->second;
    e.plugin = std::move(p);
    plugins_.push_back(std::move(e));
  }
}

int Framework::NumFeasibleNodesToFind(int n) const {
  // kube-scheduler's rule: below 100 nodes look at all; otherwise a
  // percentage that shrinks as the cluster grows (50% minus 1% per 125
  // nodes, at least 5%), but never fewer than 100 nodes.
  constexpr int kMinFeasible = 100;
  if (n < kMinFeasible) return n;
  int pct = options_.percentage_of_nodes_to_score;
  if (pct <= 0) pct = std::max(5, 50 - n / 125);
  if (pct >= 100) return n;
  int found = static_cast<int>(static_cast<int64_t>(n) * pct / 100);
  return std::max(found, kMinFeasible);
}

bool Framework::RunPreFilter(const CycleContext& ctx, std::string* reason, bool* awaits_claim) {
  if (!ctx.pod.error.empty()) {
    *reason = ctx.pod.error;
    return false;
  }
  bool ok = true;
  for (auto& e : plugins_) {
    Plugin::PreFilterResult r = e.plugin->PreFilter(ctx);
    e.filter_active = r.filter && e.filters;
    e.score_active = r.score && e.scores && e.weight > 0;
    if (r.reason && e.filters && ok) {
      *reason = *r.reason;
      *awaits_claim = r.awaits_claim;
      ok = false;
    }
  }
  return ok;
}

std::optional<std::string> Framework::RunFilters(const CycleContext& ctx, const NodeInfo& node) {
  for (const auto& e : plugins_) {
    if (!e.filter_active) continue;
    if (auto reason = e.plugin->Filter(ctx, node)) return reason;
  }
  return std::nullopt;
}

Placement Framework::Schedule(const CycleContext& ctx) {
  Placement out;
  const std::vector<NodeInfo*>& nodes = ctx.cache.Nodes();
  out.total_nodes = nodes.size();
  std::string reason;
  if (!RunPreFilter(ctx, &reason, &out.awaits_claim)) {
    out.prefilter_reason = reason;
    return out;
  }
  if (nodes.empty()) return out;
  const size_t want = static_cast<size_t>(NumFeasibleNodesToFind(static_cast<int>(nodes.size())));
  std::vector<const NodeInfo*> feasible;
  size_t start = next_start_ % nodes.size();
  size_t visited = 0;
  for (; visited < nodes.size() && feasible.size() < want; ++visited) {
    const NodeInfo* node = nodes[(start + visited) % nodes.size()];
    bool failed = false;
    for (const auto& e : plugins_) {
      if (!e.filter_active) continue;
      if (auto why = e.plugin->Filter(ctx, *node)) {
        out.failures.push_back({node->name, *why, e.plugin->PreemptionCanHelp()});
        failed = true;
        break;
      }
    }
    if (!failed) feasible.push_back(node);
  }
  // The next pod starts where this one stopped, so every node gets its turn.
  next_start_ = (start + visited) % nodes.size();
  out.feasible = std::move(feasible);
  return out;
}

std::string Framework::SelectHost(const CycleContext& ctx,
                                  const std::vector<const NodeInfo*>& nodes,
                                  const std::map<std::string, int64_t>& extra) {
  std::vector<int64_t> total(nodes.size(), 0);
  std::vector<int64_t> scores(nodes.size());
  for (const auto& e : plugins_) {
    if (!e.score_active) continue;
    for (size_t i = 0; i < nodes.size(); ++i) scores[i] = e.plugin->Score(ctx, *nodes[i]);
    e.plugin->Normalize(scores);
    for (size_t i = 0; i < nodes.size(); ++i) total[i] += scores[i] * e.weight;
  }
  if (!extra.empty()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto it = extra.find(nodes[i]->name);
      if (it != extra.end()) total[i] += it->second;
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < nodes.size(); ++i) {
    if (total[i] > total[best] || (total[i] == total[best] && nodes[i]->name < nodes[best]->name)) {
      best = i;
    }
  }
  return nodes[best]->name;
}

void Framework::Reserve(const CycleContext& ctx, ClusterCache& cache, const std::string& node) {
  for (auto& e : plugins_) e.plugin->Reserve(ctx, cache, node);
}

}  // namespace kennel::scheduler
