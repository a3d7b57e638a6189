#include "apiserver/discovery.h"

#include "api/registry.h"

namespace kennel::apiserver {
namespace {

using nlohmann::json;

const json kAllVerbs = {"create", "delete", "deletecollection", "get",
                        "list",   "patch",  "update",           "watch"};
const json kSubresourceVerbs = {"get", "patch", "update"};

json ScaleKind() { return {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}; }

json AggregatedResource(const api::ResourceInfo& r) {
  json out = {{"resource", r.resource},
              {"responseKind", {{"group", r.group}, {"version", r.version}, {"kind", r.kind}}},
              {"scope", r.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", r.singular},
              {"verbs", kAllVerbs}};
  if (!r.short_names.empty()) out["shortNames"] = r.short_names;
  if (!r.categories.empty()) out["categories"] = r.categories;
  json subs = json::array();
  json self_kind = {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
  if (r.status_subresource) {
    subs.push_back(
        {{"subresource", "status"}, {"responseKind", self_kind}, {"verbs", kSubresourceVerbs}});
  }
  if (r.scale_subresource) {
    subs.push_back(
        {{"subresource", "scale"}, {"responseKind", ScaleKind()}, {"verbs", kSubresourceVerbs}});
  }
  if (!subs.empty()) out["subresources"] = std::move(subs);
  return out;
}

json LegacyResource(const api::ResourceInfo& r) {
  json out = {{"name", r.resource},
              {"singularName", r.singular},
              {"namespaced", r.namespaced},
              {"kind", r.kind},
              {"verbs", kAllVerbs}};
  if (!r.short_names.empty()) out["shortNames"] = r.short_names;
  if (!r.categories.empty()) out["categories"] = r.categories;
  return out;
}

std::vector<std::string> Groups() {
  std::vector<std::string> groups;
  for (const auto& gv : api::ServedGroupVersions()) {
    if (!gv.group.empty()) groups.push_back(gv.group);
  }
  return groups;
}

}  // namespace

json VersionInfo() {
  return {{"major", "1"},
          {"minor", kKubernetesMinor},
          {"gitVersion", kGitVersion},
          {"gitCommit", "kennel"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-11-22T00:00:00Z"},
          {"goVersion", "n/a (C++20)"},
          {"compiler", "gcc"},
          {"platform", "linux/amd64"}};
}

json LegacyCoreVersions(const std::string& server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

std::optional<json> GroupInfo(const std::string& group) {
  for (const auto& g : Groups()) {
    if (g != group) continue;
    json gv = {{"groupVersion", g + "/v1"}, {"version", "v1"}};
    return json{{"kind", "APIGroup"},
                {"apiVersion", "v1"},
                {"name", g},
                {"versions", {gv}},
                {"preferredVersion", gv}};
  }
  return std::nullopt;
}

json LegacyGroupList() {
  json groups = json::array();
  for (const auto& g : Groups()) {
    json info = *GroupInfo(g);
    info.erase("kind");
    info.erase("apiVersion");
    groups.push_back(std::move(info));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> ResourceList(const std::string& group, const std::string& version) {
  json resources = json::array();
  for (const auto& r : api::AllResources()) {
    if (r.group != group || r.version != version) continue;
    resources.push_back(LegacyResource(r));
    if (r.status_subresource) {
      resources.push_back({{"name", r.resource + "/status"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"kind", r.kind},
                           {"verbs", kSubresourceVerbs}});
    }
    if (r.scale_subresource) {
      resources.push_back({{"name", r.resource + "/scale"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", kSubresourceVerbs}});
    }
  }
  if (resources.empty()) return std::nullopt;
  std::string gv = group.empty() ? version : group + "/" + version;
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", gv},
              {"resources", resources}};
}

json AggregatedDiscovery(bool core) {
  json items = json::array();
  for (const auto& gv : api::ServedGroupVersions()) {
    if (gv.group.empty() != core) continue;
    json resources = json::array();
    for (const auto& r : api::AllResources()) {
      if (r.group == gv.group && r.version == gv.version) {
        resources.push_back(AggregatedResource(r));
      }
    }
    items.push_back(
        {{"metadata", {{"name", gv.group}}},
         {"versions",
          {{{"version", gv.version}, {"resources", resources}, {"freshness", "Current"}}}}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", "apidiscovery.k8s.io/v2"},
          {"metadata", json::object()},
          {"items", items}};
}

}  // namespace kennel::apiserver
