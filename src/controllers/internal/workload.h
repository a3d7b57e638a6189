// Helpers the workload controllers (ReplicaSet, Deployment) share: reading
// object fields, controller references, pod readiness as Kubernetes judges it.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/json_access.h"

namespace kennel::controllers::internal {

using nlohmann::json;

// A member of an object, or null (obj not an object, or no such member).
inline const json& Member(const json& obj, const char* name) { return api::Field(obj, name); }
using api::Str;
// An integer member, or fallback when absent or not an integer.
int64_t Int(const json& obj, const char* name, int64_t fallback = 0);
const json& Meta(const json& obj);

// "ns/name".
std::string NamespacedKey(const std::string& ns, const std::string& name);

// The ownerReference with controller: true, if any.
std::optional<json> ControllerRefOf(const json& obj);
// {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true}.
json NewControllerRef(const json& owner, const std::string& api_version, const std::string& kind);

bool IsDeleting(const json& obj);
// Not Succeeded/Failed and not being deleted (Kubernetes' IsPodActive).
bool IsPodActive(const json& pod);
bool IsPodReady(const json& pod);
// Ready for at least min_ready_seconds at now (the Ready condition's
// lastTransitionTime); a pod without one counts from now.
bool IsPodAvailable(const json& pod, int64_t min_ready_seconds,
                    std::chrono::system_clock::time_point now);
// When the pod turned Ready, if it is.
std::optional<std::chrono::system_clock::time_point> ReadySince(const json& pod);

}  // namespace kennel::controllers::internal
