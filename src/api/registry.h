// The registry of kinds Kennel serves: one table that drives routing,
// discovery, short names, categories, printing and validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kennel::api {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string kind;      // "StatefulSet"
  std::string resource;  // "statefulsets" (plural, lower case)
  std::string singular;  // "statefulset"
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool status_subresource = false;  // has a separate /status
  bool scale_subresource = false;   // has /scale (autoscaling/v1 Scale)

  // "apps/v1" or, for the core group, "v1".
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ListKind() const { return kind + "List"; }
  // "statefulsets.apps" or "pods": the qualified resource in error messages.
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
  // "StatefulSet.apps" or "Pod": the qualified kind in Invalid messages.
  std::string GroupKind() const { return group.empty() ? kind : kind + "." + group; }
};

// Every served resource, in a stable order.
const std::vector<ResourceInfo>& AllResources();

// nullptr when not served.
const ResourceInfo* FindResource(std::string_view group, std::string_view version,
                                 std::string_view resource);
const ResourceInfo* FindKind(std::string_view group, std::string_view kind);
// By apiVersion ("apps/v1", "v1") and kind, as written in an object.
const ResourceInfo* FindByApiVersionKind(std::string_view api_version, std::string_view kind);

// The served group-versions, e.g. {"", "v1"}, {"apps", "v1"}, in a stable order.
struct GroupVersion {
  std::string group;
  std::string version;
};
std::vector<GroupVersion> ServedGroupVersions();

}  // namespace kennel::api
