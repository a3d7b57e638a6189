#include "api/registry.h"

#include <cctype>

namespace kennel::api {
namespace {

std::vector<ResourceInfo> BuildRegistry() {
  using V = std::vector<std::string>;
  const V all = {"all"};
  std::vector<ResourceInfo> r;
  auto add = [&](std::string group, std::string kind, std::string resource, bool namespaced,
                 V short_names, V categories, bool status, bool scale) {
    ResourceInfo info;
    info.group = std::move(group);
    info.version = "v1";
    info.kind = std::move(kind);
    info.resource = std::move(resource);
    info.singular.reserve(info.kind.size());
    for (char c : info.kind) info.singular += static_cast<char>(std::tolower(c));
    info.namespaced = namespaced;
    info.short_names = std::move(short_names);
    info.categories = std::move(categories);
    info.status_subresource = status;
    info.scale_subresource = scale;
    r.push_back(std::move(info));
  };
  add("", "Namespace", "namespaces", false, {"ns"}, {}, true, false);
  add("", "Pod", "pods", true, {"po"}, all, true, false);
  add("", "Service", "services", true, {"svc"}, all, true, false);
  add("", "Endpoints", "endpoints", true, {"ep"}, {}, false, false);
  add("", "ConfigMap", "configmaps", true, {"cm"}, {}, false, false);
  add("", "Secret", "secrets", true, {}, {}, false, false);
  add("", "Node", "nodes", false, {"no"}, {}, true, false);
  add("", "Event", "events", true, {"ev"}, {}, false, false);
  add("", "PersistentVolume", "persistentvolumes", false, {"pv"}, {}, true, false);
  add("", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"}, {}, true, false);
  add("", "ServiceAccount", "serviceaccounts", true, {"sa"}, {}, false, false);
  add("apps", "StatefulSet", "statefulsets", true, {"sts"}, all, true, true);
  add("apps", "Deployment", "deployments", true, {"deploy"}, all, true, true);
  add("apps", "ReplicaSet", "replicasets", true, {"rs"}, all, true, true);
  add("apps", "ControllerRevision", "controllerrevisions", true, {}, {}, false, false);
  add("storage.k8s.io", "StorageClass", "storageclasses", false, {"sc"}, {}, false, false);
  add("coordination.k8s.io", "Lease", "leases", true, {}, {}, false, false);
  add("scheduling.k8s.io", "PriorityClass", "priorityclasses", false, {"pc"}, {}, false, false);
  return r;
}

}  // namespace

const std::vector<ResourceInfo>& AllResources() {
  static const std::vector<ResourceInfo> registry = BuildRegistry();
  return registry;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view resource) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.version == version && r.resource == resource) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindKind(std::string_view group, std::string_view kind) {
  for (const auto& r : AllResources()) {
    if (r.group == group && r.kind == kind) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindByApiVersionKind(std::string_view api_version, std::string_view kind) {
  for (const auto& r : AllResources()) {
    if (r.ApiVersion() == api_version && r.kind == kind) return &r;
  }
  return nullptr;
}

std::vector<GroupVersion> ServedGroupVersions() {
  std::vector<GroupVersion> out;
  for (const auto& r : AllResources()) {
    bool seen = false;
    for (const auto& gv : out) seen = seen || (gv.group == r.group && gv.version == r.version);
    if (!seen) out.push_back({r.group, r.version});
  }
  return out;
}

}  // namespace kennel::api
