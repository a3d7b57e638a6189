// Discovery documents: /version, /api, /apis (legacy and aggregated v2), and
// the per-group-version resource lists, all generated from the kinds registry.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace kennel::apiserver {

// The Kubernetes minor version Kennel implements; kubectl's version dispatcher
// picks its binary by it.
inline constexpr const char* kKubernetesMinor = "32";
inline constexpr const char* kGitVersion = "v1.32.0+kennel";
inline constexpr const char* kAggregatedDiscoveryContentType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

nlohmann::json VersionInfo();
// /api (APIVersions) and /apis (APIGroupList).
nlohmann::json LegacyCoreVersions(const std::string& server_address);
nlohmann::json LegacyGroupList();
// /api/v1, /apis/<group>/<version> as APIResourceList, or nullopt if not served.
std::optional<nlohmann::json> ResourceList(const std::string& group, const std::string& version);
// /apis/<group> as APIGroup, or nullopt.
std::optional<nlohmann::json> GroupInfo(const std::string& group);
// Aggregated discovery (apidiscovery.k8s.io/v2) for /api (core=true) or /apis.
nlohmann::json AggregatedDiscovery(bool core);

}  // namespace kennel::apiserver
