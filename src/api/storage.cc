#include "api/storage.h"

#include <tuple>

#include "api/json_access.h"

namespace kennel::api {

using nlohmann::json;

bool IsDefaultStorageClass(const json& storage_class) {
  const json& annotations = Field(Field(storage_class, "metadata"), "annotations");
  return Str(annotations, kDefaultClassAnnotation) == "true" ||
         Str(annotations, kBetaDefaultClassAnnotation) == "true";
}

std::string DefaultStorageClassName(const std::vector<json>& classes) {
  const json* best = nullptr;
  // Newest first (RFC 3339 in UTC compares as text), then the smaller name.
  auto rank = [](const json& c) {
    const json& meta = Field(c, "metadata");
    return std::make_tuple(Str(meta, "creationTimestamp"), Str(meta, "name"));
  };
  for (const json& c : classes) {
    if (!IsDefaultStorageClass(c)) continue;
    if (best == nullptr) {
      best = &c;
      continue;
    }
    auto [t, name] = rank(c);
    auto [best_t, best_name] = rank(*best);
    if (t > best_t || (t == best_t && name < best_name)) best = &c;
  }
  return best == nullptr ? "" : Str(Field(*best, "metadata"), "name");
}

bool AdmitClaimStorageClass(json& claim, const std::vector<json>& classes) {
  if (!claim.is_object()) return false;
  if (Field(Field(Field(claim, "metadata"), "annotations"), kBetaStorageClassAnnotation)
          .is_string()) {
    return false;
  }
  const json& spec = Field(claim, "spec");
  if (!spec.is_object() || !Field(spec, "storageClassName").is_null()) return false;
  std::string name = DefaultStorageClassName(classes);
  if (name.empty()) return false;
  claim["spec"]["storageClassName"] = name;
  return true;
}

json LocalPathStorageClass() {
  return {{"apiVersion", "storage.k8s.io/v1"},
          {"kind", "StorageClass"},
          {"metadata",
           {{"name", kLocalPathClassName}, {"annotations", {{kDefaultClassAnnotation, "true"}}}}},
          {"provisioner", kLocalPathProvisioner},
          {"reclaimPolicy", "Delete"},
          {"volumeBindingMode", "WaitForFirstConsumer"},
          {"allowVolumeExpansion", true}};
}

}  // namespace kennel::api
