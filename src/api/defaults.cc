#include "api/defaults.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "api/quantity.h"

namespace kennel::api {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Small accessors. Every one tolerates a parent that is not an object and a
// child of the wrong type, so defaulting never throws on malformed input.

bool IsUnset(const json& o, const char* key) {
  if (!o.is_object()) return false;
  auto it = o.find(key);
  return it == o.end() || it->is_null();
}

// Kubernetes' string fields are plain strings, so "" means unset.
bool IsBlank(const json& o, const char* key) {
  if (IsUnset(o, key)) return o.is_object();
  auto it = o.find(key);
  return it->is_string() && it->get_ref<const std::string&>().empty();
}

// Non-pointer integers (probe timings) are unset when 0.
bool IsZero(const json& o, const char* key) {
  if (IsUnset(o, key)) return o.is_object();
  auto it = o.find(key);
  return it->is_number() && it->get<double>() == 0;
}

void DefaultIfUnset(json& o, const char* key, json value) {
  if (IsUnset(o, key)) o[key] = std::move(value);
}
void DefaultIfBlank(json& o, const char* key, json value) {
  if (IsBlank(o, key)) o[key] = std::move(value);
}
void DefaultIfZero(json& o, const char* key, json value) {
  if (IsZero(o, key)) o[key] = std::move(value);
}

std::string Str(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// The object at o[key], created as {} when unset; nullptr when o[key] holds
// something else (validation reports it).
json* Ensure(json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  if (IsUnset(o, key)) o[key] = json::object();
  json& child = o[key];
  return child.is_object() ? &child : nullptr;
}

// The object at o[key] if there is one.
json* Child(json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it != o.end() && it->is_object() ? &*it : nullptr;
}

template <typename F>
void ForEachObject(json& o, const char* key, F&& f) {
  if (!o.is_object()) return;
  auto it = o.find(key);
  if (it == o.end() || !it->is_array()) return;
  for (auto& item : *it) {
    if (item.is_object()) f(item);
  }
}

// ---------------------------------------------------------------------------
// PodSpec.

void DefaultHttpGet(json& holder) {
  if (json* get = Child(holder, "httpGet")) {
    DefaultIfBlank(*get, "path", "/");
    DefaultIfBlank(*get, "scheme", "HTTP");
  }
}

void DefaultProbe(json& c, const char* key) {
  json* probe = Child(c, key);
  if (probe == nullptr) return;
  DefaultIfZero(*probe, "timeoutSeconds", 1);
  DefaultIfZero(*probe, "periodSeconds", 10);
  DefaultIfZero(*probe, "successThreshold", 1);
  DefaultIfZero(*probe, "failureThreshold", 3);
  DefaultHttpGet(*probe);
  if (json* grpc = Child(*probe, "grpc")) DefaultIfUnset(*grpc, "service", "");
}

void DefaultFieldRef(json& holder) {
  if (json* ref = Child(holder, "fieldRef")) DefaultIfBlank(*ref, "apiVersion", "v1");
  // A zero resource.Quantity still serializes, as "0".
  if (json* ref = Child(holder, "resourceFieldRef")) DefaultIfUnset(*ref, "divisor", "0");
}

// Pod (not template) containers get requests from limits where missing.
void DefaultRequestsFromLimits(json& resources) {
  json* limits = Child(resources, "limits");
  if (limits == nullptr || limits->empty()) return;
  json* requests = Ensure(resources, "requests");
  if (requests == nullptr) return;
  for (const auto& [name, quantity] : limits->items()) {
    if (!requests->contains(name)) (*requests)[name] = quantity;
  }
}

enum class SpecOwner { kPod, kTemplate };

void DefaultContainer(json& c, SpecOwner owner, bool host_network) {
  DefaultIfBlank(c, "terminationMessagePath", "/dev/termination-log");
  DefaultIfBlank(c, "terminationMessagePolicy", "File");
  DefaultIfBlank(c, "imagePullPolicy", DefaultImagePullPolicy(Str(c, "image")));
  if (json* resources = Ensure(c, "resources"); resources && owner == SpecOwner::kPod) {
    DefaultRequestsFromLimits(*resources);
  }
  ForEachObject(c, "ports", [&](json& port) {
    DefaultIfBlank(port, "protocol", "TCP");
    // With the host's network the container port is the host port.
    if (host_network && owner == SpecOwner::kPod && IsZero(port, "hostPort") &&
        port.contains("containerPort")) {
      port["hostPort"] = port["containerPort"];
    }
  });
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    DefaultProbe(c, probe);
  }
  if (json* lifecycle = Child(c, "lifecycle")) {
    for (const char* hook : {"postStart", "preStop"}) {
      if (json* h = Child(*lifecycle, hook)) DefaultHttpGet(*h);
    }
  }
  ForEachObject(c, "env", [](json& env) {
    if (json* from = Child(env, "valueFrom")) DefaultFieldRef(*from);
  });
}

void DefaultPvcSpec(json& spec) { DefaultIfUnset(spec, "volumeMode", "Filesystem"); }

void DefaultDownwardApiItems(json& holder) {
  ForEachObject(holder, "items", [](json& item) { DefaultFieldRef(item); });
}

void DefaultVolume(json& v) {
  bool has_source = false;
  for (const auto& [key, value] : v.items()) {
    if (key != "name" && !value.is_null()) has_source = true;
  }
  if (!has_source) v["emptyDir"] = json::object();
  for (const char* source : {"secret", "configMap", "downwardAPI", "projected"}) {
    if (json* s = Child(v, source)) DefaultIfUnset(*s, "defaultMode", 420);
  }
  if (json* host_path = Child(v, "hostPath")) DefaultIfUnset(*host_path, "type", "");
  if (json* downward = Child(v, "downwardAPI")) DefaultDownwardApiItems(*downward);
  if (json* projected = Child(v, "projected")) {
    ForEachObject(*projected, "sources", [](json& src) {
      if (json* downward = Child(src, "downwardAPI")) DefaultDownwardApiItems(*downward);
      if (json* token = Child(src, "serviceAccountToken")) {
        DefaultIfUnset(*token, "expirationSeconds", 3600);
      }
    });
  }
  if (json* ephemeral = Child(v, "ephemeral")) {
    if (json* tpl = Child(*ephemeral, "volumeClaimTemplate")) {
      if (json* spec = Child(*tpl, "spec")) DefaultPvcSpec(*spec);
    }
  }
}

// serviceAccount is the deprecated alias of serviceAccountName; the API
// server reads either and always writes both.
void DefaultServiceAccount(json& spec, SpecOwner owner) {
  std::string name = Str(spec, "serviceAccountName");
  if (name.empty()) name = Str(spec, "serviceAccount");
  // The ServiceAccount admission plugin, which sees Pods only.
  if (name.empty() && owner == SpecOwner::kPod) name = "default";
  if (name.empty()) {
    spec.erase("serviceAccount");
    return;
  }
  spec["serviceAccountName"] = name;
  spec["serviceAccount"] = name;
}

void DefaultPodSpec(json& spec, SpecOwner owner) {
  if (!spec.is_object()) return;
  DefaultIfBlank(spec, "dnsPolicy", "ClusterFirst");
  DefaultIfBlank(spec, "restartPolicy", "Always");
  DefaultIfUnset(spec, "securityContext", json::object());
  DefaultIfUnset(spec, "terminationGracePeriodSeconds", 30);
  DefaultIfBlank(spec, "schedulerName", "default-scheduler");
  DefaultServiceAccount(spec, owner);
  if (owner == SpecOwner::kPod) DefaultIfUnset(spec, "enableServiceLinks", true);
  bool host_network = spec.value("hostNetwork", json(false)) == json(true);
  for (const char* list : {"containers", "initContainers"}) {
    ForEachObject(spec, list, [&](json& c) { DefaultContainer(c, owner, host_network); });
  }
  ForEachObject(spec, "volumes", DefaultVolume);
}

void DefaultTemplate(json& spec) {
  if (json* tpl = Child(spec, "template")) {
    if (json* pod_spec = Child(*tpl, "spec")) DefaultPodSpec(*pod_spec, SpecOwner::kTemplate);
  }
}

// ---------------------------------------------------------------------------
// Kinds.

void DefaultPod(json& pod) {
  if (json* spec = Child(pod, "spec")) DefaultPodSpec(*spec, SpecOwner::kPod);
  // The Pod create strategy starts every Pod Pending with its QoS class.
  json* status = Ensure(pod, "status");
  if (status == nullptr) return;
  DefaultIfBlank(*status, "phase", "Pending");
  DefaultIfBlank(*status, "qosClass", PodQosClass(pod));
}

void DefaultVolumeClaimTemplate(json& pvc) {
  DefaultIfBlank(pvc, "apiVersion", "v1");
  DefaultIfBlank(pvc, "kind", "PersistentVolumeClaim");
  if (json* spec = Ensure(pvc, "spec")) DefaultPvcSpec(*spec);
  if (json* status = Ensure(pvc, "status")) DefaultIfBlank(*status, "phase", "Pending");
}

void DefaultStatefulSet(json& sts) {
  if (json* spec = Child(sts, "spec")) {
    DefaultIfUnset(*spec, "replicas", 1);
    DefaultIfBlank(*spec, "podManagementPolicy", "OrderedReady");
    if (json* strategy = Ensure(*spec, "updateStrategy")) {
      // Only a strategy whose type was defaulted gets a rollingUpdate block;
      // an explicit RollingUpdate without one keeps none.
      if (IsBlank(*strategy, "type")) {
        (*strategy)["type"] = "RollingUpdate";
        DefaultIfUnset(*strategy, "rollingUpdate", json::object());
      }
      json* rolling = Child(*strategy, "rollingUpdate");
      if (Str(*strategy, "type") == "RollingUpdate" && rolling != nullptr) {
        DefaultIfUnset(*rolling, "partition", 0);
      }
    }
    DefaultIfUnset(*spec, "revisionHistoryLimit", 10);
    if (json* retention = Ensure(*spec, "persistentVolumeClaimRetentionPolicy")) {
      DefaultIfBlank(*retention, "whenDeleted", "Retain");
      DefaultIfBlank(*retention, "whenScaled", "Retain");
    }
    DefaultTemplate(*spec);
    ForEachObject(*spec, "volumeClaimTemplates", DefaultVolumeClaimTemplate);
  }
  // replicas and availableReplicas are serialized even when zero.
  if (json* status = Ensure(sts, "status")) {
    DefaultIfUnset(*status, "replicas", 0);
    DefaultIfUnset(*status, "availableReplicas", 0);
  }
}

void DefaultDeployment(json& deploy) {
  json* spec = Child(deploy, "spec");
  if (spec == nullptr) return;
  DefaultIfUnset(*spec, "replicas", 1);
  if (json* strategy = Ensure(*spec, "strategy")) {
    DefaultIfBlank(*strategy, "type", "RollingUpdate");
    if (Str(*strategy, "type") == "RollingUpdate") {
      if (json* rolling = Ensure(*strategy, "rollingUpdate")) {
        DefaultIfUnset(*rolling, "maxUnavailable", "25%");
        DefaultIfUnset(*rolling, "maxSurge", "25%");
      }
    }
  }
  DefaultIfUnset(*spec, "revisionHistoryLimit", 10);
  DefaultIfUnset(*spec, "progressDeadlineSeconds", 600);
  DefaultTemplate(*spec);
}

void DefaultReplicaSet(json& rs) {
  if (json* spec = Child(rs, "spec")) {
    DefaultIfUnset(*spec, "replicas", 1);
    DefaultTemplate(*spec);
  }
  if (json* status = Ensure(rs, "status")) DefaultIfUnset(*status, "replicas", 0);
}

void DefaultServicePorts(json& spec) {
  ForEachObject(spec, "ports", [](json& port) {
    DefaultIfBlank(port, "protocol", "TCP");
    const json target = port.value("targetPort", json());
    bool unset = target.is_null() || target == json(0) || target == json("");
    if (unset && port.contains("port")) port["targetPort"] = port["port"];
  });
}

void DefaultServiceSessionAffinity(json& spec) {
  DefaultIfBlank(spec, "sessionAffinity", "None");
  std::string affinity = Str(spec, "sessionAffinity");
  if (affinity == "None") {
    spec.erase("sessionAffinityConfig");
  } else if (affinity == "ClientIP") {
    json* config = Ensure(spec, "sessionAffinityConfig");
    json* client_ip = config ? Ensure(*config, "clientIP") : nullptr;
    if (client_ip != nullptr) DefaultIfUnset(*client_ip, "timeoutSeconds", 10800);
  }
}

// Kennel is a single-stack cluster; the allocator fills clusterIP later and
// this mirror keeps clusterIP and clusterIPs[0] in step either way.
void DefaultServiceIpFamilies(json& spec) {
  std::string cluster_ip = Str(spec, "clusterIP");
  const json ips = spec.value("clusterIPs", json());
  if (!cluster_ip.empty() && (ips.is_null() || ips.empty())) {
    spec["clusterIPs"] = json::array({cluster_ip});
  } else if (cluster_ip.empty() && ips.is_array() && !ips.empty() && ips[0].is_string()) {
    cluster_ip = ips[0].get<std::string>();
    spec["clusterIP"] = cluster_ip;
  }
  DefaultIfBlank(spec, "ipFamilyPolicy", "SingleStack");
  const json families = spec.value("ipFamilies", json());
  if (families.is_null() || families.empty()) {
    bool v6 = cluster_ip.find(':') != std::string::npos;
    spec["ipFamilies"] = json::array({v6 ? "IPv6" : "IPv4"});
  }
}

void DefaultService(json& svc) {
  json* spec = Child(svc, "spec");
  if (spec == nullptr) return;
  DefaultServiceSessionAffinity(*spec);
  DefaultIfBlank(*spec, "type", "ClusterIP");
  DefaultServicePorts(*spec);
  std::string type = Str(*spec, "type");
  const json external_ips = spec->value("externalIPs", json());
  bool externally_reachable =
      type == "NodePort" || type == "LoadBalancer" ||
      (type == "ClusterIP" && external_ips.is_array() && !external_ips.empty());
  if (externally_reachable) DefaultIfBlank(*spec, "externalTrafficPolicy", "Cluster");
  if (type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer") {
    DefaultIfUnset(*spec, "internalTrafficPolicy", "Cluster");
    DefaultServiceIpFamilies(*spec);
  }
  if (type == "LoadBalancer") DefaultIfUnset(*spec, "allocateLoadBalancerNodePorts", true);
}

void DefaultEndpoints(json& ep) {
  ForEachObject(ep, "subsets", [](json& subset) {
    ForEachObject(subset, "ports", [](json& port) { DefaultIfBlank(port, "protocol", "TCP"); });
  });
}

void DefaultPvc(json& pvc) {
  if (json* spec = Child(pvc, "spec")) DefaultPvcSpec(*spec);
  if (json* status = Ensure(pvc, "status")) DefaultIfBlank(*status, "phase", "Pending");
}

void DefaultPv(json& pv) {
  if (json* spec = Child(pv, "spec")) {
    DefaultIfBlank(*spec, "persistentVolumeReclaimPolicy", "Retain");
    DefaultIfUnset(*spec, "volumeMode", "Filesystem");
    if (json* host_path = Child(*spec, "hostPath")) DefaultIfUnset(*host_path, "type", "");
  }
  if (json* status = Ensure(pv, "status")) DefaultIfBlank(*status, "phase", "Pending");
}

void DefaultNamespace(json& ns) {
  json* meta = Child(ns, "metadata");
  std::string name = meta ? Str(*meta, "name") : "";
  // Overwritten, not defaulted: the label always tells the truth.
  if (!name.empty()) {
    if (json* labels = Ensure(*meta, "labels")) (*labels)["kubernetes.io/metadata.name"] = name;
  }
  if (json* status = Ensure(ns, "status")) DefaultIfBlank(*status, "phase", "Active");
}

void DefaultSecret(json& secret) { DefaultIfBlank(secret, "type", "Opaque"); }

void DefaultNode(json& node) {
  json* status = Child(node, "status");
  if (status == nullptr || IsUnset(*status, "capacity")) return;
  DefaultIfUnset(*status, "allocatable", (*status)["capacity"]);
}

void DefaultStorageClass(json& sc) {
  DefaultIfUnset(sc, "reclaimPolicy", "Delete");
  DefaultIfUnset(sc, "volumeBindingMode", "Immediate");
}

// value is a plain int32 that Kubernetes' JSON always carries (0 when the
// client left it out); preemptionPolicy is a pointer, so only absence is unset.
void DefaultPriorityClass(json& pc) {
  DefaultIfUnset(pc, "value", 0);
  DefaultIfUnset(pc, "preemptionPolicy", "PreemptLowerPriority");
}

// Not defaults in Kubernetes, but fields its JSON always carries.
void DefaultEvent(json& ev) {
  DefaultIfUnset(ev, "reportingComponent", "");
  DefaultIfUnset(ev, "reportingInstance", "");
  DefaultIfUnset(ev, "source", json::object());
}

using Defaulter = void (*)(json&);

Defaulter FindDefaulter(std::string_view api_version, std::string_view kind) {
  static const std::map<std::pair<std::string_view, std::string_view>, Defaulter> kTable = {
      {{"v1", "Pod"}, DefaultPod},
      {{"v1", "Service"}, DefaultService},
      {{"v1", "Endpoints"}, DefaultEndpoints},
      {{"v1", "PersistentVolumeClaim"}, DefaultPvc},
      {{"v1", "PersistentVolume"}, DefaultPv},
      {{"v1", "Namespace"}, DefaultNamespace},
      {{"v1", "Secret"}, DefaultSecret},
      {{"v1", "Node"}, DefaultNode},
      {{"v1", "Event"}, DefaultEvent},
      {{"apps/v1", "StatefulSet"}, DefaultStatefulSet},
      {{"apps/v1", "Deployment"}, DefaultDeployment},
      {{"apps/v1", "ReplicaSet"}, DefaultReplicaSet},
      {{"storage.k8s.io/v1", "StorageClass"}, DefaultStorageClass},
      {{"scheduling.k8s.io/v1", "PriorityClass"}, DefaultPriorityClass},
  };
  auto it = kTable.find({api_version, kind});
  return it == kTable.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------------------
// Create-only.

bool Tolerates(const json& spec, std::string_view taint_key) {
  const json tolerations = spec.value("tolerations", json());
  if (!tolerations.is_array()) return false;
  for (const auto& t : tolerations) {
    if (!t.is_object()) continue;
    std::string key = Str(t, "key");
    std::string effect = Str(t, "effect");
    if ((key.empty() || key == taint_key) && (effect.empty() || effect == "NoExecute")) {
      return true;
    }
  }
  return false;
}

void AddDefaultTolerations(json& spec) {
  for (const char* taint : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    if (Tolerates(spec, taint)) continue;
    if (IsUnset(spec, "tolerations")) spec["tolerations"] = json::array();
    if (!spec["tolerations"].is_array()) return;
    spec["tolerations"].push_back({{"key", taint},
                                   {"operator", "Exists"},
                                   {"effect", "NoExecute"},
                                   {"tolerationSeconds", 300}});
  }
}

void CreateDefaults(json& obj, std::string_view api_version, std::string_view kind) {
  if (api_version == "v1" && kind == "Namespace") {
    json* spec = Ensure(obj, "spec");
    if (spec == nullptr) return;
    if (IsUnset(*spec, "finalizers")) (*spec)["finalizers"] = json::array();
    json& finalizers = (*spec)["finalizers"];
    if (finalizers.is_array() &&
        std::find(finalizers.begin(), finalizers.end(), json("kubernetes")) == finalizers.end()) {
      finalizers.push_back("kubernetes");
    }
  } else if (api_version == "v1" && kind == "Pod") {
    if (json* spec = Child(obj, "spec")) {
      AddDefaultTolerations(*spec);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------

std::string DefaultImagePullPolicy(const std::string& image) {
  // An image that does not parse has no tag, which is not "latest".
  if (image.empty()) return "IfNotPresent";
  std::string_view ref = image;
  auto at = ref.find('@');
  bool has_digest = at != std::string_view::npos;
  ref = ref.substr(0, at);
  // A ':' before the last '/' belongs to a registry host:port, not a tag.
  auto slash = ref.rfind('/');
  std::string_view last = slash == std::string_view::npos ? ref : ref.substr(slash + 1);
  auto colon = last.rfind(':');
  std::string_view tag = colon == std::string_view::npos ? "" : last.substr(colon + 1);
  if (tag.empty() && !has_digest) tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

std::string PodQosClass(const json& pod) {
  std::map<std::string, int64_t> requests;
  std::map<std::string, int64_t> limits;
  bool guaranteed = true;
  auto add_positive = [](const json& list, std::map<std::string, int64_t>& sum,
                         std::set<std::string>* found) {
    if (!list.is_object()) return;
    for (const auto& [name, q] : list.items()) {
      if (name != "cpu" && name != "memory") continue;
      // Exact milli-units, to compare requests with limits for the QoS class.
      auto v = QuantityMilliFromJson(q);
      if (!v || *v <= 0) continue;
      sum[name] += *v;
      if (found != nullptr) found->insert(name);
    }
  };
  const json spec = pod.is_object() ? pod.value("spec", json()) : json();
  for (const char* list : {"containers", "initContainers"}) {
    const json containers = spec.is_object() ? spec.value(list, json()) : json();
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      const json resources = c.is_object() ? c.value("resources", json()) : json();
      if (!resources.is_object()) {
        guaranteed = false;
        continue;
      }
      std::set<std::string> limits_found;
      add_positive(resources.value("requests", json()), requests, nullptr);
      add_positive(resources.value("limits", json()), limits, &limits_found);
      if (limits_found.size() != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed) {
    for (const auto& [name, req] : requests) {
      auto lim = limits.find(name);
      if (lim == limits.end() || lim->second != req) guaranteed = false;
    }
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

void ApplyDefaults(json& obj) {
  if (!obj.is_object()) return;
  try {
    Defaulter f = FindDefaulter(Str(obj, "apiVersion"), Str(obj, "kind"));
    if (f != nullptr) f(obj);
  } catch (const json::exception&) {
    // Only reachable with a shape the accessors did not foresee; validation
    // reports the bad field, so defaulting stops quietly.
  }
}

void ApplyCreateDefaults(json& obj) {
  ApplyDefaults(obj);
  if (!obj.is_object()) return;
  try {
    CreateDefaults(obj, Str(obj, "apiVersion"), Str(obj, "kind"));
  } catch (const json::exception&) {
    // As in ApplyDefaults.
  }
}

}  // namespace kennel::api
