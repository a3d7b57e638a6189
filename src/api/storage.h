// Storage classes as Kubernetes 1.32 treats them, and Kennel's built-in one.
//
// - DefaultStorageClass admission (plugin/pkg/admission/storage/
//   storageclass/setdefault): a PersistentVolumeClaim created without a class
//   (no spec.storageClassName and no beta annotation) gets the cluster's
//   default class, the StorageClass annotated
//   storageclass.kubernetes.io/is-default-class: "true" (or the beta
//   annotation); with several, the newest (then the first by name), as
//   Kubernetes ≥ 1.26 does. An explicit storageClassName: "" means "no class"
//   and is left alone; with no default class the claim is left alone.
// - LocalPathStorageClass(): the class `local-path` that the volume binder
//   creates at start when missing (provisioner kennel.io/local-path,
//   WaitForFirstConsumer, Delete, expandable, the default).
//
// Callers: the API server runs AdmitClaimStorageClass on every claim create,
// after defaulting and before validation, passing the StorageClasses it
// stores. Pure functions: thread-safe, no exception escapes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kennel::api {

inline constexpr const char* kDefaultClassAnnotation =
    "storageclass.kubernetes.io/is-default-class";
inline constexpr const char* kBetaDefaultClassAnnotation =
    "storageclass.beta.kubernetes.io/is-default-class";
inline constexpr const char* kBetaStorageClassAnnotation =
    "volume.beta.kubernetes.io/storage-class";
// Kennel's provisioner: a directory on one node (see controllers/volume_binder.h).
inline constexpr const char* kLocalPathProvisioner = "kennel.io/local-path";
inline constexpr const char* kLocalPathClassName = "local-path";

// True when the class is marked as the default (either annotation, "true").
bool IsDefaultStorageClass(const nlohmann::json& storage_class);

// The default class's name among classes, or "" when none is marked.
std::string DefaultStorageClassName(const std::vector<nlohmann::json>& classes);

// Sets claim.spec.storageClassName to the default class when the claim names
// no class at all (see above). Returns true when it changed the claim.
bool AdmitClaimStorageClass(nlohmann::json& claim, const std::vector<nlohmann::json>& classes);

// The built-in `local-path` StorageClass object.
nlohmann::json LocalPathStorageClass();

}  // namespace kennel::api
